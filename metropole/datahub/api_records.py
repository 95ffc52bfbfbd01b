"""The query API of every tabular resource: records, query, aggregate, export, schema.

Mounted by the data hub's API router (``router.add_router("", records_router)``), so the
stable URLs are ``/api/datahub/resources/{resource_id}/...``. The TableSpec of a resource
comes only from ``metropole.datahub.queries.table_spec_for`` (access rules live there).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import AuthenticationError
from ninja.responses import Status

from metropole.core.api_auth import TokenAuth
from metropole.core.conf import setting
from metropole.core.exceptions import BadRequest, NotFound, TooManyRequests
from metropole.core.ratelimit import client_ip

from .querying import execute, exports
from .querying.ast import AGGREGATE_FUNCTIONS, DATE_PARTS, FILTER_OPERATORS
from .querying.compiler import ORDERED_TYPES
from .querying.parse import DEFAULT_LIMIT, MAX_LIMIT, from_json, from_params
from .querying.tasks import start_export
from .querying.throttle import BatchedRateLimit

router = Router(tags=["data hub: records"])


_LIMIT = BatchedRateLimit("datahub-query", 60)


def _caller(request):
    """The caller: a personal access token if one is sent, else the session (or anonymous).

    Rate-limited per client (DATAHUB_QUERY_RATE_PER_MINUTE; 0: no limit, e.g. when a proxy
    limits) by ``querying.throttle``: no cache round trip on most requests."""
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    if token and TokenAuth().authenticate(request, token) is None:
        raise AuthenticationError()
    limit = int(setting("DATAHUB_QUERY_RATE_PER_MINUTE", 300))
    user = request.user
    if limit <= 0:
        return user
    identity = f"user:{user.pk}" if user.is_authenticated else f"ip:{client_ip(request)}"
    if not _LIMIT.allow(identity, limit):
        raise TooManyRequests(
            _("Too many requests"),
            _("At most %(n)d queries a minute; try again in %(s)d seconds.")
            % {"n": limit, "s": _LIMIT.retry_after()},
            retry_after=_LIMIT.retry_after(),
        )
    return user


def _spec(request, resource_id: str):
    """The TableSpec of the resource's current version, or of `?version=N` (publishers)."""
    from metropole.datahub import queries

    user = _caller(request)
    raw = request.GET.get("version", "")
    if not raw:
        return queries.table_spec_for(user, resource_id)
    if not raw.isdigit() or not 1 <= int(raw) <= 2**31:
        raise BadRequest(
            _("Invalid version"), _("A version is a number: 1, 2, ..."), field="version"
        )
    return queries.table_spec_for(user, resource_id, version=int(raw))


def _params(request) -> dict[str, list[str]]:
    return {key: request.GET.getlist(key) for key in request.GET}


def _body(request) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(_("Invalid JSON"), str(exc), field="body") from None
    return body


def _next_url(request, cursor: str | None) -> str | None:
    if not cursor:
        return None
    params = [(k, v) for k, values in request.GET.lists() for v in values if k != "cursor"]
    params.append(("cursor", cursor))
    return request.build_absolute_uri(request.path + "?" + urlencode(params))


def _json(body: bytes) -> HttpResponse:
    """The answer's JSON, made by the engine (``execute.dumps``, cached as bytes): ninja's
    rendering and validation of the output are skipped; the schemas below still document
    it in the OpenAPI document."""
    return HttpResponse(body, content_type="application/json; charset=utf-8")


def _page_response(body: bytes, next_url: str | None) -> HttpResponse:
    """A records page (``execute.records_json``) with its ``next`` URL, which depends on
    the request (host, parameters) and so is not in the cached body."""
    return _json(body[:-1] + b',"next":' + execute.dumps(next_url) + b"}")


class RecordsPage(Schema):
    results: list[dict[str, Any]] = Field(
        description="Rows: `_id` (row number in the source file) and the selected columns, "
        "by their public name; dates in ISO 8601, geometries as GeoJSON objects."
    )
    total: int | None = Field(description="Rows matching the filters (all pages).")
    total_is_estimate: bool = Field(
        description="true when `total` is the database planner's estimate (large tables)."
    )
    next_cursor: str | None = Field(description="Opaque cursor of the next page, or null.")
    next: str | None = Field(None, description="URL of the next page (GET only), or null.")


