"""The dataset page's plain HTML forms (table filters, chart builder) turned into queries of
the query engine, and the ready-to-copy API examples.

Nothing here knows SQL: filters become the URL parameters of the records API
(`<column>__<op>=<value>`), parsed by `querying.parse.from_params` exactly like an API call,
so the page and the API accept and refuse the same things, with the same messages.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format, get_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from metropole.core.charts import bar_chart, line_chart
from metropole.core.exceptions import BadRequest

from ..querying import execute
from ..querying.ast import DATE_PARTS
from ..querying.parse import from_params
from ..querying.spec import TableSpec

FILTER_ROWS = 3
PAGE_SIZE = 20
CHART_MAX_BARS = 30
CHART_MAX_POINTS = 400
MAP_SAMPLE = 1000

OPERATORS = (
    ("eq", gettext_lazy("is")),
    ("ne", gettext_lazy("is not")),
    ("contains", gettext_lazy("contains")),
    ("starts_with", gettext_lazy("starts with")),
    ("gt", gettext_lazy("is more than")),
    ("gte", gettext_lazy("is at least")),
    ("lt", gettext_lazy("is less than")),
    ("lte", gettext_lazy("is at most")),
    ("is_null", gettext_lazy("is empty")),
)
# The operators whose value the page reads as the table shows it (`read_as_shown`).
COMPARISONS = ("eq", "ne", "gt", "gte", "lt", "lte")
AGGREGATES = (
    ("count", gettext_lazy("Number of rows")),
    ("sum", gettext_lazy("Sum")),
    ("avg", gettext_lazy("Average")),
    ("min", gettext_lazy("Minimum")),
    ("max", gettext_lazy("Maximum")),
)
PARTS = (
    ("", gettext_lazy("the value itself")),
    ("year", gettext_lazy("year")),
    ("month", gettext_lazy("month")),
    ("weekday", gettext_lazy("day of the week")),
    ("hour", gettext_lazy("hour")),
)
TYPE_LABELS = {
    "string": gettext_lazy("text"),
    "integer": gettext_lazy("whole number"),
    "number": gettext_lazy("number"),
    "boolean": gettext_lazy("yes / no"),
    "date": gettext_lazy("date"),
    "datetime": gettext_lazy("date and time"),
    "geometry": gettext_lazy("geometry"),
}
# The form's own parameters: everything else in the page's URL is ignored by the engine.
FORM_KEYS = ("ressource", "q", "sort", "cursor") + tuple(
    f"f{i}_{part}" for i in range(1, FILTER_ROWS + 1) for part in ("col", "op", "val")
)
CHART_KEYS = ("chart_by", "chart_part", "chart_agg", "chart_of", "chart_kind")


def api_url(name: str, **kwargs) -> str:
    """The stable URL of a query-API endpoint (the records router's url names)."""
    try:
        return reverse(f"api:{name}", kwargs=kwargs)
    except NoReverseMatch:  # the data hub's API is not mounted (tests of pages alone)
        rid = kwargs.get("resource_id")
        suffix = {
            "datahub_records": "records",
            "datahub_aggregate": "aggregate",
            "datahub_records_schema": "schema",
        }.get(name) or f"export.{kwargs.get('fmt')}"
        return f"/api/datahub/resources/{rid}/{suffix}"


@dataclass
class Filters:
    """What the visitor asked in the table's form, and its translation to API parameters."""

    rows: list[dict] = field(default_factory=list)  # [{"col", "op", "val"}], FILTER_ROWS long
    q: str = ""
    sort: str = ""
    params: dict[str, list[str]] = field(default_factory=dict)  # records API parameters
    active: bool = False

    def query_string(self, **extra) -> str:
        pairs = [(k, v) for k, values in self.params.items() for v in values]
        pairs += [(k, v) for k, v in extra.items() if v]
        return urlencode(pairs)


def read_filters(get, spec: TableSpec) -> Filters:
    """The table form's filters as records-API parameters; a value is read the way the page
    writes it in the visitor's language (see `read_as_shown`)."""
    filters = Filters(q=get.get("q", "").strip()[:200], sort=get.get("sort", "").strip()[:200])
    types = {c.name: c.type for c in spec.columns}
    for i in range(1, FILTER_ROWS + 1):
        col = get.get(f"f{i}_col", "").strip()
        op = get.get(f"f{i}_op", "eq").strip() or "eq"
        val = get.get(f"f{i}_val", "")
        filters.rows.append({"n": i, "col": col, "op": op, "val": val})
        if not col:
            continue
        if op == "is_null":
            val = "true"
        elif val == "":
            continue
        elif op in COMPARISONS:  # not `in` (the API splits its list at commas) nor text
            val = read_as_shown(types.get(col), val)
        filters.params.setdefault(f"{col}__{op}", []).append(val)
    if filters.q:
        filters.params["q"] = [filters.q]
    if filters.sort:
        filters.params["sort"] = [filters.sort]
    filters.active = bool(filters.params)
    return filters


# Numbers from this size on are written with grouped thousands (31 290,25; 31,290.25); shorter
# ones are not (the French typographic rule), so a year (2019) or a small count never reads
# "2 019".
GROUPING_FROM = 10_000


def format_number(value) -> str:
    """A number written exactly (every digit the database holds: 31290.25 is never 31290.2
    nor 3.12902e+04) the reader's way: decimal comma and no-break-space thousands in
    French, point and commas in English (Django's formats of the active language)."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        # repr is the shortest text that reads back as the same float: no digit lost, none
        # invented (0.1 stays 0.1).
        exact = Decimal(repr(value))
        value = int(exact) if exact == exact.to_integral_value() else exact
    elif isinstance(value, Decimal) and value == value.to_integral_value():
        value = int(value)
    if not isinstance(value, int | Decimal):
        return str(value)
    return number_format(value, use_l10n=True, force_grouping=abs(value) >= GROUPING_FROM)


# A number grouped the English way (31,290.25): the API would read the comma as a French
# decimal comma, so the page removes the grouping before.
_GROUPED_WITH_COMMAS = re.compile(r"[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?")


def read_as_shown(type_: str | None, value: str) -> str:
    """A filter value typed the way the table shows it in the visitor's language, in the
    API's own form: 31,290.25 on the English page is 31290.25 (the API would read its comma
    as a French decimal comma). Anything else is passed on as typed: the API reads the
    dates as both languages show them (day first), ISO dates, and plain or French numbers,
    and refuses the rest with its message."""
    grouped_in_english = (
        get_format("THOUSAND_SEPARATOR") == "," and get_format("DECIMAL_SEPARATOR") == "."
    )
    text = value.strip()
    if (
        type_ in ("integer", "number")
        and grouped_in_english
        and _GROUPED_WITH_COMMAS.fullmatch(text)
    ):
        return text.replace(",", "")
    return value


def value_examples() -> dict[str, str]:
    """A date and a number as the table writes them in the visitor's language (the filter
    form's help: 01/06/2025 and 31 290,25 in French)."""
    return {"date": format_value("date", dt.date(2025, 6, 1)), "number": format_number(31290.25)}


