"""Background work of harvesting, run by the task worker (`manage.py db_worker`).

`harvest_due` is meant to be enqueued regularly (e.g. every 15 minutes by cron:
`manage.py harvest --due`, or a scheduler that enqueues it)."""

from django.tasks import task


@task
def harvest_source(source_id: int) -> int | None:
    """Harvest one source now; returns the run's id."""
    from .models import HarvestSource
    from .services import run_source

    source = (
        HarvestSource.objects.select_related("territory", "run_as").filter(pk=source_id).first()
    )
    if source is None:
        return None
    return run_source(source).pk


@task
def harvest_due() -> list[int]:
    """Harvest every active source whose due date has passed."""
    from .services import run_due

    return run_due()
