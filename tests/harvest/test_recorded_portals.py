"""Harvesting CKAN and OpenDataSoft from recorded answers of real portals, served by a
local HTTP server that pages them with the portal's own parameters (see
tests/fixtures/harvest/README.md for where each answer comes from)."""

import hashlib
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from metropole.datahub import services as datahub
from metropole.datahub.models import Dataset, DatasetStatus, ResourceKind
from metropole.harvest import services
from metropole.harvest.models import HarvestedRecord, RunStatus
from tests.harvest.conftest import FIXTURES

pytestmark = pytest.mark.django_db

ENVIDAT_PERMAFROST = "8c2dcda3-8d82-40cd-b79e-1b4dbe4ac77f"
ENVIDAT_CANOPY = "19c270cb-d470-4bf6-b527-90c1b44040e8"


# SHA-256 of each recorded answer, as its recorder published it (tests/fixtures/harvest/README.md):
# the fixtures are the recorded bytes, not a copy edited by hand. One mechanical exception: the
# e-mail addresses of the CKAN answer (people) are replaced by person-N@example.org, N in order
# of first appearance; the recorder's checksum of the unredacted bytes is in the README.
RECORDED = {
    "ckan/envidat_package_search.json": (
        26991,
        "fc3ea8fbcac3b3527e6d82e7e3dc020ecaf524d43f37bcb8c7dac2109bdf0c14",
    ),
    "dcat/sig.oreme.rdf": (
        6315,
        "e85d4ffa13f213c6d90bee6e413b244dac11775f54d28a48cbd2c20f0a74b1de",
    ),
    "dcat/geonetwork.xml": (
        7928,
        "f7fa64b04ef867391b82cf68923ea111ba3c0894b41598c49c876fa2929f9bb9",
    ),
    "dcat/evian.json": (
        16647,
        "4774713f96b352e7fd699f5f53b9fa88991f6c9ea88fe65e8f67233ad918afc3",
    ),
}


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_the_fixtures_are_the_recorded_bytes(name):
    content = (FIXTURES / name).read_bytes()
    assert (len(content), hashlib.sha256(content).hexdigest()) == RECORDED[name]


def test_the_recorded_answers_hold_no_ones_e_mail_address():
    addresses = set()
    for name in RECORDED:
        text = (FIXTURES / name).read_text(encoding="utf-8")
        addresses |= set(re.findall(r"[\w.%+-]+@[\w.-]+\.[a-z]{2,}", text))
    assert all(address.endswith("@example.org") for address in addresses), addresses


def copies(source) -> dict[str, Dataset]:
    return {
        r.remote_id: Dataset.objects.get(pk=r.dataset_id)
        for r in HarvestedRecord.objects.filter(source=source)
    }


