"""Back-office edit pages of an agenda: agents (rename, deactivate, delete when never
booked), absences (change, delete), appointment types (change, deactivate; deletion refused
with bookings to come or in the history). Rules, audit, slots."""

from datetime import timedelta

import pytest
from django.utils import timezone

from metropole.appointments import services, slots
from metropole.appointments.models import Absence, Agent, AppointmentType
from metropole.core.exceptions import Conflict, NotFound, PermissionDenied
from metropole.core.models import AuditEvent
from tests.catalogue.fixtures import LILLE_COMMUNE, ROUBAIX

pytestmark = pytest.mark.django_db
BASE = "/rendez-vous/gestion/lille-59350"


def first_slot(agenda, kind, days=14):
    today = timezone.localdate()
    return slots.free_slots(agenda, kind, today, today + timedelta(days=days))[0]


def _local(moment) -> str:
    return timezone.localtime(moment, slots.LOCAL).strftime("%Y-%m-%dT%H:%M")


def test_an_agent_is_renamed_deactivated_and_deleted_only_without_history(
    agenda_factory, client, commune_agent
):
    agenda, kind = agenda_factory(agents=2)
    first, second = agenda.agents.order_by("pk")
    slot = first_slot(agenda, kind)
    booked = services.book(None, kind, slot.start, name="Camille", email="c@example.org")
    busy = Agent.objects.get(pk=booked.agent_id)
    idle = second if busy == first else first
    client.force_login(commune_agent(LILLE_COMMUNE))
    url = f"{BASE}/{agenda.pk}/agents/{busy.pk}/"
    page = client.get(url).content.decode()
    assert "1 appointment to come" in page and "Delete the agent" not in page
    # Deactivated: no longer offered; the booking stays and the agent is told.
    response = client.post(url, {"name": "Guichet A", "active": ""}, follow=True)
    assert "still has 1 appointment(s) to come" in response.content.decode()
    busy.refresh_from_db()
    assert busy.name == "Guichet A" and not busy.active
    later = first_slot(agenda, kind)
    assert busy.pk not in later.agent_ids and booked.agent_id == busy.pk
    assert AuditEvent.objects.filter(action="appointments.agent_changed").exists()
    # Delete refused while booked; allowed for an agent who never received anyone.
    response = client.post(url, {"op": "delete"}, follow=True)
    assert "deactivate them instead" in response.content.decode()
    assert Agent.objects.filter(pk=busy.pk).exists()
    client.post(f"{BASE}/{agenda.pk}/agents/{idle.pk}/", {"op": "delete"})
    assert not Agent.objects.filter(pk=idle.pk).exists()
    # An empty name is refused with the field.
    response = client.post(url, {"name": "  ", "active": "on"})
    assert response.status_code == 400


def test_an_absence_is_changed_and_deleted(agenda_factory, client, commune_agent):
    agenda, kind = agenda_factory(agents=1)
    agent = agenda.agents.get()
    slot = first_slot(agenda, kind)
    actor = commune_agent(LILLE_COMMUNE)
    absence = services.add_absence(
        actor, agent, start=slot.start + timedelta(days=1), end=slot.start + timedelta(days=2)
    )
    client.force_login(actor)
    settings_page = client.get(f"{BASE}/{agenda.pk}/reglages/").content.decode()
    assert f"/absences/{absence.pk}/" in settings_page
    url = f"{BASE}/{agenda.pk}/absences/{absence.pk}/"
    # Dates in the wrong order: refused, nothing changed.
    response = client.post(
        url,
        {
            "agent": agent.pk,
            "start": _local(slot.start + timedelta(hours=2)),
            "end": _local(slot.start),
        },
    )
    assert response.status_code == 400 and "must end after it starts" in response.content.decode()
    # Moved over the booked first slot: saved, and the agent is told about the booking.
    services.book(None, kind, slot.start, name="Camille", email="c@example.org")
    response = client.post(
        url,
        {
            "agent": agent.pk,
            "start": _local(slot.start - timedelta(minutes=30)),
            "end": _local(slot.start + timedelta(hours=1)),
            "reason": "Training",
        },
        follow=True,
    )
    assert "1 appointment(s) already booked fall in this absence" in response.content.decode()
    absence.refresh_from_db()
    assert absence.reason == "Training" and absence.start < slot.start < absence.end
    day = timezone.localtime(slot.start, slots.LOCAL).date()
    assert all(
        not (absence.start <= s.start < absence.end)
        for s in slots.free_slots(agenda, kind, day, day)
    )
    client.post(url, {"op": "delete"})
    assert not Absence.objects.exists()
    assert AuditEvent.objects.filter(action="appointments.absence_deleted").exists()


