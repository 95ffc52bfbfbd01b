"""The data hub's catalogue API (mounted at /api/datahub/): datasets, resources, uploads,
rows pushed to API-fed tables, versions, loads and their reports, publication.

Every endpoint goes through the same services, queries and rules as the pages. The
records, aggregates and exports of each resource come from `api_records.py` (the query
engine), mounted on the same router.
"""

from datetime import date, datetime
from typing import Literal

from django.urls import reverse
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import paginate
from ninja.responses import Status

from metropole.core import queries as core_queries
from metropole.core.api_auth import SessionAuth, TokenAuth, person_auth
from metropole.core.api_pagination import Pagination
from metropole.core.exceptions import NotFound
from metropole.core.models import Organisation

from . import queries, services
from .ingest import sheets
from .models import Dataset, Resource, ResourceVersion

router = Router(tags=["data hub: catalogue"])


def _anyone(request):
    """Reads are public; a token or a session only widens what the caller sees."""
    return True


read_auth = [TokenAuth(), SessionAuth(csrf=False), _anyone]


# --- schemas -------------------------------------------------------------------------------


class VersionOut(Schema):
    number: int
    status: str
    format: str
    original_name: str
    size: int
    checksum: str = Field(description="SHA-256 of the source file")
    encoding: str
    delimiter: str
    invalid_rows_policy: str
    rows_done: int
    rows_total: int | None
    progress_percent: int | None
    row_count: int
    invalid_row_count: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error_title: str
    error_detail: str
    timings: dict
    is_current: bool

    @staticmethod
    def resolve_invalid_rows_policy(obj):
        return obj.invalid_rows


class ColumnOut(Schema):
    name: str
    type: str
    inferred_type: str = ""
    declared_type: str = ""
    stored: bool = True
    personal_flagged: bool = False
    personal_reasons: list[str] = []
    decision: str = ""


class VersionDetailOut(VersionOut):
    columns: list[ColumnOut]
    report: dict

    @staticmethod
    def resolve_columns(obj):
        return [
            {
                "name": c["name"],
                "type": c["type"],
                "inferred_type": c.get("inferred_type", ""),
                "declared_type": c.get("declared_type", ""),
                "stored": c.get("stored", True),
                "personal_flagged": (c.get("personal") or {}).get("flagged", False),
                "personal_reasons": (c.get("personal") or {}).get("reasons", []),
                "decision": obj.resource.decision(c["name"]),
            }
            for c in obj.columns
        ]


class ResourceOut(Schema):
    id: str = Field(description="Stable identifier (UUID) used in the resource's URLs")
    title: str
    description: str
    kind: str
    format: str
    remote_url: str
    pull_frequency: str
    row_count: int | None
    columns: list[ColumnOut]
    records_url: str
    updated_at: datetime

    @staticmethod
    def resolve_id(obj):
        return str(obj.uid)

    @staticmethod
    def resolve_row_count(obj):
        return obj.current_version.row_count if obj.current_version_id else None

    @staticmethod
    def resolve_columns(obj):
        version = obj.current_version
        if version is None:
            return []
        version.resource = obj
        return VersionDetailOut.resolve_columns(version)

    @staticmethod
    def resolve_records_url(obj, context):
        path = reverse("api:datahub_resource", kwargs={"key": obj.uid}) + "/records"
        return context["request"].build_absolute_uri(path)


