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
    # A step shown before the workflow changed ("to" no longer where index 0 leads): 409.
    stale = post(client, f"{url}/transitions", {"index": 0, "to": "done"}, **agent)
    assert stale.status_code == 409 and "changed" in stale.json()["detail"]
    request.refresh_from_db()
    assert request.status == "new"
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


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_files_through_the_api_same_checks_and_permissions(client, procedure, people, lille):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from metropole.core.models import Role

    url = "/api/procedures/forms/birth-certificate/requests/multipart"
    citizen = token_for(people["citizen"])
    # A file named like a PDF that is not one: refused by its content, nothing stored.
    response = client.post(
        url,
        {
            "answers": json.dumps(answers()),
            "proof": SimpleUploadedFile("proof.pdf", b"MZ\x90\x00 not a pdf"),
        },
        **citizen,
    )
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["proof"]
    assert not Request.objects.exists()
    # A part that is no file field of the form.
    response = client.post(
        url,
        {"answers": json.dumps(answers()), "photo": SimpleUploadedFile("a.pdf", PDF)},
        **citizen,
    )
    assert response.status_code == 400 and response.json()["field"] == "photo"
    # A JSON answer cannot point at a file stored for someone else.
    response = post(
        client,
        "/api/procedures/forms/birth-certificate/requests",
        {"answers": answers(proof={"attachment": 1, "name": "theirs.pdf"})},
        **citizen,
    )
    assert "proof" not in Request.objects.get(code=response.json()["code"]).data
    # A real PDF goes with the answers.
    response = client.post(
        url,
        {"answers": json.dumps(answers()), "proof": SimpleUploadedFile("acte.pdf", PDF)},
        **citizen,
    )
    assert response.status_code == 201, response.content
    code = response.json()["code"]
    files = client.get(f"/api/procedures/requests/{code}/attachments", **citizen).json()
    assert [(f["field"], f["filename"], f["content_type"]) for f in files] == [
        ("proof", "acte.pdf", "application/pdf")
    ]
    download = client.get(files[0]["url"], **citizen)
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert download["Cache-Control"] == "private, no-store"
    # The citizen sends a further file; the handling agent reads both; others cannot.
    response = client.post(
        f"/api/procedures/requests/{code}/attachments",
        {"file": SimpleUploadedFile("scan.png", b"\x89PNG\r\n\x1a\n" + b"0" * 40), "text": "Here"},
        **citizen,
    )
    assert response.status_code == 201 and response.json()["field"] == ""
    request = Request.objects.get(code=code)
    assert request.events.filter(by_citizen=True, text__contains="scan.png").exists()
    agent = token_for(people["agent"])
    files = client.get(f"/api/procedures/requests/{code}/attachments", **agent).json()
    assert [f["filename"] for f in files] == ["acte.pdf", "scan.png"]
    assert client.get(files[1]["url"], **agent).status_code == 200
    for intruder in (people["other"], people["roubaix"]):
        headers = token_for(intruder)
        assert client.get(files[0]["url"], **headers).status_code == 403
        assert (
            client.get(f"/api/procedures/requests/{code}/attachments", **headers).status_code == 403
        )
        response = client.post(
            f"/api/procedures/requests/{code}/attachments",
            {"file": SimpleUploadedFile("x.pdf", PDF)},
            **headers,
        )
        assert response.status_code == 403
    assert client.get(files[0]["url"]).status_code == 401
    # Too large: refused with the limit; the type is checked on the content.
    from django.test import override_settings

    with override_settings(PROCEDURES_MAX_UPLOAD_BYTES=100):
        response = client.post(
            f"/api/procedures/requests/{code}/attachments",
            {"file": SimpleUploadedFile("big.pdf", PDF + b"0" * 200)},
            **citizen,
        )
    assert response.status_code == 400 and response.json()["field"] == "file"
    assert "too large" in response.json()["detail"]
    # Closed: no more files from the citizen.
    Request.objects.filter(pk=request.pk).update(closed_at=request.submitted_at)
    response = client.post(
        f"/api/procedures/requests/{code}/attachments",
        {"file": SimpleUploadedFile("late.pdf", PDF)},
        **citizen,
    )
    assert response.status_code == 409
    assert request.attachments.count() == 2
    assert Role  # the agents above are members of their commune


def test_openapi_documents_the_file_endpoints(client):
    schema = client.get("/api/openapi.json").json()
    paths = schema["paths"]
    multipart = paths["/api/procedures/forms/{slug}/requests/multipart"]["post"]
    assert "multipart/form-data" in multipart["requestBody"]["content"]
    add = paths["/api/procedures/requests/{code}/attachments"]["post"]
    body = add["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert "file" in json.dumps(body) or "$ref" in json.dumps(body)
    download = paths["/api/procedures/requests/{code}/attachments/{attachment_id}"]["get"]
    assert "application/pdf" in download["responses"]["200"]["content"]
