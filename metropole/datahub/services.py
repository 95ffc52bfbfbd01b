"""Every write of the data hub: one function per use case, transactional, checked with
the permissions of rules.py and recorded in the core's audit log."""

import hashlib
import io
import json
import logging
import os
import re
import tempfile
import time
import urllib.error
import urllib.request
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.db.models import Max
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from metropole.core.conf import setting
from metropole.core.exceptions import BadRequest, Conflict, NotFound
from metropole.core.middleware import max_request_bytes
from metropole.core.models import Organisation, Territory
from metropole.core.rules import require_perm
from metropole.core.services import audit

from . import storage, tasks
from .ingest.readers import check_size, human_size, max_source_bytes
from .ingest.schema import parse_table_schema
from .models import (
    Access,
    AllowedLicence,
    AvailabilityCheck,
    Dataset,
    DatasetStatus,
    DatasetTheme,
    Format,
    InvalidRows,
    Resource,
    ResourceKind,
    ResourceVersion,
    VersionStatus,
    private_storage,
)
from .vocabularies import FREQUENCY_PERIOD, Frequency, Licence, Theme

log = logging.getLogger(__name__)

DATASET_FIELDS = (
    "title",
    "description",
    "keywords",
    "licence",
    "frequency",
    "temporal_start",
    "temporal_end",
    "contact_name",
    "contact_email",
    "landing_page",
    "provenance",
    "schema_name",
    "schema_version",
    "table_schema",
    "invalid_rows",
    "access",
)


# --- datasets --------------------------------------------------------------------------


def allowed_licences(metropole: Territory) -> dict[str, str]:
    """Licence code -> title: the two open licences and those an administrator allowed."""
    licences = {str(code): str(label) for code, label in Licence.choices}
    for extra in AllowedLicence.objects.filter(metropole=metropole):
        licences[extra.code] = extra.title
    return licences


def _clean_dataset_values(dataset: Dataset, values: dict) -> dict:
    unknown = set(values) - set(DATASET_FIELDS) - {"themes", "spatial", "allowed_organisations"}
    if unknown:
        raise BadRequest(
            _("Unknown field"),
            _("Unknown fields: %(names)s.") % {"names": ", ".join(sorted(unknown))},
        )
    if "title" in values:
        values["title"] = (values["title"] or "").strip()
        if not values["title"]:
            raise BadRequest(_("Title missing"), _("Give the dataset a title."), field="title")
    if "licence" in values and values["licence"] not in allowed_licences(dataset.territory.root):
        raise BadRequest(
            _("Licence not allowed"),
            _(
                "The licence “%(code)s” is not allowed: use Licence Ouverte 2.0 (etalab-2.0) or "
                "ODbL (odbl), or ask an administrator of the metropole to allow another one."
            )
            % {"code": values["licence"]},
            field="licence",
        )
    if "frequency" in values and values["frequency"] not in Frequency.values:
        raise BadRequest(
            _("Unknown frequency"), _("Choose a frequency from the list."), field="frequency"
        )
    if "access" in values and values["access"] not in Access.values:
        raise BadRequest(
            _("Unknown access"), _("Access is public, restricted or private."), field="access"
        )
    if "invalid_rows" in values and values["invalid_rows"] not in InvalidRows.values:
        raise BadRequest(_("Unknown choice"), _("Choose reject or skip."), field="invalid_rows")
    if "keywords" in values:
        keywords = values["keywords"]
        if isinstance(keywords, str):
            keywords = keywords.split(",")
        values["keywords"] = list(dict.fromkeys(k.strip()[:60] for k in keywords if k.strip()))[:30]
    if "themes" in values:
        wrong = [t for t in values["themes"] if t not in Theme.values]
        if wrong:
            raise BadRequest(
                _("Unknown theme"),
                _("Unknown themes: %(codes)s. Themes are the EU data themes: %(all)s.")
                % {"codes": ", ".join(wrong), "all": ", ".join(Theme.values)},
                field="themes",
            )
    if values.get("contact_email"):
        try:
            validate_email(values["contact_email"])
        except ValidationError:
            raise BadRequest(
                _("Invalid e-mail"), _("Enter a valid e-mail address."), field="contact_email"
            ) from None
    if values.get("landing_page"):
        try:
            URLValidator(schemes=["http", "https"])(values["landing_page"])
        except ValidationError:
            raise BadRequest(
                _("Invalid address"), _("Enter a web address (https://…)."), field="landing_page"
            ) from None
    if values.get("table_schema") is not None:
        schema = values["table_schema"]
        if isinstance(schema, str):
            try:
                schema = json.loads(schema)
            except ValueError as error:
                raise BadRequest(
                    _("Invalid Table Schema"), str(error), field="table_schema"
                ) from None
        parse_table_schema(schema)
        values["table_schema"] = schema
    start = values.get("temporal_start", dataset.temporal_start)
    end = values.get("temporal_end", dataset.temporal_end)
    if start and end and start > end:
        raise BadRequest(
            _("Dates in the wrong order"),
            _("The coverage starts after it ends."),
            field="temporal_end",
        )
    return values