class DatasetOut(Schema):
    id: str = Field(description="Stable identifier (UUID), exported as dct:identifier")
    slug: str
    title: str
    description: str
    publisher: str
    territory: str = Field(description="Code of the owning territory (SIREN or INSEE)")
    organisation: str | None
    keywords: list[str]
    themes: list[str] = Field(description="EU data themes (AGRI, ECON, … TRAN)")
    licence: str
    frequency: str
    spatial: list[str] = Field(description="Codes of the territories covered")
    temporal_start: date | None
    temporal_end: date | None
    contact_name: str
    contact_email: str
    landing_page: str
    provenance: str
    schema_name: str
    schema_version: str
    access: str
    status: str
    quality_score: int | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    data_updated_at: datetime | None
    url: str
    api_url: str

    @staticmethod
    def resolve_id(obj):
        return str(obj.uid)

    @staticmethod
    def resolve_publisher(obj):
        return obj.publisher_name

    @staticmethod
    def resolve_territory(obj):
        return obj.territory.code

    @staticmethod
    def resolve_organisation(obj):
        return obj.organisation.name if obj.organisation_id else None

    @staticmethod
    def resolve_themes(obj):
        return [t.theme for t in obj.themes.all()]

    @staticmethod
    def resolve_spatial(obj):
        return [t.code for t in obj.spatial.all()]

    @staticmethod
    def resolve_url(obj, context):
        return context["request"].build_absolute_uri(obj.get_absolute_url())

    @staticmethod
    def resolve_api_url(obj, context):
        return context["request"].build_absolute_uri(
            reverse("api:datahub_dataset", kwargs={"key": obj.uid})
        )


class DatasetDetailOut(DatasetOut):
    resources: list[ResourceOut]
    table_schema: dict | None
    quality_details: dict
    invalid_rows_policy: str
    allowed_organisations: list[str]

    @staticmethod
    def resolve_resources(obj):
        return list(obj.resources.select_related("current_version"))

    @staticmethod
    def resolve_invalid_rows_policy(obj):
        return obj.invalid_rows

    @staticmethod
    def resolve_allowed_organisations(obj):
        return [o.name for o in obj.allowed_organisations.all()]


class DatasetIn(Schema):
    title: str | None = None
    description: str | None = None
    keywords: list[str] | None = None
    themes: list[str] | None = None
    licence: str | None = None
    frequency: str | None = None
    spatial: list[str] | None = Field(None, description="INSEE/SIREN codes covered")
    temporal_start: date | None = None
    temporal_end: date | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    landing_page: str | None = None
    provenance: str | None = None
    schema_name: str | None = None
    schema_version: str | None = None
    table_schema: dict | None = None
    invalid_rows: Literal["reject", "skip"] | None = None
    access: Literal["public", "restricted", "private"] | None = None
    allowed_organisations: list[int] | None = None


class DatasetCreateIn(DatasetIn):
    title: str
    territory: str | None = Field(
        None, description="Code of the publishing territory (default: the metropole)"
    )
    organisation: int | None = Field(None, description="Publish as this partner organisation")


class ResourceIn(Schema):
    title: str
    description: str = ""
    kind: Literal["upload", "remote", "api", "module_export"] = "upload"
    format: str = ""
    remote_url: str = ""
    pull_frequency: str = ""
    export_key: str = ""


class RowsIn(Schema):
    rows: list[dict] = Field(..., description="Rows as objects: {column name: value}")
    mode: Literal["append", "replace"] = "append"


class RollbackIn(Schema):
    number: int


class SheetIn(Schema):
    sheet: str = Field(description="the name of a sheet of the resource's workbook")


class ReviewIn(Schema):
    column: str
    decision: Literal["removed", "confirmed"]


class FacetsOut(Schema):
    theme: dict[str, int]
    licence: dict[str, int]
    format: dict[str, int]
    territory: dict[str, int]


# --- helpers -------------------------------------------------------------------------------


def _values(payload: Schema) -> dict:
    return {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}


def _detail(dataset: Dataset) -> Dataset:
    return (
        Dataset.objects.select_related("territory", "organisation")
        .prefetch_related("themes", "spatial", "allowed_organisations")
        .get(pk=dataset.pk)
    )


def _version(resource: Resource, version: ResourceVersion) -> ResourceVersion:
    version.resource = resource
    return version


# --- datasets ------------------------------------------------------------------------------


