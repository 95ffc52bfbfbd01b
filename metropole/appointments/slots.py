"""The slot engine: which start times of an agenda are free for an appointment type.

A day is bookable unless it is a French public holiday (`holidays`), a school holiday
of the commune's zone when the agenda closes then (`vacances-scolaires-france`), or a
closure of the agenda. Each day opens along the agenda's weekly hours (or its town hall's,
from the reference data). Candidate starts are laid on a grid of `slot_minutes`; a start
is free for an agent when every grid step the appointment covers is neither held by
another appointment nor inside one of the agent's absences. Everything the computation
needs is read in three queries, then checked with set look-ups: `naive_free_slots` below
is the straightforward reference (overlap tests against every appointment and absence)
used by the tests and the benchmark.
"""

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.utils import timezone
from vacances_scolaires_france import SchoolHolidayDates, UnsupportedYearException

from metropole.core.opening_hours import DAYS, OSM_DAYS

from .models import Absence, Agent, Closure, Hold

LOCAL = ZoneInfo("Europe/Paris")

# School holiday zones by département (Ministry of Education, zones A/B/C).
_ZONE_A = (
    "03 07 15 16 17 19 21 23 24 25 26 33 38 39 42 43 47 58 63 64 69 70 71 73 74 79 86 87 89 90"
)
_ZONE_B = (
    "02 04 05 06 08 10 13 14 18 22 27 28 29 35 36 37 41 44 45 49 50 51 52 53 54 55 56 57 59 60 "
    "61 62 67 68 72 76 80 83 84 85 88"
)
_ZONE_C = "09 11 12 30 31 32 34 46 48 65 66 75 77 78 81 82 91 92 93 94 95"
ZONES = {
    dep: zone
    for zone, deps in (("A", _ZONE_A), ("B", _ZONE_B), ("C", _ZONE_C))
    for dep in deps.split()
}


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    agent_ids: tuple[int, ...] = field(default=())

    @property
    def free(self) -> int:
        return len(self.agent_ids)


def weekly_hours(raw) -> dict[int, list[tuple[time, time]]]:
    """{weekday: [(opens, closes), ...]} from the reference data's format."""
    week: dict[int, list[tuple[time, time]]] = {}
    for entry in raw or []:
        try:
            first, last, intervals = entry
            a, b = DAYS.index(first), DAYS.index(last)
        except (TypeError, ValueError):
            continue
        for day in range(a, b + 1):
            for opens, closes in intervals:
                week.setdefault(day, []).append(
                    (time.fromisoformat(opens), time.fromisoformat(closes))
                )
    return {day: sorted(v) for day, v in week.items()}


@lru_cache(maxsize=32)
def _public_holidays(year: int) -> dict[date, str]:
    return dict(holidays.France(years=year))


_school = SchoolHolidayDates()


@lru_cache(maxsize=64)
def _school_holidays(year: int, zone: str) -> dict[date, str]:
    try:
        return {
            day: info["nom_vacances"]
            for day, info in _school.holidays_for_year_and_zone(year, zone).items()
        }
    except UnsupportedYearException:
        return {}


def school_zone(agenda) -> str | None:
    return ZONES.get((agenda.territory.departement or "").zfill(2))


def closed_days(agenda, first: date, last: date) -> dict[date, str]:
    """Days between first and last (inclusive) when the agenda is closed, with why."""
    closed: dict[date, str] = {}
    years = range(first.year, last.year + 1)
    for year in years:
        closed.update(_public_holidays(year))
    zone = school_zone(agenda) if agenda.closed_on_school_holidays else None
    if zone:
        for year in years:
            for day, name in _school_holidays(year, zone).items():
                closed.setdefault(day, name)
    for closure in Closure.objects.filter(agenda=agenda, first_day__lte=last, last_day__gte=first):
        day = max(closure.first_day, first)
        while day <= min(closure.last_day, last):
            closed.setdefault(day, closure.reason or "closed")
            day += timedelta(days=1)
    return {d: why for d, why in closed.items() if first <= d <= last}


def _key(moment: datetime) -> int:
    return int(moment.timestamp())


def _local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=LOCAL)


def bookable_window(appointment_type, now: datetime) -> tuple[datetime, datetime]:
    return (
        now + timedelta(hours=appointment_type.min_delay_hours),
        now + timedelta(days=appointment_type.max_delay_days),
    )


