"""The connectors' manifest."""

from django.utils.translation import gettext_lazy as _

from metropole.core.registry import NAV_ADMIN, ModuleManifest, NavEntry, Statistic, registry


def _calls(territory, status) -> int:
    from .models import ConnectorCall

    return ConnectorCall.objects.filter(connector__territory=territory, status=status).count()


manifest = registry.register(
    ModuleManifest(
        label="connectors",
        name=_("Connectors"),
        order=70,
        navigation=[
            NavEntry(
                _("Connectors"),
                "connectors:index",
                NAV_ADMIN,
                "connectors.view_log",
                per_territory=True,
                order=85,
            )
        ],
        permissions=["connectors.manage", "connectors.view_log"],
        statistics=[
            Statistic(
                "connector_calls_failed", _("connector calls failed"), lambda t: _calls(t, "failed")
            ),
        ],
        urls="metropole.connectors.urls",
        url_prefix="connecteurs",
    )
)