@router.get(
    "/datasets",
    response=list[DatasetOut],
    auth=read_auth,
    url_name="datahub_datasets",
    summary="Search the catalogue (the datasets the caller may see)",
)
@paginate(Pagination)
def dataset_list(
    request,
    q: str = Query("", description="Words of the title or description"),
    theme: str = Query("", description="EU data theme code, e.g. TRAN"),
    territory: str = Query("", description="INSEE/SIREN code of a territory covered"),
    publisher: str = Query("", description="Code of the publishing territory, SIREN, or org<id>"),
    licence: str = Query("", description="etalab-2.0, odbl, …"),
    format: str = Query("", description="csv, xlsx, ods, json, geojson"),
    archived: bool = Query(False, description="Include archived datasets"),
):
    return queries.search_datasets(
        request.user,
        q=q,
        theme=theme,
        territory=territory,
        publisher=publisher,
        licence=licence,
        format=format,
        include_archived=archived,
    ).prefetch_related("spatial")


@router.get(
    "/facets",
    response=FacetsOut,
    auth=read_auth,
    url_name="datahub_facets",
    summary="Counts of the catalogue's datasets by theme, licence, format and territory",
)
def dataset_facets(request, q: str = "", theme: str = "", territory: str = "", licence: str = ""):
    qs = queries.search_datasets(
        request.user, q=q, theme=theme, territory=territory, licence=licence
    )
    return queries.facet_counts(qs)


@router.get(
    "/datasets/{key}",
    response=DatasetDetailOut,
    auth=read_auth,
    url_name="datahub_dataset",
    summary="One dataset by its identifier (UUID) or slug, with its resources",
)
def dataset_detail(request, key: str):
    return queries.dataset_for(request.user, key)


@router.post(
    "/datasets",
    response={201: DatasetDetailOut},
    auth=person_auth,
    url_name="datahub_dataset_create",
    summary="Create a draft dataset",
)
def dataset_create(request, payload: DatasetCreateIn):
    values = _values(payload)
    territory_code = values.pop("territory", None)
    organisation_id = values.pop("organisation", None)
    organisation = None
    metropole = core_queries.current_metropole()
    if organisation_id is not None:
        organisation = Organisation.objects.filter(pk=organisation_id, metropole=metropole).first()
        if organisation is None:
            raise NotFound("Unknown organisation", f"No partner organisation {organisation_id}.")
    territory = (
        core_queries.territory_by_code(territory_code, metropole) if territory_code else metropole
    )
    dataset = services.create_dataset(request.user, territory, organisation=organisation, **values)
    return Status(201, _detail(dataset))


@router.patch(
    "/datasets/{key}",
    response=DatasetDetailOut,
    auth=person_auth,
    url_name="datahub_dataset_update",
    summary="Change a dataset's metadata",
)
def dataset_update(request, key: str, payload: DatasetIn):
    dataset = queries.dataset_for(request.user, key, manage=True)
    services.update_dataset(request.user, dataset, **payload.dict(exclude_unset=True))
    return _detail(dataset)


@router.post(
    "/datasets/{key}/publish",
    response=DatasetDetailOut,
    auth=person_auth,
    url_name="datahub_dataset_publish",
    summary="Publish a dataset (refused while a flagged personal column awaits review)",
)
def dataset_publish(request, key: str):
    dataset = queries.dataset_for(request.user, key, manage=True)
    return _detail(services.publish(request.user, dataset))


@router.post(
    "/datasets/{key}/archive",
    response=DatasetDetailOut,
    auth=person_auth,
    url_name="datahub_dataset_archive",
    summary="Archive a published dataset",
)
def dataset_archive(request, key: str):
    dataset = queries.dataset_for(request.user, key, manage=True)
    return _detail(services.archive(request.user, dataset))


@router.post(
    "/datasets/{key}/resources",
    response={201: ResourceOut},
    auth=person_auth,
    url_name="datahub_resource_create",
    summary="Add a resource (file, remote URL, API-fed table, module export) to a dataset",
)
def resource_create(request, key: str, payload: ResourceIn):
    dataset = queries.dataset_for(request.user, key, manage=True)
    return Status(201, services.add_resource(request.user, dataset, **payload.dict()))


# --- resources -----------------------------------------------------------------------------


