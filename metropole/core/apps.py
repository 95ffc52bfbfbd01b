from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "metropole.core"
    label = "core"
    verbose_name = _("Platform core")

    def ready(self):
        # Every installed app's module.py registers its manifest (the core's included).
        autodiscover_modules("module")
