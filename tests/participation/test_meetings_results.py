"""Meetings (capacity, waiting list, iCalendar) and results tracking (weighted roll-up)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from metropole.core.exceptions import BadRequest, Conflict
from metropole.participation import ical, queries, services
from metropole.participation.models import ComponentKind, Registration

from .conftest import component


@pytest.fixture
def meeting(make_process, agent):
    meetings = component(make_process("meeting"), ComponentKind.MEETINGS)
    start = timezone.now() + timedelta(days=7)
    return services.add_meeting(
        agent,
        meetings,
        title="Atelier",
        start=start,
        end=start + timedelta(hours=2),
        address="Hôtel de ville",
        capacity=2,
    )


def test_registration_fills_places_then_the_waiting_list(meeting, make_citizen):
    statuses = [services.register(make_citizen(i), meeting).status for i in range(3)]
    assert statuses == [Registration.CONFIRMED, Registration.CONFIRMED, Registration.WAITING]
    with pytest.raises(Conflict):
        services.register(make_citizen(0), meeting)
    services.unregister(make_citizen(0), meeting)
    assert Registration.objects.get(user=make_citizen(2)).status == Registration.CONFIRMED
    assert queries.meeting_places(meeting) == {"confirmed": 2, "waiting": 0, "left": 0}


def test_a_meeting_needs_a_place_and_sane_dates(make_process, agent):
    meetings = component(make_process("meeting", title="Réunions"), ComponentKind.MEETINGS)
    now = timezone.now()
    with pytest.raises(BadRequest, match="address or an online link"):
        services.add_meeting(agent, meetings, title="x", start=now, end=now + timedelta(hours=1))
    with pytest.raises(BadRequest):
        services.add_meeting(
            agent, meetings, title="x", start=now, end=now, online_url="https://visio.example.org"
        )


def test_icalendar_export(meeting):
    data = ical.calendar([meeting], url_of=lambda m: "https://example.org/r", name="Réunions")
    [event] = Calendar.from_ical(data).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Atelier" and str(event["LOCATION"]) == "Hôtel de ville"
    assert event.decoded("DTSTART") == meeting.start.replace(microsecond=0)


def test_results_roll_up_by_weight(make_process, agent, ideas, citizen):
    results = component(ideas.process, ComponentKind.RESULTS)
    parent = services.add_result(agent, results, title="Mobilité")
    services.add_result(agent, results, title="Vélo", parent=parent, weight=3, progress=100)
    child = services.add_result(agent, results, title="Bus", parent=parent, weight=1, progress=0)
    services.update_result(agent, child, progress=40, text="Appel d'offres lancé")
    proposal = services.create_proposal(citizen, ideas, title="Idée", body="t")
    parent.proposals.add(proposal)
    [tree] = queries.results_tree(results)
    assert tree["progress"] == round((100 * 3 + 40 * 1) / 4)
    assert [u.text for u in child.updates.all()] == ["Appel d'offres lancé"]
    with pytest.raises(BadRequest):
        services.update_result(agent, child, progress=140, text="x")
