"""The citizen services in a real browser: find a service from one's commune, report a
problem on the map, book an appointment, and an agent handling a report — with axe-core
on every main page and the browser's CSP and JavaScript errors checked (conftest)."""

import pytest

from metropole.catalogue.demo import load_catalogue_demo
from metropole.core.models import Role, Territory
from metropole.reports.demo import install_categories
from metropole.reports.models import Report, ReportCategory, Status
from tests.catalogue.fixtures import WEEKDAYS_9_TO_12
from tests.conftest import PASSWORD

from .conftest import assert_accessible, assert_no_horizontal_scroll, log_in, screenshot


@pytest.fixture
def demo(territories):
    load_catalogue_demo(territories)
    install_categories(territories)
    return territories


def test_a_citizen_finds_the_services_of_their_commune(page, demo):
    page.goto("/services/")
    assert_accessible(page, "services start page")
    page.fill("#commune", "roubaix")
    page.click("main form button[type=submit] >> nth=0")
    page.wait_for_url("**/services/commune/roubaix-59512/")
    titles = page.locator("main h3 a").all_inner_texts()
    # Roubaix's own services and the metropole's, but no other commune's.
    assert (
        "Demander un acte d'état civil" in titles
        and "Collecte des déchets et encombrants" in titles
    )
    assert "Kiosque famille : réservation en ligne" in titles
    assert_accessible(page, "services of Roubaix")
    page.fill("#q", "etat civil")
    page.click("main form button[type=submit]")
    assert page.locator("main h3 a").all_inner_texts() == ["Demander un acte d'état civil"]
    page.click("main h3 a")
    page.wait_for_selector("details summary")
    page.click("details summary >> nth=0")
    assert "gratuite" in page.locator("details").first.inner_text()
    assert_accessible(page, "a service page")
    page.set_viewport_size({"width": 375, "height": 740})
    assert_no_horizontal_scroll(page, "service page at 375px")
    screenshot(page, "services-service")


def test_a_citizen_reports_a_problem_on_the_map(page, demo, make_user):
    citizen = make_user("camille@example.org")
    log_in(page, citizen.email, PASSWORD)
    page.goto("/signalements/nouveau/")
    page.wait_for_selector("[data-reports-map=pick][data-map-ready]", state="attached")
    assert_accessible(page, "report form")
    # Drop the pin in the middle of the map (the metropole's communes fill it).
    box = page.locator("[data-reports-map=pick]").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#pick-status:not(:empty)")
    lat, lon = page.input_value("#id_lat"), page.input_value("#id_lon")
    assert 50.4 < float(lat) < 50.9 and 2.7 < float(lon) < 3.3
    page.select_option("#id_category", label="Voirie — Nid-de-poule, chaussée abîmée")
    page.fill("#id_description", "Un trou dangereux pour les vélos.")
    page.click("main form button[type=submit] >> text=Send the report")
    page.wait_for_url("**/signalements/*/")
    report = Report.objects.get()
    assert report.reporter == citizen and report.territory == demo
    assert abs(report.lat - float(lat)) < 1e-5
    assert "Un trou dangereux" in page.inner_text("main")
    assert_accessible(page, "report page")
    screenshot(page, "services-report")
    page.goto("/signalements/")
    page.wait_for_selector("[data-reports-map=browse][data-map-ready]", state="attached")
    assert_accessible(page, "public map of reports")
    screenshot(page, "services-reports-map")


def test_a_citizen_books_an_appointment(page, demo, make_user):
    from metropole.appointments.models import Agenda, Agent, Appointment, AppointmentType

    lille = Territory.objects.get(code="59350")
    agenda = Agenda.objects.create(
        territory=lille, name="Accueil état civil", opening_hours=WEEKDAYS_9_TO_12
    )
    Agent.objects.create(agenda=agenda, name="Guichet 1")
    kind = AppointmentType.objects.create(
        agenda=agenda, name="Dépôt de dossier", duration_minutes=30
    )
    page.goto("/rendez-vous/")
    page.click(f"main a[href='/rendez-vous/agenda/{agenda.pk}/']")
    # One type only: the week's free times show at once.
    first = page.locator("main a[href*='/reserver/']").first
    first.click()
    page.wait_for_url("**/reserver/**")
    assert_accessible(page, "booking form")
    page.fill("#id_name", "Camille Martin")
    page.fill("#id_email", "camille@example.org")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/rendez-vous/rdv/**")
    appointment = Appointment.objects.get()
    assert appointment.type == kind and appointment.name == "Camille Martin"
    assert page.locator("a[href$='calendrier.ics']").count() == 1
    assert_accessible(page, "appointment page")
    screenshot(page, "services-appointment")


def test_an_agent_handles_a_report(page, demo, make_user, grant):
    from metropole.reports.services import submit_report

    citizen = make_user("camille@example.org")
    report = submit_report(
        citizen,
        demo,
        category=ReportCategory.objects.get(slug="nid-de-poule"),
        lat=50.6903,
        lon=3.1817,
        description="Trou devant l'école",
    )
    agent = make_user("voirie@example.org")
    grant(agent, demo, Role.AGENT)
    log_in(page, agent.email, PASSWORD)
    page.goto(f"/signalements/gestion/{demo.slug}/")
    page.wait_for_selector("[data-reports-map=browse][data-map-ready]", state="attached")
    assert_accessible(page, "agent queue")
    page.click(f"main table a[href$='/{report.pk}/']")
    page.select_option("#id_s-status", "in_progress")
    page.fill("#id_s-text", "Une équipe passe demain.")
    page.click("main form button >> text=Save the status")
    page.wait_for_selector(".messages .alert--success")
    report.refresh_from_db()
    assert report.status == Status.IN_PROGRESS
    assert_accessible(page, "agent report page")
    screenshot(page, "services-agent-report")
    page.goto(report.get_absolute_url())
    assert "Une équipe passe demain." in page.inner_text("main")


def test_an_agent_sets_up_an_agenda_and_marks_appointments(page, demo, make_user, grant):
    from metropole.appointments.models import Agenda

    lille = Territory.objects.get(code="59350")
    agent = make_user("accueil@example.org")
    grant(agent, lille, Role.AGENT)
    log_in(page, agent.email, PASSWORD)
    page.goto(f"/rendez-vous/gestion/{lille.slug}/nouvel-agenda/")
    assert_accessible(page, "new agenda form")
    page.fill("#id_name", "Accueil urbanisme")
    page.fill("#id_opening_hours_text", "Mo-Fr 09:00-12:00")
    page.click("main form button[type=submit]")
    page.wait_for_selector(".messages .alert--success")
    agenda = Agenda.objects.get(name="Accueil urbanisme")
    page.fill("#id_a-name", "Guichet 1")
    page.click("main form:has(#id_a-name) button[type=submit]")
    page.wait_for_selector(".messages .alert--success")
    page.fill("#id_t-name", "Conseil")
    page.click("main form:has(#id_t-name) button[type=submit]")
    page.wait_for_selector(".messages .alert--success")
    assert agenda.agents.count() == 1 and agenda.types.count() == 1
    assert_accessible(page, "agenda settings")
    page.goto(f"/rendez-vous/gestion/{lille.slug}/")
    assert_accessible(page, "appointments back-office")
    screenshot(page, "services-agendas")
