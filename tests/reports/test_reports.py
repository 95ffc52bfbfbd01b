"""Reports: routing by competence and commune, refusal outside the metropole, "me too",
lifecycle and who may change it, reopening, satisfaction, photos, pages, API, RGPD."""

import io
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from metropole.core.exceptions import BadRequest, Conflict, PermissionDenied
from metropole.core.models import Role
from metropole.core.services import create_api_token
from metropole.reports import queries, services
from metropole.reports.models import Report, Status, Supporter
from tests.catalogue.fixtures import (
    GRAND_PLACE_LILLE,
    PARIS_NOTRE_DAME,
    ROUBAIX,
    ROUBAIX_CENTRE,
    TOURCOING,
)


def jpeg_with_gps(size=(64, 48)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (50.0, 41.0, 25.0)}  # GPS IFD
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


@pytest.fixture
def submit(lille, report_categories, citizen):
    """The citizen reports a problem of the category `slug` at `point` (lat, lon)."""

    def do(slug, point, description, **extra):
        return services.submit_report(
            citizen,
            lille,
            category=report_categories(slug),
            lat=point[0],
            lon=point[1],
            description=description,
            **extra,
        )

    return do


@pytest.fixture
def report(submit):
    return submit("nid-de-poule", ROUBAIX_CENTRE, "Un trou profond au milieu de la chaussée.")


def test_routing_by_competence_and_commune(submit, lille, commune):
    pothole = submit("nid-de-poule", ROUBAIX_CENTRE, "Trou")
    # Roads are the metropole's: it handles the report; the point is in Roubaix.
    assert pothole.commune.code == ROUBAIX and pothole.territory == lille
    lamp = submit("eclairage", GRAND_PLACE_LILLE, "Lampadaire éteint")
    # Street lighting stays with the commune: Lille (the commune) handles it.
    assert lamp.territory == commune("59350") == lamp.commune
    assert [u.status_after for u in lamp.updates.all()] == [Status.NEW]


def test_report_outside_the_metropole_is_refused(submit):
    with pytest.raises(BadRequest) as refused:
        submit("nid-de-poule", PARIS_NOTRE_DAME, "Trou à Paris")
    assert refused.value.field == "location" and "Lille" in refused.value.detail
    with pytest.raises(BadRequest):
        submit("nid-de-poule", ("north", "3"), "?")
    assert not Report.objects.exists()


def test_similar_open_reports_nearby_and_me_too(
    report, report_categories, make_user, citizen, lille
):
    near = queries.nearby_open(
        lille, ROUBAIX_CENTRE[0] + 0.0005, ROUBAIX_CENTRE[1], report.category
    )
    assert [r.pk for r in near] == [report.pk] and 50 < near[0].distance < 60
    assert queries.nearby_open(lille, ROUBAIX_CENTRE[0] + 0.01, ROUBAIX_CENTRE[1]) == []
    assert (
        queries.nearby_open(lille, *ROUBAIX_CENTRE, category=report_categories("eclairage")) == []
    )
    neighbour = make_user("neighbour@example.org")
    assert services.support(neighbour, report) is True
    assert services.support(neighbour, report) is False
    report.refresh_from_db()
    assert report.supporter_count == 1 and Supporter.objects.count() == 1
    with pytest.raises(Conflict):
        services.support(citizen, report)


def test_only_staff_of_the_handling_territory_change_the_status(
    report, commune_agent, make_member, lille, citizen
):
    from metropole.core.models import Role

    for outsider in (citizen, commune_agent(ROUBAIX)):  # Roubaix does not handle roads
        with pytest.raises(PermissionDenied):
            services.change_status(outsider, report, Status.FIXED)
    road_agent = make_member("voirie@example.org", lille, Role.AGENT)
    services.change_status(road_agent, report, Status.ACKNOWLEDGED, text="Pris en compte.")
    services.change_status(road_agent, report, Status.PLANNED)
    report.refresh_from_db()
    assert report.status == Status.PLANNED
    with pytest.raises(BadRequest) as no_reason:
        services.change_status(road_agent, report, Status.CLOSED)
    assert no_reason.value.field == "close_reason"
    with pytest.raises(BadRequest):
        services.change_status(road_agent, report, Status.CLOSED, close_reason="duplicate")
    services.change_status(road_agent, report, Status.FIXED)
    with pytest.raises(Conflict):
        services.change_status(road_agent, report, Status.PLANNED)
    assert [u.status_after for u in report.updates.all()] == [
        "new",
        "acknowledged",
        "planned",
        "fixed",
    ]


