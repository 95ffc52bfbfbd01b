"""The data hub in a real browser: a new publisher uploads a CSV, sees the load finish and
publishes; a visitor finds the dataset, filters the table, builds a chart, sees the map and
downloads the filtered CSV. axe-core runs on every page on the way."""

from pathlib import Path

import pytest

from metropole.core.models import Role, Territory
from tests.conftest import LILLE, PASSWORD

from .conftest import assert_accessible, assert_no_horizontal_scroll, log_in, screenshot

TREES = (
    "Espèce;Commune;Hauteur (m);Plantation;latitude;longitude\n"
    "Tilleul;Lille;12,5;12/03/1998;50.6366;3.0635\n"
    "Platane;Lille;20;01/10/1975;50.6310;3.0580\n"
    "Érable;Roubaix;8;15/11/2010;50.6942;3.1746\n"
    "Tilleul;Roubaix;10;20/02/2001;50.6900;3.1800\n"
    "Chêne;Tourcoing;15,2;05/04/1990;50.7239;3.1612\n"
    "Tilleul;Villeneuve-d'Ascq;9;10/10/2005;50.6233;3.1450\n"
)


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    settings.DATAHUB_FILES_DIR = tmp_path / "datahub-files"
    settings.DATAHUB_EXPORTS_DIR = tmp_path / "datahub-exports"
    from metropole.datahub.models import private_storage

    for name in ("base_location", "location"):
        private_storage.__dict__.pop(name, None)
    yield
    for name in ("base_location", "location"):
        private_storage.__dict__.pop(name, None)


def test_a_new_publisher_uploads_a_csv_and_publishes_then_a_visitor_uses_it(
    new_context, make_member, tmp_path
):
    lille = Territory.objects.get(code=LILLE)
    agent = make_member("camille.data@lille.example.org", lille, Role.AGENT)
    csv = tmp_path / "arbres.csv"
    csv.write_bytes(TREES.encode())

    # --- the publisher ------------------------------------------------------------------
    page = new_context().new_page()
    log_in(page, agent.email, PASSWORD)
    page.goto(f"/administration/{lille.slug}/")
    page.click("main nav >> text=Data")
    page.wait_for_selector("main h1:has-text('Data')")
    assert_accessible(page, "publisher's datasets (empty)")
    page.click("text=Publish a new dataset")
    page.fill("#id_title", "Arbres d'alignement")
    page.fill(
        "#id_description", "Les arbres plantés le long des rues, avec leur espèce et leur hauteur."
    )
    page.check("label:has-text('Everyone (open data)') input")
    page.check("label:has-text('Environment') input")
    assert_accessible(page, "new dataset form")
    page.click("main form button[type=submit]")
    page.wait_for_selector("main h1:has-text('Add a file')")
    page.fill("#id_title", "Arbres 2025")
    page.set_input_files("#id_file", str(csv))
    assert_accessible(page, "add a file")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    screenshot(page, "datahub-after-upload")
    page.wait_for_selector("text=Loaded: 6 rows.")
    assert_accessible(page, "load report")
    screenshot(page, "datahub-load-report")
    page.click("text=Go on: check and publish")
    page.click("main button[value=publish]")
    page.wait_for_selector(".messages >> text=The dataset is published.")
    assert_accessible(page, "published dataset in the back-office")
    screenshot(page, "datahub-published")

    # --- a visitor ----------------------------------------------------------------------
    visitor = new_context().new_page()
    visitor.goto("/data/")
    visitor.fill("#q", "arbres")
    visitor.click("form[role=search] button[type=submit]")
    visitor.click("main h3 a:has-text('Arbres d')")
    visitor.wait_for_selector("#table-title")
    visitor.wait_for_selector(".datahub-map[data-map-points='6']")
    assert_accessible(visitor, "dataset page")
    screenshot(visitor, "datahub-dataset")

    visitor.select_option("#f1_col", "Commune")
    visitor.select_option("#f1_op", "eq")
    visitor.fill("#f1_val", "Roubaix")
    visitor.click("text=Show the rows")
    visitor.wait_for_selector("text=2 rows match.")
    rows = visitor.locator(".datahub-table tbody tr")
    assert rows.count() == 2 and "Érable" in rows.all_inner_texts()[0] + rows.all_inner_texts()[1]
    visitor.wait_for_selector(".datahub-map[data-map-points='2']")

    visitor.select_option("#chart_by", "Espèce")
    visitor.click("text=Draw the chart")
    visitor.wait_for_selector("figure.chart svg")
    assert "Number of rows by Espèce" in visitor.inner_text("figure.chart figcaption")
    visitor.click("figure.chart summary")
    figures = visitor.locator("figure.chart tbody tr").all_inner_texts()
    assert sorted(f.replace("\t", " ") for f in figures) == ["Tilleul 1", "Érable 1"]
    assert_accessible(visitor, "dataset page with a filter and a chart")
    screenshot(visitor, "datahub-chart")

    with visitor.expect_download() as download:
        visitor.click("text=Download CSV")
    lines = Path(download.value.path()).read_text(encoding="utf-8").strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("_id,Espèce,Commune")
    assert all("Roubaix" in line for line in lines[1:])

    visitor.set_viewport_size({"width": 375, "height": 740})
    assert_no_horizontal_scroll(visitor, "dataset page at 375px")
    screenshot(visitor, "datahub-dataset-375px")


