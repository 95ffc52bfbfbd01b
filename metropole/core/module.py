"""The core's own manifest: what it contributes through the same registry as every module."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy, npgettext_lazy

from .registry import (
    NAV_ACCOUNT,
    NAV_ADMIN,
    NAV_PUBLIC,
    ModuleManifest,
    NavEntry,
    OpenDataExport,
    Statistic,
    registry,
)


def _communes(territory):
    from .queries import metropole_communes

    if territory.is_metropole:
        return metropole_communes(territory)
    return (
        metropole_communes(territory.root).filter(pk=territory.pk)
        if territory.is_commune
        else metropole_communes(territory.root).filter(parent=territory)
    )


def _population(territory) -> int:
    return territory.population


def _commune_count(territory) -> int:
    return _communes(territory).count()


def _joined_count(territory) -> int:
    return _communes(territory).filter(has_joined=True).count()


def _member_count(territory) -> int:
    from .models import Membership

    return Membership.objects.filter(territory=territory).values("user").distinct().count()


def _commune_rows(territory):
    from .opening_hours import to_osm

    for commune in _communes(territory).prefetch_related("postal_codes"):
        hall = commune.town_hall or {}
        yield {
            "insee": commune.code,
            "name": commune.name,
            "population": commune.population,
            "postal_codes": " ".join(p.code for p in commune.postal_codes.all()),
            "has_joined": commune.has_joined,
            "town_hall_address": hall.get("address"),
            "town_hall_phone": hall.get("phone"),
            "town_hall_website": hall.get("website"),
            "opening_hours": to_osm(hall.get("opening_hours")),
        }


def _load_demo(metropole):
    from .demo import load_core_demo

    load_core_demo(metropole)


manifest = registry.register(
    ModuleManifest(
        label="core",
        name=_("Territories and accounts"),
        order=0,
        navigation=[
            NavEntry(_("Home"), "core:home", NAV_PUBLIC, order=0),
            NavEntry(_("Find my commune"), "core:find_commune", NAV_PUBLIC, order=10),
            NavEntry(_("Open API"), "api:openapi-view", NAV_PUBLIC, order=900),
            NavEntry(_("My account"), "core:account", NAV_ACCOUNT, order=0),
            NavEntry(_("Security"), "core:security", NAV_ACCOUNT, order=10),
            NavEntry(_("API tokens"), "core:api_tokens", NAV_ACCOUNT, order=20),
            NavEntry(
                _("Overview"),
                "core:admin_overview",
                NAV_ADMIN,
                "core.view_territory_admin",
                per_territory=True,
                order=0,
            ),
            NavEntry(
                _("Members and roles"),
                "core:admin_members",
                NAV_ADMIN,
                "core.manage_members",
                per_territory=True,
                order=10,
            ),
            NavEntry(
                _("Branding and settings"),
                "core:admin_branding",
                NAV_ADMIN,
                "core.change_territory",
                per_territory=True,
                order=20,
            ),
            NavEntry(
                _("Member communes"),
                "core:admin_communes",
                NAV_ADMIN,
                "core.manage_communes",
                per_territory=True,
                order=30,
            ),
            NavEntry(
                _("Partner organisations"),
                "core:admin_organisations",
                NAV_ADMIN,
                "core.manage_organisations",
                per_territory=True,
                order=40,
            ),
            NavEntry(
                _("Audit log"),
                "core:admin_audit",
                NAV_ADMIN,
                "core.view_audit_log",
                per_territory=True,
                order=90,
            ),
        ],
        permissions=[
            "core.view_territory_admin",
            "core.change_territory",
            "core.manage_members",
            "core.view_audit_log",
            "core.manage_communes",
            "core.manage_organisations",
        ],
        statistics=[
            Statistic("population", _("inhabitants"), _population, headline=True),
            Statistic.count(
                "communes",
                npgettext_lazy("figure", "commune", "communes", "n"),
                _commune_count,
                headline=True,
            ),
            Statistic.count(
                "joined_communes",
                ngettext_lazy("commune on the platform", "communes on the platform", "n"),
                _joined_count,
                headline=True,
            ),
            Statistic("members", _("people with a role"), _member_count),
        ],
        exports=[
            OpenDataExport(
                key="communes",
                title=_("Communes of the metropole"),
                description=_(
                    "INSEE code, name, population, postal codes, town hall contact and "
                    "opening hours (OSM syntax), and whether the commune uses the platform."
                ),
                fields=(
                    "insee",
                    "name",
                    "population",
                    "postal_codes",
                    "has_joined",
                    "town_hall_address",
                    "town_hall_phone",
                    "town_hall_website",
                    "opening_hours",
                ),
                rows=_commune_rows,
            ),
        ],
        demo_data=_load_demo,
        api_router="metropole.core.api.router",
        api_prefix="",
    )
)
