"""Open311 GeoReport v2 at /open311/v2/ (https://wiki.open311.org/GeoReport_v2).

    GET  services.{json,xml}                 the report categories
    GET  services/{service_code}.{json,xml}  a category's definition: its extra questions
    GET  requests.{json,xml}                 reports, filtered (ids, codes, dates, status)
    POST requests.{json,xml}                 report a problem (form-encoded, optional `media`)
    GET  requests/{id}.{json,xml}            one report

`api_key` is a personal access token of the core (created in "My account"); posting
without one is allowed only when METROPOLE_OPEN311_ALLOW_ANONYMOUS is on. Reports go through the
same `services.submit_report` as the website, so routing, the refusal of points outside
the metropole and the photo checks are the same. Errors follow the specification: a list
of {code, description} with the HTTP status. XML is generated with ElementTree; we never
parse XML sent to us (POST is form-encoded).
"""

import re
from datetime import datetime, timedelta
from xml.etree import ElementTree as ET

from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from metropole.core import queries as core_queries
from metropole.core.api_auth import TokenAuth
from metropole.core.conf import setting
from metropole.core.exceptions import BadRequest, NotFound, PermissionDenied, PlatformError

from . import queries, services
from .models import OPEN_STATUSES, Channel, Status

FORMATS = ("json", "xml")
MAX_RESULTS = 1000
DEFAULT_WINDOW = timedelta(days=90)


def _xml_fill(parent, row: dict):
    """A dict as child elements; a list of dicts under `key` as <key><singular>…: the
    shape of GeoReport v2's XML (attributes/attribute, values/value)."""
    for key, value in row.items():
        if isinstance(value, list):
            holder = ET.SubElement(parent, key)
            for entry in value:
                _xml_fill(ET.SubElement(holder, key.removesuffix("s")), entry)
        else:
            ET.SubElement(parent, key).text = _xml_text(value)


def _render(data, fmt: str, root: str, item: str, status: int = 200):
    if fmt == "json":
        return JsonResponse(data, safe=False, status=status)
    element = ET.Element(root)
    for row in data if isinstance(data, list) else [data]:
        _xml_fill(ET.SubElement(element, item) if item else element, row)
    body = ET.tostring(element, encoding="unicode", xml_declaration=False)
    return HttpResponse(
        '<?xml version="1.0" encoding="utf-8"?>' + body,
        content_type="text/xml; charset=utf-8",
        status=status,
    )


def _xml_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _error(fmt: str, status: int, description: str):
    return _render(
        [{"code": status, "description": description}], fmt, "errors", "error", status=status
    )


def _guard(view):
    """Format check, jurisdiction check and PlatformError → Open311 errors."""

    def wrapper(request, *args, fmt, **kwargs):
        if fmt not in FORMATS:
            return _error("json", 404, _("Unknown format %(f)r: use json or xml.") % {"f": fmt})
        try:
            metropole = core_queries.current_metropole()
            jurisdiction = request.GET.get("jurisdiction_id") or request.POST.get("jurisdiction_id")
            if jurisdiction and jurisdiction != metropole.code:
                raise NotFound(
                    _("Unknown jurisdiction"),
                    _("This endpoint serves the jurisdiction %(code)s only.")
                    % {"code": metropole.code},
                )
            return view(request, metropole, *args, fmt=fmt, **kwargs)
        except PlatformError as error:
            if error.errors:  # one entry per fault, each naming its field
                return _render(
                    [
                        {"code": error.status, "description": f"{e['message']} ({e['field']})"}
                        for e in error.errors
                    ],
                    fmt,
                    "errors",
                    "error",
                    status=error.status,
                )
            where = f" ({error.field})" if error.field else ""
            return _error(fmt, error.status, f"{error.title}: {error.detail}{where}")

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _service(category) -> dict:
    return {
        "service_code": category.slug,
        "service_name": category.name,
        "description": category.description,
        "metadata": bool(category.attributes.all()),
        "type": "realtime",
        "keywords": category.competence.name,
        "group": category.group,
    }


