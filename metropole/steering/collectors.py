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
from django.utils.translation import gettext_lazy

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
    label = gettext_lazy("platform statistics")

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

    def check(self, key: str, params: dict) -> None:
        keys = {c.key for c in self.choices()}
        if key not in keys:
            raise BadRequest(
                _("Unknown figure"),
                _("%(key)r is not a figure of %(source)s (known: %(known)s).")
                % {"key": key, "source": self.name, "known": ", ".join(sorted(keys))},
                field="collector",
            )

    def compute(self, key: str, territory, params: dict) -> Decimal:
        for name, statistic in self._statistics():
            if name == key:
                return Decimal(str(statistic.compute(territory)))
        raise KeyError(key)


class DatahubSource:
    """An aggregate (count, sum, avg, min, max) over a published resource of the data hub,
    computed by its query engine: "datahub:<resource uid or number>" with params
    {"aggregate": "sum(montant)", "query": "annee=2020&commune=59350"} (the hub's URL
    filter grammar). Only published resources (readable by anyone) can feed indicators."""

    name = "datahub"
    label = gettext_lazy("data hub query")

    def _query(self, params: dict):
        from django.http import QueryDict

        from metropole.datahub.querying.parse import from_params

        aggregate = (params or {}).get("aggregate") or "count"
        query = QueryDict((params or {}).get("query", "") or "", mutable=True)
        for reserved in ("aggregate", "group_by", "sort", "limit", "cursor"):
            query.pop(reserved, None)
        query.setlist("aggregate", [aggregate])
        return from_params(dict(query.lists()))

    def _spec(self, key: str):
        from django.contrib.auth.models import AnonymousUser

        from metropole.datahub.queries import table_spec_for

        return table_spec_for(AnonymousUser(), key)

    def choices(self, territory=None) -> list[Choice]:
        from metropole.datahub.models import Resource

        resources = Resource.objects.filter(current_version__isnull=False).select_related("dataset")
        return [
            Choice(str(r.uid), f"{r.dataset.title} — {r.title} ({_('count of rows')})")
            for r in resources[:200]
        ]

    def check(self, key: str, params: dict) -> None:
        from metropole.datahub.querying.execute import compiler_for

        spec, query = self._spec(key), self._query(params)
        if len(query.aggregates) != 1:
            raise BadRequest(
                _("One aggregate"),
                _("An indicator takes one figure: give one aggregate, e.g. count or sum(col)."),
                field="collector_params",
            )
        compiler_for(spec, query).aggregate(query)  # names and types checked, nothing run

    def compute(self, key: str, territory, params: dict) -> Decimal:
        from metropole.datahub.querying.execute import aggregate

        query = self._query(params)
        result = aggregate(self._spec(key), query)
        label = query.aggregates[0].label
        value = result["groups"][0].get(label) if result["groups"] else None
        if value is None:
            raise BadRequest(
                _("No value"),
                _("The query %(label)s returned nothing for this resource.") % {"label": label},
                field="collector_params",
            )
        return Decimal(str(value))


def _default_sources() -> dict:
    from django.apps import apps

    sources = [StatisticSource()]
    if apps.is_installed("metropole.datahub"):
        try:
            from metropole.datahub.querying import execute  # noqa: F401
        except ImportError:  # the hub without its query engine: no source
            pass
        else:
            sources.append(DatahubSource())
    return {source.name: source for source in sources}


SOURCES = _default_sources()


def register_source(source) -> None:
    """Plug a new source in (e.g. the data hub's aggregate queries)."""
    SOURCES[source.name] = source


def _split(collector: str) -> tuple[str, str]:
    source, _sep, key = collector.partition(":")
    return source, key


def check_collector(collector: str, params: dict | None = None) -> None:
    source_name, key = _split(collector)
    source = SOURCES.get(source_name)
    if source is None:
        raise BadRequest(
            _("Unknown collection source"),
            _("%(source)r is not a source of automatic values (known: %(known)s).")
            % {"source": source_name, "known": ", ".join(sorted(SOURCES))},
            field="collector",
        )
    source.check(key, params or {})


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
    check_collector(indicator.collector, indicator.collector_params)
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