def free_slots(agenda, appointment_type, first: date, last: date, now=None) -> list[Slot]:
    """Free starts of `appointment_type` between two days (inclusive), in local time."""
    now = now or timezone.now()
    earliest, latest = bookable_window(appointment_type, now)
    step = timedelta(minutes=agenda.slot_minutes)
    duration = timedelta(minutes=appointment_type.duration_minutes)
    steps = math.ceil(appointment_type.duration_minutes / agenda.slot_minutes)
    week = weekly_hours(agenda.hours_source)
    agents = list(
        Agent.objects.filter(agenda=agenda, active=True).order_by("pk").values_list("pk", flat=True)
    )
    if not agents or not week:
        return []
    lo, hi = _local(first, time.min), _local(last, time.max)
    taken = {
        (agent_id, _key(start))
        for agent_id, start in Hold.objects.filter(
            agent_id__in=agents, start__gte=lo - duration, start__lte=hi
        ).values_list("agent_id", "start")
    }
    absent: dict[int, list[tuple[datetime, datetime]]] = {}
    for agent_id, a_start, a_end in Absence.objects.filter(
        agent_id__in=agents, end__gt=lo, start__lt=hi
    ).values_list("agent_id", "start", "end"):
        absent.setdefault(agent_id, []).append((a_start, a_end))
    closed = closed_days(agenda, first, last)
    found: list[Slot] = []
    day = first
    while day <= last:
        if day not in closed:
            for opens, closes in week.get(day.weekday(), ()):
                start, end_of_interval = _local(day, opens), _local(day, closes)
                while start + duration <= end_of_interval:
                    if earliest <= start <= latest:
                        keys = [_key(start + k * step) for k in range(steps)]
                        end = start + duration
                        free = tuple(
                            a
                            for a in agents
                            if not any((a, k) in taken for k in keys)
                            and not any(b < end and start < e for b, e in absent.get(a, ()))
                        )
                        if free:
                            found.append(Slot(start, start + duration, free))
                    start += step
        day += timedelta(days=1)
    return found


def naive_free_slots(agenda, appointment_type, first: date, last: date, now=None) -> list[Slot]:
    """Reference: for each candidate start and agent, test every appointment and absence
    for overlap, and ask the holiday packages about each day."""
    from .models import FREEING, Appointment

    now = now or timezone.now()
    earliest, latest = bookable_window(appointment_type, now)
    step = timedelta(minutes=agenda.slot_minutes)
    duration = timedelta(minutes=appointment_type.duration_minutes)
    week = weekly_hours(agenda.hours_source)
    agents = list(Agent.objects.filter(agenda=agenda, active=True).order_by("pk"))
    appointments = list(Appointment.objects.filter(agenda=agenda).exclude(status__in=FREEING))
    absences = list(Absence.objects.filter(agent__agenda=agenda))
    closures = list(Closure.objects.filter(agenda=agenda))
    zone = school_zone(agenda) if agenda.closed_on_school_holidays else None
    found = []
    day = first
    while day <= last:
        closed = day in holidays.France(years=day.year)
        if zone and not closed:
            try:
                closed = _school.is_holiday_for_zone(day, zone)
            except UnsupportedYearException:
                closed = False
        closed = closed or any(c.first_day <= day <= c.last_day for c in closures)
        if not closed:
            for opens, closes in week.get(day.weekday(), ()):
                start = _local(day, opens)
                while start + duration <= _local(day, closes):
                    end = start + duration
                    if earliest <= start <= latest:
                        free = []
                        for agent in agents:
                            busy = any(
                                a.agent_id == agent.pk and a.start < end and start < a.end
                                for a in appointments
                            ) or any(
                                b.agent_id == agent.pk and b.start < end and start < b.end
                                for b in absences
                            )
                            if not busy:
                                free.append(agent.pk)
                        if free:
                            found.append(Slot(start, end, tuple(free)))
                    start += step
        day += timedelta(days=1)
    return found


_OSM_RULE = re.compile(r"^(?P<days>[A-Za-z]{2}(?:-[A-Za-z]{2})?)\s+(?P<times>.+)$")
_OSM_TIME = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


def parse_osm_hours(text: str) -> list:
    """Weekly hours written in the OSM opening_hours syntax ("Mo-Fr 09:00-12:00,13:30-17:00;
    Sa 09:00-12:00") as the reference data's format; ValueError says what is wrong."""
    result = []
    for number, rule in enumerate((r.strip() for r in (text or "").split(";")), start=1):
        if not rule:
            continue
        match = _OSM_RULE.match(rule)
        if not match:
            raise ValueError(
                f"rule {number} ({rule!r}): write days then hours, e.g. Mo-Fr 09:00-12:00"
            )
        days = match.group("days").split("-")
        try:
            first, last = (OSM_DAYS.index(d.capitalize()) for d in (days[0], days[-1]))
        except ValueError:
            raise ValueError(
                f"rule {number}: unknown day in {match.group('days')!r} (Mo Tu We Th Fr Sa Su)"
            ) from None
        if last < first:
            raise ValueError(f"rule {number}: {days[0]} comes after {days[-1]}")
        intervals = []
        for span in match.group("times").split(","):
            m = _OSM_TIME.match(span.strip())
            if not m:
                raise ValueError(
                    f"rule {number}: {span.strip()!r} is not a time range such as 09:00-12:00"
                )
            h1, m1, h2, m2 = (int(g) for g in m.groups())
            if not (0 <= h1 < 24 and 0 <= h2 <= 24 and m1 < 60 and m2 < 60) or (h2, m2) <= (h1, m1):
                raise ValueError(f"rule {number}: {span.strip()!r} does not end after it starts")
            intervals.append([f"{h1:02d}:{m1:02d}:00", f"{h2:02d}:{m2:02d}:00"])
        result.append([DAYS[first], DAYS[last], intervals])
    return result