@require_safe
@_guard
def service_list(request, metropole, fmt):
    categories = queries.categories_of(metropole).prefetch_related("attributes")
    data = [_service(c) for c in categories]
    return _render(data, fmt, "services", "service")


@require_safe
@_guard
def service_definition(request, metropole, code, fmt):
    category = queries.category_by_code(metropole, code)
    attributes = [
        {
            "variable": True,
            "code": a.code,
            "datatype": a.datatype,
            "required": a.required,
            "datatype_description": a.help_text or None,
            "order": a.order,
            "description": a.label,
            **({"values": [dict(c) for c in a.choices]} if a.is_list else {}),
        }
        for a in category.attributes.all()
    ]
    data = {"service_code": category.slug, "attributes": attributes}
    return _render(data, fmt, "service_definition", "")


ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")


def posted_attributes(post) -> dict:
    """attribute[code]=value and attribute[code][]=v1&attribute[code][]=v2 (several
    choices) of a GeoReport v2 POST, as code -> value or list."""
    found = {}
    for key in post:
        match = ATTRIBUTE_KEY.match(key)
        if match:
            values = post.getlist(key)
            found[match.group(1)] = values if match.group(2) or len(values) > 1 else values[0]
    return found


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


# What a GeoReport request shows, read as plain rows: model objects (a report, its category and
# its territory per row) were 80 % of a 1,000-request answer (bench/reports_open311.py).
REQUEST_FIELDS = (
    "pk",
    "status",
    "description",
    "address",
    "lat",
    "lon",
    "photo",
    "media_url",
    "created_at",
    "updated_at",
    "category__slug",
    "category__name",
    "territory__name",
    "territory__brand_name",
)


def _requests(qs, request) -> list[dict]:
    """The GeoReport requests of `qs` (ordered, sliced): two queries, the rows and the
    latest public note of each."""
    rows = list(qs.values(*REQUEST_FIELDS))
    notes = _latest_public_notes([row["pk"] for row in rows])
    labels = {value: str(label) for value, label in Status.choices}  # translated once
    return [_request(row, request, labels, notes.get(row["pk"], "")) for row in rows]


def _latest_public_notes(report_ids) -> dict[int, str]:
    """Report id -> the text of its latest public update that has one."""
    from .models import Update

    notes: dict[int, str] = {}
    updates = (
        Update.objects.filter(report_id__in=report_ids, public=True)
        .exclude(text="")
        .order_by("created_at", "pk")
        .values_list("report_id", "text")
    )
    for report_id, text in updates:
        notes[report_id] = text  # in date order: the last one stays
    return notes


def _request(row: dict, request, labels: dict, notes: str) -> dict:
    return {
        "service_request_id": str(row["pk"]),
        "status": "open" if row["status"] in OPEN_STATUSES else "closed",
        "status_notes": notes or labels.get(row["status"], row["status"]),
        "service_name": row["category__name"],
        "service_code": row["category__slug"],
        "description": row["description"],
        "agency_responsible": row["territory__brand_name"] or row["territory__name"],
        "service_notice": "",
        "requested_datetime": _iso(row["created_at"]),
        "updated_datetime": _iso(row["updated_at"]),
        "expected_datetime": None,
        "address": row["address"],
        "address_id": None,
        "zipcode": None,
        "lat": row["lat"],
        "long": row["lon"],
        "media_url": (
            request.build_absolute_uri(reverse("reports:photo", kwargs={"pk": row["pk"]}))
            if row["photo"]
            else row["media_url"] or None  # a client's link, never fetched by us
        ),
    }


