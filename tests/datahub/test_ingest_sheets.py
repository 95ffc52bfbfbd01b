"""Workbooks with several sheets (ingest/sheets.py): the report lists the sheets, each
sheet can be loaded into the resource or become a resource of its own."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from metropole.core.exceptions import BadRequest, PermissionDenied
from metropole.core.models import AuditEvent
from metropole.datahub import services, storage
from metropole.datahub.ingest import sheets
from metropole.datahub.models import VersionStatus

from .spreadsheets import ods_workbook, xlsx_workbook

COMMUNES = [
    ["Commune", "Code INSEE", "Habitants"],
    ["Lille", "59350", 236234],
    ["Roubaix", "59512", 98089],
]
EQUIPEMENTS = [
    ["Équipement", "Commune", "Places", "Places PMR"],
    ["Piscine Marx Dormoy", "Lille", 400, 8],
    ["Piscine de Roubaix", "Roubaix", 300, 6],
    ["Stade Pierre Mauroy", "Villeneuve-d'Ascq", 50000, 500],
]
NOTES = [["Source", "Mise à jour"], ["Métropole européenne de Lille", "2024-03-01"]]
WORKBOOK = {"Communes": COMMUNES, "Équipements": EQUIPEMENTS, "Notes": NOTES}
# the PMR places of the second sheet are computed by formulas
FORMULAS = {"Équipements": {"D2": ("C2/50", 8), "D3": ("C3/50", 6)}}


def _load_all(django_capture_on_commit_callbacks, call, *args):
    with django_capture_on_commit_callbacks(execute=True):
        return call(*args)


@pytest.fixture
def workbook_version(resource, load):
    version = load(resource, xlsx_workbook(WORKBOOK, formulas=FORMULAS), name="metropole.xlsx")
    assert version.status == VersionStatus.READY, version.error_detail
    return version


def test_the_report_lists_every_sheet(workbook_version):
    report = workbook_version.report
    assert report["sheet"] == "Communes"
    assert report["sheets"] == ["Communes", "Équipements", "Notes"]
    warning = next(w for w in report["warnings"] if w["code"] == "other-sheets")
    assert "Équipements" in warning["message"] and "Notes" in warning["message"]
    # the formulas are on another sheet than the one loaded
    assert not [w for w in report["warnings"] if w["code"] == "formulas"]
    assert [r["Commune"] for r in storage.read_rows(workbook_version)] == ["Lille", "Roubaix"]


def test_another_sheet_loads_into_the_resource(
    resource, publisher, workbook_version, django_capture_on_commit_callbacks
):
    version = _load_all(
        django_capture_on_commit_callbacks, sheets.load_sheet, publisher, resource, "Équipements"
    )
    version.refresh_from_db()
    assert version.status == VersionStatus.READY, version.error_detail
    assert version.number == 2 and version.report["sheet"] == "Équipements"
    assert {c["name"]: c["type"] for c in version.columns} == {
        "Équipement": "string",
        "Commune": "string",
        "Places": "integer",
        "Places PMR": "integer",
    }
    assert [r["Places PMR"] for r in storage.read_rows(version)] == [8, 6, 500]
    formulas = next(w for w in version.report["warnings"] if w["code"] == "formulas")
    assert formulas["cells"] == ["D2", "D3"]  # found in that sheet's own part
    resource.refresh_from_db()
    assert resource.current_version_id == version.pk

    # a new workbook sent to this resource keeps loading the sheet it holds
    with django_capture_on_commit_callbacks(execute=True):
        again = services.upload(
            publisher, resource, SimpleUploadedFile("v3.xlsx", xlsx_workbook(WORKBOOK))
        )
    again.refresh_from_db()
    assert again.status == VersionStatus.READY, again.error_detail
    assert again.report["sheet"] == "Équipements" and again.row_count == 3


def test_every_sheet_becomes_a_resource_once(
    dataset, resource, publisher, workbook_version, django_capture_on_commit_callbacks
):
    created = _load_all(
        django_capture_on_commit_callbacks, sheets.add_sheet_resources, publisher, resource
    )
    assert [r.title for r in created] == ["Fichier — Équipements", "Fichier — Notes"]
    for added, expected in zip(created, (EQUIPEMENTS, NOTES), strict=True):
        added.refresh_from_db()
        version = added.current_version
        assert version is not None and version.status == VersionStatus.READY
        assert [c["name"] for c in version.columns] == expected[0]
        assert version.row_count == len(expected) - 1
    assert AuditEvent.objects.filter(action="datahub.resource_added").count() >= 3
    assert sheets.add_sheet_resources(publisher, resource) == []  # idempotent
    assert dataset.resources.count() == 3


def test_ods_sheets(resource, publisher, load, django_capture_on_commit_callbacks):
    content = ods_workbook(
        {"Communes": COMMUNES, "Équipements": EQUIPEMENTS},
        formulas={"Équipements": {"D2": "[.C2]/50"}},
    )
    first = load(resource, content, name="metropole.ods")
    assert first.status == VersionStatus.READY, first.error_detail
    assert first.report["sheets"] == ["Communes", "Équipements"]
    second = _load_all(
        django_capture_on_commit_callbacks, sheets.load_sheet, publisher, resource, "Équipements"
    )
    second.refresh_from_db()
    assert second.status == VersionStatus.READY, second.error_detail
    assert [r["Places"] for r in storage.read_rows(second)] == [400, 300, 50000]
    formulas = next(w for w in second.report["warnings"] if w["code"] == "formulas")
    assert formulas["cells"] == ["D2"]


def test_bad_sheet_choices(resource, publisher, workbook_version, make_user, dataset, load):
    with pytest.raises(BadRequest) as unknown:
        sheets.load_sheet(publisher, resource, "Budget")
    assert "Communes, Équipements, Notes" in str(unknown.value.detail)
    stranger = make_user("curieux@example.org")
    with pytest.raises(PermissionDenied):
        sheets.load_sheet(stranger, resource, "Notes")
    with pytest.raises(PermissionDenied):
        sheets.add_sheet_resources(stranger, resource)
    csv_resource = services.add_resource(publisher, dataset, title="CSV")
    load(csv_resource, b"a;b\n1;2\n")
    with pytest.raises(BadRequest):
        sheets.add_sheet_resources(publisher, csv_resource)
