"""Harvesting in a real browser: an administrator of Roubaix adds the metropole's own
DCAT-AP catalogue as a source, harvests it now, and reads the log of the run. axe-core
runs on each page."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from metropole.core.models import Role, Territory
from metropole.datahub import services as datahub
from metropole.harvest.models import HarvestedRecord
from tests.conftest import LILLE, PASSWORD

from .conftest import assert_accessible, assert_no_horizontal_scroll, log_in, screenshot


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    settings.DATAHUB_FILES_DIR = tmp_path / "datahub-files"
    from metropole.datahub.models import private_storage

    for name in ("base_location", "location"):
        private_storage.__dict__.pop(name, None)
    yield
    for name in ("base_location", "location"):
        private_storage.__dict__.pop(name, None)


def test_an_administrator_harvests_a_dcat_catalogue(new_context, make_member, live_server):
    lille = Territory.objects.get(code=LILLE)
    roubaix = Territory.objects.get(code="59512")
    agent = make_member("agent.data@lille.example.org", lille, Role.AGENT)
    dataset = datahub.create_dataset(
        agent,
        lille,
        title="Stations de vélos",
        description="Les stations de vélos en libre service de la métropole.",
        themes=["TRAN"],
        access="public",
    )
    resource = datahub.add_resource(agent, dataset, title="Stations (CSV)", format="csv")
    datahub.upload(
        agent, resource, SimpleUploadedFile("stations.csv", b"station,places\nGare,20\nOpera,12\n")
    )
    datahub.publish(agent, dataset)
    admin = make_member("admin.data@roubaix.example.org", roubaix, Role.ADMIN)

    page = new_context().new_page()
    log_in(page, admin.email, PASSWORD)
    page.goto(f"/administration/{roubaix.slug}/")
    page.click("main nav >> text=Harvesting")
    page.wait_for_selector("main h1:has-text('Harvesting')")
    assert_accessible(page, "harvest sources (empty)")
    page.fill("#id_name", "Données de la MEL")
    page.select_option("#id_kind", "dcat")
    page.fill("#id_url", f"{live_server.url}/catalog.ttl")
    page.select_option("#id_schedule", "manual")
    page.click("main form.form button[type=submit]")
    page.wait_for_selector("main h1:has-text('Données de la MEL')")
    assert_accessible(page, "a harvest source")
    page.click("main form[action*=lancer] button")
    page.wait_for_selector("main table a")
    page.click("main table a")
    page.wait_for_selector("main h1:has-text('Harvest of')")
    assert "Stations de vélos" in page.inner_text("main")
    assert_accessible(page, "a harvest run")
    assert_no_horizontal_scroll(page, "a harvest run")
    screenshot(page, "harvest-run")
    copy = HarvestedRecord.objects.get(remote_id=str(dataset.uid)).dataset
    assert copy.territory == roubaix and copy.title == "Stations de vélos"
