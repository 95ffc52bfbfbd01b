from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SteeringConfig(AppConfig):
    name = "metropole.steering"
    label = "steering"
    verbose_name = _("Strategy steering")
    default_auto_field = "django.db.models.BigAutoField"
