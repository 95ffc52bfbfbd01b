from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HarvestConfig(AppConfig):
    name = "metropole.harvest"
    label = "harvest"
    verbose_name = _("Harvesting of other catalogues")
    default_auto_field = "django.db.models.BigAutoField"
