"""Background work of the data hub, run by the task worker (`manage.py db_worker`)."""

from django.tasks import task


@task
def load_resource_version(version_id: int) -> str:
    """Load a queued version (read, check, store, swap) and refresh its dataset's score."""
    from .ingest.pipeline import load_version
    from .services import compute_quality

    version = load_version(version_id)
    compute_quality(version.resource.dataset)
    return version.status


@task
def pull_due_resources() -> list[int]:
    """Re-pull the remote resources and module exports whose time has come."""
    from .services import pull_due

    return pull_due()


@task
def drop_expired_versions() -> int:
    from .services import drop_expired_versions as drop

    return drop()
