"""The full-text index policy (storage.search_index_deferred): small tables get it before
the swap; large ones are served first and get it from a background task, while a search
already answers (by scanning)."""

import pytest
from django.db import connection

from metropole.datahub import services, storage
from metropole.datahub.models import VersionStatus
from metropole.datahub.querying.indexes import search_index_exists

CSV = (
    "Lieu;Commune;Places\n"
    "Piscine Marx Dormoy;Lille;120\n"
    "Piscine de Roubaix;Roubaix;300\n"
    "Médiathèque Jean Lévy;Lille;80\n"
    "Stade Pierre Mauroy;Villeneuve-d'Ascq;50000\n"
)


def _search(client, resource, words):
    response = client.get(f"/api/datahub/resources/{resource.uid}/records", {"q": words})
    assert response.status_code == 200, response.content
    return sorted(r["Lieu"] for r in response.json()["results"])


@pytest.fixture
def public_resource(dataset, publisher):
    services.update_dataset(publisher, dataset, access="public")
    resource = services.add_resource(publisher, dataset, title="Équipements")
    resource.publisher = publisher
    return resource


def test_small_table_gets_its_search_index_before_the_swap(public_resource, load, client):
    version = load(public_resource, CSV.encode())
    assert version.status == VersionStatus.READY, version.error_detail
    assert not storage.search_index_deferred(version)
    assert "search_index" not in version.timings
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            assert search_index_exists(version.table_spec(), cursor)
    services.publish(public_resource.publisher, public_resource.dataset)
    assert _search(client, public_resource, "piscine") == [
        "Piscine Marx Dormoy",
        "Piscine de Roubaix",
    ]


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_large_table_is_served_before_its_search_index(
    public_resource, load, client, settings, monkeypatch
):
    settings.DATAHUB_SEARCH_INDEX_DEFER_ROWS = 2
    queued = []
    monkeypatch.setattr(storage, "queue_search_index", queued.append)
    version = load(public_resource, CSV.encode())
    assert version.status == VersionStatus.READY, version.error_detail
    assert storage.search_index_deferred(version)
    assert queued == [version]
    spec = version.table_spec()
    with connection.cursor() as cursor:
        assert not search_index_exists(spec, cursor)
    services.publish(public_resource.publisher, public_resource.dataset)
    # served, and searchable without the index
    assert _search(client, public_resource, "piscine") == [
        "Piscine Marx Dormoy",
        "Piscine de Roubaix",
    ]

    from metropole.datahub.tasks import build_search_index

    seconds = build_search_index.call(version.pk)
    assert seconds is not None and seconds >= 0
    with connection.cursor() as cursor:
        assert search_index_exists(spec, cursor)
    version.refresh_from_db()
    assert version.timings["search_index"] == seconds
    assert build_search_index.call(version.pk) == 0.0  # already there: nothing rebuilt
    assert _search(client, public_resource, "lille") == [
        "Médiathèque Jean Lévy",
        "Piscine Marx Dormoy",
    ]


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_the_deferred_index_is_queued_after_the_load(public_resource, load, settings):
    settings.DATAHUB_SEARCH_INDEX_DEFER_ROWS = 2
    version = load(public_resource, CSV.encode())  # the task runs inline (ImmediateBackend)
    assert version.status == VersionStatus.READY, version.error_detail
    with connection.cursor() as cursor:
        assert search_index_exists(version.table_spec(), cursor)
    assert "search_index" in version.timings


def test_no_index_task_for_a_version_that_is_gone(public_resource, load):
    from metropole.datahub.tasks import build_search_index

    version = load(public_resource, CSV.encode())
    storage.drop_table(version)
    assert build_search_index.call(version.pk) is None


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_a_failed_background_index_is_built_again_by_the_periodic_repair(
    public_resource, load, settings, monkeypatch
):
    """The background build failed (here: never ran; an interrupted CONCURRENTLY build also
    leaves an invalid index): the hourly repair finds the served version without its index
    and builds it; a second pass finds nothing to do."""
    from metropole.core.registry import registry
    from metropole.datahub import tasks

    settings.DATAHUB_SEARCH_INDEX_DEFER_ROWS = 2
    monkeypatch.setattr(storage, "queue_search_index", lambda version: None)  # "lost"
    version = load(public_resource, CSV.encode())
    monkeypatch.undo()
    spec = version.table_spec()
    with connection.cursor() as cursor:
        assert not search_index_exists(spec, cursor)
    assert storage.search_index_missing(version)
    assert "datahub.search_indexes" in registry.periodic_jobs()

    assert tasks.repair_search_indexes.call() == [version.pk]  # the build runs inline here
    with connection.cursor() as cursor:
        assert search_index_exists(spec, cursor)
    assert not storage.search_index_missing(version)
    assert tasks.repair_search_indexes.call() == []
