"""The agenda edit pages in a real browser: an agent changes an appointment type, is told a
type with a booking to come cannot be deleted and deactivates it, deactivates an agent and
corrects an absence; axe-core on each page (French)."""

from datetime import timedelta

from django.utils import timezone

from metropole.appointments import services, slots
from metropole.appointments.models import Agenda, Agent, AppointmentType
from metropole.core.models import Role, Territory
from tests.catalogue.fixtures import WEEKDAYS_9_TO_12
from tests.conftest import PASSWORD

from .conftest import assert_accessible, log_in, screenshot


def test_an_agent_edits_types_agents_and_absences(new_context, territories, make_user, grant):
    lille = Territory.objects.get(code="59350")
    agenda = Agenda.objects.create(
        territory=lille, name="Accueil état civil", opening_hours=WEEKDAYS_9_TO_12
    )
    agent = Agent.objects.create(agenda=agenda, name="Guichet 1")
    kind = AppointmentType.objects.create(
        agenda=agenda, name="Dépôt de dossier", duration_minutes=30
    )
    today = timezone.localdate()
    slot = slots.free_slots(agenda, kind, today, today + timedelta(days=14))[0]
    services.book(None, kind, slot.start, name="Camille Martin", email="c@example.org")
    staff = make_user("accueil@mairie-lille.fr")
    grant(staff, lille, Role.AGENT)
    absence = services.add_absence(
        staff, agent, start=slot.start + timedelta(days=2), end=slot.start + timedelta(days=3)
    )
    page = new_context(language="fr").new_page()
    log_in(page, staff.email, PASSWORD)

    page.goto(f"/rendez-vous/gestion/{lille.slug}/{agenda.pk}/reglages/")
    assert_accessible(page, "agenda settings with change links")
    page.click(f"main a[href$='/types/{kind.pk}/']")
    assert_accessible(page, "appointment type")
    assert page.locator("button[name=op][value=delete]").count() == 0  # a booking to come
    assert "ne peut donc pas être supprimé" in page.locator("main").inner_text()
    page.fill("#id_t-name", "Dépôt de dossier d'urbanisme")
    page.uncheck("#id_t-active")
    page.click("main form button[type=submit] >> nth=0")
    page.wait_for_selector(".messages .alert--success")
    kind.refresh_from_db()
    assert kind.name == "Dépôt de dossier d'urbanisme" and not kind.active

    page.click(f"main a[href$='/agents/{agent.pk}/']")
    assert_accessible(page, "agent")
    page.uncheck("#id_active")
    page.click("main form button[type=submit] >> nth=0")
    page.wait_for_selector(".messages .alert--warning")  # a booking stays: told so
    agent.refresh_from_db()
    assert not agent.active

    page.click(f"main a[href$='/absences/{absence.pk}/']")
    assert_accessible(page, "absence")
    page.fill("#id_reason", "Formation")
    page.click("main form button[type=submit] >> nth=0")
    page.wait_for_selector(".messages .alert--success")
    absence.refresh_from_db()
    assert absence.reason == "Formation"
    page.click(f"main a[href$='/absences/{absence.pk}/']")
    page.click("button[name=op][value=delete]")
    page.wait_for_selector(".messages .alert--success")
    assert not agent.absences.exists()
    screenshot(page, "appointments-settings-after-edits")
