"""Booking, concurrency, cancellation links, statuses, waiting list, reminders, iCalendar,
statistics, pages and API."""

import threading
from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from icalendar import Calendar

from metropole.appointments import queries, services, slots
from metropole.appointments.models import Appointment, Hold, Status, WaitingEntry
from metropole.core.exceptions import BadRequest, Conflict, PermissionDenied
from tests.catalogue.fixtures import LILLE_COMMUNE, ROUBAIX, next_weekday
from tests.conftest import row_locks


def first_slot(agenda, kind, days=14):
    today = timezone.localdate()
    return slots.free_slots(agenda, kind, today, today + timedelta(days=days))[0]


def test_booking_takes_one_agent_and_the_last_one_is_refused(agenda_factory, citizen):
    agenda, kind = agenda_factory(agents=2)
    slot = first_slot(agenda, kind)
    a = services.book(citizen, kind, slot.start, name="Camille", email="c@example.org")
    b = services.book(None, kind, slot.start, name="Dominique", phone="06 12 34 56 78")
    assert {a.agent_id, b.agent_id} == set(slot.agent_ids)
    assert a.user == citizen and b.user is None and Hold.objects.count() == 4
    with pytest.raises(Conflict) as taken:
        services.book(None, kind, slot.start, name="Eve", email="e@example.org")
    assert taken.value.field == "start"
    assert Appointment.objects.count() == 2


def test_bad_booking_input_is_refused_with_the_field(agenda_factory):
    agenda, kind = agenda_factory()
    slot = first_slot(agenda, kind)
    with pytest.raises(BadRequest) as no_contact:
        services.book(None, kind, slot.start, name="Eve")
    assert no_contact.value.field == "email"
    with pytest.raises(BadRequest):
        services.book(None, kind, slot.start, name="Eve", email="not-an-address")
    with pytest.raises(Conflict):  # not on the grid
        services.book(
            None, kind, slot.start + timedelta(minutes=7), name="Eve", email="e@example.org"
        )
    with pytest.raises(Conflict):  # a Sunday
        sunday = datetime.combine(
            next_weekday(timezone.localdate() + timedelta(days=1), 6),
            datetime.min.time(),
            tzinfo=slots.LOCAL,
        ).replace(hour=10)
        services.book(None, kind, sunday, name="Eve", email="e@example.org")
    assert not Appointment.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_people_booking_the_same_slot_at_once_exactly_one_succeeds(agenda_factory, lille):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race is tested on PostgreSQL")
    agenda, kind = agenda_factory(agents=1)
    slot = first_slot(agenda, kind)
    barrier = threading.Barrier(8)
    outcomes = []

    def attempt(n):
        from django.db import connections

        try:
            barrier.wait()
            services.book(None, kind, slot.start, name=f"P{n}", email=f"p{n}@example.org")
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 7 + ["ok"]
    assert Appointment.objects.count() == 1


def test_confirmation_and_cancellation_link(agenda_factory, citizen):
    agenda, kind = agenda_factory(agents=1)
    slot = first_slot(agenda, kind)
    appointment = services.book(
        citizen,
        kind,
        slot.start,
        name="Camille",
        email="c@example.org",
        phone="0612345678",
        base_url="https://metropole.example/",
    )
    from metropole.notifications.models import Notification

    sent = Notification.objects.filter(source="appointments.confirmation")
    assert {n.channel for n in sent} == {"email", "sms"}
    link = (
        next(n.body for n in sent if n.channel == "email")
        .split("https://metropole.example")[1]
        .split()[0]
    )
    token = link.split("/rdv/")[1].strip("/")
    services.cancel_with_token(token)
    appointment.refresh_from_db()
    assert appointment.status == Status.CANCELLED and not appointment.holds.exists()
    with pytest.raises(Conflict, match="already"):
        services.cancel_with_token(token)
    with pytest.raises(BadRequest):
        services.cancel_with_token(token[:-3] + "abc")
    # The slot is free again.
    assert services.book(None, kind, slot.start, name="Next", email="n@example.org")


def test_expired_link_after_the_appointment(agenda_factory):
    agenda, kind = agenda_factory(agents=1)
    appointment = services.book(
        None, kind, first_slot(agenda, kind).start, name="A", email="a@example.org"
    )
    token = services.cancel_token(appointment)
    Appointment.objects.filter(pk=appointment.pk).update(
        start=timezone.now() - timedelta(hours=2), end=timezone.now() - timedelta(hours=1)
    )
    with pytest.raises(Conflict, match="passed"):
        services.cancel_with_token(token)


