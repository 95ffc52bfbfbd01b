"""Read paths of the core, shared by pages, API and exports."""

import threading

from django.conf import settings
from django.db.models import Case, Max, Q, QuerySet, When
from django.utils.translation import gettext as _

from .exceptions import BadRequest, NotFound
from .geo import CommuneLocator, parse_coordinates
from .models import AuditEvent, Membership, Role, Territory, TerritoryKind
from .rules import role_map
from .text import normalize_name


def current_metropole() -> Territory:
    """The metropole this install serves (settings.METROPOLE_SIREN)."""
    try:
        return Territory.objects.get(code=settings.METROPOLE_SIREN, kind=TerritoryKind.METROPOLE)
    except Territory.DoesNotExist:
        raise NotFound(
            "Metropole not loaded",
            f"The metropole {settings.METROPOLE_SIREN} is not in the database yet: run "
            f"`manage.py load_territories {settings.METROPOLE_SIREN}`.",
        ) from None


def metropole_by_code(code: str) -> Territory:
    try:
        return Territory.objects.get(code=code, kind=TerritoryKind.METROPOLE)
    except Territory.DoesNotExist:
        raise NotFound(
            "Unknown metropole", f"No metropole with the SIREN {code!r} is loaded on this platform."
        ) from None


def territory_by_code(code: str, metropole: Territory | None = None) -> Territory:
    """A territory by SIREN or INSEE code, optionally limited to one metropole."""
    qs = Territory.objects.select_related("parent", "metropole")
    if metropole is not None:
        qs = qs.in_metropole(metropole)
    try:
        return qs.get(code=(code or "").strip())
    except Territory.DoesNotExist:
        where = (_(" in %(name)s") % {"name": metropole.name}) if metropole else ""
        raise NotFound(
            _("Unknown territory"),
            _(
                "No commune or territory has the code %(code)r%(where)s. "
                "Communes are named by their INSEE code (5 characters, e.g. 59350)."
            )
            % {"code": code, "where": where},
        ) from None


def territory_by_slug(slug: str) -> Territory:
    try:
        return Territory.objects.select_related("parent", "metropole").get(slug=slug)
    except Territory.DoesNotExist:
        raise NotFound(
            _("Unknown territory"), _("No territory is published at %(slug)r.") % {"slug": slug}
        ) from None


def communes_of(metropole: Territory) -> QuerySet:
    """Communes for lists and tables: contours and town halls (the heavy JSON) left out."""
    return metropole_communes(metropole).select_related("parent").defer("geometry", "town_hall")


def commune_links(metropole: Territory) -> QuerySet:
    """Just what a list of links to the communes needs (the home page lists them all)."""
    return metropole_communes(metropole).only(
        "code", "name", "slug", "kind", "population", "has_joined", "metropole_id"
    )


def metropole_communes(metropole: Territory) -> QuerySet:
    return Territory.objects.communes().filter(metropole=metropole)


def search_communes(metropole: Territory, text: str, limit: int = 20) -> list[Territory]:
    """Communes whose name contains `text` (accent/case-insensitive) or whose postal code
    starts with it, with their postal codes (pages and API show them). Names that start
    with the text come first."""
    text = (text or "").strip()
    if not text:
        return []
    communes = communes_of(metropole).prefetch_related("postal_codes")
    if text.isdigit():
        if len(text) > 5:
            raise BadRequest(
                _("Malformed postal code"),
                _("A postal code has 5 digits; %(text)r has %(count)d.")
                % {"text": text, "count": len(text)},
            )
        return list(
            communes.filter(postal_codes__code__startswith=text)
            .distinct()
            .order_by("search_name")[:limit]
        )
    needle = normalize_name(text)
    matches = list(communes.filter(search_name__contains=needle)[:200])
    matches.sort(key=lambda t: (not t.search_name.startswith(needle), t.search_name))
    return matches[:limit]