def _unique_slug(title: str, exclude_pk=None) -> str:
    base = slugify(title)[:100] or "jeu-de-donnees"
    slug, n = base, 2
    while Dataset.objects.filter(slug=slug).exclude(pk=exclude_pk).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _apply_relations(dataset: Dataset, values: dict) -> None:
    if "themes" in values:
        DatasetTheme.objects.filter(dataset=dataset).exclude(theme__in=values["themes"]).delete()
        for theme in values["themes"]:
            DatasetTheme.objects.get_or_create(dataset=dataset, theme=theme)
    if "spatial" in values:
        root = dataset.territory.root
        territories = list(Territory.objects.in_metropole(root).filter(code__in=values["spatial"]))
        missing = set(values["spatial"]) - {t.code for t in territories}
        if missing:
            raise BadRequest(
                _("Unknown territory"),
                _("Unknown territory codes: %(codes)s.") % {"codes": ", ".join(sorted(missing))},
                field="spatial",
            )
        dataset.spatial.set(territories)
    if "allowed_organisations" in values:
        organisations = list(
            Organisation.objects.filter(
                metropole=dataset.territory.root, pk__in=values["allowed_organisations"]
            )
        )
        if len(organisations) != len(set(values["allowed_organisations"])):
            raise BadRequest(
                _("Unknown organisation"),
                _("One of the organisations is not a partner of this metropole."),
                field="allowed_organisations",
            )
        dataset.allowed_organisations.set(organisations)


@transaction.atomic
def create_dataset(actor, territory: Territory, *, organisation=None, **values) -> Dataset:
    """A new draft dataset of `territory` (or published by a partner organisation)."""
    if organisation is not None:
        require_perm(actor, "datahub.publish_as_organisation", organisation)
        territory = organisation.metropole
    else:
        require_perm(actor, "datahub.add_dataset", territory)
    dataset = Dataset(territory=territory, organisation=organisation, created_by=actor)
    values = _clean_dataset_values(dataset, {"title": "", **values})
    for name, value in values.items():
        if name in DATASET_FIELDS:
            setattr(dataset, name, value)
    dataset.slug = _unique_slug(dataset.title)
    dataset.save()
    if "spatial" not in values:
        values["spatial"] = [territory.code]
    _apply_relations(dataset, values)
    compute_quality(dataset)
    audit(actor, "datahub.dataset_created", territory, dataset, title=dataset.title)
    return dataset


@transaction.atomic
def update_dataset(actor, dataset: Dataset, **values) -> Dataset:
    require_perm(actor, "datahub.change_dataset", dataset)
    values = _clean_dataset_values(dataset, values)
    changed = []
    for name, value in values.items():
        if name in DATASET_FIELDS and getattr(dataset, name) != value:
            setattr(dataset, name, value)
            changed.append(name)
    if dataset.status == DatasetStatus.PUBLISHED and "access" in changed:
        _check_access_of_published(dataset)
    # Only what changed: a load may have moved data_updated_at meanwhile.
    dataset.save(update_fields=[*changed, "updated_at"])
    _apply_relations(dataset, values)
    changed += [k for k in ("themes", "spatial", "allowed_organisations") if k in values]
    compute_quality(dataset)
    if changed:
        audit(actor, "datahub.dataset_updated", dataset.territory, dataset, fields=sorted(changed))
    return dataset


def _personal_data_problems(dataset: Dataset, ready: list[Resource]) -> list[str]:
    """Columns flagged as personal that nobody decided on (they block public access)."""
    problems = []
    if dataset.access != Access.PUBLIC:
        return problems
    for resource in ready:
        version = resource.current_version
        version.resource = resource
        for column in version.undecided_personal_columns:
            problems.append(
                _(
                    "the column “%(column)s” of “%(resource)s” may hold personal data and "
                    "awaits a reviewer's decision (remove it, or confirm it is not personal)"
                )
                % {"column": column["name"], "resource": resource.title}
            )
    return problems


def _ready_resources(dataset: Dataset) -> list[Resource]:
    return [r for r in dataset.resources.select_related("current_version") if r.current_version]


def _check_access_of_published(dataset: Dataset) -> None:
    """The access of a published dataset changes: what `publish` asks of access holds
    (never private; public only once the personal-data reviews are done). Description and
    loaded data were checked when it was published — or, for a catalogue entry (a
    harvested dataset, files left at their remote addresses), deliberately not: so the
    same entry may go from public to restricted and back."""
    if dataset.access == Access.PRIVATE:
        raise Conflict(
            _("Published dataset"),
            _("Put the dataset back to draft before making it private."),
            field="access",
        )
    problems = _personal_data_problems(dataset, _ready_resources(dataset))
    if problems:
        raise Conflict(
            _("Cannot make it public yet"),
            _("This dataset cannot be public: %(why)s.") % {"why": "; ".join(problems)},
            field="access",
        )


