"""The core's API: territories (public) and the caller's account (authenticated)."""

from datetime import datetime
from typing import Literal

from django.http import HttpResponseNotModified, JsonResponse, StreamingHttpResponse
from django.urls import reverse
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from . import open_data, queries, services
from .api_auth import person_auth
from .api_pagination import Pagination
from .exceptions import NotFound
from .models import ApiToken, Territory
from .registry import registry
from .rules import require_perm

router = Router(tags=["territories"])
account_router = Router(tags=["account"], auth=person_auth)


class TerritoryOut(Schema):
    code: str = Field(description="SIREN of a metropole or EPT, INSEE code of a commune")
    kind: str
    name: str
    display_name: str
    population: int
    url: str = Field(description="The territory's page on the portal")
    api_url: str

    @staticmethod
    def resolve_url(obj: Territory, context) -> str:
        return context["request"].build_absolute_uri(obj.get_absolute_url())

    @staticmethod
    def resolve_api_url(obj: Territory, context) -> str:
        name = "api:metropole" if obj.is_metropole else "api:commune"
        kwargs = {} if obj.is_metropole else {"code": obj.code}
        return context["request"].build_absolute_uri(reverse(name, kwargs=kwargs))


class CommuneOut(TerritoryOut):
    postal_codes: list[str]
    departement: str
    has_joined: bool
    parent_code: str | None = None

    @staticmethod
    def resolve_postal_codes(obj: Territory) -> list[str]:
        return [p.code for p in obj.postal_codes.all()]

    @staticmethod
    def resolve_parent_code(obj: Territory) -> str | None:
        return obj.parent.code if obj.parent_id else None


class TownHallOut(Schema):
    name: str | None = None
    address: str | None = None
    postal_code: str | None = None
    city: str | None = None
    lat: float | None = None
    lon: float | None = None
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    opening_hours: object | None = None


class CommuneDetailOut(CommuneOut):
    town_hall: TownHallOut
    bbox: list[float] | None = Field(None, description="[min_lon, min_lat, max_lon, max_lat]")
    geometry: dict | None = Field(None, description="GeoJSON geometry (WGS84)")

    @staticmethod
    def resolve_bbox(obj: Territory):
        return None if obj.min_lon is None else [obj.min_lon, obj.min_lat, obj.max_lon, obj.max_lat]


class MetropoleOut(TerritoryOut):
    commune_count: int
    joined_commune_count: int
    epts: list[TerritoryOut]


@router.get(
    "/metropole",
    response=MetropoleOut,
    url_name="metropole",
    summary="The metropole this platform serves",
)
def metropole_detail(request):
    metropole = queries.current_metropole()
    communes = queries.metropole_communes(metropole)
    metropole.commune_count = communes.count()
    metropole.joined_commune_count = communes.filter(has_joined=True).count()
    metropole.epts = list(Territory.objects.filter(parent=metropole, kind="ept"))
    return metropole


@router.get(
    "/communes",
    response=list[CommuneOut],
    url_name="communes",
    summary="Communes of the metropole, optionally searched by name or postal code",
)
@paginate(Pagination)
def commune_list(
    request,
    q: str = Query(
        "", description="Part of a name (accents and case ignored) or the start of a postal code"
    ),
):
    metropole = queries.current_metropole()
    if q:
        return queries.search_communes(metropole, q, limit=100)
    return queries.communes_of(metropole).prefetch_related("postal_codes")


@router.get(
    "/communes.geojson",
    url_name="communes_geojson",
    summary="All communes as a GeoJSON FeatureCollection (for maps)",
)
def commune_geojson(request):
    """Cached by browsers (ETag + max-age): both portal pages draw it on every view."""
    metropole = queries.current_metropole()
    etag = f'"communes-{metropole.code}-{queries.communes_version(metropole)}"'
    # Gzip makes the ETag weak (W/"..."), and browsers send that form back.
    sent = request.headers.get("If-None-Match", "")
    if etag in (tag.strip().removeprefix("W/") for tag in sent.split(",")):
        return _with_cache_headers(HttpResponseNotModified(), etag)
    features = [
        {
            "type": "Feature",
            "geometry": c.geometry,
            "properties": {
                "code": c.code,
                "name": c.name,
                "url": c.get_absolute_url(),
                "has_joined": c.has_joined,
            },
        }
        for c in queries.metropole_communes(metropole).only(
            "code", "name", "slug", "geometry", "has_joined", "kind", "metropole"
        )
    ]
    response = JsonResponse({"type": "FeatureCollection", "features": features})
    return _with_cache_headers(response, etag)


def _with_cache_headers(response, etag: str):
    response["ETag"] = etag
    response["Cache-Control"] = "public, max-age=300"
    return response


@router.get(
    "/communes/{code}",
    response=CommuneDetailOut,
    url_name="commune",
    summary="One commune by INSEE code, with its town hall and GeoJSON contour",
)
def commune_detail(request, code: str):
    return queries.territory_by_code(code, queries.current_metropole())


