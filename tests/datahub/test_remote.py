"""Remote resources pulled from a real HTTP server on loopback, module exports, quality."""

import http.server
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from metropole.datahub import services, storage
from metropole.datahub.models import AvailabilityCheck, Resource, VersionStatus


@pytest.fixture
def http_server():
    """Serves `files` (path -> bytes) on 127.0.0.1; 404 for anything else."""
    files = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def do_HEAD(self):  # noqa: N802
            self.send_response(200 if self.path in files else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", files
    server.shutdown()


def test_remote_resource_pulled_when_due_and_only_when_changed(
    dataset, publisher, http_server, django_capture_on_commit_callbacks
):
    base, files = http_server
    files["/velos.csv"] = b"station;places\nRihour;20\nGare;30\n"
    resource = services.add_resource(
        publisher,
        dataset,
        title="Stations",
        kind="remote",
        remote_url=f"{base}/velos.csv",
        pull_frequency="DAILY",
    )
    with django_capture_on_commit_callbacks(execute=True):
        call_command("datahub_pull_due", "--now")
    resource.refresh_from_db()
    version = resource.current_version
    assert version.status == VersionStatus.READY and version.source_url.endswith("/velos.csv")
    assert resource.next_pull_at > timezone.now() + timedelta(hours=23)
    # not due yet: nothing pulled
    assert services.pull_due() == []
    # due, same content: no new version, but the check is recorded
    Resource.objects.filter(pk=resource.pk).update(next_pull_at=timezone.now())
    assert services.pull_due() == []
    assert resource.versions.count() == 1
    # due, new content: a new version
    files["/velos.csv"] += b"Vauban;12\n"
    Resource.objects.filter(pk=resource.pk).update(next_pull_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        created = services.pull_due()
    assert len(created) == 1
    resource.refresh_from_db()
    assert resource.current_version.row_count == 3
    assert AvailabilityCheck.objects.filter(resource=resource, available=True).count() == 3


def test_unavailable_remote_resource_is_recorded_and_lowers_quality(
    dataset, publisher, http_server, load
):
    base, files = http_server
    resource = services.add_resource(
        publisher, dataset, title="Disparu", kind="remote", remote_url=f"{base}/absent.csv"
    )
    load(resource, b"a\n1\n")
    before = services.compute_quality(dataset)
    assert services.pull_remote(resource) is None
    check = AvailabilityCheck.objects.get(resource=resource)
    assert not check.available and check.status_code == 404
    assert services.check_availability(resource).status_code == 404
    assert services.compute_quality(dataset) < before
    assert dataset.quality_details["unavailable_resources"] == [resource.pk]


def test_module_export_published_through_the_pipeline(
    dataset, publisher, django_capture_on_commit_callbacks
):
    resource = services.add_resource(
        publisher, dataset, title="Communes", kind="module_export", export_key="core.communes"
    )
    with django_capture_on_commit_callbacks(execute=True):
        version = services.refresh_module_export(resource)
    version.refresh_from_db()
    assert version.status == VersionStatus.READY, version.error_detail
    assert version.row_count == 95  # the communes of the Métropole Européenne de Lille
    rows = storage.read_rows(version, limit=200)
    assert {"insee": "59350"}.items() <= next(r for r in rows if r["insee"] == "59350").items()
    assert services.refresh_module_export(resource) is None  # unchanged: no new version


def test_quality_score_follows_metadata_and_freshness(dataset, publisher, resource, load):
    empty = services.compute_quality(dataset)
    load(resource, b"a\n1\n")
    services.update_dataset(
        publisher,
        dataset,
        keywords=["arbres"],
        themes=["ENVI"],
        frequency="DAILY",
        contact_email="opendata@lille.example.org",
        temporal_start="2024-01-01",
        provenance="Inventaire des arbres",
    )
    fresh = services.compute_quality(dataset)
    assert fresh > empty and dataset.quality_details["freshness"] == 100
    late = services.compute_quality(dataset, now=timezone.now() + timedelta(days=10))
    assert late < fresh and dataset.quality_details["freshness"] == 0


def test_other_modules_exports_become_datasets(lille, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        datasets = services.sync_module_exports(lille, keys={"core.communes"})
    (dataset,) = datasets
    dataset.refresh_from_db()
    resource = dataset.resources.get()
    assert resource.current_version.row_count == 95
    # the town hall phone numbers are flagged: a reviewer decides before publication
    assert dataset.status == "draft"
    flagged = [c["name"] for c in resource.current_version.undecided_personal_columns]
    assert "town_hall_phone" in flagged
    with django_capture_on_commit_callbacks(execute=True):
        again = services.sync_module_exports(lille, keys={"core.communes"})
    assert [d.pk for d in again] == [dataset.pk] and resource.versions.count() == 1