def _check_publishable(dataset: Dataset) -> None:
    problems = []
    if not dataset.description.strip():
        problems.append(_("it has no description"))
    ready = _ready_resources(dataset)
    if not ready:
        problems.append(_("none of its resources has loaded data"))
    problems += _personal_data_problems(dataset, ready)
    if problems:
        raise Conflict(
            _("Cannot publish yet"),
            _("This dataset cannot be published: %(why)s.") % {"why": "; ".join(problems)},
        )


@transaction.atomic
def publish(actor, dataset: Dataset, *, catalogue_entry: bool = False) -> Dataset:
    """draft (or archived) -> published, once publishable. A `catalogue_entry` (a harvested
    dataset: its files stay at their remote addresses, nothing is loaded) is published as
    listed, without the loaded-data checks."""
    require_perm(actor, "datahub.change_dataset", dataset)
    if dataset.status == DatasetStatus.PUBLISHED:
        return dataset
    if dataset.access == Access.PRIVATE:
        raise Conflict(
            _("Private draft"),
            _("Choose public or restricted access before publishing."),
            field="access",
        )
    if not catalogue_entry:
        _check_publishable(dataset)
    previous = dataset.status
    dataset.status = DatasetStatus.PUBLISHED
    dataset.published_at = dataset.published_at or timezone.now()
    dataset.archived_at = None
    dataset.save(update_fields=["status", "published_at", "archived_at", "updated_at"])
    audit(
        actor,
        "datahub.dataset_published",
        dataset.territory,
        dataset,
        previous=previous,
        access=dataset.access,
    )
    return dataset


@transaction.atomic
def archive(actor, dataset: Dataset) -> Dataset:
    """published -> archived: still readable at its address, no longer listed."""
    require_perm(actor, "datahub.change_dataset", dataset)
    if dataset.status != DatasetStatus.PUBLISHED:
        raise Conflict(_("Not published"), _("Only a published dataset can be archived."))
    dataset.status = DatasetStatus.ARCHIVED
    dataset.archived_at = timezone.now()
    dataset.save(update_fields=["status", "archived_at", "updated_at"])
    audit(actor, "datahub.dataset_archived", dataset.territory, dataset)
    return dataset


@transaction.atomic
def unpublish(actor, dataset: Dataset) -> Dataset:
    """Back to draft (e.g. a mistake was published)."""
    require_perm(actor, "datahub.change_dataset", dataset)
    if dataset.status == DatasetStatus.DRAFT:
        return dataset
    previous = dataset.status
    dataset.status = DatasetStatus.DRAFT
    dataset.save(update_fields=["status", "updated_at"])
    audit(actor, "datahub.dataset_unpublished", dataset.territory, dataset, previous=previous)
    return dataset


@transaction.atomic
def allow_licence(actor, metropole: Territory, *, code: str, title: str, url: str):
    require_perm(actor, "datahub.allow_licence", metropole)
    if not metropole.is_metropole:
        raise BadRequest(_("Not a metropole"), _("Licences are allowed for a whole metropole."))
    code = slugify(code)[:64]
    if not code or not title.strip():
        raise BadRequest(_("Incomplete licence"), _("Give a code and a title."), field="code")
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise BadRequest(
            _("Invalid address"), _("Give the address of the licence's text."), field="url"
        ) from None
    licence, created = AllowedLicence.objects.get_or_create(
        metropole=metropole,
        code=code,
        defaults={"title": title.strip(), "url": url, "allowed_by": actor},
    )
    if not created:
        raise Conflict(_("Already allowed"), _("This licence is already allowed."))
    audit(actor, "datahub.licence_allowed", metropole, licence, code=code)
    return licence


# --- resources -------------------------------------------------------------------------