def test_a_type_with_bookings_is_deactivated_not_deleted(agenda_factory, client, commune_agent):
    agenda, kind = agenda_factory(agents=1)
    spare = AppointmentType.objects.create(agenda=agenda, name="Spare", duration_minutes=15)
    slot = first_slot(agenda, kind)
    services.book(None, kind, slot.start, name="Camille", email="c@example.org")
    client.force_login(commune_agent(LILLE_COMMUNE))
    url = f"{BASE}/{agenda.pk}/types/{kind.pk}/"
    page = client.get(url).content.decode()
    assert "1 booking to come" in page and "Delete the type" not in page
    response = client.post(url, {"op": "delete"}, follow=True)
    assert "cannot be deleted. Deactivate it instead" in response.content.decode()
    assert AppointmentType.objects.filter(pk=kind.pk).exists()
    # Deactivate and lengthen: no longer bookable, the booking stays.
    data = {
        "t-name": "Dépôt",
        "t-duration_minutes": "45",
        "t-min_delay_hours": "2",
        "t-max_delay_days": "30",
        "t-mode": "phone",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    kind.refresh_from_db()
    assert (kind.name, kind.duration_minutes, kind.mode, kind.active) == (
        "Dépôt",
        45,
        "phone",
        False,
    )
    later = first_slot(agenda, spare)
    with pytest.raises(NotFound, match="does not take appointments"):
        services.book(None, kind, later.start, name="Dominique", email="d@example.org")
    # Delays that do not fit: refused with the field.
    response = client.post(url, {**data, "t-max_delay_days": "1", "t-min_delay_hours": "48"})
    assert response.status_code == 400 and "longer than the minimum" in response.content.decode()
    # A type never booked is deleted.
    client.post(f"{BASE}/{agenda.pk}/types/{spare.pk}/", {"op": "delete"})
    assert not AppointmentType.objects.filter(pk=spare.pk).exists()


def test_edits_follow_the_agenda_rules(agenda_factory, client, commune_agent, make_user):
    agenda, kind = agenda_factory(agents=1)
    agent = agenda.agents.get()
    outsider = commune_agent(ROUBAIX)
    with pytest.raises(PermissionDenied):
        services.update_agent(outsider, agent, name="Hacked", active=False)
    with pytest.raises(PermissionDenied):
        services.delete_type(make_user("citizen@example.org"), kind)
    client.force_login(outsider)
    for url in (
        f"{BASE}/{agenda.pk}/agents/{agent.pk}/",
        f"{BASE}/{agenda.pk}/types/{kind.pk}/",
    ):
        assert client.get(url).status_code == 403
        assert client.post(url, {"op": "delete"}).status_code == 403
    agent.refresh_from_db()
    kind.refresh_from_db()
    assert agent.name == "Guichet 1" and kind.active
    # A type of a past appointment only: kept for the statistics.
    past = timezone.now() - timedelta(days=3)
    from metropole.appointments.models import Appointment

    Appointment.objects.create(
        agenda=agenda,
        type=kind,
        agent=agent,
        start=past,
        end=past + timedelta(minutes=30),
        name="Before",
        status="seen",
    )
    with pytest.raises(Conflict, match="booked before"):
        services.delete_type(commune_agent(LILLE_COMMUNE), kind)


def test_a_closure_is_deleted_from_the_settings_page(agenda_factory, client, commune_agent):
    agenda, kind = agenda_factory(agents=1)
    actor = commune_agent(LILLE_COMMUNE)
    slot = first_slot(agenda, kind)
    day = timezone.localtime(slot.start, slots.LOCAL).date()
    closure = services.add_closure(actor, agenda, first_day=day, last_day=day, reason="Pont")
    assert not slots.free_slots(agenda, kind, day, day)
    client.force_login(commune_agent(ROUBAIX))
    url = f"{BASE}/{agenda.pk}/reglages/"
    assert client.post(url, {"action": "delete_closure", "closure": closure.pk}).status_code == 403
    client.force_login(actor)
    client.post(url, {"action": "delete_closure", "closure": closure.pk})
    assert not agenda.closures.exists() and slots.free_slots(agenda, kind, day, day)
