"""End to end with the data hub's real pipeline: a publisher uploads a CSV, a reviewer removes
a personal column, the dataset is published, and anyone queries it through the API."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from metropole.core.models import Role
from metropole.datahub import services

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
CSV = """Lieu;Commune;Date;Montant;Latitude;Longitude;Courriel
Piscine Marx Dormoy;Lille;12/03/2021;1 234,5;50.6292;3.0573;a.martin@example.org
Piscine de Roubaix;Roubaix;01/07/2020;99,5;50.6942;3.1746;b.durand@example.org
Médiathèque Jean Lévy;Lille;15/09/2021;10;50.6330;3.0590;c.petit@example.org
=HYPERLINK("http://x");Tourcoing;02/02/2019;;50.7239;3.1612;d.roux@example.org
"""


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    settings.DATAHUB_FILES_DIR = tmp_path / "datahub-files"
    settings.DATAHUB_QUERY_RATE_PER_MINUTE = 10_000
    from metropole.datahub.models import private_storage

    for name in ("base_location", "location"):
        private_storage.__dict__.pop(name, None)
    yield
    for name in ("base_location", "location"):
        private_storage.__dict__.pop(name, None)


@pytest.fixture
def published(make_member, lille, django_capture_on_commit_callbacks):
    publisher = make_member("agent@lille.example.org", lille, Role.AGENT)
    reviewer = make_member("dpo@lille.example.org", lille, Role.ADMIN)
    dataset = services.create_dataset(
        publisher,
        lille,
        title="Équipements sportifs et culturels",
        description="Piscines et médiathèques de la métropole, avec leur budget.",
    )
    resource = services.add_resource(publisher, dataset, title="Équipements")
    with override_settings(TASKS=IMMEDIATE), django_capture_on_commit_callbacks(execute=True):
        services.upload(publisher, resource, SimpleUploadedFile("lieux.csv", CSV.encode()))
    resource.refresh_from_db()
    version = resource.versions.first()
    assert resource.current_version is not None, (
        version.status,
        version.error_title,
        version.error_detail,
    )
    services.update_dataset(publisher, dataset, access="public")
    services.review_column(reviewer, resource, "Courriel", "removed")
    services.publish(publisher, dataset)
    resource.publisher = publisher
    return resource


def test_a_published_csv_is_queryable_by_anyone(client, published):
    base = f"/api/datahub/resources/{published.uid}"
    schema = client.get(f"{base}/schema").json()
    types = {c["name"]: c["type"] for c in schema["columns"]}
    assert types["Date"] == "date" and types["Montant"] == "number"
    assert "Courriel" not in types and schema["geolocated"] is True

    page = client.get(f"{base}/records", {"Commune": "Lille", "sort": "-Montant"}).json()
    assert [r["Lieu"] for r in page["results"]] == ["Piscine Marx Dormoy", "Médiathèque Jean Lévy"]
    assert page["results"][0]["Montant"] == 1234.5
    assert page["results"][0]["Date"] == "2021-03-12"
    assert "Courriel" not in page["results"][0]

    found = client.get(f"{base}/records", {"q": "piscine"}).json()["results"]
    assert {r["Commune"] for r in found} == {"Lille", "Roubaix"}
    assert client.get(f"{base}/records", {"q": "example"}).json()["results"] == []

    near = client.get(f"{base}/records", {"near": "50.63,3.058,500"}).json()["results"]
    assert {r["Lieu"] for r in near} == {"Piscine Marx Dormoy", "Médiathèque Jean Lévy"}

    groups = client.get(
        f"{base}/aggregate", {"group_by": "year(Date)", "aggregate": "count,sum(Montant)"}
    ).json()["groups"]
    assert groups == [
        {"year(Date)": 2019, "count": 1, "sum(Montant)": None},
        {"year(Date)": 2020, "count": 1, "sum(Montant)": 99.5},
        {"year(Date)": 2021, "count": 2, "sum(Montant)": 1244.5},
    ]

    response = client.get(f"{base}/export.csv")
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 4 and "Courriel" not in rows[0]
    assert rows[3]["Lieu"] == '\'=HYPERLINK("http://x")'
    assert "example.org" not in text

    bad = client.get(f"{base}/records", {"Courriel": "a.martin@example.org"})
    assert bad.status_code == 400 and bad.json()["field"] == "Courriel"


def test_a_draft_is_not_served_to_the_public(client, published, lille):
    from metropole.datahub.models import Dataset

    base = f"/api/datahub/resources/{published.uid}"
    assert client.get(f"{base}/records").status_code == 200
    agent = lille.memberships.filter(role=Role.AGENT).first().user
    services.unpublish(agent, Dataset.objects.get(pk=published.dataset_id))
    response = client.get(f"{base}/records")
    assert response.status_code == 404
    assert client.get(f"{base}/export.csv").status_code == 404


def test_publishers_may_read_an_earlier_version(
    client, published, django_capture_on_commit_callbacks
):
    base = f"/api/datahub/resources/{published.uid}/records"
    new = CSV.replace(
        "Piscine de Roubaix;Roubaix;01/07/2020;99,5;50.6942;3.1746;b.durand@example.org\n", ""
    )
    with override_settings(TASKS=IMMEDIATE), django_capture_on_commit_callbacks(execute=True):
        services.upload(published.publisher, published, SimpleUploadedFile("v2.csv", new.encode()))
    assert client.get(base).json()["total"] == 3  # the current version: the new one
    assert client.get(base, {"version": "1"}).status_code == 403
    assert client.get(base, {"version": "x"}).json()["field"] == "version"
    client.force_login(published.publisher)
    assert client.get(base, {"version": "1"}).json()["total"] == 4
    assert client.get(base, {"version": "9"}).status_code == 404
