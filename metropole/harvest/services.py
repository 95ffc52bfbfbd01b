"""Every write of harvesting: sources (create, change), runs, and applying a remote
dataset to the hub through the data hub's own services.

A run reads the remote catalogue page by page. For each remote dataset:

- unknown identifier → a new dataset (`datahub.services.create_dataset`), its files as
  remote resources (`add_resource`, kind "remote": only their addresses, nothing is
  downloaded), published;
- known identifier, same fingerprint → nothing written ("unchanged");
- known identifier, new fingerprint → `update_dataset` and the resources synchronised;
- a dataset the source no longer lists, after a run that read every page → archived
  (`datahub.services.archive`), never deleted; it comes back if the source lists it again.

Each record is applied in its own transaction: one bad record is logged and counted as
failed, the others go on. A run that could not read every page archives nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from metropole.core.exceptions import BadRequest, Conflict, PlatformError
from metropole.core.models import Territory
from metropole.core.rules import require_perm
from metropole.core.services import audit
from metropole.datahub import services as datahub
from metropole.datahub.models import Dataset, DatasetStatus, Format, ResourceKind

from . import licences
from .harvesters import FetchError, RemoteDataset, harvester_for
from .models import (
    HarvestedRecord,
    HarvestRun,
    HarvestSource,
    RunStatus,
    Schedule,
    SourceKind,
)

log = logging.getLogger(__name__)

SCHEDULE_PERIOD = {
    Schedule.HOURLY: timedelta(hours=1),
    Schedule.DAILY: timedelta(days=1),
    Schedule.WEEKLY: timedelta(weeks=1),
    Schedule.MONTHLY: timedelta(days=30),
    Schedule.MANUAL: None,
}
MAX_DISTRIBUTIONS = 50
MAX_LOG_ENTRIES = 1000


# --- sources -----------------------------------------------------------------------------


def _clean_source(values: dict) -> dict:
    if "name" in values:
        values["name"] = (values["name"] or "").strip()[:200]
        if not values["name"]:
            raise BadRequest(_("Name missing"), _("Give the source a name."), field="name")
    if "kind" in values and values["kind"] not in SourceKind.values:
        raise BadRequest(
            _("Unknown kind"),
            _("The kind of catalogue is dcat, ckan or ods."),
            field="kind",
        )
    if "url" in values:
        values["url"] = (values["url"] or "").strip()
        try:
            URLValidator(schemes=["http", "https"])(values["url"])
        except ValidationError:
            raise BadRequest(
                _("Invalid address"),
                _("Give the catalogue's web address (https://…)."),
                field="url",
            ) from None
    if "schedule" in values and values["schedule"] not in Schedule.values:
        raise BadRequest(
            _("Unknown schedule"),
            _("The schedule is hourly, daily, weekly, monthly or manual."),
            field="schedule",
        )
    return values


@transaction.atomic
def create_source(
    actor,
    territory: Territory,
    *,
    name: str,
    kind: str,
    url: str,
    schedule: str = Schedule.DAILY,
    pull_data: bool = False,
) -> HarvestSource:
    """A new source harvested into `territory`; it runs as `actor`, who must be allowed
    to publish datasets there."""
    require_perm(actor, "harvest.manage_sources", territory)
    require_perm(actor, "datahub.add_dataset", territory)
    values = _clean_source({"name": name, "kind": kind, "url": url, "schedule": schedule})
    if HarvestSource.objects.filter(territory=territory, url=values["url"]).exists():
        raise Conflict(
            _("Already harvested"),
            _("This address is already a harvest source of %(territory)s.")
            % {"territory": territory.display_name},
            field="url",
        )
    period = SCHEDULE_PERIOD[values["schedule"]]
    source = HarvestSource.objects.create(
        territory=territory,
        run_as=actor,
        pull_data=bool(pull_data),
        next_run_at=timezone.now() if period else None,
        **values,
    )
    audit(actor, "harvest.source_created", territory, source, url=source.url, kind=source.kind)
    return source


@transaction.atomic
def update_source(actor, source: HarvestSource, **values) -> HarvestSource:
    """Change a source; the person who changes it becomes the one its runs act as."""
    require_perm(actor, "harvest.manage_sources", source.territory)
    require_perm(actor, "datahub.add_dataset", source.territory)
    unknown = set(values) - {"name", "kind", "url", "schedule", "active", "pull_data"}
    if unknown:
        raise BadRequest(
            _("Unknown field"),
            _("Unknown fields: %(names)s.") % {"names": ", ".join(sorted(unknown))},
        )
    values = _clean_source(values)
    changed = [k for k, v in values.items() if getattr(source, k) != v]
    for name, value in values.items():
        setattr(source, name, value)
    if "schedule" in changed or "active" in changed:
        period = SCHEDULE_PERIOD[source.schedule]
        source.next_run_at = timezone.now() if (period and source.active) else None
    source.run_as = actor
    source.save()
    if changed:
        audit(actor, "harvest.source_updated", source.territory, source, fields=sorted(changed))
    return source


def request_run(actor, source: HarvestSource) -> None:
    """Ask for a run now (it happens in the background)."""
    from . import tasks

    require_perm(actor, "harvest.manage_sources", source.territory)
    audit(actor, "harvest.run_requested", source.territory, source)
    source_id = source.pk
    transaction.on_commit(lambda: tasks.harvest_source.enqueue(source_id))


# --- runs --------------------------------------------------------------------------------


class _Run:
    """Counts and log of a run in progress (written to the HarvestRun at the end)."""

    def __init__(self, run: HarvestRun):
        self.run = run

    def note(self, level: str, message: str, record: str = "") -> None:
        if len(self.run.log) < MAX_LOG_ENTRIES:
            self.run.log.append({"level": level, "record": record, "message": str(message)[:1000]})
        elif len(self.run.log) == MAX_LOG_ENTRIES:
            self.run.log.append(
                {"level": "warning", "record": "", "message": "Log truncated here."}
            )


def run_source(source: HarvestSource, now=None) -> HarvestRun:
    """Harvest `source` once, now. Returns the run with its counts and log."""
    now = now or timezone.now()
    run = HarvestRun.objects.create(source=source, started_at=now)
    state = _Run(run)
    actor = source.run_as
    complete = False
    seen: set[str] = set()
    try:
        if actor is None or not actor.is_active:
            raise FetchError(
                "Nobody to act as: the person who set this source up is gone. "
                "Save the source again to act as yourself."
            )
        for page in harvester_for(source.kind, source.url).pages():
            run.pages += 1
            for remote_id, message in page.problems:
                run.failed += 1
                state.note("error", message, remote_id)
            for remote in page.datasets:
                if remote.remote_id in seen:
                    state.note(
                        "warning", _("listed twice; the second is ignored"), remote.remote_id
                    )
                    continue
                seen.add(remote.remote_id)
                run.seen += 1
                _apply_safely(source, remote, actor, state, now)
        complete = True
    except FetchError as error:
        run.error = str(error)
        state.note("error", str(error))
    if complete:
        _archive_removed(source, actor, seen, state, now)
    run.finished_at = timezone.now()
    if not complete:
        run.status = RunStatus.FAILED if run.pages == 0 else RunStatus.PARTIAL
    else:
        run.status = RunStatus.PARTIAL if run.failed else RunStatus.DONE
    run.save()
    period = SCHEDULE_PERIOD[source.schedule]
    HarvestSource.objects.filter(pk=source.pk).update(
        last_run_at=now,
        next_run_at=(now + period) if (period and source.active) else None,
    )
    audit(
        None,
        "harvest.run_finished",
        source.territory,
        run,
        source=source.pk,
        status=run.status,
        created=run.created,
        updated=run.updated,
        unchanged=run.unchanged,
        archived=run.archived,
        failed=run.failed,
    )
    return run


def _apply_safely(source, remote: RemoteDataset, actor, state: _Run, now) -> None:
    run = state.run
    try:
        with transaction.atomic():
            outcome = apply_remote(source, remote, actor, now=now, note=state.note)
    except PlatformError as error:
        run.failed += 1
        detail = f"{error.title}: {error.detail}" if error.detail else str(error.title)
        state.note("error", detail, remote.remote_id)
        return
    except Exception as error:  # a bug must not stop the whole run; it is logged
        log.exception("harvest of %s in source %s failed", remote.remote_id, source.pk)
        run.failed += 1
        state.note(
            "error",
            _("unexpected error: %(error)s") % {"error": f"{error.__class__.__name__}: {error}"},
            remote.remote_id,
        )
        return
    setattr(run, outcome, getattr(run, outcome) + 1)
    if outcome != "unchanged":
        label = _("created: %(title)s") if outcome == "created" else _("updated: %(title)s")
        state.note("info", label % {"title": remote.title}, remote.remote_id)


def _dataset_values(source: HarvestSource, remote: RemoteDataset) -> dict:
    metropole = source.territory.root
    licence = licences.resolve(remote.licence, remote.licence_title, metropole)
    if licence is None:
        shown = remote.licence_title or remote.licence or _("no licence")
        raise BadRequest(
            _("Licence not allowed"),
            _(
                "The licence “%(licence)s” is neither Licence Ouverte 2.0 nor ODbL: an "
                "administrator of the metropole may allow it (its code or the address of its "
                "text) for this dataset to be harvested."
            )
            % {"licence": shown},
            field="licence",
        )
    provenance = _("Harvested from %(source)s (%(url)s); remote identifier %(id)s.") % {
        "source": source.name,
        "url": source.url,
        "id": remote.remote_id,
    }
    if remote.publisher:
        provenance += " " + _("Published by %(publisher)s.") % {"publisher": remote.publisher}
    values = {
        "title": remote.title[:200],
        "description": remote.description,
        "keywords": remote.keywords,
        "themes": remote.themes,
        "licence": licence,
        "frequency": remote.frequency or "UNKNOWN",
        "temporal_start": remote.temporal_start,
        "temporal_end": remote.temporal_end,
        "contact_name": remote.contact_name[:200],
        "contact_email": "",
        "landing_page": "",
        "provenance": provenance,
        "schema_name": remote.schema_name[:200] if "/" in remote.schema_name else "",
        "schema_version": remote.schema_version[:32] if "/" in remote.schema_name else "",
        "access": "public",
    }
    start, end = values["temporal_start"], values["temporal_end"]
    if start and end and start > end:
        values["temporal_end"] = None
    if remote.contact_email:
        try:
            validate_email(remote.contact_email)
            values["contact_email"] = remote.contact_email
        except ValidationError:
            pass
    if remote.landing_page:
        try:
            URLValidator(schemes=["http", "https"])(remote.landing_page)
            if len(remote.landing_page) <= 200:
                values["landing_page"] = remote.landing_page
        except ValidationError:
            pass
    if remote.spatial:
        known = set(
            Territory.objects.in_metropole(metropole)
            .filter(code__in=remote.spatial)
            .values_list("code", flat=True)
        )
        if known:
            values["spatial"] = sorted(known)
    return values


def apply_remote(source, remote: RemoteDataset, actor, *, now=None, note=None) -> str:
    """Create, update or leave the dataset of one remote dataset; returns "created",
    "updated" or "unchanged". Runs inside the caller's transaction."""
    now = now or timezone.now()
    note = note or (lambda *a, **k: None)
    fingerprint = remote.fingerprint()
    record = (
        HarvestedRecord.objects.select_for_update()
        .select_related("dataset")
        .filter(source=source, remote_id=remote.remote_id)
        .first()
    )
    if record is not None and record.fingerprint == fingerprint and record.removed_at is None:
        HarvestedRecord.objects.filter(pk=record.pk).update(last_seen_at=now)
        return "unchanged"
    values = _dataset_values(source, remote)
    if record is None:
        dataset = datahub.create_dataset(actor, source.territory, **values)
        _sync_resources(actor, source, dataset, remote, note)
        datahub.publish(actor, dataset, catalogue_entry=True)
        HarvestedRecord.objects.create(
            source=source,
            remote_id=remote.remote_id,
            dataset=dataset,
            fingerprint=fingerprint,
            remote_url=values.get("landing_page", ""),
            first_seen_at=now,
            last_seen_at=now,
        )
        return "created"
    dataset = record.dataset
    if "spatial" not in values:
        values["spatial"] = [source.territory.code]
    datahub.update_dataset(actor, dataset, **values)
    _sync_resources(actor, source, dataset, remote, note)
    if record.removed_at is not None and dataset.status != DatasetStatus.PUBLISHED:
        datahub.publish(actor, dataset, catalogue_entry=True)
    record.fingerprint = fingerprint
    record.removed_at = None
    record.last_seen_at = now
    record.remote_url = values.get("landing_page", "")
    record.save()
    return "updated"