class AggregateOut(Schema):
    groups: list[dict[str, Any]] = Field(
        description="One object per group: the group keys and the aggregates by their label "
        "(e.g. `city`, `year(date)`, `count`, `sum(amount)`)."
    )
    truncated: bool = Field(description="true when there are more groups than the limit.")


class ColumnOut(Schema):
    name: str
    title: str
    type: str
    operators: list[str]
    sortable: bool
    groupable: bool
    aggregates: list[str]
    date_parts: list[str]


class SchemaOut(Schema):
    resource: str
    row_count: int
    geolocated: bool
    columns: list[ColumnOut]
    records_url: str
    examples: dict[str, str]


class ExportStatus(Schema):
    state: str = Field(description="queued, running, done or failed")
    status_url: str
    download_url: str | None = None
    error: str | None = None
    size: int | None = None


_FILTER_DOC = """
**Filters** (every parameter not listed below is a filter, and all filters are ANDed):
`<column>=<value>` (equals) or `<column>__<op>=<value>` with `op` one of
`eq ne lt lte gt gte in contains starts_with is_null` (`in`: comma-separated values,
`is_null`: `true`/`false`; `contains` and `starts_with` ignore case). Values are checked
against the column's type (integers, numbers, `true`/`false`, dates `YYYY-MM-DD`,
date-times ISO 8601), and the forms files are read in are accepted too: `50 000`,
`1 500,5` (decimal comma; in an `in` list the comma separates values, so write `1.5` there),
dates `01/06/2025`, date-times `01/06/2025 14:30`.
AND/OR groups: `where=` a JSON filter as in the POST body.
An unknown column, operator or a badly typed value is a 400 naming the parameter.
`version=N` reads version N of the resource instead of its current one (for the dataset's
publishers).
"""


@router.get(
    "/resources/{resource_id}/records",
    response=RecordsPage,
    url_name="datahub_records",
    summary="Rows of a resource: filters, search, sort, keyset pages, geographic filters",
    description=(
        "The rows of the resource's current version.\n"
        + _FILTER_DOC
        + """
Examples:

    GET /api/datahub/resources/{id}/records?commune=Lille&annee__gte=2019&sort=-date&limit=20
    GET /api/datahub/resources/{id}/records?q=piscine&select=nom,adresse
    GET /api/datahub/resources/{id}/records?bbox=3.0,50.6,3.1,50.7
    GET /api/datahub/resources/{id}/records?near=50.6366,3.0635,500
    GET /api/datahub/resources/{id}/records?where={"or":[{"column":"a","op":"eq","value":1},\
{"column":"b","op":"is_null","value":true}]}

Follow `next` (or pass `cursor=next_cursor`) until it is null: every row comes exactly once,
even while the resource is read by others."""
    ),
)
def records(
    request,
    resource_id: str,
    q: str | None = Query(None, description="Full-text search: every word must appear."),
    select: str | None = Query(None, description="Columns to return, comma-separated."),
    sort: str | None = Query(
        None, description="Sort keys, comma-separated, `-` for descending: `-date,commune`."
    ),
    limit: str | None = Query(
        None, description=f"Rows per page, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})."
    ),
    cursor: str | None = Query(None, description="`next_cursor` of the previous page."),
    bbox: str | None = Query(
        None, description="Bounding box `min_lon,min_lat,max_lon,max_lat` (WGS84)."
    ),
    near: str | None = Query(None, description="Distance filter `lat,lon,meters`."),
    where: str | None = Query(None, description="A JSON filter with AND/OR groups."),
):
    spec = _spec(request, resource_id)
    body, next_cursor = execute.records_json(spec, from_params(_params(request)))
    return _page_response(body, _next_url(request, next_cursor))


_QUERY_EXAMPLE = {
    "where": {
        "and": [
            {"column": "annee", "op": "gte", "value": 2019},
            {
                "or": [
                    {"column": "commune", "op": "eq", "value": "Lille"},
                    {"column": "commune", "op": "starts_with", "value": "Villeneuve"},
                ]
            },
        ]
    },
    "q": "vélo",
    "select": ["date", "commune", "gravite"],
    "sort": ["-date"],
    "limit": 50,
    "near": {"lat": 50.6366, "lon": 3.0635, "meters": 2000},
}