def test_statuses_by_agents_of_the_territory_only(
    agenda_factory, commune_agent, make_member, commune
):
    agenda, kind = agenda_factory(agents=1)
    appointment = services.book(
        None, kind, first_slot(agenda, kind).start, name="A", email="a@example.org"
    )
    with pytest.raises(PermissionDenied):
        services.set_status(commune_agent(ROUBAIX), appointment, Status.NO_SHOW)
    agent = commune_agent(LILLE_COMMUNE)
    with pytest.raises(Conflict, match="time has come"):
        services.set_status(agent, appointment, Status.SEEN)
    Appointment.objects.filter(pk=appointment.pk).update(start=timezone.now() - timedelta(hours=1))
    # The appointment's row is locked, not its agenda's (every booking of it would wait).
    locks = row_locks(lambda: services.set_status(agent, appointment, Status.NO_SHOW))
    assert locks is None or 'FOR UPDATE OF "appointments_appointment"' in locks
    assert not any("appointments_agenda" in lock for lock in locks or [])
    appointment.refresh_from_db()
    assert appointment.status == Status.NO_SHOW and appointment.holds.exists()


def test_cancel_by_the_service_tells_the_person_and_the_waiting_list(agenda_factory, commune_agent):
    agenda, kind = agenda_factory(agents=1)
    slot = first_slot(agenda, kind)
    appointment = services.book(None, kind, slot.start, name="A", email="a@example.org")
    services.join_waiting_list(None, kind, "waiting@example.org")
    with pytest.raises(Conflict):
        services.join_waiting_list(None, kind, "waiting@example.org")
    mail.outbox.clear()
    services.set_status(commune_agent(LILLE_COMMUNE), appointment, Status.CANCELLED_BY_SERVICE)
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == ["a@example.org", "waiting@example.org"]
    assert WaitingEntry.objects.get().notified_at is not None


def test_reminder_48_hours_before_is_sent_once(agenda_factory):
    agenda, kind = agenda_factory(agents=1)
    appointment = services.book(
        None,
        kind,
        first_slot(agenda, kind, days=20).start,
        name="A",
        email="a@example.org",
        phone="+33612345678",
    )
    Appointment.objects.filter(pk=appointment.pk).update(
        created_at=appointment.start - timedelta(days=5)
    )
    assert services.send_due_reminders(now=appointment.start - timedelta(hours=49)) == 0
    mail.outbox.clear()
    assert services.send_due_reminders(now=appointment.start - timedelta(hours=47)) == 1
    assert services.send_due_reminders(now=appointment.start - timedelta(hours=46)) == 0
    assert len(mail.outbox) == 1
    assert "Rappel" in mail.outbox[0].subject or "Reminder" in mail.outbox[0].subject
    from metropole.notifications.models import Notification

    assert Notification.objects.filter(source="appointments.reminder", channel="sms").count() == 1


def test_icalendar_export(agenda_factory, client):
    from metropole.appointments import ics

    agenda, kind = agenda_factory(agents=1)
    appointment = services.book(
        None, kind, first_slot(agenda, kind).start, name="A", email="a@example.org"
    )
    calendar = Calendar.from_ical(ics.calendar([appointment], agenda.name))
    event = calendar.walk("VEVENT")[0]
    assert event.decoded("dtstart") == appointment.start and "Dépôt de dossier" in str(
        event["summary"]
    )
    response = client.get(f"/rendez-vous/rdv/{services.cancel_token(appointment)}/calendrier.ics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")


def test_no_show_statistics_per_service_and_month(agenda_factory, commune):
    agenda, kind = agenda_factory(agents=4)
    slot = first_slot(agenda, kind)
    made = [
        services.book(None, kind, slot.start, name=f"P{n}", email=f"p{n}@example.org")
        for n in range(4)
    ]
    past = timezone.now() - timedelta(days=1)
    Appointment.objects.filter(pk__in=[a.pk for a in made]).update(
        start=past, end=past + timedelta(minutes=30)
    )
    Appointment.objects.filter(pk=made[0].pk).update(status=Status.NO_SHOW)
    Appointment.objects.filter(pk__in=[made[1].pk, made[2].pk]).update(status=Status.SEEN)
    Appointment.objects.filter(pk=made[3].pk).update(status=Status.EXCUSED)
    [row] = queries.no_show_stats(commune(LILLE_COMMUNE))
    assert (row["total"], row["seen"], row["no_show"], row["excused"]) == (4, 2, 1, 1)
    assert row["rate"] == pytest.approx(33.3)


# --- pages and API -------------------------------------------------------------------------


