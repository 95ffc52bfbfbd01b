"""The HTTP API: territory endpoints, problem+json errors, tokens, OpenAPI document."""

import json
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openapi_spec_validator import validate

from metropole.core import services
from metropole.core.models import ApiToken, Role

PROBLEM = "application/problem+json"


def test_metropole_endpoint(client, lille):
    body = client.get("/api/metropole").json()
    assert body["code"] == "200093201"
    assert body["commune_count"] == 95
    assert body["epts"] == []


def test_grand_paris_lists_its_eleven_epts(client, grand_paris, settings):
    settings.METROPOLE_SIREN = grand_paris.code
    body = client.get("/api/metropole").json()
    assert body["commune_count"] == 130
    assert len(body["epts"]) == 11


def test_communes_are_paginated_and_searchable(client, lille):
    page = client.get("/api/communes?limit=10&offset=90").json()
    assert page["count"] == 95 and len(page["items"]) == 5
    found = client.get("/api/communes", {"q": "roubaix"}).json()
    assert [c["code"] for c in found["items"]] == ["59512"]
    assert found["items"][0]["postal_codes"] == ["59100"]


def test_commune_detail_has_town_hall_and_geojson(client, lille):
    body = client.get("/api/communes/59350").json()
    assert body["name"] == "Lille"
    assert body["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    assert body["town_hall"]["address"] == "Place Augustin-Laurent"
    min_lon, min_lat, max_lon, max_lat = body["bbox"]
    assert min_lon < 3.06 < max_lon and min_lat < 50.63 < max_lat


def test_geojson_collection_for_the_map(client, lille):
    body = client.get("/api/communes.geojson").json()
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 95
    assert {"code", "name", "url"} <= set(body["features"][0]["properties"])


def test_lookup_by_point_and_postal_code(client, lille):
    assert client.get("/api/lookup", {"lat": "50.6366", "lon": "3.0635"}).json()["code"] == "59350"
    assert [c["code"] for c in client.get("/api/postal-codes/59100").json()] == ["59512"]


@pytest.mark.parametrize(
    ("url", "status", "words"),
    [
        ("/api/lookup?lat=abc&lon=3", 400, "decimal numbers"),
        ("/api/lookup?lat=48.8566&lon=2.3522", 404, "none of the communes"),
        ("/api/lookup?lat=50.6", 400, "lon"),
        ("/api/communes/99999", 404, "99999"),
        ("/api/postal-codes/75001", 404, "75001"),
        ("/api/postal-codes/7500", 400, "5 digits"),
        ("/api/communes?limit=-1", 400, "limit"),
        ("/api/me", 401, "token"),
        ("/api/no-such-route/", 404, "No such resource"),
        ("/api/communes?q=Lil%00le", 400, "NUL character"),
        ("/api/communes/59%00350", 400, "NUL character"),
    ],
)
def test_errors_are_problem_json_with_a_clear_detail(client, lille, url, status, words):
    response = client.get(url)
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["title"]
    assert words in body["detail"]


def test_personal_access_token_authenticates_and_can_be_revoked(client, make_user):
    user = make_user("machine@example.org")
    token, key = services.create_api_token(user, "nightly export")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    assert client.get("/api/me", **auth).json()["email"] == "machine@example.org"
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None
    assert not ApiToken.objects.filter(key_hash=key).exists()  # only the hash is stored
    services.revoke_api_token(user, token)
    assert client.get("/api/me", **auth).status_code == 401
    assert client.get("/api/me", HTTP_AUTHORIZATION="Bearer mtp_forged").status_code == 401


def test_tokens_are_managed_through_the_api_with_the_session(client, make_user):
    user = make_user("dev@example.org")
    client.force_login(user)
    created = client.post("/api/me/tokens", {"name": "script"}, content_type="application/json")
    assert created.status_code == 201
    key = created.json()["key"]
    machine = Client()  # no session: only the token speaks
    assert machine.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    listed = client.get("/api/me/tokens").json()
    assert [t["name"] for t in listed] == ["script"] and "key" not in listed[0]
    assert client.delete(f"/api/me/tokens/{listed[0]['id']}").status_code == 204
    assert machine.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401


def test_session_api_writes_need_the_csrf_token(make_user):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_user("csrf@example.org"))
    response = strict.post("/api/me/tokens", {"name": "x"}, content_type="application/json")
    assert response.status_code in {401, 403}
    assert not ApiToken.objects.exists()


