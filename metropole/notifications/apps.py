from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "metropole.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from . import module  # noqa: F401  (registers the manifest)