def test_booking_pages_without_javascript(agenda_factory, client):
    agenda, kind = agenda_factory(agents=1)
    slot = first_slot(agenda, kind)
    page = client.get(f"/rendez-vous/agenda/{agenda.pk}/", {"type": kind.pk}).content.decode()
    t = int(slot.start.timestamp())
    assert f"reserver/?type={kind.pk}&amp;t={t}" in page
    url = f"/rendez-vous/agenda/{agenda.pk}/reserver/?type={kind.pk}&t={t}"
    refused = client.post(url, {"name": "Camille", "type": kind.pk, "t": t})
    assert refused.status_code == 400 and not Appointment.objects.exists()
    response = client.post(
        url, {"name": "Camille", "email": "c@example.org", "type": kind.pk, "t": t}
    )
    assert response.status_code == 302 and "/rendez-vous/rdv/" in response["Location"]
    again = client.post(url, {"name": "Other", "email": "o@example.org", "type": kind.pk, "t": t})
    assert again.status_code == 400 and "not free" in again.content.decode()
    cancel = client.post(response["Location"])
    assert cancel.status_code == 302
    reused = client.post(response["Location"])
    assert reused.status_code == 409 and "already" in reused.content.decode()
    assert client.get("/rendez-vous/rdv/garbage/").status_code == 400


def test_agent_day_view_and_status(agenda_factory, client, commune_agent):
    agenda, kind = agenda_factory(agents=1)
    appointment = services.book(
        None, kind, first_slot(agenda, kind).start, name="Camille", email="c@example.org"
    )
    client.force_login(commune_agent(ROUBAIX))
    assert client.get(f"/rendez-vous/gestion/lille-59350/{agenda.pk}/").status_code == 403
    client.force_login(commune_agent(LILLE_COMMUNE))
    day = timezone.localtime(appointment.start).date().isoformat()
    page = client.get(
        f"/rendez-vous/gestion/lille-59350/{agenda.pk}/", {"day": day}
    ).content.decode()
    assert "Camille" in page
    response = client.post(
        f"/rendez-vous/gestion/lille-59350/{agenda.pk}/statut/{appointment.pk}/",
        {"status": "cancelled_by_service"},
    )
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == Status.CANCELLED_BY_SERVICE
    assert client.get("/rendez-vous/gestion/lille-59350/").status_code == 200