@router.post(
    "/resources/{resource_id}/records/query",
    response=RecordsPage,
    url_name="datahub_records_query",
    summary="Rows of a resource for a JSON query (AND/OR groups)",
    description=(
        "The same as GET .../records with the query as a JSON body: `where` (conditions "
        '`{"column", "op", "value"}` and nested `{"and": [...]}` / `{"or": [...]}` groups), '
        "`q`, `select`, `sort`, `limit`, `cursor`, `bbox` (four numbers) and `near` "
        '(`{"lat", "lon", "meters"}`). Send the `next_cursor` back as `cursor` for the next page.'
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "object"},
                    "example": _QUERY_EXAMPLE,
                }
            },
        }
    },
)
def records_query(request, resource_id: str):
    spec = _spec(request, resource_id)
    body, _next_cursor = execute.records_json(spec, from_json(_body(request)))
    return _page_response(body, None)


@router.get(
    "/resources/{resource_id}/aggregate",
    response=AggregateOut,
    url_name="datahub_aggregate",
    summary="Counts, sums, averages, minimums and maximums, grouped by columns or date parts",
    description=(
        "`aggregate=` a comma-separated list of "
        + ", ".join(f"`{f}`" for f in AGGREGATE_FUNCTIONS)
        + " (`count` alone counts rows; `sum(col)`, `avg(col)` on numeric columns; `min(col)`, "
        "`max(col)` on numbers, dates and text). `group_by=` columns or date parts "
        + ", ".join(f"`{p}(col)`" for p in DATE_PARTS)
        + " (weekday: 1 = Monday; dates and times in UTC). `sort=` a group or aggregate "
        "label (`-count`). The same filters as the records endpoint apply.\n\n"
        "    GET /api/datahub/resources/{id}/aggregate?group_by=year(date)&aggregate=count\n"
        "    GET /api/datahub/resources/{id}/aggregate?group_by=commune&aggregate=count,"
        "avg(victimes)&sort=-count&limit=10\n"
    ),
)
def aggregate(
    request,
    resource_id: str,
    group_by: str | None = Query(None, description="Columns or date parts: `commune,year(date)`."),
    aggregate: str | None = Query(None, description="Aggregates: `count,sum(montant)`."),
    sort: str | None = Query(None, description="Group or aggregate labels: `-count`."),
    limit: str | None = Query(None, description=f"At most this many groups (≤ {MAX_LIMIT})."),
):
    spec = _spec(request, resource_id)
    return _json(execute.aggregate_json(spec, from_params(_params(request))))