@transaction.atomic
def add_resource(
    actor,
    dataset: Dataset,
    *,
    title: str,
    kind: str = ResourceKind.UPLOAD,
    description: str = "",
    format: str = "",
    remote_url: str = "",
    pull_frequency: str = "",
    export_key: str = "",
    pull: bool = True,
) -> Resource:
    """A new resource of `dataset`. A remote one is pulled (downloaded and loaded) unless
    `pull` is False: then only its address is recorded (a harvested catalogue entry)."""
    require_perm(actor, "datahub.change_dataset", dataset)
    title = (title or "").strip()
    if not title:
        raise BadRequest(_("Title missing"), _("Give the resource a title."), field="title")
    if kind not in ResourceKind.values:
        raise BadRequest(_("Unknown kind"), _("Unknown kind of resource."), field="kind")
    if format and format not in Format.values:
        raise BadRequest(
            _("Unknown format"), _("Formats: CSV, XLSX, ODS, JSON, GeoJSON."), field="format"
        )
    if kind == ResourceKind.REMOTE:
        try:
            URLValidator(schemes=["http", "https"])(remote_url)
        except ValidationError:
            raise BadRequest(
                _("Invalid address"),
                _("Give the address (https://…) of the file to pull."),
                field="remote_url",
            ) from None
        if pull_frequency and pull_frequency not in Frequency.values:
            raise BadRequest(
                _("Unknown frequency"),
                _("Choose a frequency from the list."),
                field="pull_frequency",
            )
    if kind == ResourceKind.MODULE_EXPORT:
        from metropole.core.registry import registry

        if export_key not in registry.exports():
            raise BadRequest(
                _("Unknown export"),
                _("No module publishes “%(key)s”.") % {"key": export_key},
                field="export_key",
            )
        format = "json"
    position = (dataset.resources.aggregate(m=Max("position"))["m"] or 0) + 1
    resource = Resource.objects.create(
        dataset=dataset,
        title=title[:200],
        description=description,
        kind=kind,
        format=format,
        remote_url=remote_url if kind == ResourceKind.REMOTE else "",
        pull_frequency=pull_frequency if kind == ResourceKind.REMOTE else "",
        next_pull_at=timezone.now()
        if kind == ResourceKind.MODULE_EXPORT or (kind == ResourceKind.REMOTE and pull)
        else None,
        export_key=export_key if kind == ResourceKind.MODULE_EXPORT else "",
        position=position,
    )
    audit(actor, "datahub.resource_added", dataset.territory, resource, title=title, kind=kind)
    return resource


RESOURCE_FIELDS = ("title", "description", "format")


@transaction.atomic
def update_resource(actor, resource: Resource, **values) -> Resource:
    """Change a resource's title, description or format."""
    require_perm(actor, "datahub.change_dataset", resource.dataset)
    unknown = set(values) - set(RESOURCE_FIELDS)
    if unknown:
        raise BadRequest(
            _("Unknown field"),
            _("A resource has no field %(name)s.") % {"name": ", ".join(sorted(unknown))},
            field=sorted(unknown)[0],
        )
    if "title" in values:
        values["title"] = (values["title"] or "").strip()[:200]
        if not values["title"]:
            raise BadRequest(_("Title missing"), _("Give the resource a title."), field="title")
    if values.get("format") and values["format"] not in Format.values:
        raise BadRequest(
            _("Unknown format"), _("Formats: CSV, XLSX, ODS, JSON, GeoJSON."), field="format"
        )
    changed = [name for name, value in values.items() if getattr(resource, name) != value]
    if not changed:
        return resource
    for name in changed:
        setattr(resource, name, values[name])
    resource.save(update_fields=[*changed, "updated_at"])
    audit(
        actor,
        "datahub.resource_updated",
        resource.dataset.territory,
        resource,
        **{name: values[name] for name in changed},
    )
    return resource


@transaction.atomic
def remove_resource(actor, resource: Resource) -> None:
    """Remove a resource that never loaded data (e.g. a remote address no longer listed);
    one with loaded versions is kept (Conflict): its data has a history."""
    require_perm(actor, "datahub.change_dataset", resource.dataset)
    if resource.versions.exists():
        raise Conflict(
            _("Resource has data"),
            _("“%(title)s” has loaded data: it is kept.") % {"title": resource.title},
        )
    audit(
        actor,
        "datahub.resource_removed",
        resource.dataset.territory,
        resource,
        title=resource.title,
        url=resource.remote_url,
    )
    resource.delete()


def _next_number(resource: Resource) -> int:
    return (resource.versions.aggregate(m=Max("number"))["m"] or 0) + 1


def _store_source(version: ResourceVersion, source, name: str) -> None:
    """Copy the source into private storage, computing its size and SHA-256 as it goes;
    refuse it as soon as it passes the size limit."""
    digest = hashlib.sha256()
    limit = max_source_bytes()
    safe_name = re.sub(r"[^A-Za-z0-9._-]+", "_", os.path.basename(name))[-100:] or "source"
    fd, temp_path = tempfile.mkstemp(dir=_tmp_dir())
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            chunks = (
                source.chunks()
                if hasattr(source, "chunks")
                else iter(lambda: source.read(1 << 20), b"")
            )
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    check_size(size)  # raises "file too large"
                digest.update(chunk)
                out.write(chunk)
        check_size(size)
        with open(temp_path, "rb") as stored:
            version.file.save(
                f"{version.resource.uid}-v{version.number}-{safe_name}", File(stored), save=False
            )
    finally:
        if os.path.exists(temp_path):
            os.unlink(temp_path)
    version.size = size
    version.checksum = digest.hexdigest()
    version.original_name = os.path.basename(name)[:255]