def test_api_slots_and_booking(agenda_factory, client, citizen):
    from metropole.core.services import create_api_token

    agenda, kind = agenda_factory(agents=1)
    found = client.get(
        f"/api/appointments/agendas/{agenda.pk}/slots", {"type": kind.pk, "days": 14}
    ).json()
    assert found and found[0]["free"] == 1
    _, key = create_api_token(citizen, "app")
    made = client.post(
        f"/api/appointments/agendas/{agenda.pk}/appointments",
        {"type": kind.pk, "start": found[0]["start"], "name": "Camille", "email": "c@example.org"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert made.status_code == 201
    twice = client.post(
        f"/api/appointments/agendas/{agenda.pk}/appointments",
        {"type": kind.pk, "start": found[0]["start"], "name": "Camille", "email": "c@example.org"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert twice.status_code == 409 and twice["Content-Type"] == "application/problem+json"


def test_agents_set_up_an_agenda_in_the_back_office(client, commune_agent, commune):
    from metropole.appointments.models import Agenda

    client.force_login(commune_agent(LILLE_COMMUNE))
    base = "/rendez-vous/gestion/lille-59350/"
    bad = client.post(
        base + "nouvel-agenda/",
        {
            "action": "agenda",
            "name": "Urbanisme",
            "opening_hours_text": "Monday 9-12",
            "slot_minutes": 15,
        },
    )
    assert bad.status_code == 400 and "rule 1" in bad.content.decode()
    made = client.post(
        base + "nouvel-agenda/",
        {
            "action": "agenda",
            "name": "Urbanisme",
            "opening_hours_text": "Mo-Fr 09:00-12:00,14:00-16:30; Sa 09:00-11:00",
            "slot_minutes": 15,
            "active": "on",
        },
    )
    assert made.status_code == 302
    agenda = Agenda.objects.get(name="Urbanisme")
    assert agenda.opening_hours == [
        ["lundi", "vendredi", [["09:00:00", "12:00:00"], ["14:00:00", "16:30:00"]]],
        ["samedi", "samedi", [["09:00:00", "11:00:00"]]],
    ]
    settings_url = f"{base}{agenda.pk}/reglages/"
    assert client.post(settings_url, {"action": "agent", "a-name": "Guichet A"}).status_code == 302
    assert (
        client.post(
            settings_url,
            {
                "action": "type",
                "t-name": "Permis",
                "t-duration_minutes": 45,
                "t-min_delay_hours": 24,
                "t-max_delay_days": 30,
                "t-mode": "video",
            },
        ).status_code
        == 302
    )
    agent = agenda.agents.get()
    wrong = client.post(
        settings_url,
        {
            "action": "absence",
            "b-agent": agent.pk,
            "b-start": "2027-01-12T10:00",
            "b-end": "2027-01-11T10:00",
        },
    )
    assert wrong.status_code == 400 and not agent.absences.exists()
    assert (
        client.post(
            settings_url,
            {
                "action": "closure",
                "c-first_day": "2027-05-14",
                "c-last_day": "2027-05-14",
                "c-reason": "Pont",
            },
        ).status_code
        == 302
    )
    kind = agenda.types.get()
    assert kind.mode == "video" and agenda.closures.count() == 1
    from datetime import date

    may = datetime(2027, 5, 1, tzinfo=slots.LOCAL)
    open_days = [
        day
        for day in (14, 15, 17, 18)
        if slots.free_slots(agenda, kind, date(2027, 5, day), date(2027, 5, day), now=may)
    ]
    # 14 May is the closure, 17 May Whit Monday; Saturday 15 and Tuesday 18 are open.
    assert open_days == [15, 18]
    assert slots.free_slots(
        agenda,
        kind,
        date(2027, 5, 18),
        date(2027, 5, 18),
        now=datetime(2027, 5, 1, tzinfo=slots.LOCAL),
    )
    client.force_login(commune_agent(ROUBAIX))
    assert client.get(settings_url).status_code == 403


def test_reminder_reaches_a_real_smtp_server(agenda_factory, smtp_server):
    """The reminder travels through SMTP (aiosmtpd on loopback) and is recorded as sent."""
    from metropole.notifications.models import Notification

    agenda, kind = agenda_factory(agents=1)
    appointment = services.book(
        None,
        kind,
        first_slot(agenda, kind, days=20).start,
        name="A",
        email="person@example.org",
        base_url="https://metropole.example/",
    )
    Appointment.objects.filter(pk=appointment.pk).update(
        created_at=appointment.start - timedelta(days=5)
    )
    smtp_server.messages.clear()
    assert (
        services.send_due_reminders(
            base_url="https://metropole.example/", now=appointment.start - timedelta(hours=47)
        )
        == 1
    )
    [message] = smtp_server.messages
    assert message["To"] == "person@example.org"
    assert "https://metropole.example/rendez-vous/rdv/" in message.get_content()
    assert Notification.objects.get(source="appointments.reminder").status == "sent"


def test_booking_page_fields_title_and_agenda_week_read_right(agenda_factory, client):
    """Phone keypad and autofill on the booking form, a <title> that says what the h1 says,
    the first day shown read mid-sentence in lower case (the days start on the first
    bookable day, not on a Monday), and a list page whose promise matches the form."""
    import re

    from metropole.notifications.models import Notification

    agenda, kind = agenda_factory(agents=1)
    slot = first_slot(agenda, kind)
    t = int(slot.start.timestamp())
    url = f"/rendez-vous/agenda/{agenda.pk}/reserver/?type={kind.pk}&t={t}"
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    fields = {
        n: re.search(rf'<input[^>]*name="{n}"[^>]*>', page).group(0)
        for n in ("name", "email", "phone")
    }
    assert 'type="tel"' in fields["phone"] and 'autocomplete="tel"' in fields["phone"]
    assert 'type="email"' in fields["email"] and 'autocomplete="email"' in fields["email"]
    assert 'autocomplete="name"' in fields["name"]
    title = re.search(r"<title>(.*?)(?: [-–—|·] .*)?</title>", page, re.S).group(1).strip()
    h1 = re.search(r"<h1>(.*?)</h1>", page, re.S).group(1).strip()
    assert title == h1 == "3. Qui ? Confirmer le rendez-vous"

    sunday = next_weekday(timezone.localdate() + timedelta(days=1), 6)
    page = client.get(
        f"/rendez-vous/agenda/{agenda.pk}/",
        {"type": kind.pk, "week": sunday.isoformat()},
        HTTP_ACCEPT_LANGUAGE="fr",
    ).content.decode()
    assert "Semaine du" not in page
    assert f"À partir du dimanche {sunday.day} " in page

    index = client.get("/rendez-vous/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Vous donnez une adresse e-mail ou un numéro de mobile" in index
    # With a mobile only, the confirmation is sent there by SMS: the promise holds.
    response = client.post(url, {"name": "Camille", "phone": "0612345678", "type": kind.pk, "t": t})
    assert response.status_code == 302
    assert Notification.objects.filter(channel="sms", recipient__contains="612345678").exists()