def _as_date(value):
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _as_datetime(value):
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=dt.UTC)
    return timezone.localtime(moment)


def format_value(type_: str, value) -> str:
    """A value of a column of `type_` as the page shows it: numbers as `format_number`,
    dates in the language's short format (01/06/2025 in French), date-times in the
    platform's time zone (seconds only when there are some)."""
    if value is None:
        return ""
    if type_ == "geometry":
        return _("(shape)") if value else ""
    if type_ == "boolean":
        return _("yes") if value else _("no")
    if type_ in ("integer", "number") and isinstance(value, int | float | Decimal):
        return format_number(value)
    try:
        if type_ == "date":
            return date_format(_as_date(value), "SHORT_DATE_FORMAT")
        if type_ == "datetime":
            moment = _as_datetime(value)
            time = "H:i:s" if moment.second or moment.microsecond else "H:i"
            return f"{date_format(moment, 'SHORT_DATE_FORMAT')} {date_format(moment, time)}"
    except (TypeError, ValueError):
        pass  # not what the type promises (a table of another layout): shown as it is
    return str(value)


def _cell(column, value) -> str:
    return format_value(column.type, value)


def preview(spec: TableSpec, filters: Filters, cursor: str = "") -> dict:
    """One page of the table for the HTML preview, or the error that stops it."""
    params = {k: list(v) for k, v in filters.params.items()}
    params["limit"] = [str(PAGE_SIZE)]
    if cursor:
        params["cursor"] = [cursor]
    try:
        page = execute.records(spec, from_params(params))
    except BadRequest as error:
        return {"error": error, "rows": [], "columns": spec.columns}
    columns = list(spec.columns)
    rows = [
        {"id": item["_id"], "cells": [_cell(c, item.get(c.name)) for c in columns]}
        for item in page["results"]
    ]
    return {
        "error": None,
        "columns": [
            {"name": c.name, "type": c.type, "label": TYPE_LABELS[c.type]} for c in columns
        ],
        "rows": rows,
        "raw": page["results"],
        "total": page.get("total"),
        "estimate": page.get("total_is_estimate"),
        "next_cursor": page.get("next_cursor"),
    }