def _tmp_dir():
    path = private_storage.path("tmp")
    os.makedirs(path, exist_ok=True)
    return path


def _enqueue(version: ResourceVersion) -> None:
    version_id = version.pk
    transaction.on_commit(lambda: tasks.load_resource_version.enqueue(version_id))


@transaction.atomic
def upload(
    actor, resource: Resource, source, *, name: str = "", invalid_rows: str = "", format: str = ""
) -> ResourceVersion:
    """A new version of `resource` from an uploaded file (or any file object); its load
    runs in the background. `invalid_rows` overrides the dataset's choice."""
    require_perm(actor, "datahub.change_dataset", resource.dataset)
    if resource.kind not in (ResourceKind.UPLOAD, ResourceKind.REMOTE):
        raise BadRequest(
            _("Wrong kind of resource"),
            _("Files are uploaded to file resources; this table is fed through the API."),
        )
    size = getattr(source, "size", None)
    if size is not None:
        check_size(size)
    return _new_version(
        actor,
        resource,
        source,
        name or getattr(source, "name", "source"),
        invalid_rows=invalid_rows,
        format=format,
    )


def _new_version(
    actor, resource, source, name, *, invalid_rows="", format="", report=None, source_url=""
):
    if invalid_rows and invalid_rows not in InvalidRows.values:
        raise BadRequest(_("Unknown choice"), _("Choose reject or skip."), field="invalid_rows")
    if format and format not in Format.values:
        raise BadRequest(
            _("Unknown format"), _("Formats: CSV, XLSX, ODS, JSON, GeoJSON."), field="format"
        )
    Resource.objects.select_for_update().filter(pk=resource.pk).first()
    version = ResourceVersion(
        resource=resource,
        number=_next_number(resource),
        invalid_rows=invalid_rows or resource.dataset.invalid_rows,
        format=format or "",
        created_by=actor if actor is not None and actor.is_authenticated else None,
        report=report or {},
        source_url=source_url,
    )
    _store_source(version, source, name)
    version.save()
    audit(
        actor,
        "datahub.version_uploaded",
        resource.dataset.territory,
        version,
        resource=str(resource.uid),
        number=version.number,
        size=version.size,
        checksum=version.checksum,
    )
    _enqueue(version)
    return version


@transaction.atomic
def push_rows(actor, resource: Resource, rows: list, *, mode: str = "append") -> ResourceVersion:
    """Rows sent through the API to a table fed that way: a new version holding the
    previous rows and these (append), or only these (replace)."""
    require_perm(actor, "datahub.change_dataset", resource.dataset)
    if resource.kind != ResourceKind.API:
        raise BadRequest(
            _("Wrong kind of resource"),
            _("Rows can be pushed only to a table fed through the API."),
        )
    if mode not in ("append", "replace"):
        raise BadRequest(_("Unknown mode"), _("Mode is append or replace."), field="mode")
    if not isinstance(rows, list) or not rows:
        raise BadRequest(_("No rows"), _("Send a non-empty array of objects."), field="rows")
    limit = int(setting("DATAHUB_MAX_PUSHED_ROWS", 50_000))
    if len(rows) > limit:
        raise BadRequest(
            _("Too many rows"), _("Send at most %(n)d rows at a time.") % {"n": limit}, field="rows"
        )
    for index, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise BadRequest(
                _("Not an object"), _("Row %(n)d is not an object.") % {"n": index}, field="rows"
            )
    pending = resource.versions.filter(
        status__in=[VersionStatus.QUEUED, VersionStatus.LOADING]
    ).exists()
    if pending and mode == "append":
        raise Conflict(
            _("Load in progress"),
            _("The previous rows are still being loaded: send these again when it is done."),
        )
    resource.refresh_from_db(fields=["current_version"])
    append = mode == "append" and resource.current_version_id is not None
    payload = json.dumps(rows, ensure_ascii=False, default=str).encode()
    return _new_version(
        actor,
        resource,
        io.BytesIO(payload),
        "rows.json",
        format="json",
        report={"append": append} if append else {},
    )


@transaction.atomic
def rollback(actor, resource: Resource, number: int) -> ResourceVersion:
    """Serve version `number` again (its table must still exist)."""
    from .ingest.pipeline import make_current

    require_perm(actor, "datahub.change_dataset", resource.dataset)
    version = resource.versions.filter(number=number).first()
    if version is None:
        raise NotFound(
            _("Unknown version"), _("This resource has no version %(n)s.") % {"n": number}
        )
    if not version.has_table:
        raise Conflict(
            _("Version not available"),
            _("Version %(n)s cannot be served again: it %(why)s.")
            % {
                "n": number,
                "why": _("failed to load")
                if version.status == VersionStatus.FAILED
                else _("is not loaded yet")
                if version.status in (VersionStatus.QUEUED, VersionStatus.LOADING)
                else _("was deleted after the retention period"),
            },
        )
    if version.pk == resource.current_version_id:
        return version
    previous = resource.current_version
    make_current(version)
    audit(
        actor,
        "datahub.version_rolled_back",
        resource.dataset.territory,
        version,
        resource=str(resource.uid),
        number=number,
        previous=previous.number if previous else None,
    )
    compute_quality(resource.dataset)
    return version


