"""The API of workbooks with several sheets: load another sheet into a resource, make one
resource per other sheet; errors as problem+json, the same permission path as the pages."""

import pytest

from metropole.core import services as core_services
from metropole.core.models import Role
from metropole.datahub import storage
from metropole.datahub.models import VersionStatus

from .spreadsheets import ods_workbook, xlsx_workbook

COMMUNES = [["Commune", "Code INSEE"], ["Lille", "59350"], ["Roubaix", "59512"]]
PISCINES = [
    ["Piscine", "Commune", "Bassins"],
    ["Piscine Marx Dormoy", "Lille", 2],
    ["Piscine de Roubaix", "Roubaix", 1],
]
PARCS = [["Parc", "Surface (ha)"], ["Citadelle", 110], ["Parc Barbieux", 33.5]]
WORKBOOK = {"Communes": COMMUNES, "Piscines": PISCINES, "Parcs": PARCS}


def bearer(user):
    _token, key = core_services.create_api_token(user, "tests")
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


@pytest.fixture
def token(publisher):
    return bearer(publisher)


@pytest.fixture
def workbook(resource, load):
    version = load(resource, xlsx_workbook(WORKBOOK), name="territoire.xlsx")
    assert version.status == VersionStatus.READY, version.error_detail
    return version


def post(client, path, body=None, **headers):
    return client.post(path, body or {}, content_type="application/json", **headers)


def test_load_another_sheet(client, token, resource, workbook, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            client, f"/api/datahub/resources/{resource.uid}/sheets", {"sheet": "Piscines"}, **token
        )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["number"] == 2
    detail = client.get(f"/api/datahub/resources/{resource.uid}/versions/2", **token).json()
    assert detail["status"] == "ready"
    assert detail["report"]["sheet"] == "Piscines"
    assert [c["name"] for c in detail["columns"]] == ["Piscine", "Commune", "Bassins"]
    resource.refresh_from_db()
    assert [r["Piscine"] for r in storage.read_rows(resource.current_version)] == [
        "Piscine Marx Dormoy",
        "Piscine de Roubaix",
    ]


def test_an_unknown_sheet_is_a_400_naming_it(client, token, resource, workbook):
    response = post(
        client, f"/api/datahub/resources/{resource.uid}/sheets", {"sheet": "Budget"}, **token
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["title"] == "Unknown sheet"
    assert "Budget" in problem["detail"] and "Communes, Piscines, Parcs" in problem["detail"]
    assert resource.versions.count() == 1


def test_a_csv_has_no_sheets(client, token, resource, load):
    assert load(resource, b"a;b\n1;2\n").status == VersionStatus.READY
    response = post(
        client, f"/api/datahub/resources/{resource.uid}/sheets", {"sheet": "Feuil1"}, **token
    )
    assert response.status_code == 400 and response.json()["title"] == "No workbook"
    response = post(client, f"/api/datahub/resources/{resource.uid}/sheet-resources", **token)
    assert response.status_code == 400 and response.json()["title"] == "No workbook"


def test_missing_sheet_field_is_a_problem(client, token, resource, workbook):
    response = post(client, f"/api/datahub/resources/{resource.uid}/sheets", {}, **token)
    assert response.status_code in (400, 422)
    assert response["Content-Type"] == "application/problem+json"


def test_one_resource_per_other_sheet(
    client, token, resource, load, django_capture_on_commit_callbacks
):
    version = load(resource, ods_workbook(WORKBOOK), name="territoire.ods")
    assert version.status == VersionStatus.READY, version.error_detail
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, f"/api/datahub/resources/{resource.uid}/sheet-resources", **token)
    assert response.status_code == 201, response.content
    created = response.json()
    assert [r["title"] for r in created] == ["Fichier — Piscines", "Fichier — Parcs"]
    parcs = client.get(f"/api/datahub/resources/{created[1]['id']}", **token).json()
    assert parcs["row_count"] == 2
    assert [c["name"] for c in parcs["columns"]] == ["Parc", "Surface (ha)"]
    # again: nothing new
    response = post(client, f"/api/datahub/resources/{resource.uid}/sheet-resources", **token)
    assert response.status_code == 201 and response.json() == []
    assert resource.dataset.resources.count() == 3


def test_the_same_permission_path(client, resource, workbook, make_member, make_user, commune):
    paths = [
        (f"/api/datahub/resources/{resource.uid}/sheets", {"sheet": "Piscines"}),
        (f"/api/datahub/resources/{resource.uid}/sheet-resources", None),
    ]
    for path, body in paths:
        assert post(client, path, body).status_code == 401  # no one
    roubaix_agent = make_member("agent@roubaix.example.org", commune("59512"), Role.AGENT)
    citizen = make_user("citoyen@example.org")
    for user in (roubaix_agent, citizen):
        for path, body in paths:
            response = post(client, path, body, **bearer(user))
            # a resource someone may not manage is not revealed to them (as for uploads)
            assert response.status_code == 404, (user, path, response.status_code)
            assert response["Content-Type"] == "application/problem+json"
    assert resource.versions.count() == 1 and resource.dataset.resources.count() == 1


def test_in_the_openapi(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert "post" in paths["/api/datahub/resources/{key}/sheets"]
    assert "post" in paths["/api/datahub/resources/{key}/sheet-resources"]
