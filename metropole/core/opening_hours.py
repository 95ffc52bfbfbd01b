"""Town hall opening hours, as published by the reference data, in words.

The source gives `[[first_day, last_day, [[opens, closes], ...]], ...]` with French day
names and HH:MM:SS times. We render them per day range for people, and as OSM
`opening_hours` syntax for machines.
"""

from django.utils.text import capfirst
from django.utils.translation import gettext as _

DAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
OSM_DAYS = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]


def _day_label(day: str) -> str:
    labels = [
        _("Monday"),
        _("Tuesday"),
        _("Wednesday"),
        _("Thursday"),
        _("Friday"),
        _("Saturday"),
        _("Sunday"),
    ]
    return labels[DAYS.index(day)] if day in DAYS else day


def _hm(value: str) -> str:
    return value[:5].replace(":", "h") if value else ""


def describe_opening_hours(raw) -> list[dict]:
    """[{"days": "Monday – Friday", "hours": ["08h00–17h00"]}, ...]; [] when unknown."""
    described = []
    for entry in raw or []:
        try:
            first, last, slots = entry
        except (TypeError, ValueError):
            continue
        # "Lundi – vendredi": the weekdays are translated as Django's own catalogue does (lower
        # case, as in "le lundi 3 mars"); the line starts with a capital.
        days = _day_label(first) if first == last else f"{_day_label(first)} – {_day_label(last)}"
        days = capfirst(days)
        hours = [f"{_hm(opens)}–{_hm(closes)}" for opens, closes in slots]
        described.append({"days": days, "hours": hours})
    return described


def to_osm(raw) -> str:
    """OSM opening_hours syntax, e.g. "Mo-Fr 08:00-17:00; Sa 08:00-12:00"."""
    rules = []
    for entry in raw or []:
        try:
            first, last, slots = entry
            days = OSM_DAYS[DAYS.index(first)]
            if last != first:
                days += "-" + OSM_DAYS[DAYS.index(last)]
        except (TypeError, ValueError):
            continue
        times = ",".join(f"{o[:5]}-{c[:5]}" for o, c in slots)
        rules.append(f"{days} {times}")
    return "; ".join(rules)