@router.get(
    "/resources/{key}",
    response=ResourceOut,
    auth=read_auth,
    url_name="datahub_resource",
    summary="One resource by its identifier (UUID), with its columns",
)
def resource_detail(request, key: str):
    return queries.resource_for(request.user, key)


@router.post(
    "/resources/{key}/upload",
    response={202: VersionOut},
    auth=person_auth,
    url_name="datahub_resource_upload",
    summary="Upload a file (CSV, XLSX, ODS, JSON, GeoJSON) as a new version; loads in the "
    "background",
)
def resource_upload(
    request,
    key: str,
    file: UploadedFile = File(...),  # noqa: B008 - ninja declares parameters this way
    invalid_rows: Literal["", "reject", "skip"] = Form(
        "", description="reject the load, or load the valid rows and report the others"
    ),
):
    resource = queries.resource_for(request.user, key, manage=True)
    version = services.upload(request.user, resource, file, invalid_rows=invalid_rows)
    return Status(202, _version(resource, version))


@router.post(
    "/resources/{key}/rows",
    response={202: VersionOut},
    auth=person_auth,
    url_name="datahub_resource_rows",
    summary="Push rows to a table fed through the API (append or replace)",
)
def resource_push_rows(request, key: str, payload: RowsIn):
    resource = queries.resource_for(request.user, key, manage=True)
    version = services.push_rows(request.user, resource, payload.rows, mode=payload.mode)
    return Status(202, _version(resource, version))


@router.get(
    "/resources/{key}/versions",
    response=list[VersionOut],
    auth=person_auth,
    url_name="datahub_versions",
    summary="Versions of a resource (publishers)",
)
def version_list(request, key: str):
    resource = queries.resource_for(request.user, key, manage=True)
    return [_version(resource, v) for v in queries.versions_of(resource)]


@router.get(
    "/resources/{key}/versions/{number}",
    response=VersionDetailOut,
    auth=person_auth,
    url_name="datahub_version",
    summary="A load's status, progress, columns and report by row and column",
)
def version_detail(request, key: str, number: int):
    resource = queries.resource_for(request.user, key, manage=True)
    return queries.version_by_number(resource, number)


@router.post(
    "/resources/{key}/rollback",
    response=VersionOut,
    auth=person_auth,
    url_name="datahub_rollback",
    summary="Serve a previous version again",
)
def version_rollback(request, key: str, payload: RollbackIn):
    resource = queries.resource_for(request.user, key, manage=True)
    return _version(resource, services.rollback(request.user, resource, payload.number))


@router.post(
    "/resources/{key}/sheets",
    response={202: VersionOut},
    auth=person_auth,
    url_name="datahub_load_sheet",
    summary="Load another sheet of the resource's workbook (XLSX, ODS) as a new version; "
    "loads in the background",
)
def resource_load_sheet(request, key: str, payload: SheetIn):
    resource = queries.resource_for(request.user, key, manage=True)
    version = sheets.load_sheet(request.user, resource, payload.sheet)
    return Status(202, _version(resource, version))


@router.post(
    "/resources/{key}/sheet-resources",
    response={201: list[ResourceOut]},
    auth=person_auth,
    url_name="datahub_sheet_resources",
    summary="One new resource per other sheet of the resource's workbook, in the same "
    "dataset (none twice); the resources created",
)
def resource_sheet_resources(request, key: str):
    resource = queries.resource_for(request.user, key, manage=True)
    return Status(201, sheets.add_sheet_resources(request.user, resource))


@router.post(
    "/resources/{key}/columns/review",
    response=ResourceOut,
    auth=person_auth,
    url_name="datahub_review_column",
    summary="Remove a column flagged as personal, or confirm it is not personal",
)
def column_review(request, key: str, payload: ReviewIn):
    resource = queries.resource_for(request.user, key)
    services.review_column(request.user, resource, payload.column, payload.decision)
    resource.refresh_from_db()
    return resource


try:  # the query engine's records, aggregates and exports of each resource
    from .api_records import router as records_router
except ImportError:  # pragma: no cover - the query engine is part of the same app
    records_router = None
if records_router is not None:
    router.add_router("", records_router)
