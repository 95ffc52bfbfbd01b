"""The slot engine against its naive reference, and the calendar's exceptions."""

from datetime import date, datetime, timedelta

import pytest

from metropole.appointments import slots
from metropole.appointments.models import Absence, Appointment, Closure, Hold, Status
from tests.catalogue.fixtures import next_weekday

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=slots.LOCAL)  # a Friday


def book_directly(agenda, kind, agent, start):
    appointment = Appointment.objects.create(
        agenda=agenda,
        type=kind,
        agent=agent,
        start=start,
        end=start + timedelta(minutes=kind.duration_minutes),
        name="X",
        email="x@example.org",
    )
    step = timedelta(minutes=agenda.slot_minutes)
    for k in range(-(-kind.duration_minutes // agenda.slot_minutes)):
        Hold.objects.create(appointment=appointment, agent=agent, start=start + k * step)
    return appointment


def test_weekly_hours_from_the_reference_format():
    week = slots.weekly_hours(
        [
            ["lundi", "vendredi", [["08:30:00", "12:00:00"], ["13:30:00", "17:00:00"]]],
            ["samedi", "samedi", [["09:00:00", "12:00:00"]]],
        ]
    )
    assert sorted(week) == [0, 1, 2, 3, 4, 5]
    assert [str(t) for t in week[0][1]] == ["13:30:00", "17:00:00"]
    assert slots.weekly_hours([["jour", "inconnu", []], "nonsense"]) == {}


def test_public_holidays_and_school_holidays_close_the_agenda(agenda_factory):
    agenda, kind = agenda_factory()
    christmas = date(2026, 12, 25)  # a Friday
    assert slots.free_slots(agenda, kind, christmas, christmas, now=NOW) == []
    assert "Noël" in slots.closed_days(agenda, christmas, christmas)[christmas]
    school_day = date(2026, 12, 22)  # Christmas school holidays, zone B (Nord), a Tuesday
    assert slots.free_slots(agenda, kind, school_day, school_day, now=NOW)
    agenda.closed_on_school_holidays = True
    agenda.save()
    assert slots.school_zone(agenda) == "B"
    assert slots.free_slots(agenda, kind, school_day, school_day, now=NOW) == []


def test_delays_grid_and_agents(agenda_factory):
    agenda, kind = agenda_factory(duration=30)
    monday = next_weekday(NOW.date(), 0)
    found = slots.free_slots(agenda, kind, monday, monday, now=NOW)
    # 09:00 to 12:00 by steps of 15 minutes, 30-minute appointments: 09:00 ... 11:30.
    assert [s.start.strftime("%H:%M") for s in found][:3] == ["09:00", "09:15", "09:30"]
    assert found[-1].start.strftime("%H:%M") == "11:30" and len(found) == 11
    assert all(s.free == 2 for s in found)
    # Too soon (minimum delay 2 h) and too far (maximum 60 days).
    same_day_now = datetime.combine(monday, datetime.min.time(), tzinfo=slots.LOCAL).replace(hour=9)
    assert slots.free_slots(agenda, kind, monday, monday, now=same_day_now)[0].start.hour == 11
    far = NOW.date() + timedelta(days=70)
    assert slots.free_slots(agenda, kind, far, far + timedelta(days=6), now=NOW) == []


@pytest.mark.parametrize("duration,step", [(30, 15), (20, 15), (15, 15), (45, 10)])
def test_same_answer_as_the_naive_reference(agenda_factory, duration, step):
    agenda, kind = agenda_factory(
        duration=duration, agents=3, slot_minutes=step, closed_on_school_holidays=True
    )
    first = next_weekday(NOW.date(), 0)
    last = first + timedelta(days=45)
    agents = list(agenda.agents.all())
    # Some bookings, an absence across a morning, a closure and a cancelled appointment.
    offered = slots.free_slots(agenda, kind, first, last, now=NOW)
    for k, slot in enumerate(offered[:: max(1, len(offered) // 40)]):
        book_directly(agenda, kind, agents[k % 3], slot.start)
    cancelled = book_directly(agenda, kind, agents[0], offered[5].start)
    cancelled.status = Status.CANCELLED
    cancelled.save()
    cancelled.holds.all().delete()
    Absence.objects.create(
        agent=agents[1],
        start=datetime.combine(
            first + timedelta(days=1), datetime.min.time(), tzinfo=slots.LOCAL
        ).replace(hour=9, minute=40),
        end=datetime.combine(
            first + timedelta(days=3), datetime.min.time(), tzinfo=slots.LOCAL
        ).replace(hour=10, minute=5),
    )
    Closure.objects.create(
        agenda=agenda,
        first_day=first + timedelta(days=8),
        last_day=first + timedelta(days=9),
        reason="Pont",
    )
    fast = slots.free_slots(agenda, kind, first, last, now=NOW)
    naive = slots.naive_free_slots(agenda, kind, first, last, now=NOW)
    assert fast == naive
    assert 0 < len(fast) < len(offered)
