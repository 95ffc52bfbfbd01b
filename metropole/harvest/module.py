"""The harvest module's manifest: the DCAT-AP catalogue at the site's root, the harvest
sources' pages in each territory's administration, and its API under /api/harvest/."""

from django.utils.translation import gettext_lazy as _

from metropole.core.registry import (
    NAV_ADMIN,
    ModuleManifest,
    NavEntry,
    PeriodicJob,
    Statistic,
    registry,
)


def _harvested(territory) -> int:
    from .models import HarvestedRecord

    qs = HarvestedRecord.objects.filter(removed_at__isnull=True)
    if territory.is_metropole:
        from django.db.models import Q

        return qs.filter(
            Q(source__territory=territory) | Q(source__territory__metropole=territory)
        ).count()
    return qs.filter(source__territory=territory).count()


def _enqueue_due_harvests():
    from .tasks import harvest_due

    harvest_due.enqueue()


manifest = registry.register(
    ModuleManifest(
        label="harvest",
        name=_("Harvesting of other catalogues"),
        order=21,
        navigation=[
            NavEntry(
                _("Harvesting"),
                "harvest:sources",
                NAV_ADMIN,
                "harvest.manage_sources",
                per_territory=True,
                order=61,
            )
        ],
        permissions=["harvest.manage_sources"],
        statistics=[Statistic("harvested_datasets", _("harvested datasets"), _harvested)],
        periodic_jobs=[PeriodicJob("harvest_due", 15 * 60, _enqueue_due_harvests)],
        api_router="metropole.harvest.api.router",
        api_prefix="harvest",
        urls="metropole.harvest.urls",
        url_prefix="",
    )
)