@dataclass
class ChartRequest:
    by: str = ""
    part: str = ""
    agg: str = "count"
    of: str = ""
    kind: str = "bar"

    @property
    def asked(self) -> bool:
        return bool(self.by)


def read_chart(get) -> ChartRequest:
    kind = get.get("chart_kind", "bar")
    return ChartRequest(
        by=get.get("chart_by", "").strip()[:200],
        part=get.get("chart_part", "").strip() if get.get("chart_part") in DATE_PARTS else "",
        agg=get.get("chart_agg", "count") if get.get("chart_agg") in dict(AGGREGATES) else "count",
        of=get.get("chart_of", "").strip()[:200],
        kind=kind if kind in ("bar", "line") else "bar",
    )


def chart(spec: TableSpec, filters: Filters, request: ChartRequest):
    """(chart, error): the figures grouped and aggregated by the query engine, drawn by
    metropole.core.charts (which also gives them as a table)."""
    if not request.asked:
        return None, None
    if request.agg != "count" and not request.of:
        return None, BadRequest(
            _("Choose a column"),
            _("Choose the column to add up, average or compare."),
            field="chart_of",
        )
    group = f"{request.part}({request.by})" if request.part else request.by
    aggregate = "count" if request.agg == "count" else f"{request.agg}({request.of})"
    params = {k: list(v) for k, v in filters.params.items() if k != "sort"}
    params["group_by"] = [group]
    params["aggregate"] = [aggregate]
    line = request.kind == "line"
    params["sort"] = [group if line else f"-{aggregate}"]
    params["limit"] = [str(CHART_MAX_POINTS if line else CHART_MAX_BARS)]
    try:
        result = execute.aggregate(spec, from_params(params))
    except BadRequest as error:
        return None, error
    aggregate_label = dict(AGGREGATES)[request.agg]
    by_label = request.by if not request.part else f"{dict(PARTS)[request.part]} ({request.by})"
    if request.agg == "count":
        title = _("%(what)s by %(by)s") % {"what": aggregate_label, "by": by_label}
    else:
        title = _("%(what)s of %(of)s by %(by)s") % {
            "what": aggregate_label,
            "of": request.of,
            "by": by_label,
        }
    # The groups' names written as the table writes the column's values (a date part, a
    # year or a month number, is written as it is).
    by_column = None if request.part else spec.column(request.by)
    items = [(_group_label(by_column, g.get(group)), g.get(aggregate)) for g in result["groups"]]
    if line:
        drawn = line_chart(
            title, [label for label, _v in items], [(aggregate_label, [v for _l, v in items])]
        )
    else:
        drawn = bar_chart(title, items)
    drawn.truncated = result["truncated"]
    return drawn, None


def _group_label(column, value) -> str:
    if value in (None, ""):
        return _("(empty)")
    return format_value(column.type, value) if column is not None else str(value)


