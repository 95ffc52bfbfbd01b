from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConnectorsConfig(AppConfig):
    name = "metropole.connectors"
    label = "connectors"
    verbose_name = _("Connectors")

    def ready(self):
        from . import module  # noqa: F401  (registers the manifest)
