"""Reads of harvesting, scoped by the same permission as rules.py."""

from django.db.models import Q

from metropole.core.models import Role
from metropole.core.rules import role_map

from .models import HarvestSource


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
