"""Reports API (JSON, django-ninja): public reading, reporting and "me too" for people,
status changes for agents — through the same services and rules as the pages. The
Open311 GeoReport v2 interface is in open311.py."""

from datetime import datetime

from django.http import JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from metropole.core import queries as core_queries
from metropole.core.api_auth import person_auth
from metropole.core.api_pagination import Pagination

from . import queries, services
from .models import Status

router = Router(tags=["reports"])

# Map colours of the statuses (contrast ≥ 3:1 against the white outline and the map).
STATUS_COLOURS = {
    "new": "#b3261e",
    "acknowledged": "#9a5b00",
    "in_progress": "#1f3a93",
    "planned": "#5b2a86",
    "fixed": "#1b6e3a",
    "closed": "#4a4a4a",
}


class CategoryOut(Schema):
    code: str = Field(alias="slug")
    name: str
    group: str
    competence: str
    holder: str = Field(description="metropole, ept or commune: who receives the reports")

    @staticmethod
    def resolve_competence(obj) -> str:
        return obj.competence.code

    @staticmethod
    def resolve_holder(obj) -> str:
        return obj.competence.holder


class ReportOut(Schema):
    id: int
    category: str
    category_name: str
    status: str
    close_reason: str
    lat: float
    lon: float
    location_approximate: bool = Field(
        description="True when the point stands for the commune (reported without a map)"
    )
    address: str
    description: str
    commune_code: str
    handled_by: str = Field(description="Official code of the territory that handles it")
    supporter_count: int
    created_at: datetime
    updated_at: datetime
    url: str

    @staticmethod
    def resolve_category(obj) -> str:
        return obj.category.slug

    @staticmethod
    def resolve_category_name(obj) -> str:
        return obj.category.name

    @staticmethod
    def resolve_commune_code(obj) -> str:
        return obj.commune.code

    @staticmethod
    def resolve_handled_by(obj) -> str:
        return obj.territory.code

    @staticmethod
    def resolve_url(obj, context) -> str:
        return context["request"].build_absolute_uri(obj.get_absolute_url())


class NearbyOut(Schema):
    id: int
    category: str
    status: str
    distance_m: float
    url: str


class ReportIn(Schema):
    category: str = Field(description="Category code (see /categories)")
    lat: float
    lon: float
    description: str
    address: str = ""
    answers: dict[str, str | float | list[str]] = Field(
        default_factory=dict,
        description="Answers to the category's questions (code -> value; a list for several "
        "choices), as in Open311's service definition",
    )


class StatusIn(Schema):
    status: str
    text: str = ""
    public: bool = True
    close_reason: str = ""
    duplicate_of: int | None = None


@router.get("/categories", response=list[CategoryOut], url_name="report_categories")
def category_list(request):
    return list(queries.categories_of(core_queries.current_metropole()))


@router.get("/", response=list[ReportOut], url_name="reports", summary="Reports, filtered")
@paginate(Pagination)
def report_list(
    request,
    status: str = Query(
        "", description="open, done (fixed or closed), all, or one status (new, …, closed)"
    ),
    category: str = Query("", description="Category code"),
    commune: str = Query("", description="INSEE code of the commune"),
):
    qs = queries.public_reports(core_queries.current_metropole())
    return queries.filter_reports(qs, status=status, category=category, commune=commune)


@router.get("/map.geojson", url_name="reports_geojson", summary="Reports as GeoJSON points")
def report_geojson(
    request,
    status: str = "open",
    category: str = "",
    commune: str = "",
    territory: str = Query("", description="Code of the handling territory"),
):
    qs = queries.filter_reports(
        queries.public_reports(core_queries.current_metropole()),
        status=status,
        category=category,
        commune=commune,
    )
    if territory:
        qs = qs.filter(territory__code=territory)
    # Plain values, labels computed once: thousands of points without building model objects
    # (the page's map draws them all).
    labels = {value: str(label) for value, label in Status.choices}
    number = _("no. %(pk)d")
    base = reverse("reports:index")
    rows = qs.values_list("pk", "lat", "lon", "status", "category__name")[:2000]
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {
                "id": pk,
                "category": name,
                "status": status,
                "status_label": labels.get(status, status),
                "url": f"{base}{pk}/",
                # What the core map's overlay shows: a popup and a colour per status.
                "name": name,
                "detail": labels.get(status, status),
                "label": number % {"pk": pk},
                "colour": STATUS_COLOURS.get(status),
            },
        }
        for pk, lat, lon, status, name in rows
    ]
    return JsonResponse({"type": "FeatureCollection", "features": features})


@router.get(
    "/nearby",
    response=list[NearbyOut],
    url_name="reports_nearby",
    summary="Open reports near a point (shown before a new report is made)",
)
def nearby(request, lat: float, lon: float, category: str = ""):
    metropole = core_queries.current_metropole()
    cat = queries.category_by_code(metropole, category) if category else None
    return [
        {
            "id": r.pk,
            "category": r.category.name,
            "status": r.status,
            "distance_m": round(r.distance, 1),
            "url": r.get_absolute_url(),
        }
        for r in queries.nearby_open(metropole, lat, lon, cat)[:20]
    ]


@router.get("/{report_id}", response=ReportOut, url_name="report")
def report_detail(request, report_id: int):
    return queries.report_detail(report_id)


@router.post("/", response={201: ReportOut}, auth=person_auth, url_name="report_create")
def report_create(request, payload: ReportIn):
    metropole = core_queries.current_metropole()
    report = services.submit_report(
        request.auth,
        metropole,
        category=queries.category_by_code(metropole, payload.category),
        lat=payload.lat,
        lon=payload.lon,
        description=payload.description,
        address=payload.address,
        answers=payload.answers,
    )
    return 201, report


@router.post("/{report_id}/support", auth=person_auth, url_name="report_support")
def report_support(request, report_id: int):
    added = services.support(request.auth, queries.report_detail(report_id))
    return {"added": added}


@router.post(
    "/{report_id}/status",
    response=ReportOut,
    auth=person_auth,
    url_name="report_status",
    summary="Change the status (agents of the handling territory)",
)
def report_status(request, report_id: int, payload: StatusIn):
    report = queries.report_detail(report_id)
    original = queries.report_detail(payload.duplicate_of) if payload.duplicate_of else None
    return services.change_status(
        request.auth,
        report,
        payload.status,
        text=payload.text,
        public=payload.public,
        close_reason=payload.close_reason,
        duplicate_of=original,
    )