def test_me_lists_roles(client, make_user, grant, commune):
    user = make_user("agent@example.org")
    grant(user, commune("59512"), Role.AGENT)
    client.force_login(user)
    roles = client.get("/api/me").json()["roles"]
    assert roles == [
        {
            "territory_code": "59512",
            "territory_name": "Roubaix",
            "role": "agent",
            "role_label": "commune agent",
        }
    ]


def test_openapi_document_is_valid_and_lists_the_endpoints(client, lille):
    response = client.get("/api/openapi.json")

    def no_repeated_key(pairs):
        keys = [key for key, _ in pairs]
        repeated = {key for key in keys if keys.count(key) > 1}
        # json.loads keeps the last of two equal keys; the docs page's YAML parser refuses them.
        assert not repeated, f"key(s) {repeated} twice in one object of the OpenAPI document"
        return dict(pairs)

    spec = json.loads(response.content, object_pairs_hook=no_repeated_key)
    validate(spec)
    paths = set(spec["paths"])
    assert {
        "/api/metropole",
        "/api/communes",
        "/api/communes/{code}",
        "/api/lookup",
        "/api/postal-codes/{code}",
        "/api/me",
        "/api/me/tokens",
    } <= paths


def test_api_docs_page_is_served_without_cdn(client, lille):
    html = client.get("/api/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()


def test_huge_offsets_are_refused_clearly(client, lille):
    # Found by schemathesis: an offset past 2**63 overflowed SQLite (a 500).
    response = client.get(f"/api/communes?offset={2**64}")
    assert response.status_code == 400 and "offset" in response.json()["detail"]
    assert client.get("/api/communes?offset=1000").json()["items"] == []


def test_geojson_is_cached_by_browsers_until_a_commune_changes(client, lille, commune):
    first = client.get("/api/communes.geojson", HTTP_ACCEPT_ENCODING="gzip")
    assert first["Content-Encoding"] == "gzip" and "max-age" in first["Cache-Control"]
    etag = first["ETag"]
    assert etag.startswith('W/"')  # gzip weakens it; browsers send it back as is
    assert client.get("/api/communes.geojson", HTTP_IF_NONE_MATCH=etag).status_code == 304
    with CaptureQueriesContext(connection) as queries:
        client.get("/api/communes.geojson", HTTP_IF_NONE_MATCH=etag)
    assert len(queries) <= 2  # answered before building the collection
    roubaix = commune("59512")
    roubaix.tagline = "Bienvenue"
    roubaix.save()
    changed = client.get("/api/communes.geojson", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_pages_answer_head_requests(client, lille):
    assert client.head("/").status_code == 200
    assert client.head("/communes/lille-59350/").status_code == 200


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"name": "a\\u0000b"}', "application/json"),
        ("name=a%00b", "application/x-www-form-urlencoded"),
    ],
)
def test_a_nul_character_in_a_text_body_is_refused_before_any_view(client, body, content_type):
    response = client.post("/api/me/tokens", body, content_type=content_type)
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert "NUL character" in response.json()["detail"]


def test_a_nul_byte_in_an_uploaded_file_is_left_to_the_view(client, lille):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("logo.png", b"\x89PNG\x00\x00binary")
    response = client.post("/api/me/tokens", {"file": upload})
    assert response.status_code == 401  # reached the API's authentication, not refused


class _UnreadableBody:
    """A request body that fails the test if anything reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/api/me/tokens", PROBLEM), ("/data/", "text/html; charset=utf-8")],
)
def test_a_body_announced_above_the_limit_is_refused_before_it_is_read(
    client, lille, settings, path, content_type
):
    settings.METROPOLE_MAX_REQUEST_BYTES = 1024**3
    two_gigabytes = str(2 * 1000**3)
    response = client.generic(
        "POST",
        path,
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=two_gigabytes,
        **{"wsgi.input": _UnreadableBody()},
    )
    assert response.status_code == 413
    assert response["Content-Type"] == content_type
    said = response.json()["detail"] if content_type == PROBLEM else response.content.decode()
    assert re.search(r"1[.,]0(\xa0|&nbsp;| )(GB|Go)", said)  # the limit, in words


def test_a_body_within_the_limit_reaches_the_view(client, settings):
    settings.METROPOLE_MAX_REQUEST_BYTES = 100
    assert client.post("/api/me/tokens", {"name": "x"}).status_code == 401
    refused = client.post("/api/me/tokens", {"name": "x" * 200})
    assert refused.status_code == 413
    assert "100" in refused.json()["detail"]
