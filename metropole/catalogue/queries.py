"""Read paths of the catalogue: which services a citizen of a commune can use, search."""

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from metropole.core.exceptions import NotFound
from metropole.core.models import Territory, TerritoryKind

from .models import Answer, Category, Competence, Holder, Service, words


def competences_of(metropole: Territory) -> QuerySet:
    return Competence.objects.filter(metropole=metropole).order_by("holder", "name")


def categories_of(metropole: Territory) -> QuerySet:
    return Category.objects.filter(metropole=metropole)


def holder_territory(competence: Competence | None, commune: Territory) -> Territory:
    """The territory that runs `competence` on `commune`'s soil.

    No competence (general information) means the commune itself; an EPT competence
    falls back to the metropole where the commune belongs to no EPT.
    """
    metropole = commune.root
    if competence is None or competence.holder == Holder.COMMUNE:
        return commune if commune.is_commune else metropole
    if competence.holder == Holder.EPT and commune.parent_id and commune.parent_id != metropole.pk:
        parent = commune.parent
        if parent.kind == TerritoryKind.EPT:
            return parent
    return metropole


def _upper_levels(territory: Territory) -> list[int]:
    """Ids of the territories above a commune that run services on its soil."""
    metropole = territory.root
    upper = [metropole.pk]
    if territory.parent_id and territory.parent_id != metropole.pk:
        upper.append(territory.parent_id)
    return upper


def services_for(territory: Territory) -> QuerySet:
    """Active services open to the people of `territory`, whoever runs them.

    For a commune: its own services and those the metropole (or its EPT) runs for every
    commune, i.e. whose competence is not held by the communes. For the metropole: the
    services of the metropole and its EPTs.
    """
    qs = Service.objects.filter(active=True).select_related("territory", "category", "competence")
    if territory.is_commune:
        upper = Q(territory_id__in=_upper_levels(territory)) & (
            Q(competence__isnull=True) | ~Q(competence__holder=Holder.COMMUNE)
        )
        return qs.filter(Q(territory=territory) | upper)
    metropole = territory.root
    return qs.filter(
        Q(territory=metropole) | Q(territory__parent=metropole, territory__kind=TerritoryKind.EPT)
    )


def search(qs: QuerySet, text: str) -> QuerySet:
    """Services whose title, summary or description contain every word of `text`
    (accents, case and punctuation ignored); title matches first."""
    found = words(text)
    for word in found:
        qs = qs.filter(search_text__contains=word)
    if found:
        key = "".join(found)
        from django.db.models import Case, IntegerField, Value, When

        qs = qs.annotate(
            in_title=Case(
                When(search_title__contains=key, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        ).order_by("in_title", "search_title")
    return qs


def category_counts(qs: QuerySet) -> list[Category]:
    """Categories of the services in `qs`, each with `count`."""
    counts = dict(qs.order_by().values_list("category").annotate(n=Count("pk")))
    categories = list(Category.objects.filter(pk__in=counts.keys()))
    for category in categories:
        category.count = counts[category.pk]
    return categories


def category_by_slug(metropole: Territory, slug: str) -> Category:
    try:
        return Category.objects.get(metropole=metropole, slug=slug)
    except Category.DoesNotExist:
        raise NotFound(
            _("Unknown category"), _("No category is named %(slug)r.") % {"slug": slug}
        ) from None


def service_detail(territory_slug: str, slug: str) -> Service:
    try:
        return (
            Service.objects.select_related("territory", "category", "competence")
            .prefetch_related(Prefetch("answers", queryset=Answer.objects.order_by("order", "pk")))
            .get(territory__slug=territory_slug, slug=slug, active=True)
        )
    except Service.DoesNotExist:
        raise NotFound(
            _("Unknown service"),
            _("No active service %(slug)r is run by this territory.") % {"slug": slug},
        ) from None


def services_run_by(territory: Territory) -> QuerySet:
    """Every service (active or not) a territory runs: its back-office list."""
    return (
        Service.objects.filter(territory=territory)
        .select_related("category", "competence")
        .annotate(answer_count=Count("answers"))
        .order_by("search_title")
    )


def service_for_competence(territory: Territory, competence: Competence | None):
    """The first active service of `territory` for `competence` (reports use it for routing)."""
    if competence is None:
        return None
    return (
        Service.objects.filter(territory=territory, competence=competence, active=True)
        .order_by("pk")
        .first()
    )
