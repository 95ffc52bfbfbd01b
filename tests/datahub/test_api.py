"""The catalogue API: create, upload, watch the load, publish, search, access."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from metropole.core import services as core_services
from metropole.core.models import Role

CSV = "nom;surface_ha;ouvert\nParc Barbieux;33,5;oui\nCitadelle;110;oui\n"


@pytest.fixture
def token(publisher):
    _token, key = core_services.create_api_token(publisher, "tests")
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def test_publish_a_csv_through_the_api(client, token, django_capture_on_commit_callbacks):
    response = client.post(
        "/api/datahub/datasets",
        {
            "title": "Parcs et jardins",
            "description": "Les grands parcs de Lille.",
            "territory": "59350",
            "themes": ["ENVI"],
            "access": "public",
        },
        content_type="application/json",
        **token,
    )
    assert response.status_code == 403  # an agent of the metropole, not of Lille
    response = client.post(
        "/api/datahub/datasets",
        {
            "title": "Parcs et jardins",
            "description": "Les grands parcs de la métropole.",
            "themes": ["ENVI"],
            "access": "public",
            "keywords": ["parcs"],
        },
        content_type="application/json",
        **token,
    )
    assert response.status_code == 201, response.content
    dataset = response.json()
    assert dataset["status"] == "draft" and dataset["themes"] == ["ENVI"]
    response = client.post(
        f"/api/datahub/datasets/{dataset['id']}/resources",
        {"title": "Parcs"},
        content_type="application/json",
        **token,
    )
    assert response.status_code == 201
    resource = response.json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/datahub/resources/{resource}/upload",
            {"file": SimpleUploadedFile("parcs.csv", CSV.encode())},
            **token,
        )
    assert response.status_code == 202, response.content
    response = client.get(f"/api/datahub/resources/{resource}/versions/1", **token)
    load = response.json()
    assert load["status"] == "ready" and load["row_count"] == 2
    assert [c["type"] for c in load["columns"]] == ["string", "number", "boolean"]
    # not yet published: invisible to others
    assert client.get(f"/api/datahub/datasets/{dataset['id']}").status_code == 404
    response = client.post(f"/api/datahub/datasets/{dataset['id']}/publish", **token)
    assert response.status_code == 200 and response.json()["status"] == "published"
    listed = client.get("/api/datahub/datasets?q=jardins&theme=ENVI").json()
    assert [d["id"] for d in listed["items"]] == [dataset["id"]]
    detail = client.get(f"/api/datahub/datasets/{dataset['slug']}").json()
    assert detail["resources"][0]["row_count"] == 2


@pytest.fixture
def publisher(make_member, lille):
    return make_member("agent.metropole@example.org", lille, Role.AGENT)


def test_bad_upload_gives_a_problem_report(
    client, token, publisher, lille, django_capture_on_commit_callbacks
):
    from metropole.datahub import services

    dataset = services.create_dataset(publisher, lille, title="Vide")
    resource = services.add_resource(publisher, dataset, title="Fichier")
    response = client.post(
        f"/api/datahub/resources/{resource.uid}/upload",
        {"file": SimpleUploadedFile("vide.csv", b"")},
        **token,
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["title"] == "Empty file"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/api/datahub/resources/{resource.uid}/upload",
            {"file": SimpleUploadedFile("r.csv", b"a,b\n1,2\n3\n")},
            **token,
        )
    report = client.get(f"/api/datahub/resources/{resource.uid}/versions/1", **token).json()
    assert report["status"] == "failed"
    assert report["report"]["errors"][0]["row"] == 3


def test_writes_need_authentication(client, lille):
    response = client.post("/api/datahub/datasets", {"title": "x"}, content_type="application/json")
    assert response.status_code == 401
