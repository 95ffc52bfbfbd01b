"""The load report of a workbook with several sheets: it lists the sheets, loads another
one into the resource, or makes one resource per other sheet (plain POST forms)."""

import pytest
from django.urls import reverse

from metropole.core.models import AuditEvent, Role
from metropole.datahub import storage
from metropole.datahub.models import Resource, VersionStatus
from tests.datahub.spreadsheets import xlsx_workbook

COMMUNES = [["Commune", "Code INSEE"], ["Lille", "59350"], ["Roubaix", "59512"]]
PISCINES = [
    ["Piscine", "Commune", "Bassins"],
    ["Piscine Marx Dormoy", "Lille", 2],
    ["Piscine de Roubaix", "Roubaix", 1],
    ["Piscine Émile Dubrulle", "Lille", 1],
]
WORKBOOK = {"Communes": COMMUNES, "Piscines": PISCINES}


def page(name, resource, number, slug=None):
    dataset = resource.dataset
    return reverse(
        f"datahub:{name}",
        kwargs={
            "slug": slug or dataset.territory.slug,
            "dataset": dataset.slug,
            "resource": resource.uid,
            "number": number,
        },
    )


@pytest.fixture
def workbook(resource, load):
    version = load(resource, xlsx_workbook(WORKBOOK), name="equipements.xlsx")
    assert version.status == VersionStatus.READY, version.error_detail
    assert version.report["sheets"] == ["Communes", "Piscines"]
    return version


def test_the_report_offers_the_other_sheets(client, publisher, resource, workbook):
    client.force_login(publisher)
    html = client.get(page("version", resource, 1)).content.decode()
    assert "Sheets of the workbook" in html
    # the loaded sheet has no button; the other one has its own
    assert html.count("Load this sheet instead") == 1
    assert 'name="sheet" value="Piscines"' in html
    assert 'name="sheet" value="Communes"' not in html
    assert "Make one resource per other sheet" in html
    assert html.count('name="csrfmiddlewaretoken"') >= 2


def test_a_csv_report_has_no_sheets(client, publisher, resource, load):
    version = load(resource, b"a;b\n1;2\n", name="data.csv")
    assert version.status == VersionStatus.READY
    client.force_login(publisher)
    html = client.get(page("version", resource, 1)).content.decode()
    assert "Sheets of the workbook" not in html and "Load this sheet instead" not in html


def test_load_another_sheet_from_the_report(
    client, publisher, resource, workbook, django_capture_on_commit_callbacks
):
    client.force_login(publisher)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(page("load_sheet", resource, 1), {"sheet": "Piscines"})
    assert response.status_code == 302
    assert response["Location"] == page("version", resource, 2)
    resource.refresh_from_db()
    version = resource.current_version
    assert version.number == 2 and version.report["sheet"] == "Piscines"
    assert [r["Piscine"] for r in storage.read_rows(version)] == [
        "Piscine Marx Dormoy",
        "Piscine de Roubaix",
        "Piscine Émile Dubrulle",
    ]
    html = client.get(response["Location"]).content.decode()
    assert "The sheet “Piscines” is being loaded into this resource." in html
    # now Communes is the sheet offered
    assert 'name="sheet" value="Communes"' in html
    assert 'name="sheet" value="Piscines"' not in html


def test_an_unknown_sheet_is_said_and_nothing_is_loaded(client, publisher, resource, workbook):
    client.force_login(publisher)
    response = client.post(page("load_sheet", resource, 1), {"sheet": "Budget"}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Unknown sheet" in html and "Budget" in html and "Communes, Piscines" in html
    assert resource.versions.count() == 1


def test_one_resource_per_other_sheet(
    client, publisher, resource, workbook, django_capture_on_commit_callbacks
):
    client.force_login(publisher)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(page("sheet_resources", resource, 1), follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "1 resources are created" in html or "1 resource is created" in html
    added = Resource.objects.get(dataset=resource.dataset, title="Fichier — Piscines")
    assert added.current_version.report["sheet"] == "Piscines"
    assert added.current_version.row_count == 3
    assert AuditEvent.objects.filter(action="datahub.resource_added").exists()
    # a second time creates nothing and says so
    response = client.post(page("sheet_resources", resource, 1), follow=True)
    assert "Every sheet of the workbook already has its resource." in response.content.decode()
    assert resource.dataset.resources.count() == 2


def test_the_page_speaks_french(client, publisher, resource, workbook):
    client.force_login(publisher)
    html = client.get(page("version", resource, 1), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Feuilles du classeur" in html
    assert "Charger cette feuille à la place" in html


def test_people_without_the_right_get_403(
    client, make_user, make_member, commune, resource, workbook
):
    client.force_login(make_user("citoyen@example.org"))
    assert client.get(page("version", resource, 1)).status_code == 403
    assert client.post(page("load_sheet", resource, 1), {"sheet": "Piscines"}).status_code == 403
    assert client.post(page("sheet_resources", resource, 1)).status_code == 403
    roubaix = commune("59512")
    client.force_login(make_member("agent@roubaix.example.org", roubaix, Role.AGENT))
    assert client.post(page("load_sheet", resource, 1), {"sheet": "Piscines"}).status_code == 403
    assert client.post(page("sheet_resources", resource, 1)).status_code == 403
    assert resource.versions.count() == 1 and resource.dataset.resources.count() == 1