@transaction.atomic
def review_column(actor, resource: Resource, column: str, decision: str) -> Resource:
    """A reviewer's decision on a column flagged as personal: "removed" drops it from
    every table of the resource (and later loads skip it); "confirmed" records that it
    is not personal data."""
    dataset = resource.dataset
    require_perm(actor, "datahub.review_personal_data", dataset)
    if decision not in ("removed", "confirmed"):
        raise BadRequest(
            _("Unknown decision"), _("The decision is removed or confirmed."), field="decision"
        )
    versions = list(resource.versions.all())
    known = {c["name"] for v in versions for c in v.columns}
    if column not in known:
        raise NotFound(
            _("Unknown column"), _("The resource has no column “%(name)s”.") % {"name": column}
        )
    if resource.decision(column) == "removed" and decision == "confirmed":
        raise Conflict(
            _("Column removed"), _("This column was removed; load the file again to bring it back.")
        )
    resource.column_decisions = {
        **resource.column_decisions,
        column: {"decision": decision, "by": actor.email, "at": timezone.now().isoformat()},
    }
    resource.save(update_fields=["column_decisions", "updated_at"])
    if decision == "removed":
        for version in versions:
            version.resource = resource
            changed = False
            for item in version.columns:
                if item["name"] == column and item.get("stored", True):
                    if version.has_table:
                        storage.drop_column(version, item["sql_name"])
                    item["stored"] = False
                    changed = True
            if changed:
                version.save(update_fields=["columns"])
                if version.has_table:
                    storage.finish_table_indexes(version)
            # The source file still holds the column: it is deleted.
            if changed and version.file:
                version.file.delete(save=False)
                version.file = ""
                version.save(update_fields=["file"])
    audit(
        actor,
        "datahub.column_reviewed",
        dataset.territory,
        resource,
        column=column,
        decision=decision,
    )
    return resource


# --- remote resources ------------------------------------------------------------------


def _fetch(url: str, destination) -> tuple[int, str]:
    """Download `url` into `destination` (a binary file), at most the size limit."""
    limit = max_source_bytes()
    request = urllib.request.Request(url, headers={"User-Agent": "Metropole-datahub/1.0"})
    timeout = int(setting("DATAHUB_PULL_TIMEOUT", 60))
    size = 0
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) only
        content_type = response.headers.get("Content-Type", "")
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > limit:
            check_size(int(declared))
        while chunk := response.read(1 << 20):
            size += len(chunk)
            if size > limit:
                check_size(size)
            destination.write(chunk)
    return size, content_type


def pull_remote(resource: Resource, actor=None) -> ResourceVersion | None:
    """Download a remote resource; a new version when its content changed (None when it
    did not). Records an availability check either way."""
    if resource.kind != ResourceKind.REMOTE:
        raise BadRequest(_("Not a remote resource"), _("Only remote resources are pulled."))
    started = time.monotonic()
    fd, path = tempfile.mkstemp(dir=_tmp_dir())
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                _fetch(resource.remote_url, out)
            except (urllib.error.URLError, OSError, ValueError) as error:
                status = getattr(error, "code", None)
                AvailabilityCheck.objects.create(
                    resource=resource,
                    available=False,
                    status_code=status,
                    response_ms=int(1000 * (time.monotonic() - started)),
                    error=str(getattr(error, "reason", error))[:500],
                )
                _schedule_next_pull(resource)
                return None
        AvailabilityCheck.objects.create(
            resource=resource,
            available=True,
            status_code=200,
            response_ms=int(1000 * (time.monotonic() - started)),
        )
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        resource.refresh_from_db(fields=["current_version"])
        current = resource.current_version
        _schedule_next_pull(resource)
        if current is not None and current.checksum == digest.hexdigest():
            return None
        name = os.path.basename(resource.remote_url.split("?")[0]) or "remote"
        with open(path, "rb") as handle, transaction.atomic():
            version = _new_version(actor, resource, handle, name, source_url=resource.remote_url)
        return version
    finally:
        if os.path.exists(path):
            os.unlink(path)


def _schedule_next_pull(resource: Resource) -> None:
    period = FREQUENCY_PERIOD.get(resource.pull_frequency) or timedelta(days=1)
    now = timezone.now()
    Resource.objects.filter(pk=resource.pk).update(last_pulled_at=now, next_pull_at=now + period)


