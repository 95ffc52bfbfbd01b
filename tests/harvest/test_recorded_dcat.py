"""Harvesting DCAT documents that real portals produced, not ours: GeoNetwork's DCAT output
of the OSU OREME catalogue (sig.oreme.org) and the DCAT-US JSON of the City of Évian's ArcGIS
Hub, as recorded in udata's test fixtures (see tests/fixtures/harvest/README.md), served by a
local HTTP server with the content type the portal would send."""

import pytest

from metropole.datahub.models import Dataset, DatasetStatus, ResourceKind
from metropole.harvest import services
from metropole.harvest.models import HarvestedRecord, RunStatus
from tests.harvest.conftest import FIXTURES, ok_answer

pytestmark = pytest.mark.django_db

OREME_GRAVI = "0437a976-cff1-4fa6-807a-c23006df2f8f"
CATALOG_PATH = "/geonetwork/srv/api/catalog.rdf"


@pytest.fixture
def recorded(serve):
    """Serves a recorded document of tests/fixtures/harvest/dcat/ with `content_type`."""

    def start(name: str, content_type: str) -> str:
        body = (FIXTURES / "dcat" / name).read_bytes()
        return serve(lambda path: ok_answer(body, content_type)) + CATALOG_PATH

    return start


def test_geonetwork_dcat_of_the_oreme_catalogue(recorded, harvester_admin, grand_paris):
    url = recorded("sig.oreme.rdf", "application/rdf+xml")
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
    recorded, harvester_admin, grand_paris
):
    url = recorded("geonetwork.xml", "application/rdf+xml")
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
    recorded, harvester_admin, grand_paris
):
    """ArcGIS Hub answers DCAT-US JSON whose @context is a remote address: rdflib would
    fetch it, so the harvester refuses the document and says why."""
    url = recorded("evian.json", "application/json; charset=utf-8")
    source = services.create_source(
        harvester_admin, grand_paris, name="Évian", kind="dcat", url=url
    )
    run = services.run_source(source)
    assert run.status == RunStatus.FAILED and run.created == 0
    assert "context" in run.error.lower(), run.error
