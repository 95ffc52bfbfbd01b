"""The harvest API (/api/harvest/): sources, their runs and logs. Managing sources needs
the permission `harvest.manage_sources` on the source's territory (token or session)."""

from datetime import datetime

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.responses import Status

from metropole.core.api_auth import person_auth
from metropole.core.exceptions import NotFound
from metropole.core.models import Territory

from . import queries, services
from .models import HarvestRun, HarvestSource

router = Router(tags=["harvest"], auth=person_auth)


class SourceOut(Schema):
    id: int
    name: str
    kind: str
    url: str
    territory: str
    schedule: str
    active: bool
    pull_data: bool
    next_run_at: datetime | None
    last_run_at: datetime | None
    datasets: int

    @staticmethod
    def resolve_territory(obj):
        return obj.territory.code

    @staticmethod
    def resolve_datasets(obj):
        return obj.records.filter(removed_at__isnull=True).count()


class SourceIn(Schema):
    name: str
    kind: str = Field(..., description="dcat, ckan or ods")
    url: str
    territory: str | None = Field(None, description="Territory code (default: the metropole)")
    schedule: str = Field("daily", description="hourly, daily, weekly, monthly or manual")
    pull_data: bool = False


class SourcePatch(Schema):
    name: str | None = None
    kind: str | None = None
    url: str | None = None
    schedule: str | None = None
    active: bool | None = None
    pull_data: bool | None = None


class LogEntry(Schema):
    level: str
    record: str
    message: str


class RunOut(Schema):
    id: int
    source: int
    status: str
    started_at: datetime
    finished_at: datetime | None
    pages: int
    seen: int
    created: int
    updated: int
    unchanged: int
    archived: int
    failed: int
    error: str

    @staticmethod
    def resolve_source(obj):
        return obj.source_id


class RunDetailOut(RunOut):
    log: list[LogEntry]


def _source(request, pk: int) -> HarvestSource:
    source = HarvestSource.objects.select_related("territory").filter(pk=pk).first()
    if source is None or not request.user.has_perm("harvest.manage_sources", source.territory):
        raise NotFound(_("Unknown source"), _("No harvest source %(id)s here.") % {"id": pk})
    return source


@router.get("/sources", response=list[SourceOut], url_name="harvest_sources")
def source_list(request):
    """The sources of the territories you administer."""
    return list(queries.sources_managed_by(request.user))


@router.post("/sources", response={201: SourceOut}, url_name="harvest_source_create")
def source_create(request, payload: SourceIn):
    user = request.auth
    territory = (
        Territory.objects.filter(code=payload.territory).first()
        if payload.territory
        else request.metropole
    )
    if territory is None:
        raise NotFound(
            _("Unknown territory"), _("No territory %(code)s.") % {"code": payload.territory}
        )
    source = services.create_source(
        user,
        territory,
        name=payload.name,
        kind=payload.kind,
        url=payload.url,
        schedule=payload.schedule,
        pull_data=payload.pull_data,
    )
    return Status(201, source)


@router.get("/sources/{pk}", response=SourceOut, url_name="harvest_source")
def source_detail(request, pk: int):
    return _source(request, pk)


@router.patch("/sources/{pk}", response=SourceOut, url_name="harvest_source_update")
def source_update(request, pk: int, payload: SourcePatch):
    values = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    return services.update_source(request.user, _source(request, pk), **values)


@router.post("/sources/{pk}/run", response={202: dict}, url_name="harvest_source_run")
def source_run(request, pk: int):
    """Harvest the source now, in the background; poll its runs."""
    source = _source(request, pk)
    services.request_run(request.user, source)
    return Status(202, {"detail": "Harvest requested.", "runs": f"/api/harvest/sources/{pk}/runs"})


@router.get("/sources/{pk}/runs", response=list[RunOut], url_name="harvest_source_runs")
def source_runs(request, pk: int):
    return list(_source(request, pk).runs.all()[:50])


@router.get("/runs/{pk}", response=RunDetailOut, url_name="harvest_run")
def run_detail(request, pk: int):
    run = HarvestRun.objects.select_related("source__territory").filter(pk=pk).first()
    if run is None or not request.user.has_perm("harvest.manage_sources", run.source.territory):
        raise NotFound(_("Unknown run"), _("No harvest run %(id)s here.") % {"id": pk})
    return run
