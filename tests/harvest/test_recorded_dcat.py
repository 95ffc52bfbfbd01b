"""Harvesting DCAT documents that real portals produced, not ours: GeoNetwork's DCAT output
of the OSU OREME catalogue (sig.oreme.org) and the DCAT-US JSON of the City of Évian's ArcGIS
Hub, as recorded in udata's test fixtures (see tests/fixtures/harvest/README.md), served by a
local HTTP server with the content type the portal would send."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from metropole.datahub.models import Dataset, DatasetStatus, ResourceKind
from metropole.harvest import services
from metropole.harvest.models import HarvestedRecord, RunStatus
from tests.harvest.conftest import FIXTURES

pytestmark = pytest.mark.django_db

OREME_GRAVI = "0437a976-cff1-4fa6-807a-c23006df2f8f"


@pytest.fixture
def serve():
    servers = []

    def start(name: str, content_type: str) -> str:
        body = (FIXTURES / "dcat" / name).read_bytes()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/geonetwork/srv/api/catalog.rdf"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_geonetwork_dcat_of_the_oreme_catalogue(serve, harvester_admin, grand_paris):
    url = serve("sig.oreme.rdf", "application/rdf+xml")
    source = services.create_source(
        harvester_admin, grand_paris, name="OSU OREME", kind="dcat", url=url
    )
    run = services.run_source(source)
    assert (run.status, run.seen, run.created, run.failed) == (RunStatus.DONE, 1, 1, 0), run.log
    record = HarvestedRecord.objects.get(source=source)
    assert record.remote_id.endswith(OREME_GRAVI)
    dataset = Dataset.objects.get(pk=record.dataset_id)
    assert dataset.title.startswith("National network of repeated absolute gravimetry (GRAVI)")
    assert dataset.description.startswith("Data from the 'National network")
    # "Licence ouverte / Open Licence", written as GeoNetwork writes it
    assert dataset.licence == "etalab-2.0"
    assert "GRAVI" in {k.upper() for k in dataset.keywords}
    assert dataset.status == DatasetStatus.PUBLISHED
    (distribution,) = dataset.resources.all()
    # GeoNetwork writes the address as a literal
    assert distribution.kind == ResourceKind.REMOTE
    assert distribution.remote_url == "https://oreme.org/observation/gravi"
    assert not distribution.versions.exists()  # an address, nothing downloaded
    again = services.run_source(source)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)


def test_geonetwork_dataset_under_copyright_is_refused_with_the_reason(
    serve, harvester_admin, grand_paris
):
    url = serve("geonetwork.xml", "application/rdf+xml")
    source = services.create_source(
        harvester_admin, grand_paris, name="TO Carnoulès", kind="dcat", url=url
    )
    run = services.run_source(source)
    assert (run.seen, run.created, run.failed) == (1, 0, 1), run.log
    # the licence named as the portal writes it (not INSPIRE's access-condition codes)
    assert "copyright" in run.errors[0]["message"]
    assert "inspire" not in run.errors[0]["message"]
    assert not Dataset.objects.filter(harvested_record__source=source).exists()


def test_dcat_us_json_with_a_remote_context_is_refused_not_fetched(
    serve, harvester_admin, grand_paris
):
    """ArcGIS Hub answers DCAT-US JSON whose @context is a remote address: rdflib would
    fetch it, so the harvester refuses the document and says why."""
    url = serve("evian.json", "application/json; charset=utf-8")
    source = services.create_source(
        harvester_admin, grand_paris, name="Évian", kind="dcat", url=url
    )
    run = services.run_source(source)
    assert run.status == RunStatus.FAILED and run.created == 0
    assert "context" in run.error.lower(), run.error