def test_ckan_package_search_of_envidat(settings, recorded_portal, harvester_admin, grand_paris):
    settings.HARVEST_PAGE_SIZE = 1
    portal, url = recorded_portal("ckan", "ckan/envidat_package_search.json")
    source = services.create_source(
        harvester_admin, grand_paris, name="EnviDat", kind="ckan", url=url
    )

    # CC-BY 4.0 is neither Licence Ouverte nor ODbL: nothing is harvested, and the log
    # says which licence an administrator would have to allow.
    refused = services.run_source(source)
    assert (refused.status, refused.seen, refused.created, refused.failed) == (
        RunStatus.PARTIAL,
        2,
        0,
        2,
    )
    assert "Creative Commons Attribution (CC-BY 4.0)" in refused.errors[0]["message"]
    # Paged with rows/start, one dataset a page.
    queries = [parse_qs(urlsplit(p).query) for p in portal.requests]
    assert [(q["rows"], q["start"]) for q in queries] == [(["1"], ["0"]), (["1"], ["1"])]
    assert all(urlsplit(p).path == "/api/3/action/package_search" for p in portal.requests)

    cc_by = datahub.allow_licence(
        harvester_admin,
        grand_paris,
        code="cc-by-4.0",
        title="Creative Commons Attribution 4.0",
        url="https://creativecommons.org/licenses/by/4.0/",
    )
    run = services.run_source(source)
    assert (run.status, run.created, run.failed) == (RunStatus.DONE, 2, 0), run.log
    found = copies(source)
    assert set(found) == {ENVIDAT_PERMAFROST, ENVIDAT_CANOPY}
    permafrost = found[ENVIDAT_PERMAFROST]
    assert permafrost.title == (
        "The importance of hot summers and individual heatwaves for permafrost in the Swiss Alps"
    )
    assert permafrost.licence == cc_by.code
    assert "HOT SUMMER" in permafrost.keywords
    # The maintainer is stored by EnviDat as a JSON object in a text field.
    assert permafrost.contact_name == "Elizaveta Sharaborova"
    assert permafrost.contact_email == "person-2@example.org"
    assert permafrost.landing_page == f"{url}/dataset/{permafrost_name()}"
    assert "CRYOS" in permafrost.provenance and ENVIDAT_PERMAFROST in permafrost.provenance
    assert permafrost.status == DatasetStatus.PUBLISHED
    (archive,) = permafrost.resources.all()
    assert archive.kind == ResourceKind.REMOTE and archive.format == ""
    assert archive.remote_url.endswith("/download/snowpack_simulations.zip")
    # 10 GB at the remote address: only the address is recorded, nothing is pulled.
    assert archive.next_pull_at is None and not archive.versions.exists()
    canopy = found[ENVIDAT_CANOPY].resources.all()
    assert sorted(r.title for r in canopy) == [
        "file1_environmental_10min.csv",
        "file2_physiological_60min.csv",
        "file3_water_potential_bar.csv",
        "file4_leaf_gas_exchange.csv",
    ]
    assert {r.format for r in canopy} == {"csv"}

    # Twice: nothing new.
    again = services.run_source(source)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert Dataset.objects.filter(harvested_record__source=source).count() == 2

    # The portal changes one title: that copy is updated.
    portal.edits[ENVIDAT_CANOPY] = {"title": "Canopy-scale VPD reduction (Pfynwald)"}
    changed = services.run_source(source)
    assert (changed.updated, changed.unchanged) == (1, 1)
    assert Dataset.objects.get(pk=found[ENVIDAT_CANOPY].pk).title == (
        "Canopy-scale VPD reduction (Pfynwald)"
    )

    # The portal is down: the run fails and archives nothing.
    portal.status = 503
    down = services.run_source(source)
    assert down.status == RunStatus.FAILED and "503" in down.error
    assert down.archived == 0
    portal.status = 200

    # The portal removes a dataset: its copy is archived, not deleted.
    portal.keep = {ENVIDAT_PERMAFROST}
    removed = services.run_source(source)
    assert (removed.archived, removed.unchanged) == (1, 1)
    assert Dataset.objects.get(pk=found[ENVIDAT_CANOPY].pk).status == DatasetStatus.ARCHIVED


def permafrost_name() -> str:
    return "the-importance-of-hot-summers-and-individual-heatwaves-for-permafrost-warming-an"


def test_opendatasoft_explore_v21_catalog(settings, ods_portal, harvester_admin, grand_paris):
    portal, url, ogl = ods_portal
    settings.HARVEST_PAGE_SIZE = 1
    source = services.create_source(
        harvester_admin, grand_paris, name="Opendatasoft", kind="ods", url=url
    )
    run = services.run_source(source)
    queries = [parse_qs(urlsplit(p).query) for p in portal.requests]
    assert [(q["limit"], q["offset"]) for q in queries] == [(["1"], ["0"]), (["1"], ["1"])]
    assert all(urlsplit(p).path == "/api/explore/v2.1/catalog/datasets" for p in portal.requests)
    # The GeoNames dataset declares no licence: it is not harvested, and the log says so.
    assert (run.seen, run.created, run.failed) == (2, 1, 1)
    assert run.errors[0]["record"] == "da_5m8ykr"
    assert "ODbL" in run.errors[0]["message"]  # what to allow is said
    boundaries = copies(source)["da_6kvv9v"]
    assert boundaries.title == "World Administrative Boundaries - Countries and Territories"
    assert boundaries.licence == ogl.code
    assert boundaries.description.startswith("This dataset displays level 0 world")
    assert "<p>" not in boundaries.description
    assert "Boundaries" in boundaries.keywords
    assert boundaries.landing_page == (
        f"{url}/explore/dataset/world-administrative-boundaries-countries-and-territories/"
    )
    exports = sorted(r.remote_url.rsplit("/", 1)[-1] for r in boundaries.resources.all())
    assert exports == ["csv", "geojson", "json"]  # it has geographic fields

    again = services.run_source(source)
    assert (again.created, again.unchanged, again.failed) == (0, 1, 1)