def test_the_catalogue_and_dataset_page_without_javascript(new_context, make_member, tmp_path):
    """Search, facets and the table's filters are plain links and GET forms; the map says
    that the table lists the same rows. (axe needs JavaScript: it runs in the test above.)"""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from metropole.datahub import services

    lille = Territory.objects.get(code=LILLE)
    agent = make_member("camille.data@lille.example.org", lille, Role.AGENT)
    dataset = services.create_dataset(
        agent,
        lille,
        title="Arbres d'alignement",
        description="Les arbres des rues.",
        access="public",
        themes=["ENVI"],
    )
    resource = services.add_resource(agent, dataset, title="Arbres 2025")
    services.upload(agent, resource, SimpleUploadedFile("arbres.csv", TREES.encode()))
    services.publish(agent, dataset)

    page = new_context(java_script_enabled=False).new_page()
    page.goto("/data/")
    assert "1 dataset" in page.inner_text("#results-title")
    page.click("a:has-text('Environment')")
    assert "theme=ENVI" in page.url and "1 dataset" in page.inner_text("#results-title")
    page.click("main h3 a:has-text('Arbres d')")
    # The click returns once the new page is committed, maybe not yet parsed to its end
    # (is_visible does not wait: this failed once under load).
    page.wait_for_load_state()
    assert page.is_visible(".datahub-map-fallback")
    page.select_option("#f1_col", "Espèce")
    page.fill("#f1_val", "Tilleul")
    page.click("text=Show the rows")
    assert "3 rows match." in page.inner_text("#table")
    page.select_option("#chart_by", "Commune")
    page.click("text=Draw the chart")
    # the chart keeps the table's filter: three lime trees in three communes
    assert page.locator("figure.chart tbody tr").count() == 3
    assert "3 rows match." in page.inner_text("#table")


