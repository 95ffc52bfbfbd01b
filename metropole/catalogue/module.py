"""The catalogue's manifest."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from metropole.core.registry import (
    NAV_ADMIN,
    NAV_PUBLIC,
    ModuleManifest,
    NavEntry,
    OpenDataExport,
    Statistic,
    registry,
)


def _services_count(territory) -> int:
    from .models import Service

    if territory.is_metropole:
        return Service.objects.filter(metropole=territory, active=True).count()
    return Service.objects.filter(territory=territory, active=True).count()


def _service_rows(territory):
    from .models import Service

    qs = Service.objects.filter(active=True).select_related("territory", "category", "competence")
    qs = (
        qs.filter(metropole=territory) if territory.is_metropole else qs.filter(territory=territory)
    )
    for s in qs.order_by("territory__code", "slug"):
        yield {
            "territory_code": s.territory.code,
            "territory": s.territory.name,
            "slug": s.slug,
            "title": s.title,
            "summary": s.summary,
            "category": s.category.name,
            "competence": s.competence.name if s.competence_id else "",
            "channels": " ".join(s.channels),
            "url": s.url,
        }


def _load_demo(metropole):
    from .demo import load_catalogue_demo

    load_catalogue_demo(metropole)


manifest = registry.register(
    ModuleManifest(
        label="catalogue",
        name=_("Service catalogue"),
        order=40,
        navigation=[
            NavEntry(_("Services"), "catalogue:index", NAV_PUBLIC, order=20),
            NavEntry(
                _("Services"),
                "catalogue:manage",
                NAV_ADMIN,
                "catalogue.manage_services",
                per_territory=True,
                order=50,
            ),
        ],
        permissions=["catalogue.manage_services", "catalogue.manage_competences"],
        statistics=[
            Statistic.count(
                "services",
                ngettext_lazy("service online", "services online", "n"),
                _services_count,
                headline=True,
            )
        ],
        exports=[
            OpenDataExport(
                key="services",
                title=_("Public services"),
                description=_(
                    "Services of the metropole and its communes: who runs them, category, "
                    "competence and channels."
                ),
                fields=(
                    "territory_code",
                    "territory",
                    "slug",
                    "title",
                    "summary",
                    "category",
                    "competence",
                    "channels",
                    "url",
                ),
                rows=_service_rows,
            )
        ],
        demo_data=_load_demo,
        api_router="metropole.catalogue.api.router",
        api_prefix="services",
        urls="metropole.catalogue.urls",
        url_prefix="services",
    )
)