def _sync_resources(actor, source, dataset: Dataset, remote: RemoteDataset, note) -> None:
    """Remote resources of `dataset` = the remote distributions, matched by address."""
    wanted = {}
    for dist in remote.distributions:
        if dist.url.startswith(("http://", "https://")) and dist.url not in wanted:
            wanted[dist.url] = dist
    if len(wanted) > MAX_DISTRIBUTIONS:
        note(
            "warning",
            _("%(n)d files listed: only the first %(kept)d are kept")
            % {"n": len(wanted), "kept": MAX_DISTRIBUTIONS},
            remote.remote_id,
        )
        wanted = dict(list(wanted.items())[:MAX_DISTRIBUTIONS])
    existing = {r.remote_url: r for r in dataset.resources.filter(kind=ResourceKind.REMOTE)}
    for url, dist in wanted.items():
        title = (dist.title or url.rsplit("/", 1)[-1] or remote.title)[:200]
        fmt = dist.format if dist.format in Format.values else ""
        resource = existing.get(url)
        if resource is None:
            try:
                resource = datahub.add_resource(
                    actor,
                    dataset,
                    title=title,
                    kind=ResourceKind.REMOTE,
                    description=dist.description,
                    format=fmt,
                    remote_url=url,
                    pull=source.pull_data,
                )
            except BadRequest as error:
                note(
                    "warning",
                    _("file %(url)s skipped: %(why)s") % {"url": url, "why": error.detail},
                    remote.remote_id,
                )
                continue
        elif (resource.title, resource.description, resource.format) != (
            title,
            dist.description,
            fmt,
        ):
            datahub.update_resource(
                actor, resource, title=title, description=dist.description, format=fmt
            )
    for url, resource in existing.items():
        if url not in wanted:
            try:
                datahub.remove_resource(actor, resource)
            except Conflict:
                note(
                    "warning",
                    _("file %(url)s no longer listed; kept (it has loaded data)")
                    % {"url": resource.remote_url},
                    remote.remote_id,
                )