def check_availability(resource: Resource) -> AvailabilityCheck:
    """HEAD (then GET) the remote URL and record whether it answers."""
    started = time.monotonic()
    status, error = None, ""
    for method in ("HEAD", "GET"):
        request = urllib.request.Request(
            resource.remote_url, method=method, headers={"User-Agent": "Metropole-datahub/1.0"}
        )
        try:
            with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
                status = response.status
                error = ""
                break
        except urllib.error.HTTPError as failure:
            status, error = failure.code, str(failure.reason)[:500]
            if failure.code != 405:
                break
        except (urllib.error.URLError, OSError, ValueError) as failure:
            status, error = None, str(getattr(failure, "reason", failure))[:500]
            break
    return AvailabilityCheck.objects.create(
        resource=resource,
        available=status is not None and 200 <= status < 400,
        status_code=status,
        response_ms=int(1000 * (time.monotonic() - started)),
        error=error,
    )


def pull_due(now=None) -> list[int]:
    """Pull every remote resource whose time has come, and refresh module exports.
    Returns the ids of the versions created."""
    now = now or timezone.now()
    created = []
    due = Resource.objects.filter(
        kind__in=[ResourceKind.REMOTE, ResourceKind.MODULE_EXPORT], next_pull_at__lte=now
    ).select_related("dataset__territory", "current_version")
    for resource in due:
        try:
            if resource.kind == ResourceKind.REMOTE:
                version = pull_remote(resource)
            else:
                version = refresh_module_export(resource)
        except BadRequest as error:
            log.warning("pull of resource %s refused: %s", resource.pk, error.detail)
            _schedule_next_pull(resource)
            continue
        if version is not None:
            created.append(version.pk)
    return created


