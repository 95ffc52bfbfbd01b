"""Automatic collection of indicator values, from pluggable sources.

An indicator names its collector as "<source>:<key>" (e.g. "statistic:core.joined_communes").
A source is an object with `name`, `choices(territory)` (what can be collected, for forms
and validation) and `compute(key, territory, params)` returning a number. Sources register
in SOURCES; the platform's own statistics (the core registry's `registry.statistics()`,
contributed by every installed module) are the first source. A data hub source plugs in the
same way once the hub offers an aggregate query (see docs/steering.md).

`collect_due()` is run on schedule (the `collect_indicators` command from cron / a systemd
timer, or the `collect_indicators_task` task): it records today's value of every indicator
whose last automatic value is older than its collection frequency.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from metropole.core.exceptions import BadRequest
from metropole.core.registry import registry

from .models import FREQUENCY_DAYS, Indicator, Provenance, ValueKind


@dataclass(frozen=True)
class Choice:
    key: str
    label: str
    unit: str = ""


class StatisticSource:
    """Figures every module contributes to dashboards through the core registry."""

    name = "statistic"
    label = _("platform statistics")

    def _statistics(self):
        # registry.statistics() flattens; keys are namespaced by module here so two
        # modules may both name a figure "participants".
        flat = {id(s) for s in registry.statistics()}
        for module in registry:
            for statistic in module.statistics:
                if id(statistic) in flat:
                    yield f"{module.label}.{statistic.key}", statistic

    def choices(self, territory=None) -> list[Choice]:
        return [Choice(key, str(s.label), str(s.unit)) for key, s in self._statistics()]

    def compute(self, key: str, territory, params: dict) -> Decimal:
        for name, statistic in self._statistics():
            if name == key:
                return Decimal(str(statistic.compute(territory)))
        raise KeyError(key)


SOURCES = {source.name: source for source in (StatisticSource(),)}


def register_source(source) -> None:
    """Plug a new source in (e.g. the data hub's aggregate queries)."""
    SOURCES[source.name] = source


def _split(collector: str) -> tuple[str, str]:
    source, _sep, key = collector.partition(":")
    return source, key


def check_collector(collector: str) -> None:
    source_name, key = _split(collector)
    source = SOURCES.get(source_name)
    if source is None:
        raise BadRequest(
            _("Unknown collection source"),
            _("%(source)r is not a source of automatic values (known: %(known)s).")
            % {"source": source_name, "known": ", ".join(sorted(SOURCES))},
            field="collector",
        )
    keys = {c.key for c in source.choices()}
    if key not in keys:
        raise BadRequest(
            _("Unknown figure"),
            _("%(key)r is not a figure of %(source)s (known: %(known)s).")
            % {"key": key, "source": source_name, "known": ", ".join(sorted(keys))},
            field="collector",
        )


def all_choices(territory=None) -> list[tuple[str, str]]:
    return [
        (f"{name}:{c.key}", f"{source.label} — {c.label}")
        for name, source in SOURCES.items()
        for c in source.choices(territory)
    ]


def collect(indicator: Indicator, *, today=None, actor=None):
    """Compute and record today's value of one indicator from its source."""
    from . import services

    source_name, key = _split(indicator.collector)
    check_collector(indicator.collector)
    territory = indicator.plan.territory
    value = SOURCES[source_name].compute(key, territory, indicator.collector_params or {})
    return services.record_value(
        actor or services.SYSTEM,
        indicator,
        date=today or timezone.localdate(),
        value=value,
        kind=ValueKind.ACTUAL,
        provenance=Provenance.AUTOMATIC,
        source_detail=f"{indicator.collector} @ {territory.code}",
    )


def due_indicators(today=None):
    """Indicators with a collector whose last automatic value is older than their frequency."""
    today = today or timezone.localdate()
    for indicator in (
        Indicator.objects.exclude(collector="").select_related("plan__territory").order_by("pk")
    ):
        days = FREQUENCY_DAYS.get(indicator.frequency, 0)
        last = (
            indicator.values.filter(provenance=Provenance.AUTOMATIC, kind=ValueKind.ACTUAL)
            .order_by("-date")
            .values_list("date", flat=True)
            .first()
        )
        if last is None or last <= today - timedelta(days=days):
            yield indicator


def collect_due(today=None) -> dict:
    """Collect every due indicator; a failing source is reported, the others still run."""
    collected, failed = [], []
    for indicator in list(due_indicators(today)):
        try:
            collect(indicator, today=today)
            collected.append(indicator.pk)
        except Exception as error:  # one broken source must not stop the others
            failed.append({"indicator": indicator.pk, "error": str(error)})
    return {"collected": collected, "failed": failed}