def _archive_removed(source, actor, seen: set[str], state: _Run, now) -> None:
    active = HarvestedRecord.objects.filter(source=source, removed_at__isnull=True)
    gone = active.exclude(remote_id__in=seen) if seen else active
    if not seen and active.exists():
        state.note(
            "warning",
            _(
                "The catalogue listed no dataset: nothing archived (an empty answer is more "
                "likely a fault of the remote portal than the removal of everything)."
            ),
        )
        return
    for record in gone.select_related("dataset"):
        try:
            with transaction.atomic():
                dataset = record.dataset
                if dataset.status == DatasetStatus.PUBLISHED:
                    datahub.archive(actor, dataset)
                HarvestedRecord.objects.filter(pk=record.pk).update(removed_at=now)
        except PlatformError as error:
            state.run.failed += 1
            state.note(
                "error",
                _("could not archive: %(why)s") % {"why": error.detail or error.title},
                record.remote_id,
            )
            continue
        state.run.archived += 1
        state.note("info", _("no longer listed: archived"), record.remote_id)


def run_due(now=None) -> list[int]:
    """Run every active source whose time has come; returns the runs' ids. A source is
    claimed by moving its due date first, so two workers never run it twice."""
    now = now or timezone.now()
    runs = []
    due = HarvestSource.objects.filter(active=True, next_run_at__lte=now).order_by("next_run_at")
    for source in due:
        period = SCHEDULE_PERIOD[source.schedule] or timedelta(days=1)
        claimed = HarvestSource.objects.filter(pk=source.pk, next_run_at=source.next_run_at).update(
            next_run_at=now + period
        )
        if not claimed:
            continue
        runs.append(run_source(source, now=now).pk)
    return runs
