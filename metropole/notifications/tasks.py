"""Background delivery of notifications (run by `manage.py db_worker`)."""

from django.tasks import task


@task(queue_name="default")
def deliver(notification_id: int) -> str:
    """Send one notification and record its outcome; see services.deliver."""
    from .services import deliver as deliver_now

    return deliver_now(notification_id)
