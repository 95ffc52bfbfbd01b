"""Reads of harvesting, scoped by the same permission as rules.py."""

from django.db.models import OuterRef, Q, Subquery

from metropole.core.models import Role
from metropole.core.rules import role_map

from .models import HarvestRun, HarvestSource


def sources_managed_by(user):
    """Sources of the territories `user` administers (every source for a platform admin;
    a metropole administrator sees those of the metropole's territories)."""
    qs = HarvestSource.objects.select_related("territory")
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs.all()
    admin_of = [tid for tid, roles in role_map(user).items() if Role.ADMIN in roles]
    return qs.filter(Q(territory_id__in=admin_of) | Q(territory__metropole_id__in=admin_of))


def sources_of(territory):
    return HarvestSource.objects.filter(territory=territory).select_related("territory")


def sources_with_last_run(territory) -> list[tuple[HarvestSource, HarvestRun | None]]:
    """(source, its latest run or None) for every source of `territory`, in two queries
    whatever the number of sources."""
    latest = HarvestRun.objects.filter(source=OuterRef("pk")).order_by("-started_at", "-pk")
    sources = list(sources_of(territory).annotate(last_run_pk=Subquery(latest.values("pk")[:1])))
    runs = HarvestRun.objects.in_bulk([s.last_run_pk for s in sources if s.last_run_pk])
    return [(s, runs.get(s.last_run_pk)) for s in sources]
