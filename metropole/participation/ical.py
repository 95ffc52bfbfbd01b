"""iCalendar (RFC 5545) export of meetings, with the `icalendar` package."""

from datetime import UTC

from django.utils import timezone
from icalendar import Calendar, Event


def calendar(meetings, *, url_of, name: str) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Metropole//participation//FR")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    for meeting in meetings:
        event = Event()
        event.add("uid", f"meeting-{meeting.pk}@metropole")
        event.add("dtstamp", timezone.now().astimezone(UTC))
        event.add("dtstart", meeting.start.astimezone(UTC))
        event.add("dtend", meeting.end.astimezone(UTC))
        event.add("summary", meeting.title)
        if meeting.description:
            event.add("description", meeting.description)
        location = meeting.address or meeting.online_url
        if location:
            event.add("location", location)
        event.add("url", url_of(meeting))
        cal.add_component(event)
    return cal.to_ical()