def test_reopen_within_the_window_and_satisfaction(
    report, metropole_admin, citizen, make_user, settings
):
    services.change_status(metropole_admin, report, Status.FIXED, text="Rebouché.")
    with pytest.raises(PermissionDenied):
        services.answer_satisfaction(make_user("other@example.org"), report, True)
    services.answer_satisfaction(citizen, report, False, "Le trou est encore là")
    report.refresh_from_db()
    assert report.satisfied is False and services.can_reopen(citizen, report)
    services.reopen(citizen, report, "Toujours là.")
    report.refresh_from_db()
    assert report.status == Status.NEW and report.satisfied is None
    services.change_status(metropole_admin, report, Status.CLOSED, close_reason="cannot_fix")
    settings.METROPOLE_REPORTS_REOPEN_DAYS = 30
    Report.objects.filter(pk=report.pk).update(closed_at=timezone.now() - timedelta(days=31))
    report.refresh_from_db()
    with pytest.raises(Conflict):
        services.reopen(citizen, report)


def test_photo_is_checked_and_stripped_of_its_metadata(submit, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("trou.jpg", jpeg_with_gps(), content_type="image/jpeg")
    assert Image.open(io.BytesIO(jpeg_with_gps())).getexif()  # the original carries EXIF
    made = submit("trottoir", ROUBAIX_CENTRE, "Dalle cassée", photo=upload)
    with made.photo.open("rb") as stored:
        image = Image.open(stored)
        assert image.format == "JPEG" and not image.getexif() and "exif" not in image.info
    fake = SimpleUploadedFile("photo.jpg", b"%PDF-1.4 not an image", content_type="image/jpeg")
    with pytest.raises(BadRequest) as not_image:
        submit("trottoir", ROUBAIX_CENTRE, "x", photo=fake)
    assert not_image.value.field == "photo"
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, "GIF")
    with pytest.raises(BadRequest, match="GIF"):
        submit("trottoir", ROUBAIX_CENTRE, "x", photo=SimpleUploadedFile("a.gif", gif.getvalue()))
    settings.METROPOLE_REPORTS_PHOTO_MAX_BYTES = 100
    with pytest.raises(BadRequest, match="MB"):
        submit(
            "trottoir",
            ROUBAIX_CENTRE,
            "x",
            photo=SimpleUploadedFile("big.jpg", jpeg_with_gps((400, 400))),
        )
    assert Report.objects.count() == 1


def test_recategorise_routes_again_and_reroute(report, report_categories, metropole_admin, commune):
    services.recategorise(metropole_admin, report, report_categories("eclairage"))
    report.refresh_from_db()
    assert report.territory == commune(ROUBAIX)
    services.reroute(metropole_admin, report, commune(TOURCOING), text="Limite de commune")
    report.refresh_from_db()
    assert report.territory == commune(TOURCOING)
    assert "Tourcoing" in report.updates.last().text


# --- pages ---------------------------------------------------------------------------------


def test_report_without_javascript_by_commune_and_address(
    client, report_categories, citizen, commune
):
    client.force_login(citizen)
    response = client.post(
        "/signalements/nouveau/",
        {
            "category": report_categories("depot-sauvage").pk,
            "commune": ROUBAIX,
            "address": "Grand-Place, devant l'hôtel de ville",
            "description": "Sacs abandonnés",
        },
    )
    assert response.status_code == 302
    made = Report.objects.get()
    assert made.commune.code == ROUBAIX and made.address.startswith("Grand-Place")
    # No point was placed: the report stands at the town hall, marked as approximate.
    hall = commune(ROUBAIX).town_hall
    assert made.location_approximate
    assert (made.lat, made.lon) == (float(hall["lat"]), float(hall["lon"]))
    page = client.get(response["Location"]).content.decode()
    assert "Sacs abandonnés" in page and "Approximate position" in page