def examples(request, resource, spec: TableSpec, sample: list[dict]) -> dict:
    """Ready-to-copy calls of the query API for this resource, with its real URLs and a real
    value of its first text column."""
    rid = str(resource.uid)
    records = request.build_absolute_uri(api_url("datahub_records", resource_id=rid))
    aggregate = request.build_absolute_uri(api_url("datahub_aggregate", resource_id=rid))
    csv = request.build_absolute_uri(api_url("datahub_export", resource_id=rid, fmt="csv"))
    schema = request.build_absolute_uri(api_url("datahub_records_schema", resource_id=rid))
    example = _example_column(spec, sample)
    filtered = f"{records}?limit=20"
    if example is not None:
        value = next((row.get(example.name) for row in sample if row.get(example.name)), None)
        if value is not None:
            filtered = f"{records}?{urlencode({example.name: value, 'limit': 20})}"
    grouped = ""
    groupable = example or next((c for c in spec.columns if c.type != "geometry"), None)
    if groupable is not None:
        grouping = {"group_by": groupable.name, "aggregate": "count", "sort": "-count"}
        grouped = f"{aggregate}?{urlencode(grouping)}"
    python = (
        "import json\n"
        "import urllib.request\n\n"
        f"url = {json.dumps(records + '?limit=1000', ensure_ascii=False)}\n"
        "rows = []\n"
        "while url:  # follow the pages until there is no next one\n"
        "    with urllib.request.urlopen(url) as response:\n"
        "        page = json.load(response)\n"
        '    rows += page["results"]\n'
        '    url = page["next"]\n'
        'print(len(rows), "rows")\n'
    )
    return {
        "records": records,
        "schema": schema,
        "curl_first": f"curl '{records}?limit=20'",
        "curl_filtered": f"curl '{filtered}'",
        "curl_grouped": f"curl '{grouped}'" if grouped else "",
        "curl_csv": f"curl -o data.csv '{csv}'",
        "python": python,
        "docs": request.build_absolute_uri(_docs_url()),
    }


def _example_column(spec: TableSpec, sample: list[dict]):
    """The text column whose values repeat most in the sample (a commune, a category: a good
    example to filter and count by), rather than an identifier that never repeats."""
    best, best_distinct = None, None
    for column in spec.columns:
        if column.type != "string":
            continue
        values = [row.get(column.name) for row in sample if row.get(column.name) not in (None, "")]
        if not values:
            continue
        distinct = len(set(values)) / len(values)
        if best is None or distinct < best_distinct:
            best, best_distinct = column, distinct
    return best


def _docs_url() -> str:
    try:
        return reverse("api:openapi-view")
    except NoReverseMatch:
        return "/api/docs"


def downloads(dataset, resource, query: str, geolocated: bool) -> list[dict]:
    """Download buttons of the query engine's exports, with the table's current filters
    (`query`: the page's form parameters), through the portal's download view, which waits
    for large exports."""
    items = [
        ("csv", "CSV", _("for spreadsheets (LibreOffice, Excel)")),
        ("json", "JSON", _("for programs")),
        ("geojson", "GeoJSON", _("for maps (QGIS, uMap)")),
        ("parquet", "Parquet", _("for data analysis (large files)")),
    ]
    links = []
    for fmt, label, use in items:
        if fmt == "geojson" and not geolocated:
            continue
        url = reverse(
            "datahub:download", kwargs={"slug": dataset.slug, "resource": resource.uid, "fmt": fmt}
        )
        links.append(
            {"fmt": fmt, "label": label, "use": use, "url": f"{url}?{query}" if query else url}
        )
    return links


# Texts that other parts of the data hub translate at run time from stored values
# (`_(KIND_LABELS[kind])` in ingest/personal.py, `_(column["type"])` in ingest/pipeline.py):
# makemessages cannot see them there, so they are listed here for the app's catalogue.
RUNTIME_TEXTS = (
    gettext_noop("e-mail addresses"),
    gettext_noop("phone numbers"),
    gettext_noop("social security numbers (NIR)"),
    gettext_noop("bank account numbers"),
    gettext_noop("street addresses"),
    gettext_noop("names of persons"),
    gettext_noop("birth dates or ages"),
    gettext_noop("string"),
    gettext_noop("integer"),
    gettext_noop("number"),
    gettext_noop("boolean"),
    gettext_noop("date"),
    gettext_noop("datetime"),
    gettext_noop("geometry"),
)