@router.get(
    "/lookup",
    response=CommuneOut,
    url_name="lookup",
    summary="The commune containing a point (WGS84 latitude and longitude)",
)
def lookup_point(
    request,
    lat: str = Query(..., description="Latitude in decimal degrees, e.g. 50.6366"),
    lon: str = Query(..., description="Longitude in decimal degrees, e.g. 3.0635"),
):
    return queries.commune_at(queries.current_metropole(), lat, lon)


@router.get(
    "/postal-codes/{code}",
    response=list[CommuneOut],
    url_name="postal_code",
    summary="Communes served by a postal code",
)
def postal_code(request, code: str):
    return list(
        queries.communes_by_postal_code(queries.current_metropole(), code).prefetch_related(
            "postal_codes"
        )
    )


class OpenDataExportOut(Schema):
    key: str
    title: str
    description: str
    licence: str
    fields: list[str]
    csv_url: str
    jsonl_url: str


@router.get(
    "/open-data",
    response=list[OpenDataExportOut],
    url_name="open_data",
    tags=["open data"],
    summary="Open-data exports published by the platform's modules",
)
def open_data_list(request):
    def url(key, fmt):
        return request.build_absolute_uri(
            reverse("api:open_data_export", kwargs={"key": key, "fmt": fmt})
        )

    return [
        OpenDataExportOut(
            key=key,
            title=str(e.title),
            description=str(e.description),
            licence=e.licence,
            fields=list(e.fields),
            csv_url=url(key, "csv"),
            jsonl_url=url(key, "jsonl"),
        )
        for key, e in sorted(registry.exports().items())
    ]


@router.get(
    "/open-data/{key}.{fmt}",
    url_name="open_data_export",
    tags=["open data"],
    summary="One open-data export of the metropole, streamed as CSV or JSON lines",
)
def open_data_export(request, key: str, fmt: Literal["csv", "jsonl"]):
    export = open_data.export_by_key(key)
    metropole = queries.current_metropole()
    if fmt == "csv":
        lines, content_type = open_data.csv_lines(export, metropole), "text/csv; charset=utf-8"
    else:
        lines, content_type = open_data.jsonl_lines(export, metropole), "application/jsonl"
    response = StreamingHttpResponse(lines, content_type=content_type)
    filename = f"{metropole.slug}-{key.replace('.', '-')}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class MemberOut(Schema):
    email: str
    name: str
    role: str
    role_label: str
    organisation: str | None = None
    granted_at: datetime

    @staticmethod
    def resolve_email(obj):
        return obj.user.email

    @staticmethod
    def resolve_name(obj):
        return obj.user.get_full_name()

    @staticmethod
    def resolve_organisation(obj):
        return obj.organisation.name if obj.organisation else None


@router.get(
    "/territories/{code}/members",
    response=list[MemberOut],
    auth=person_auth,
    url_name="members",
    summary="Members and roles of a territory (administrators)",
)
@paginate(Pagination)
def territory_members(request, code: str):
    territory = queries.territory_by_code(code)
    require_perm(request.user, "core.manage_members", territory)
    return queries.members_of(territory)


# --- the caller's account ----------------------------------------------------------------


class RoleOut(Schema):
    territory_code: str
    territory_name: str
    role: str
    role_label: str


class MeOut(Schema):
    email: str
    first_name: str
    last_name: str
    verified: bool
    home_commune: str | None
    roles: list[RoleOut]


@account_router.get("/me", response=MeOut, url_name="me", summary="The authenticated person")
def me(request):
    user = request.user
    roles = [
        RoleOut(
            territory_code=m.territory.code,
            territory_name=m.territory.name,
            role=m.role,
            role_label=m.role_label,
        )
        for m in user.memberships.select_related("territory")
    ]
    return MeOut(
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name,
        verified=user.email_is_verified,
        home_commune=user.home_commune.code if user.home_commune_id else None,
        roles=roles,
    )


class TokenIn(Schema):
    name: str = Field(..., max_length=100)
    expires_at: datetime | None = None


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    active: bool = Field(..., alias="is_active")


class NewTokenOut(TokenOut):
    key: str = Field(..., description="The secret, shown only once")


@account_router.get("/me/tokens", response=list[TokenOut], url_name="tokens")
def token_list(request):
    return list(request.user.api_tokens.all())


@account_router.post("/me/tokens", response={201: NewTokenOut}, url_name="token_create")
def token_create(request, payload: TokenIn):
    token, key = services.create_api_token(request.user, payload.name, payload.expires_at)
    token.key = key
    return Status(201, token)


@account_router.delete("/me/tokens/{token_id}", response={204: None}, url_name="token_revoke")
def token_revoke(request, token_id: int):
    token = ApiToken.objects.filter(pk=token_id, user=request.user).first()
    if token is None:
        raise NotFound("Unknown token", f"You have no token with the id {token_id}.")
    services.revoke_api_token(request.user, token)
    return Status(204, None)


router.add_router("", account_router)