def test_report_form_shows_nearby_reports_before_a_new_one(
    client, report, report_categories, make_user
):
    other = make_user("other@example.org")
    client.force_login(other)
    data = {
        "category": report.category.pk,
        "lat": str(ROUBAIX_CENTRE[0]),
        "lon": str(ROUBAIX_CENTRE[1]),
        "description": "Encore ce trou",
    }
    response = client.post("/signalements/nouveau/", data)
    assert (
        response.status_code == 200
        and f"/signalements/{report.pk}/soutenir/" in response.content.decode()
    )
    assert Report.objects.count() == 1
    response = client.post("/signalements/nouveau/", {**data, "confirm_new": "True"})
    assert response.status_code == 302 and Report.objects.count() == 2


def test_report_form_errors_name_the_field(client, report_categories, citizen):
    client.force_login(citizen)
    response = client.post(
        "/signalements/nouveau/",
        {
            "category": report_categories("trottoir").pk,
            "lat": str(PARIS_NOTRE_DAME[0]),
            "lon": str(PARIS_NOTRE_DAME[1]),
            "description": "Paris",
        },
    )
    assert response.status_code == 400 and "Lille" in response.content.decode()
    assert not Report.objects.exists()


def test_agent_handles_a_report_in_the_back_office(
    client, report, make_member, lille, commune_agent
):
    from metropole.core.models import Role

    client.force_login(commune_agent(ROUBAIX))
    assert client.get(f"/signalements/gestion/{lille.slug}/{report.pk}/").status_code == 403
    client.force_login(make_member("voirie@example.org", lille, Role.AGENT))
    queue = client.get(f"/signalements/gestion/{lille.slug}/")
    assert (
        queue.status_code == 200
        and f"/signalements/gestion/{lille.slug}/{report.pk}/" in queue.content.decode()
    )
    response = client.post(
        f"/signalements/gestion/{lille.slug}/{report.pk}/",
        {"action": "status", "s-status": "in_progress", "s-text": "Équipe envoyée"},
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == Status.IN_PROGRESS
    public = client.get(report.get_absolute_url()).content.decode()
    assert "Équipe envoyée" in public


# --- API -----------------------------------------------------------------------------------


def post_json(client, path, body, key):
    return client.post(
        path, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )


def test_api_reports_and_the_same_permission_path(
    client, report, report_categories, citizen, make_member, lille
):
    from metropole.core.models import Role

    _, key = create_api_token(citizen, "app")

    def new_report(point, description):
        body = {"category": "eclairage", "lat": point[0], "lon": point[1]}
        return post_json(client, "/api/reports/", {**body, "description": description}, key)

    made = new_report(GRAND_PLACE_LILLE, "Lampadaire")
    assert made.status_code == 201 and made.json()["handled_by"] == "59350"
    refused = post_json(client, f"/api/reports/{report.pk}/status", {"status": "fixed"}, key)
    assert refused.status_code == 403 and refused["Content-Type"] == "application/problem+json"
    _, agent_key = create_api_token(make_member("voirie@example.org", lille, Role.AGENT), "x")
    done = post_json(
        client, f"/api/reports/{report.pk}/status", {"status": "fixed", "text": "Fait"}, agent_key
    )
    assert done.status_code == 200 and done.json()["status"] == "fixed"
    outside = new_report(PARIS_NOTRE_DAME, "x")
    assert outside.status_code == 400 and outside.json()["field"] == "location"
    geo = client.get("/api/reports/map.geojson", {"status": "all"}).json()
    assert len(geo["features"]) == 2
    nearby = client.get(
        "/api/reports/nearby", {"lat": ROUBAIX_CENTRE[0], "lon": ROUBAIX_CENTRE[1]}
    ).json()
    assert nearby == []  # the pothole is fixed now


def test_open_data_is_anonymised_and_rgpd_erasure(report, citizen, lille):
    from metropole.core.registry import registry

    export = registry.exports()["reports.reports"]
    rows = list(export.rows(lille))
    assert len(rows) == 1 and "description" not in rows[0] and "reporter" not in str(rows[0].keys())
    assert rows[0]["lat"] == round(ROUBAIX_CENTRE[0], 4)
    assert services.export_personal_data(citizen)[0]["number"] == report.pk
    services.erase_personal_data(citizen)
    report.refresh_from_db()
    assert report.reporter is None


def test_metropole_admins_manage_report_categories(
    client, report_categories, metropole_admin, competence, commune_agent, lille
):
    from metropole.reports.models import ReportCategory

    client.force_login(commune_agent(ROUBAIX))
    assert client.get(f"/signalements/categories/{lille.slug}/").status_code == 403
    client.force_login(metropole_admin)
    made = client.post(
        f"/signalements/categories/{lille.slug}/",
        {
            "name": "Arbre dangereux",
            "group": "Espaces verts",
            "competence": competence("environnement").pk,
            "active": "on",
        },
    )
    assert made.status_code == 302
    tree = ReportCategory.objects.get(slug="arbre-dangereux")
    assert tree.competence.code == "environnement" and tree.active
    again = client.post(
        f"/signalements/categories/{lille.slug}/",
        {"name": "Arbre dangereux", "competence": competence("environnement").pk},
    )
    assert again.status_code == 400
    hidden = client.post(
        f"/signalements/categories/{lille.slug}/{tree.pk}/",
        {"name": "Arbre dangereux", "competence": competence("voirie").pk},
    )
    assert hidden.status_code == 302
    tree.refresh_from_db()
    assert not tree.active and tree.competence.code == "voirie"
    assert "arbre-dangereux" not in client.get("/open311/v2/services.json").content.decode()


def test_the_reporter_hears_of_public_status_changes(report, metropole_admin, citizen):
    from django.core import mail

    mail.outbox.clear()
    services.change_status(metropole_admin, report, Status.ACKNOWLEDGED, public=False)
    assert mail.outbox == []
    services.change_status(metropole_admin, report, Status.PLANNED, text="Travaux lundi.")
    [message] = mail.outbox
    assert message.to == [citizen.email] and "Travaux lundi." in message.body
    assert f"no. {report.pk}" in message.subject


def test_open311_notes_are_the_latest_public_update_and_the_list_costs_two_queries(
    client, submit, report, make_member, lille
):
    """GeoReport's status_notes: the text of the latest public update (private ones and
    updates without text are skipped), else the status' label; one query for the rows, one
    for the notes, however many requests are listed."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    agent = make_member("voirie@example.org", lille, Role.AGENT)
    services.change_status(agent, report, Status.ACKNOWLEDGED, text="Pris en compte.")
    services.change_status(agent, report, Status.PLANNED, text="Équipe le 3 mars.")
    services.add_message(agent, report, "Note interne", public=False)
    services.change_status(agent, report, Status.IN_PROGRESS)  # an update without text
    quiet = submit("eclairage", ROUBAIX_CENTRE, "Lampadaire éteint")

    def notes(path):
        answer = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
        assert answer.status_code == 200, answer.content
        return {r["service_request_id"]: r["status_notes"] for r in answer.json()}

    assert notes(f"/open311/v2/requests/{report.pk}.json") == {str(report.pk): "Équipe le 3 mars."}
    for _ in range(3):
        submit("eclairage", ROUBAIX_CENTRE, "Encore un")
    with CaptureQueriesContext(connection) as listing:
        listed = notes("/open311/v2/requests.json")
    assert listed[str(report.pk)] == "Équipe le 3 mars."
    assert listed[str(quiet.pk)] == str(Status.NEW.label)
    selects = [q for q in listing.captured_queries if q["sql"].startswith("SELECT")]
    assert len(selects) <= 3, [q["sql"][:80] for q in selects]  # metropole, rows, notes


def test_list_filter_options_each_have_their_own_value_and_list(submit, client):
    """ "Ouverts" (un signalement), and "Résolus ou clos" / "Clos" are two filters: the group
    of finished reports and the one status, each coming back selected."""

    fixed = submit("nid-de-poule", ROUBAIX_CENTRE, "Trou rebouché")
    closed = submit("depot-sauvage", GRAND_PLACE_LILLE, "Sacs enlevés")
    still_open = submit("trottoir", ROUBAIX_CENTRE, "Dalle cassée")
    Report.objects.filter(pk=fixed.pk).update(status=Status.FIXED)
    Report.objects.filter(pk=closed.pk).update(status=Status.CLOSED)

    def listed(status):
        html = client.get(f"/signalements/?status={status}", HTTP_ACCEPT_LANGUAGE="fr")
        html = html.content.decode()
        values = re.findall(
            r'<option value="([^"]*)"', html.split('id="f-status"')[1].split("</select>")[0]
        )
        assert len(values) == len(set(values)), values
        chosen = re.findall(r'<option value="([^"]*)" selected', html.split('id="f-status"')[1])
        return (
            html,
            chosen,
            {r.pk for r in (fixed, closed, still_open) if f"/signalements/{r.pk}/" in html},
        )

    html, chosen, pks = listed("open")
    assert ">Ouverts</option>" in html and "Ouvertes" not in html
    assert chosen[0] == "open" and pks == {still_open.pk}
    html, chosen, pks = listed("done")
    assert ">Résolus ou clos</option>" in html
    assert chosen[0] == "done" and pks == {fixed.pk, closed.pk}
    html, chosen, pks = listed("closed")
    assert chosen[0] == "closed" and pks == {closed.pk}
    assert queries.filter_reports(Report.objects.all(), status="closed").get() == closed


def test_the_list_says_before_the_click_that_reporting_needs_an_account(client, citizen, lille):
    """Reports on the website need an account (docs/services.md): an anonymous visitor reads
    it under the button, with sign-up and log-in links that come back to the form."""
    html = client.get("/signalements/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Il faut un compte pour signaler un problème" in html
    assert 'aria-describedby="needs-account"' in html
    assert 'href="/compte/inscription/?next=/signalements/nouveau/">Créer mon compte' in html
    assert 'href="/compte/connexion/?next=/signalements/nouveau/">J\'ai déjà un compte' in html
    # The button still leads to the log-in page, which comes back to the form.
    response = client.get("/signalements/nouveau/")
    assert response.status_code == 302 and "next=/signalements/nouveau/" in response["Location"]
    client.force_login(citizen)
    html = client.get("/signalements/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Il faut un compte" not in html and "/compte/inscription/" not in html.split("<main")[1]


def test_home_page_says_fixed_reports_with_the_right_plural(submit, client, make_member, lille):
    """ "1 signalements résolus" on the home page: the figure now picks its plural form."""

    def figure(language):
        html = client.get("/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        return [
            (value, label)
            for value, label in re.findall(
                r'stat__value">([^<]*)</span> <span class="stat__label">([^<]*)</span>', html
            )
            if "résolu" in label or "fixed" in label
        ]

    first = submit("nid-de-poule", ROUBAIX_CENTRE, "Trou rebouché")
    second = submit("depot-sauvage", GRAND_PLACE_LILLE, "Sacs enlevés")
    Report.objects.filter(pk=first.pk).update(status=Status.FIXED)
    assert figure("fr") == [("1", "signalement résolu")]
    assert figure("en") == [("1", "report fixed")]
    # The administration's overview shows every figure the same way.
    client.force_login(make_member("admin-mel@example.org", lille, Role.ADMIN))
    overview = client.get(f"/administration/{lille.slug}/", HTTP_ACCEPT_LANGUAGE="fr")
    assert '1</span> <span class="stat__label">signalement résolu<' in overview.content.decode()
    # A rate says its unit: it read "100,0 auteurs satisfaits".
    Report.objects.filter(pk=first.pk).update(satisfied=True)
    overview = client.get(f"/administration/{lille.slug}/", HTTP_ACCEPT_LANGUAGE="fr")
    assert '100,0&nbsp;%</span> <span class="stat__label">auteurs satisfaits<' in (
        overview.content.decode()
    )
    client.logout()
    Report.objects.filter(pk=second.pk).update(status=Status.FIXED)
    assert figure("fr") == [("2", "signalements résolus")]
    assert figure("en") == [("2", "reports fixed")]
    # Every headline figure that counts says its plural form (0 and 1 are singular in French).
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    figures = dict(
        (label, value)
        for value, label in re.findall(
            r'stat__value">([^<]*)</span> <span class="stat__label">([^<]*)</span>', html
        )
    )
    assert figures["communes"] == "95"
    assert figures.get("commune sur la plateforme") == "0"
    assert figures.get("jeu de données publié") == "0"
