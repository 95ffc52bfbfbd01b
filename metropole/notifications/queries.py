"""Reads of the notification log."""

from .models import Notification


def notifications_about(obj):
    """Messages sent about an object, newest first."""
    return Notification.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))


def notifications_of(territory, *, status: str = "", channel: str = ""):
    """The log of a territory (its communes' messages included for a metropole)."""
    qs = Notification.objects.select_related("territory")
    if territory.is_metropole:
        qs = qs.filter(territory__metropole=territory) | qs.filter(territory=territory)
    else:
        qs = qs.filter(territory=territory)
    if status:
        qs = qs.filter(status=status)
    if channel:
        qs = qs.filter(channel=channel)
    return qs.order_by("-created_at", "-pk")