def refresh_module_export(resource: Resource, actor=None) -> ResourceVersion | None:
    """A module's open-data export (registry.exports()) as a new version, when changed."""
    from metropole.core.registry import registry

    export = registry.exports().get(resource.export_key)
    if export is None:
        raise BadRequest(
            _("Unknown export"),
            _("No module publishes “%(key)s” any more.") % {"key": resource.export_key},
        )
    territory = resource.dataset.territory
    fd, path = tempfile.mkstemp(dir=_tmp_dir(), suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("[")
            for index, row in enumerate(export.rows(territory)):
                if index:
                    out.write(",\n")
                out.write(
                    json.dumps(
                        {k: row.get(k) for k in export.fields}, ensure_ascii=False, default=str
                    )
                )
            out.write("]")
        digest = hashlib.sha256(open(path, "rb").read()).hexdigest()  # noqa: SIM115
        _schedule_next_pull(resource)
        resource.refresh_from_db(fields=["current_version"])
        if resource.current_version and resource.current_version.checksum == digest:
            return None
        with open(path, "rb") as handle, transaction.atomic():
            return _new_version(
                actor, resource, handle, f"{resource.export_key}.json", format="json"
            )
    finally:
        os.unlink(path)


# --- retention -------------------------------------------------------------------------


def drop_expired_versions(now=None) -> int:
    """Drop the tables of versions superseded more than DATAHUB_VERSION_RETENTION_DAYS
    ago (the last DATAHUB_VERSIONS_KEPT versions of each resource are always kept)."""
    now = now or timezone.now()
    days = int(setting("DATAHUB_VERSION_RETENTION_DAYS", 30))
    kept = int(setting("DATAHUB_VERSIONS_KEPT", 3))
    dropped = 0
    candidates = ResourceVersion.objects.filter(
        status=VersionStatus.SUPERSEDED,
        superseded_at__lt=now - timedelta(days=days),
        table_dropped_at__isnull=True,
    ).select_related("resource")
    for version in candidates:
        recent = list(
            version.resource.versions.filter(
                status__in=[VersionStatus.READY, VersionStatus.SUPERSEDED]
            )
            .order_by("-number")
            .values_list("pk", flat=True)[:kept]
        )
        if version.pk in recent or version.pk == version.resource.current_version_id:
            continue
        with transaction.atomic():
            storage.drop_table(version)
            version.table_dropped_at = now
            version.save(update_fields=["table_dropped_at"])
            if version.file:
                version.file.delete(save=False)
                version.file = ""
                version.save(update_fields=["file"])
        dropped += 1
    return dropped


# --- quality ---------------------------------------------------------------------------

QUALITY_FIELDS = (
    ("description", lambda d: len(d.description.strip()) >= 40),
    ("keywords", lambda d: bool(d.keywords)),
    ("themes", lambda d: d.themes.exists()),
    ("frequency", lambda d: d.frequency != Frequency.UNKNOWN),
    ("spatial", lambda d: d.spatial.exists()),
    ("temporal", lambda d: d.temporal_start is not None),
    ("contact", lambda d: bool(d.contact_email or d.contact_name)),
    ("provenance", lambda d: bool(d.provenance.strip() or d.landing_page)),
    ("schema", lambda d: bool(d.schema_name or d.table_schema)),
)


def compute_quality(dataset: Dataset, now=None) -> int:
    """Score out of 100: metadata completeness (40), validity of the loaded data against
    its schema (30), freshness against the declared frequency (30); remote resources
    that did not answer at their last check cost points of validity."""
    now = now or timezone.now()
    dataset.refresh_from_db(fields=["data_updated_at"])
    filled = {name: bool(test(dataset)) for name, test in QUALITY_FIELDS}
    metadata = sum(filled.values()) / len(filled)
    versions = [
        r.current_version
        for r in dataset.resources.select_related("current_version")
        if r.current_version
    ]
    total_rows = sum(v.row_count + v.invalid_row_count for v in versions)
    invalid = sum(v.invalid_row_count for v in versions)
    validity = (1 - invalid / total_rows) if total_rows else 0.0
    unavailable = [
        r.pk
        for r in dataset.resources.filter(kind=ResourceKind.REMOTE)
        if (c := r.availability_checks.first()) is not None and not c.available
    ]
    if unavailable:
        validity *= 0.5
    period = FREQUENCY_PERIOD.get(dataset.frequency)
    if period is None or dataset.data_updated_at is None:
        freshness = None if dataset.data_updated_at else 0.0
    else:
        age = now - dataset.data_updated_at
        freshness = 1.0 if age <= period * 1.5 else max(0.0, 1 - (age / period - 1.5) / 3)
    weights = {"metadata": 40, "validity": 30, "freshness": 30}
    parts = {"metadata": metadata, "validity": validity, "freshness": freshness}
    used = {k: v for k, v in parts.items() if v is not None}
    score = round(
        sum(weights[k] * v for k, v in used.items()) * 100 / sum(weights[k] for k in used)
    )
    details = {
        "metadata": round(100 * metadata),
        "missing_metadata": [k for k, ok in filled.items() if not ok],
        "validity": round(100 * validity),
        "invalid_rows": invalid,
        "unavailable_resources": unavailable,
        "freshness": None if freshness is None else round(100 * freshness),
        "computed_at": now.isoformat(),
    }
    Dataset.objects.filter(pk=dataset.pk).update(quality_score=score, quality_details=details)
    dataset.quality_score, dataset.quality_details = score, details
    return score


def human_limit() -> str:
    """The largest file a publisher may send through a page: the data hub's limit, or the
    platform's request limit when smaller (the core refuses a larger request with 413).
    Written as the refusal that applies will write it."""
    source, request = max_source_bytes(), max_request_bytes()
    return filesizeformat(request) if request < source else human_size(source)


# --- the other modules' open data --------------------------------------------------------


def sync_module_exports(metropole: Territory, *, keys=None) -> list[Dataset]:
    """One dataset per open-data export of the platform's modules (`registry.exports()`),
    owned by the metropole, with a "module export" resource that the scheduler refreshes.

    Idempotent (datasets are found by their export key). A new dataset is published once
    its first load is ready, unless the personal-data guard flagged a column: then it
    stays a draft until a reviewer decides (the modules promise open data; the guard
    still checks)."""
    from metropole.core.registry import registry

    from .ingest.pipeline import load_version

    done = []
    for key, export in registry.exports().items():
        if key.startswith("datahub.") or (keys is not None and key not in keys):
            continue
        resource = (
            Resource.objects.select_related("dataset")
            .filter(kind=ResourceKind.MODULE_EXPORT, export_key=key, dataset__territory=metropole)
            .first()
        )
        if resource is None:
            with transaction.atomic():
                dataset = Dataset.objects.create(
                    territory=metropole,
                    title=str(export.title)[:200],
                    slug=_unique_slug(f"{export.title} {metropole.code}"),
                    description=str(export.description),
                    licence=export.licence,
                    frequency=Frequency.DAILY,
                    provenance=f"Export « {key} » de la plateforme ({key.split('.')[0]}).",
                    access=Access.PUBLIC,
                )
                dataset.spatial.add(metropole)
                resource = Resource.objects.create(
                    dataset=dataset,
                    title=str(export.title)[:200],
                    kind=ResourceKind.MODULE_EXPORT,
                    export_key=key,
                    format="json",
                    pull_frequency=Frequency.DAILY,
                )
                audit(None, "datahub.module_export_added", metropole, dataset, export=key)
        dataset = resource.dataset
        version = refresh_module_export(resource)
        if version is not None:
            load_version(version.pk)
        resource.refresh_from_db()
        current = resource.current_version
        if current is not None and dataset.status == DatasetStatus.DRAFT:
            current.resource = resource
            if not current.undecided_personal_columns:
                Dataset.objects.filter(pk=dataset.pk).update(
                    status=DatasetStatus.PUBLISHED, published_at=timezone.now()
                )
                audit(None, "datahub.dataset_published", metropole, dataset, export=key)
        compute_quality(dataset)
        done.append(dataset)
    return done