def communes_by_postal_code(metropole: Territory, code: str) -> QuerySet:
    code = (code or "").strip()
    if not (len(code) == 5 and code.isdigit()):
        raise BadRequest(
            _("Malformed postal code"),
            _("A postal code is 5 digits, e.g. 59000; got %(code)r.") % {"code": code},
        )
    found = metropole_communes(metropole).filter(postal_codes__code=code).distinct()
    if not found.exists():
        raise NotFound(
            _("Unknown postal code"),
            _("No commune of %(metropole)s has the postal code %(code)s.")
            % {"metropole": metropole.name, "code": code},
        )
    return found


# --- point lookup ------------------------------------------------------------------------

_locators: dict[int, tuple[object, CommuneLocator]] = {}
_locators_lock = threading.Lock()


def communes_version(metropole: Territory) -> str:
    """Changes whenever a commune of the metropole changes (contour, name, branding...)."""
    latest = metropole_communes(metropole).aggregate(v=Max("updated_at"))["v"]
    return latest.strftime("%Y%m%d%H%M%S%f") if latest else "empty"


def locator_for(metropole: Territory) -> CommuneLocator:
    """The point-in-commune index of a metropole, rebuilt when its communes change."""
    communes = metropole_communes(metropole)
    version = communes_version(metropole)
    cached = _locators.get(metropole.pk)
    if cached is None or cached[0] != version:
        with _locators_lock:
            areas = [
                (c.code, c.geometry)
                for c in communes.exclude(geometry__isnull=True).only("code", "geometry")
            ]
            cached = (version, CommuneLocator(areas))
            _locators[metropole.pk] = cached
    return cached[1]


def commune_at(metropole: Territory, lat, lon) -> Territory:
    """The commune of `metropole` containing the point, or NotFound."""
    lat, lon = parse_coordinates(lat, lon)
    code = locator_for(metropole).locate(lon, lat)
    if code is None:
        raise NotFound(
            _("Outside the metropole"),
            _("The point lat=%(lat)s, lon=%(lon)s is in none of the communes of %(metropole)s.")
            % {"lat": lat, "lon": lon, "metropole": metropole.name},
        )
    return Territory.objects.get(code=code)


# --- scoping by permission --------------------------------------------------------------


def territories_administered_by(user, roles=frozenset({Role.ADMIN, Role.AGENT})) -> QuerySet:
    """Territories whose administration area `user` may open (same rule as rules.py)."""
    if not user.is_authenticated:
        return Territory.objects.none()
    if user.is_superuser:
        return Territory.objects.all()
    grants = role_map(user)
    direct = [tid for tid, granted in grants.items() if granted & roles]
    inherited = [tid for tid, granted in grants.items() if Role.ADMIN in granted]
    return Territory.objects.filter(Q(pk__in=direct) | Q(metropole_id__in=inherited))


def administration_choices(administered: QuerySet, text: str = "") -> QuerySet:
    """The territories of the administration index: those whose name holds `text` (accents
    and case ignored), the metropole first, then its EPT, then the communes by name."""
    if text:
        administered = administered.filter(search_name__contains=normalize_name(text))
    kind_order = Case(
        When(kind=TerritoryKind.METROPOLE, then=0), When(kind=TerritoryKind.EPT, then=1), default=2
    )
    return administered.order_by(kind_order, "name")


def members_of(territory: Territory) -> QuerySet:
    return (
        Membership.objects.filter(territory=territory)
        .select_related("user", "organisation", "territory")
        .order_by("user__last_name", "user__email", "role")
    )


def audit_log_of(territory: Territory) -> QuerySet:
    """Events of a territory; a metropole's log includes its communes' events."""
    qs = AuditEvent.objects.select_related("territory")
    if territory.is_metropole:
        return qs.filter(Q(territory=territory) | Q(territory__metropole=territory))
    return qs.filter(territory=territory)


def basemap() -> dict:
    return {
        "url": settings.METROPOLE_BASEMAP_URL,
        "attribution": settings.METROPOLE_BASEMAP_ATTRIBUTION,
    }
