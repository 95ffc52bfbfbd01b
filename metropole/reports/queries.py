"""Read paths of reports: public map and list, nearby open reports, the agents' queue."""

import math

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from metropole.core.conf import setting
from metropole.core.exceptions import NotFound
from metropole.core.models import Territory

from .models import OPEN_STATUSES, Report, ReportCategory, Status

EARTH_RADIUS_M = 6_371_000
# A report's territories are read for their names and codes: never load their contours (a
# commune's GeoJSON is tens of kilobytes, parsed again for every row of a list).
HEAVY_TERRITORY_FIELDS = ("territory__geometry", "commune__geometry")


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def categories_of(metropole: Territory, *, active_only=True) -> QuerySet:
    qs = ReportCategory.objects.filter(metropole=metropole).select_related("competence")
    return qs.filter(active=True) if active_only else qs


def category_by_code(metropole: Territory, code: str) -> ReportCategory:
    try:
        return categories_of(metropole).get(slug=(code or "").strip())
    except ReportCategory.DoesNotExist:
        raise NotFound(
            _("Unknown category"),
            _("No report category has the code %(code)r.") % {"code": code},
        ) from None


def public_reports(metropole: Territory) -> QuerySet:
    """Reports anyone may see (everything but the reporters' contact details)."""
    return (
        Report.objects.filter(metropole=metropole)
        .select_related("category", "territory", "commune")
        .defer(*HEAVY_TERRITORY_FIELDS)
    )


def filter_reports(
    qs: QuerySet, *, status="", category="", commune="", approximate=False
) -> QuerySet:
    """Filters of the public map and the agents' list: a group ("open", "done": fixed or
    closed, "all"/"") or one status — "closed" is the status only, not the group;
    `approximate`: only reports whose point still stands for the commune)."""
    if status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif status == "done":
        qs = qs.exclude(status__in=OPEN_STATUSES)
    elif status in Status.values:
        qs = qs.filter(status=status)
    if category:
        qs = qs.filter(category__slug=category)
    if commune:
        qs = qs.filter(commune__code=commune)
    if approximate:
        qs = qs.filter(location_approximate=True)
    return qs


def report_detail(pk) -> Report:
    try:
        return Report.objects.select_related(
            "category", "territory", "commune", "service", "reporter", "duplicate_of"
        ).get(pk=int(pk))
    except (Report.DoesNotExist, TypeError, ValueError, OverflowError):
        raise NotFound(
            _("Unknown report"), _("No report has the number %(pk)s.") % {"pk": pk}
        ) from None


def nearby_open(metropole: Territory, lat: float, lon: float, category=None, radius_m=None):
    """Open reports within `radius_m` of the point, nearest first (bounding-box prefilter
    on the indexed columns, then the exact distance)."""
    radius = radius_m or setting("METROPOLE_REPORTS_NEARBY_METRES", 150)
    dlat = radius / 111_320
    dlon = radius / (111_320 * max(math.cos(math.radians(lat)), 0.01))
    qs = Report.objects.filter(
        metropole=metropole,
        status__in=OPEN_STATUSES,
        lat__range=(lat - dlat, lat + dlat),
        lon__range=(lon - dlon, lon + dlon),
    ).select_related("category")
    if category is not None:
        qs = qs.filter(category=category)
    found = []
    for report in qs[:200]:
        report.distance = distance_m(lat, lon, report.lat, report.lon)
        if report.distance <= radius:
            found.append(report)
    return sorted(found, key=lambda r: r.distance)


def queue_for(user, territory: Territory) -> QuerySet:
    """Reports an agent handles for `territory` (the page checks the permission)."""
    return (
        Report.objects.filter(territory=territory)
        .select_related("category", "commune", "territory")
        .defer(*HEAVY_TERRITORY_FIELDS)
    )


def counts_by_status(qs: QuerySet) -> dict[str, int]:
    return dict(qs.order_by().values_list("status").annotate(n=Count("pk")))


def reports_of_person(user) -> QuerySet:
    return (
        Report.objects.filter(Q(reporter=user))
        .select_related("category", "commune")
        .defer("commune__geometry")
    )
