"""Background work of procedures: timeouts of workflows and the RGPD retention periods.

Django's tasks API has no scheduler: `manage.py procedures_tick` (cron or a systemd timer,
e.g. every 5 minutes) enqueues both, or runs them at once with --now.
"""

from django.tasks import task


@task(queue_name="default")
def wake_due_requests() -> int:
    from .services import wake_due_requests as run

    return run()


@task(queue_name="default")
def anonymise_expired() -> int:
    from .services import anonymise_expired as run

    return run()