@router.get(
    "/resources/{resource_id}/export.{fmt}",
    url_name="datahub_export",
    summary="The whole filtered table as CSV, JSON, JSON lines, GeoJSON or Parquet",
    description=(
        "Streamed (the server never holds the table in memory); the same filters, search, "
        "selection and sort as the records endpoint apply. `fmt`: "
        + ", ".join(f"`{f}`" for f in exports.FORMATS)
        + ". CSV cells that a spreadsheet would run as a formula are prefixed with `'`. "
        "Exports of many rows run in the background: the answer is then 202 with a "
        "`status_url` to poll until it gives a `download_url` (valid for a day).\n\n"
        "    GET /api/datahub/resources/{id}/export.csv?annee=2020\n"
        "    GET /api/datahub/resources/{id}/export.geojson?bbox=3.0,50.6,3.1,50.7\n"
    ),
    response={200: None, 202: ExportStatus},
)
def export(request, resource_id: str, fmt: str):
    if fmt not in exports.FORMATS:
        raise NotFound(
            _("Unknown format"),
            _("Exports exist as %(known)s.") % {"known": ", ".join(exports.FORMATS)},
        )
    spec = _spec(request, resource_id)
    params = _params(request)
    query = from_params(params)
    if query.group_by or query.aggregates:
        raise BadRequest(
            _("Invalid query"), _("Exports take no group_by or aggregate."), field="group_by"
        )
    total, _estimate = execute.count(spec, query)
    if total is None or total > exports.background_threshold():
        token = start_export(request.user, resource_id, fmt, params)
        return Status(202, _status_out(request, resource_id, token))
    # Compile now so that a bad query is a 400 before the response starts.
    execute.compiler_for(spec, query).export(exports.export_query(spec, query, fmt))
    content_type, ext = exports.FORMATS[fmt]
    response = StreamingHttpResponse(exports.stream(spec, query, fmt), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{resource_id}.{ext}"'
    return response


def _status_url(request, resource_id: str, token: str) -> str:
    return request.build_absolute_uri(
        reverse("api:datahub_export_status", kwargs={"resource_id": resource_id, "token": token})
    )


def _status_out(request, resource_id: str, token: str) -> dict:
    status = exports.export_status(resource_id, token)
    out = {
        "state": status["state"],
        "status_url": _status_url(request, resource_id, token),
        "error": status["error"],
        "size": status["size"],
    }
    if "signed" in status:
        out["download_url"] = request.build_absolute_uri(
            reverse("api:datahub_export_download", kwargs={"signed": status["signed"]})
        )
    return out


@router.get(
    "/resources/{resource_id}/exports/{token}",
    response=ExportStatus,
    url_name="datahub_export_status",
    summary="State of a background export, and its download link once done",
)
def export_status(request, resource_id: str, token: str):
    _spec(request, resource_id)
    return _status_out(request, resource_id, token)


@router.get(
    "/exports/{signed}",
    url_name="datahub_export_download",
    summary="Download a finished background export (signed link, valid for a day)",
)
def export_download(request, signed: str):
    found = exports.open_download(signed)
    if found is None:
        raise NotFound(
            _("Export not available"), _("This download link is invalid or has expired.")
        )
    path, fmt = found
    content_type, ext = exports.FORMATS[fmt]
    response = FileResponse(open(path, "rb"), content_type=content_type)  # noqa: SIM115
    response["Content-Disposition"] = f'attachment; filename="export.{ext}"'
    return response


@router.get(
    "/resources/{resource_id}/schema",
    response=SchemaOut,
    url_name="datahub_records_schema",
    summary="Columns of a resource and what each one allows (filters, sort, aggregates)",
)
def schema(request, resource_id: str):
    spec = _spec(request, resource_id)
    columns = []
    for col in spec.columns:
        if col.type == "geometry":
            operators = ["is_null"]
        elif col.type == "string":
            operators = list(FILTER_OPERATORS)
        elif col.type == "boolean":
            operators = ["eq", "ne", "in", "is_null"]
        else:
            operators = [op for op in FILTER_OPERATORS if op not in ("contains", "starts_with")]
        aggregates = ["count"]
        if col.type in ("integer", "number") and col.aggregatable:
            aggregates += ["sum", "avg"]
        if col.type in ORDERED_TYPES:
            aggregates += ["min", "max"]
        parts = {"date": ["year", "month", "day", "weekday"], "datetime": list(DATE_PARTS)}
        columns.append(
            {
                "name": col.name,
                "title": col.title,
                "type": col.type,
                "operators": operators,
                "sortable": col.type != "geometry",
                "groupable": col.type != "geometry",
                "aggregates": aggregates,
                "date_parts": parts.get(col.type, []),
            }
        )
    url = request.build_absolute_uri(
        reverse("api:datahub_records", kwargs={"resource_id": resource_id})
    )
    examples = {"first_page": f"{url}?limit=20"}
    first = next((c for c in spec.columns if c.type != "geometry"), None)
    if first is not None:
        examples["sorted"] = f"{url}?sort=-{first.name}"
        examples["grouped"] = url.replace("/records", "/aggregate") + (
            f"?{urlencode({'group_by': first.name, 'aggregate': 'count'})}"
        )
    if spec.text_columns:
        examples["search"] = f"{url}?q=..."
    if spec.geolocated:
        examples["near"] = f"{url}?near=50.6366,3.0635,1000"
    examples["csv"] = url.replace("/records", "/export.csv")
    return {
        "resource": resource_id,
        "row_count": spec.row_count,
        "geolocated": spec.geolocated,
        "columns": columns,
        "records_url": url,
        "examples": examples,
    }
