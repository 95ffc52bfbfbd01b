from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ParticipationConfig(AppConfig):
    name = "metropole.participation"
    label = "participation"
    verbose_name = _("Citizen participation")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from metropole.core.signals import oidc_signed_in

        oidc_signed_in.connect(_residence_from_oidc, dispatch_uid="participation-residence")


def _residence_from_oidc(sender, user, provider, claims, **kwargs):
    """FranceConnect's address establishes residence (see services.record_verified_residence)."""
    from .services import record_verified_residence

    record_verified_residence(user, provider, claims)
