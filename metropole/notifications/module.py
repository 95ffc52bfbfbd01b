"""The notification layer's manifest."""

from django.utils.translation import gettext_lazy as _

from metropole.core.registry import NAV_ADMIN, ModuleManifest, NavEntry, Statistic, registry


def _count(territory, **filters) -> int:
    from .queries import notifications_of

    return notifications_of(territory).filter(**filters).count()


def _sent(territory) -> int:
    return _count(territory, status="sent")


def _failed(territory) -> int:
    return _count(territory, status="failed")


def _export(user):
    from .models import Notification

    return [
        {
            "channel": n.channel,
            "recipient": n.recipient,
            "subject": n.subject,
            "body": n.body,
            "status": n.status,
            "created_at": n.created_at.isoformat(),
        }
        for n in Notification.objects.filter(user=user)
    ]


def _erase(user):
    from .services import erase_person

    erase_person(user)


manifest = registry.register(
    ModuleManifest(
        label="notifications",
        name=_("Notifications"),
        order=60,
        navigation=[
            NavEntry(
                _("Messages sent"),
                "notifications:log",
                NAV_ADMIN,
                "notifications.view_log",
                per_territory=True,
                order=80,
            )
        ],
        permissions=["notifications.view_log"],
        statistics=[
            Statistic("notifications_sent", _("messages sent"), _sent),
            Statistic("notifications_failed", _("messages that could not be sent"), _failed),
        ],
        export_personal_data=_export,
        erase_personal_data=_erase,
        urls="metropole.notifications.urls",
        url_prefix="notifications",
    )
)
