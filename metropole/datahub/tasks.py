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
def build_search_index(version_id: int) -> float | None:
    """The full-text index of a large version, built after its swap (storage.py): the
    seconds it took, recorded in the version's timings; None when the version is gone."""
    from . import storage
    from .models import ResourceVersion, VersionStatus

    version = (
        ResourceVersion.objects.filter(
            pk=version_id, status__in=(VersionStatus.READY, VersionStatus.SUPERSEDED)
        )
        .select_related("resource")
        .first()
    )
    if version is None or not storage.table_exists(version):
        return None
    seconds = storage.build_search_index(version)
    if seconds:
        version.refresh_from_db(fields=["timings"])
        ResourceVersion.objects.filter(pk=version_id).update(
            timings={**version.timings, "search_index": seconds}
        )
    return seconds


@task
def repair_search_indexes() -> list[int]:
    """Queue the full-text index of every served version that should have one in the
    background and has none (its build failed or was cut short); the ids queued."""
    from . import storage
    from .models import Resource

    queued = []
    served = Resource.objects.filter(current_version__isnull=False).select_related(
        "current_version__resource"
    )
    for resource in served.iterator():
        version = resource.current_version
        if storage.table_exists(version) and storage.search_index_missing(version):
            build_search_index.enqueue(version.pk)
            queued.append(version.pk)
    return queued


@task
def pull_due_resources() -> list[int]:
    """Re-pull the remote resources and module exports whose time has come."""
    from .services import pull_due

    return pull_due()


@task
def drop_expired_versions() -> int:
    from .services import drop_expired_versions as drop

    return drop()


@task
def publish_module_exports() -> int:
    """Publish every module's open-data export as a dataset of the install's metropole
    (idempotent: existing ones are left to `pull_due_resources` to refresh)."""
    from metropole.core.queries import current_metropole

    from .services import sync_module_exports

    return len(sync_module_exports(current_metropole()))