def _date(value: str, name: str):
    parsed = parse_datetime(value.replace(" ", "+")) if value else None
    if value and parsed is None:
        raise BadRequest(
            _("Malformed date"),
            _("%(name)s must be a W3C date-time such as 2026-01-31T00:00:00Z; got %(v)r.")
            % {"name": name, "v": value},
        )
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.UTC)
    return parsed


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
@_guard
def requests_view(request, metropole, fmt):
    if request.method == "POST":
        return _post_request(request, metropole, fmt)
    qs = queries.public_reports(metropole)
    ids = request.GET.get("service_request_id", "").strip()
    if ids:
        try:
            wanted = [int(i) for i in ids.split(",") if i.strip()]
        except ValueError:
            raise BadRequest(
                _("Malformed identifier"),
                _("service_request_id is a comma-separated list of numbers."),
            ) from None
        qs = qs.filter(pk__in=wanted)
    else:
        codes = [c for c in request.GET.get("service_code", "").split(",") if c.strip()]
        if codes:
            qs = qs.filter(category__slug__in=codes)
        start = _date(request.GET.get("start_date", ""), "start_date")
        end = _date(request.GET.get("end_date", ""), "end_date")
        if start is None and end is None:
            start = timezone.now() - DEFAULT_WINDOW
        if start is not None:
            qs = qs.filter(created_at__gte=start)
        if end is not None:
            qs = qs.filter(created_at__lte=end)
        statuses = {s.strip() for s in request.GET.get("status", "").split(",") if s.strip()}
        unknown = statuses - {"open", "closed"}
        if unknown:
            raise BadRequest(
                _("Unknown status"), _("status is open, closed or both (comma-separated).")
            )
        if statuses == {"open"}:
            qs = qs.filter(status__in=OPEN_STATUSES)
        elif statuses == {"closed"}:
            qs = qs.exclude(status__in=OPEN_STATUSES)
    data = _requests(qs.order_by("-created_at")[:MAX_RESULTS], request)
    return _render(data, fmt, "service_requests", "request")


def _actor(request):
    key = (request.POST.get("api_key") or "").strip()
    if key:
        user = TokenAuth().authenticate(request, key)
        if user is None:
            raise PermissionDenied(
                _("Invalid api_key"), _("The api_key is unknown, revoked or expired.")
            )
        return user
    if not setting("METROPOLE_OPEN311_ALLOW_ANONYMOUS", False):
        raise PermissionDenied(
            _("api_key required"),
            _("Send a personal access token as api_key (created in My account)."),
        )
    return None


def _post_request(request, metropole, fmt):
    actor = _actor(request)
    code = request.POST.get("service_code", "")
    if not code:
        raise BadRequest(
            _("Missing service_code"), _("service_code is required."), field="service_code"
        )
    lat, lon = request.POST.get("lat", ""), request.POST.get("long", "")
    if not (lat and lon):
        raise BadRequest(
            _("Missing location"),
            _("lat and long are required (this endpoint does not geocode address_string)."),
            field="lat",
        )
    name = " ".join(
        p for p in (request.POST.get("first_name", ""), request.POST.get("last_name", "")) if p
    )
    report = services.submit_report(
        actor,
        metropole,
        category=queries.category_by_code(metropole, code),
        lat=lat,
        lon=lon,
        description=request.POST.get("description", ""),
        photo=request.FILES.get("media"),
        address=request.POST.get("address_string", ""),
        channel=Channel.OPEN311,
        reporter_email=request.POST.get("email", ""),
        reporter_name=name,
        answers=posted_attributes(request.POST),
        media_url=request.POST.get("media_url", ""),
    )
    data = [
        {
            "service_request_id": str(report.pk),
            "service_notice": _("Sent to %(name)s.") % {"name": report.territory.display_name},
            "account_id": None,
        }
    ]
    return _render(data, fmt, "service_requests", "request", status=201)


@require_safe
@_guard
def request_detail(request, metropole, pk, fmt):
    data = _requests(queries.public_reports(metropole).filter(pk=pk), request)
    if not data:
        raise NotFound(
            _("Unknown request"), _("No service request has the id %(pk)s.") % {"pk": pk}
        )
    return _render(data, fmt, "service_requests", "request")
