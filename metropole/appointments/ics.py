"""iCalendar (RFC 5545) export of appointments, with the `icalendar` package."""

from django.utils import timezone
from icalendar import Calendar, Event

from .models import Status


def calendar(appointments, name: str, *, with_person: bool = False) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Metropole//Rendez-vous//FR")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    for a in appointments:
        event = Event()
        event.add("uid", f"appointment-{a.pk}@metropole")
        event.add("dtstamp", timezone.now())
        event.add("dtstart", a.start)
        event.add("dtend", a.end)
        summary = f"{a.type.name} — {a.agenda.name}"
        if with_person:
            summary += f" — {a.name}"
        event.add("summary", summary)
        where = f"{a.agenda.place_name} {a.agenda.address}".strip()
        if where:
            event.add("location", where)
        event.add("status", "CONFIRMED" if a.status == Status.BOOKED else "CANCELLED")
        cal.add_component(event)
    return cal.to_ical()
