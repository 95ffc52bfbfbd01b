from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProceduresConfig(AppConfig):
    name = "metropole.procedures"
    label = "procedures"
    verbose_name = _("Online procedures")

    def ready(self):
        from . import module  # noqa: F401  (registers the manifest)
