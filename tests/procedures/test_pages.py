"""Pages: a citizen fills a procedure page by page and follows it; a person without an
account uses the e-mailed link; agents handle requests; administrators build forms. Same
rules as the API (one permission path)."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from metropole.notifications.models import Notification
from metropole.procedures import services
from metropole.procedures.models import Attachment, Request

from .conftest import answers

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_citizen_fills_sends_and_follows(client, procedure, people):
    form = procedure["form"]
    client.force_login(people["citizen"])
    assert "Birth certificate" in client.get("/demarches/").content.decode()
    start = client.post(f"/demarches/{form.slug}/")
    draft = Request.objects.get(user=people["citizen"])
    assert start["Location"] == f"/demarches/brouillon/{draft.pk}/page/1/"
    page = client.post(start["Location"], {"kind": "Full copy", "name": "", "date": "x"})
    assert page.status_code == 400
    text = page.content.decode()
    assert "This field is required." in text and "Enter a date" in text
    assert 'value="Full copy" checked' in text  # answers kept on the page
    page = client.post(
        start["Location"],
        {"kind": "Full copy", "name": "Martin", "date": "14/07/1990", "why": "Passport"},
    )
    assert page["Location"].endswith("/page/2/")
    page = client.post(
        page["Location"],
        {
            "place": "Place Augustin Laurent",
            "place__commune": "59350",
            "copies": "2",
            "options": ["Post"],
            "proof": SimpleUploadedFile("proof.pdf", PDF),
        },
    )
    assert page["Location"].endswith("/recapitulatif/")
    review = client.get(page["Location"]).content.decode()
    assert "Passport" in review and "Place Augustin Laurent, Lille" in review
    done = client.post(page["Location"], {"phone": "06 12 34 56 78"})
    request = Request.objects.get(pk=draft.pk)
    assert done["Location"] == f"/demarches/suivi/{request.code}/envoyee/"
    assert request.territory.code == "59350" and request.phone == "+33612345678"
    status = client.get(f"/demarches/suivi/{request.code}/").content.decode()
    assert "New" in status and "proof.pdf" in status
    client.post(f"/demarches/suivi/{request.code}/", {"text": "Please hurry"})
    assert request.events.filter(kind="message", by_citizen=True, text="Please hurry").exists()
    mine = client.get("/demarches/mes-demandes/").content.decode()
    assert request.code in mine


def test_save_and_continue_later_keeps_the_draft(client, procedure, people):
    client.force_login(people["citizen"])
    client.post(f"/demarches/{procedure['form'].slug}/")
    draft = Request.objects.get(user=people["citizen"])
    response = client.post(
        f"/demarches/brouillon/{draft.pk}/page/1/",
        {"kind": "Extract", "name": "Martin", "date": "1/1/2000", "later": ""},
    )
    assert response["Location"] == "/demarches/mes-demandes/"
    mine = client.get("/demarches/mes-demandes/").content.decode()
    assert "Draft: not sent yet" in mine and f"/brouillon/{draft.pk}/page/1/" in mine
    client.force_login(people["other"])
    assert client.get(f"/demarches/brouillon/{draft.pk}/page/1/").status_code == 403


def test_without_an_account_the_link_opens_the_request(client, procedure, people, settings):
    from django.test import Client

    client.post(f"/demarches/{procedure['form'].slug}/")
    draft = Request.objects.get(user=None)
    client.post(
        f"/demarches/brouillon/{draft.pk}/page/1/",
        {"kind": "Extract", "name": "Martin", "date": "1/1/2000"},
    )
    client.post(
        f"/demarches/brouillon/{draft.pk}/page/2/", {"place": "1 rue X", "place__commune": "59350"}
    )
    review = client.post(f"/demarches/brouillon/{draft.pk}/recapitulatif/", {"email": ""})
    assert review.status_code == 400 and "e-mail address" in review.content.decode()
    client.post(f"/demarches/brouillon/{draft.pk}/recapitulatif/", {"email": "anon@example.org"})
    request = Request.objects.get(pk=draft.pk)
    assert not request.is_draft
    link = re.search(
        r"https?://\S+", Notification.objects.get(source="procedures.submitted").body
    ).group(0)
    path = link.split("testserver", 1)[-1]
    stranger = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert stranger.get(f"/demarches/suivi/{request.code}/").status_code == 403
    opened = stranger.get(path)
    assert opened.status_code == 200 and request.code in opened.content.decode()
    assert stranger.get(f"/demarches/suivi/{request.code}/").status_code == 200  # same session
    settings.PROCEDURES_LINK_MAX_AGE = -1
    expired = Client(HTTP_ACCEPT_LANGUAGE="en").get(path)
    assert expired.status_code == 403 and "expired" in expired.content.decode()
    forged = Client(HTTP_ACCEPT_LANGUAGE="en").get(path[:-3] + "abc")
    assert forged.status_code == 403


def test_a_form_that_needs_an_account_sends_to_log_in(client, procedure):
    form = procedure["form"]
    form.allow_anonymous = False
    form.save()
    response = client.post(f"/demarches/{form.slug}/")
    assert "/compte/connexion/" in response["Location"] and not Request.objects.exists()


def test_attachments_are_sniffed_and_served_only_with_permission(client, procedure, people):
    client.force_login(people["citizen"])
    client.post(f"/demarches/{procedure['form'].slug}/")
    draft = Request.objects.get(user=people["citizen"])
    url = f"/demarches/brouillon/{draft.pk}/page/2/"
    fake = SimpleUploadedFile("proof.pdf", b"MZ\x90\x00 not a pdf")
    response = client.post(url, {"place": "1 rue X", "place__commune": "59350", "proof": fake})
    assert response.status_code == 400 and "not accepted" in response.content.decode()
    renamed = SimpleUploadedFile("proof.png", PDF)
    response = client.post(url, {"place": "1 rue X", "place__commune": "59350", "proof": renamed})
    assert "does not match its content" in response.content.decode()
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * (5 * 1024 * 1024))
    response = client.post(url, {"place": "1 rue X", "place__commune": "59350", "proof": big})
    assert "too large" in response.content.decode()
    assert not Attachment.objects.exists()
    client.post(
        url,
        {
            "place": "1 rue X",
            "place__commune": "59350",
            "proof": SimpleUploadedFile("proof.pdf", PDF),
        },
    )
    attachment = Attachment.objects.get()
    from django.conf import settings

    assert str(settings.VAR_DIR / "private") in attachment.file.path
    assert not attachment.file.path.startswith(str(settings.MEDIA_ROOT))
    services.save_page(
        people["citizen"], draft, 1, {"kind": "Extract", "name": "M", "date": "1/1/2000"}
    )
    request = services.submit(people["citizen"], Request.objects.get(pk=draft.pk))
    file_url = f"/demarches/suivi/{request.code}/fichiers/{attachment.pk}/"
    response = client.get(file_url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    client.force_login(people["agent"])
    assert client.get(file_url).status_code == 200
    client.force_login(people["roubaix"])
    assert client.get(file_url).status_code == 403
    client.force_login(people["other"])
    assert client.get(file_url).status_code == 403


def test_agent_queue_filters_and_handles(client, procedure, people):
    citizen = people["citizen"]
    first = services.submit_answers(citizen, procedure["form"], answers(name="Alpha"))
    second = services.submit_answers(citizen, procedure["form"], answers(name="Beta"))
    roubaix = services.submit_answers(
        citizen, procedure["form"], answers(place={"street": "1 Grand Place", "commune": "59512"})
    )
    slug = procedure["lille_commune"].slug
    client.force_login(people["citizen"])
    assert client.get(f"/demarches/gestion/{slug}/").status_code == 403
    client.force_login(people["agent"])
    queue = client.get(f"/demarches/gestion/{slug}/").content.decode()
    assert first.code in queue and second.code in queue and roubaix.code not in queue
    queue = client.get(f"/demarches/gestion/{slug}/?q=Beta").content.decode()
    assert second.code in queue and first.code not in queue
    assert client.get(f"/demarches/gestion/demandes/{roubaix.code}/").status_code == 403
    page = client.get(f"/demarches/gestion/demandes/{first.code}/").content.decode()
    assert "Take" in page and "Deliver" not in page  # from "new" only "Take" is possible
    client.post(
        f"/demarches/gestion/demandes/{first.code}/", {"action": "transition", "index": "0"}
    )
    client.post(
        f"/demarches/gestion/demandes/{first.code}/",
        {"action": "comment", "text": "Register checked"},
    )
    first.refresh_from_db()
    assert first.status == "open"
    agent_view = client.get(f"/demarches/gestion/demandes/{first.code}/").content.decode()
    assert "Register checked" in agent_view  # agents see internal comments, citizens do not
    client.force_login(people["citizen"])
    citizen_view = client.get(f"/demarches/suivi/{first.code}/").content.decode()
    assert "Register checked" not in citizen_view and "Being handled" in citizen_view
    client.force_login(people["clerk"])
    response = client.post(
        f"/demarches/gestion/demandes/{first.code}/",
        {"action": "transition", "index": "2"},
        follow=True,
    )
    assert "Only the teams civil" in response.content.decode()
    first.refresh_from_db()
    assert first.status == "open"
    response = client.post(
        f"/demarches/gestion/{slug}/lot/",
        {"codes": [first.code, second.code], "action": "me"},
        follow=True,
    )
    assert Request.objects.filter(assigned_to=people["clerk"]).count() == 2
    queue = client.get(f"/demarches/gestion/{slug}/?assigned=me").content.decode()
    assert first.code in queue and second.code in queue


def test_agent_queue_queries_do_not_grow_with_its_rows(client, procedure, people):
    """The queue page's SQL queries are the same for 2 rows and for 8 rows assigned to
    different agents and teams (no query per row: the benchmark's "8 queries" holds)."""
    citizen, agent, clerk = people["citizen"], people["agent"], people["clerk"]
    slug = procedure["lille_commune"].slug
    url = f"/demarches/gestion/{slug}/?status=all"

    def add(count):
        for i in range(count):
            obj = services.submit_answers(citizen, procedure["form"], answers(name=f"N{i}"))
            services.assign(agent, obj, agent=(agent, clerk)[i % 2])
            if i % 3 == 0:
                services.assign(agent, obj, team=procedure["commune_team"])

    def queries_of_page():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        return len(captured.captured_queries), response.content.decode().count('name="codes"')

    client.force_login(agent)
    add(2)
    few, rows = queries_of_page()
    assert rows == 2
    add(6)
    many, rows = queries_of_page()
    assert rows == 8
    assert many == few


def test_counter_entry_page(client, procedure, people):
    slug = procedure["lille_commune"].slug
    client.force_login(people["clerk"])
    assert "Birth certificate" in client.get(f"/demarches/gestion/{slug}/saisie/").content.decode()
    url = f"/demarches/gestion/{slug}/saisie/{procedure['form'].slug}/"
    bad = client.post(url, {"channel": "mail", "kind": "Extract"})
    assert bad.status_code == 400 and "This field is required." in bad.content.decode()
    response = client.post(
        url,
        {
            "channel": "mail",
            "kind": "Extract",
            "name": "Martin",
            "date": "1/1/2000",
            "place": "1 rue X",
            "place__commune": "59350",
        },
    )
    request = Request.objects.get()
    assert response["Location"] == f"/demarches/gestion/demandes/{request.code}/"
    assert request.channel == "mail" and request.entered_by == people["clerk"]


def test_statistics_page(client, procedure, people):
    services.submit_answers(people["citizen"], procedure["form"], answers())
    client.force_login(people["agent"])
    page = client.get(f"/demarches/gestion/{procedure['lille_commune'].slug}/statistiques/")
    assert page.status_code == 200 and "Birth certificate" in page.content.decode()
    assert "<svg" in page.content.decode()


def test_back_office_builds_a_form(client, procedure, people, lille):
    client.force_login(people["agent"])
    assert client.get(f"/demarches/gestion/{lille.slug}/formulaires/").status_code == 403
    client.force_login(people["admin"])
    url = f"/demarches/gestion/{lille.slug}/formulaires/"
    response = client.post(
        url,
        {
            "title": "Dog licence",
            "workflow": procedure["workflow"].pk,
            "routing": "owner",
            "deadline_days": 5,
            "retention_days": 90,
            "published": "on",
        },
    )
    form = procedure["form"].__class__.objects.get(slug="dog-licence")
    edit = response["Location"]
    response = client.post(
        edit,
        {
            "add_field": "",
            "new-label": "Breed",
            "new-kind": "select",
            "new-choices_text": "Only one",
            "new-required": "on",
        },
    )
    assert response.status_code == 400 and "at least two choices" in response.content.decode()
    client.post(
        edit,
        {
            "add_field": "",
            "new-label": "Breed",
            "new-kind": "select",
            "new-choices_text": "Labrador\nPoodle",
            "new-required": "on",
        },
    )
    client.post(edit, {"add_field": "", "new-label": "Name of the dog", "new-kind": "text"})
    assert list(form.fields.values_list("key", "choices")) == [
        ("breed", ["Labrador", "Poodle"]),
        ("name_of_the_dog", []),
    ]
    name = form.fields.get(key="name_of_the_dog")
    client.post(f"{edit}champs/{name.pk}/deplacer/", {"direction": "up"})
    assert list(form.fields.values_list("key", flat=True)) == ["name_of_the_dog", "breed"]
    page = client.get("/demarches/dog-licence/")
    assert page.status_code == 200


def test_workflow_editor_says_where_the_error_is(client, procedure, people, lille):
    client.force_login(people["admin"])
    url = f"/demarches/gestion/{lille.slug}/circuits/{procedure['workflow'].pk}/json/"
    response = client.post(url, {"name": "Certificates", "definition": "{not json"})
    assert response.status_code == 400 and "line 1, column 2" in response.content.decode()
    response = client.post(
        url, {"name": "Certificates", "definition": '{"statuses": [{"code": "a"}]}'}
    )
    assert "statuses[0].label" in response.content.decode()
    procedure["workflow"].refresh_from_db()
    assert procedure["workflow"].definition["statuses"][0]["code"] == "new"  # unchanged


def test_team_members_must_be_agents(client, procedure, people, lille):
    client.force_login(people["admin"])
    url = f"/demarches/gestion/{procedure['lille_commune'].slug}/equipes/"
    response = client.post(url, {"name": "Schools", "members": "other@example.org"})
    assert response.status_code == 400 and "Not agents" in response.content.decode()
    response = client.post(url, {"name": "Schools", "members": "clerk@mairie-lille.fr"})
    assert response.status_code == 302


def test_answers_with_upload_of_bytes_io_name(procedure):
    """An upload whose name has no extension is refused."""
    from metropole.procedures import attachments

    upload = SimpleUploadedFile("proof", PDF)
    with pytest.raises(ValueError):
        attachments.check(upload)
    assert attachments.sniff(io.BytesIO(PDF).read(16)) == "application/pdf"


def test_demo_is_idempotent_and_linked_from_the_catalogue(client, lille, commune, make_member):
    from metropole.catalogue.demo import load_catalogue_demo
    from metropole.catalogue.models import Service
    from metropole.procedures.demo import FORMS, load_demo
    from metropole.procedures.models import Form, FormField, Team

    lille_commune = commune("59350")
    lille_commune.has_joined = True
    lille_commune.save()
    load_catalogue_demo(lille)
    load_demo(lille)
    load_demo(lille)  # a second run changes nothing
    assert Form.objects.filter(metropole=lille, is_demo=True).count() == 3
    spec = next(f for f in FORMS if f["slug"] == "acte-etat-civil")
    assert FormField.objects.filter(form__slug="acte-etat-civil").count() == len(spec["fields"])
    assert Team.objects.filter(territory=lille_commune, slug="etat-civil").count() == 1
    form = Form.objects.get(slug="acte-etat-civil")
    assert form.source and form.service is not None and form.published
    service = Service.objects.filter(territory=lille_commune, slug="acte-etat-civil").first()
    page = client.get(service.get_absolute_url()).content.decode()
    assert "/demarches/acte-etat-civil/" in page
    # its settings page offers the commune's service it is attached to, and keeps it
    client.force_login(make_member("boss@lille.fr", lille))
    url = f"/demarches/gestion/{lille.slug}/formulaires/{form.pk}/"
    response = client.post(
        url,
        {
            "settings": "",
            "title": form.title,
            "service": form.service_id,
            "workflow": form.workflow_id,
            "routing": "commune",
            "deadline_days": 12,
            "retention_days": 365,
            "published": "on",
            "allow_anonymous": "on",
        },
    )
    assert response.status_code == 302
    form.refresh_from_db()
    assert form.deadline_days == 12 and form.service == service


def test_a_file_sent_after_the_request_from_either_side(client, procedure, people):
    request = services.submit_answers(people["citizen"], procedure["form"], answers())
    client.force_login(people["citizen"])
    url = f"/demarches/suivi/{request.code}/"
    page = client.get(url).content.decode()
    assert 'enctype="multipart/form-data"' in page and "5 MB at most" in page
    bad = client.post(url, {"text": "", "file": SimpleUploadedFile("x.png", PDF)}, follow=True)
    assert "does not match its content" in bad.content.decode()
    client.post(url, {"text": "The document", "file": SimpleUploadedFile("doc.pdf", PDF)})
    document = request.attachments.get()
    assert document.field_key == "" and document.filename == "doc.pdf"
    page = client.get(url).content.decode()
    assert "Files sent afterwards" in page and f"/fichiers/{document.pk}/" in page
    # The agent handling it adds a scan received by post; another commune's agent cannot.
    client.force_login(people["agent"])
    client.post(
        f"/demarches/gestion/demandes/{request.code}/",
        {"action": "document", "file": SimpleUploadedFile("scan.jpg", b"\xff\xd8\xff" + b"1" * 30)},
    )
    assert sorted(request.attachments.values_list("filename", flat=True)) == ["doc.pdf", "scan.jpg"]
    assert client.get(f"/demarches/suivi/{request.code}/fichiers/{document.pk}/").status_code == 200
    client.force_login(people["roubaix"])
    response = client.post(
        f"/demarches/gestion/demandes/{request.code}/",
        {"action": "document", "file": SimpleUploadedFile("x.pdf", PDF)},
    )
    assert response.status_code == 403 and request.attachments.count() == 2
    assert client.get(f"/demarches/suivi/{request.code}/fichiers/{document.pk}/").status_code == 403


def test_the_answer_link_takes_a_file_and_a_refused_file_keeps_the_link(client, procedure, people):
    from metropole.notifications.models import Notification as Sent

    request = services.submit_answers(people["citizen"], procedure["form"], answers())
    services.take_transition(people["agent"], request, 0)
    services.take_transition(people["agent"], request, 1)
    body = Sent.objects.get(subject__startswith="Information needed").body
    url = re.search(r"(/demarches/suivi/[^/]+/repondre/[^/]+/)", body).group(1)
    page = client.get(url).content.decode()
    assert 'type="file"' in page and 'enctype="multipart/form-data"' in page
    refused = client.post(url, {"text": "", "file": SimpleUploadedFile("a.pdf", b"GIF89a")})
    assert refused.status_code == 400 and "not accepted" in refused.content.decode()
    request.refresh_from_db()
    assert request.awaiting_citizen and not request.attachments.exists()  # nothing kept
    response = client.post(url, {"text": "", "file": SimpleUploadedFile("birth.pdf", PDF)})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "open" and not request.awaiting_citizen
    assert [a.filename for a in request.documents] == ["birth.pdf"]
    assert client.post(url, {"text": "again"}).status_code == 409
