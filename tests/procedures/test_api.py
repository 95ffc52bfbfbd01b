"""The procedures API: the same services and rules as the pages."""

import json

import pytest

from metropole.core.services import create_api_token
from metropole.procedures import services
from metropole.procedures.models import Request

from .conftest import answers

pytestmark = pytest.mark.django_db


def token_for(user) -> dict:
    _token, key = create_api_token(user, "tests")
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def post(client, url, body, **headers):
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


def test_forms_and_their_definition(client, procedure):
    forms = client.get("/api/procedures/forms").json()
    assert [f["slug"] for f in forms] == ["birth-certificate"]
    assert client.get("/api/procedures/forms?commune=59350").json()[0]["allow_anonymous"]
    definition = client.get("/api/procedures/forms/birth-certificate").json()
    assert [p["title"] for p in definition["pages"]] == ["The certificate", "Where and you"]
    why = next(f for f in definition["pages"][0]["fields"] if f["key"] == "why")
    assert (why["condition_field"], why["condition_value"]) == ("kind", "Full copy")
    assert client.get("/api/procedures/forms/nope").status_code == 404


def test_submit_errors_by_field_and_page(client, procedure):
    response = post(
        client,
        "/api/procedures/forms/birth-certificate/requests",
        {"answers": {"kind": "Full copy", "date": "soon"}, "email": "a@b.fr"},
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    errors = {e["field"]: e for e in response.json()["errors"]}
    assert set(errors) == {"name", "date", "why", "place"}
    assert errors["place"]["page"] == 2 and "date" in errors["date"]["message"]
    assert not Request.objects.exists()


def test_anonymous_and_authenticated_submission(client, procedure, people):
    url = "/api/procedures/forms/birth-certificate/requests"
    response = post(client, url, {"answers": answers(), "email": "anon@example.org"})
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "new" and body["territory_code"] == "59350"
    assert "?cle=" in body["status_url"]
    anonymous = Request.objects.get(code=body["code"])
    assert anonymous.user is None
    auth = token_for(people["citizen"])
    body = post(client, url, {"answers": answers()}, **auth).json()
    assert Request.objects.get(code=body["code"]).user == people["citizen"]
    mine = client.get("/api/procedures/requests/mine", **auth).json()
    assert [r["code"] for r in mine] == [body["code"]]
    # a logged-in browser must send its CSRF token (no cross-site submission in its name)
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(people["citizen"])
    response = post(browser, url, {"answers": answers(), "email": "x@example.org"})
    assert response.status_code == 403 and Request.objects.count() == 2


def test_request_detail_messages_and_transitions(client, procedure, people):
    request = services.submit_answers(people["citizen"], procedure["form"], answers())
    services.add_comment(people["agent"], request, "internal note")
    citizen, agent = token_for(people["citizen"]), token_for(people["agent"])
    url = f"/api/procedures/requests/{request.code}"
    detail = client.get(url, **citizen).json()
    assert detail["answers"]["name"] == "Martin"
    assert all(not e["internal"] for e in detail["events"])
    assert any(e["internal"] for e in client.get(url, **agent).json()["events"])
    assert client.get(url, **token_for(people["other"])).status_code == 403
    assert client.get(url, **token_for(people["roubaix"])).status_code == 403
    message = post(client, f"{url}/messages", {"text": "Any news?"}, **citizen)
    assert message.status_code == 201 and message.json()["by_citizen"] is True
    assert client.get(f"{url}/transitions", **citizen).status_code == 403
    steps = client.get(f"{url}/transitions", **agent).json()
    assert steps == [{"index": 0, "label": "Take", "to": "open"}]
    assert post(client, f"{url}/transitions", {"index": 0}, **citizen).status_code == 403
    moved = post(client, f"{url}/transitions", {"index": 0}, **agent)
    assert moved.status_code == 200 and moved.json()["status"] == "open"
    clerk = token_for(people["clerk"])
    refused = post(client, f"{url}/transitions", {"index": 2}, **clerk)
    assert refused.status_code == 403 and "civil" in refused.json()["detail"]
    again = post(client, f"{url}/transitions", {"index": 0}, **agent)
    assert again.status_code == 409
    request.refresh_from_db()
    assert request.status == "open"


def test_queue_is_paged_by_cursor_and_scoped(client, procedure, people):
    made = [
        services.submit_answers(people["citizen"], procedure["form"], answers()) for _ in range(5)
    ]
    agent = token_for(people["agent"])
    url = "/api/procedures/queue/59350"
    first = client.get(f"{url}?limit=2", **agent).json()
    assert len(first["items"]) == 2 and first["next"]
    second = client.get(f"{url}?limit=2&after={first['next']}", **agent).json()
    third = client.get(f"{url}?limit=2&after={second['next']}", **agent).json()
    codes = [r["code"] for page in (first, second, third) for r in page["items"]]
    assert sorted(codes) == sorted(r.code for r in made) and third["next"] is None
    assert client.get(url, **token_for(people["roubaix"])).status_code == 403
    assert client.get(url).status_code == 401
    assert client.get(f"{url}?after=yesterday", **agent).status_code == 400
