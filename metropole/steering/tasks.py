"""Background work of strategy steering, run by the task worker (`manage.py db_worker`)."""

from django.tasks import task


@task
def collect_indicators_task() -> dict:
    """Collect every indicator whose automatic value is due (see collectors.collect_due)."""
    from .collectors import collect_due

    return collect_due()