def test_a_partner_organisation_publishes_for_the_organisations_it_names(
    new_context, make_user, grant, tmp_path
):
    """A member of a transport operator finds its back-office from the open-data page,
    publishes a restricted dataset for a university; a member of the university reads it."""
    from metropole.core.models import Organisation, OrganisationKind

    lille = Territory.objects.get(code=LILLE)
    operator = Organisation.objects.create(
        metropole=lille, name="Opérateur de transport", kind=OrganisationKind.OPERATOR
    )
    university = Organisation.objects.create(
        metropole=lille, name="Université", kind=OrganisationKind.PUBLIC_BODY
    )
    partner = make_user("donnees@operateur.example.org")
    grant(partner, lille, Role.PARTNER, operator)
    researcher = make_user("chercheuse@universite.example.org")
    grant(researcher, lille, Role.PARTNER, university)
    csv = tmp_path / "departs.csv"
    csv.write_bytes(
        b"ligne;arret;depart\n1;Gare Lille Flandres;06:12\n1;Republique Beaux-Arts;06:14\n"
        b"2;Tourcoing Centre;06:30\n"
    )

    page = new_context().new_page()
    log_in(page, partner.email, PASSWORD)
    page.goto("/data/")
    page.click("text=Datasets of Opérateur de transport")
    page.wait_for_selector("main h1:has-text('Data')")
    assert_accessible(page, "partner's datasets (empty)")
    screenshot(page, "datahub-partner-space")
    page.click("main >> text=Publish a new dataset")
    page.fill("#id_title", "Premiers départs")
    page.fill("#id_description", "Les premiers départs de chaque ligne, arrêt par arrêt.")
    page.check("label:has-text('Members of Opérateur de transport') input")
    page.check("label:has-text('Université') input")
    assert_accessible(page, "partner's new dataset form")
    page.click("main form button[type=submit]")
    page.wait_for_selector("main h1:has-text('Add a file')")
    page.fill("#id_title", "Départs")
    page.set_input_files("#id_file", str(csv))
    page.click("main form button[type=submit]")
    page.wait_for_selector("text=Loaded: 3 rows.")
    assert_accessible(page, "partner's load report")
    page.click("text=Go on: check and publish")
    page.click("main button[value=publish]")
    page.wait_for_selector(".messages >> text=The dataset is published.")
    assert_accessible(page, "partner's published dataset")
    screenshot(page, "datahub-partner-published")

    reader = new_context().new_page()
    log_in(reader, researcher.email, PASSWORD)
    reader.goto("/data/")
    reader.click("main h3 a:has-text('Premiers départs')")
    reader.wait_for_selector("#table-title")
    assert "Opérateur de transport" in reader.inner_text("main")
    anonymous = new_context().new_page()
    anonymous.goto("/data/")
    assert anonymous.locator("main h3 a:has-text('Premiers départs')").count() == 0


def test_the_catalogue_and_a_dataset_with_a_long_theme_fit_a_phone(new_context, make_member):
    """At 375 px nothing scrolls sideways: the facets ("Affiner") come under the search box
    rather than beside the results, and a long theme badge wraps."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from metropole.datahub import services

    lille = Territory.objects.get(code=LILLE)
    agent = make_member("camille.data@lille.example.org", lille, Role.AGENT)
    dataset = services.create_dataset(
        agent,
        lille,
        title="Interventions de la police municipale",
        description="Les interventions par commune et par mois.",
        access="public",
        themes=["JUST", "ENVI"],
    )
    resource = services.add_resource(agent, dataset, title="Interventions 2025")
    services.upload(agent, resource, SimpleUploadedFile("arbres.csv", TREES.encode()))
    services.publish(agent, dataset)

    page = new_context(language="fr", width=375, height=740).new_page()
    page.goto("/data/")
    screenshot(page, "datahub-catalogue-375px")
    assert_no_horizontal_scroll(page, "/data/ at 375px")
    # on a phone the facets stack with the results, not in a column beside them
    facets = page.locator(".datahub-facets").bounding_box()
    results = page.locator("#results-title").bounding_box()
    assert facets["x"] + facets["width"] <= 375 and facets["y"] < results["y"]
    page.click("main h3 a:has-text('Interventions de la police')")
    page.wait_for_selector("#table-title")
    badge = page.locator(".badge:has-text('Justice, système juridique')").first
    assert badge.is_visible()
    screenshot(page, "datahub-dataset-long-theme-375px")
    assert_no_horizontal_scroll(page, "dataset page with a long theme at 375px")
