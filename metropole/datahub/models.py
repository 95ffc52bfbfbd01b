"""The data hub's catalogue: datasets (DCAT-AP metadata), their resources and the
versions of each resource.

The rows of a loaded version do not live in these tables: each version has its own
table (`datahub_data.rv_<id>` on PostgreSQL, `datahub_rv_<id>` on SQLite; see
`storage.py` and docs/datahub.md). These models hold the metadata, the load's progress
and report, and which version each resource currently serves.
"""

import os
import uuid

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import connection, models
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from metropole.core.conf import setting
from metropole.core.models import Organisation, Territory

from .vocabularies import Frequency, Licence, Theme

DATA_SCHEMA = "datahub_data"


def _files_dir():
    return setting("DATAHUB_FILES_DIR", "") or (settings.VAR_DIR / "datahub-files")


class PrivateFileStorage(FileSystemStorage):
    """Uploaded and pulled source files: outside MEDIA_ROOT, never served directly
    (they may hold columns a reviewer removed; downloads go through the query API)."""

    def __init__(self, **kwargs):
        super().__init__(location=None, **kwargs)

    @cached_property
    def base_location(self):
        return str(_files_dir())

    @cached_property
    def location(self):
        return os.path.abspath(self.base_location)


private_storage = PrivateFileStorage()


class Access(models.TextChoices):
    PUBLIC = "public", _("public")
    RESTRICTED = "restricted", _("restricted")
    PRIVATE = "private", _("private draft")


class DatasetStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    PUBLISHED = "published", _("published")
    ARCHIVED = "archived", _("archived")


class InvalidRows(models.TextChoices):
    """What a load does with rows that break the declared Table Schema."""

    REJECT = "reject", _("reject the whole load")
    SKIP = "skip", _("load the valid rows and report the others")


class AllowedLicence(models.Model):
    """A licence other than Licence Ouverte 2.0 and ODbL, allowed by an administrator
    of the metropole (DCAT-AP needs a licence document URL)."""

    metropole = models.ForeignKey(
        Territory, on_delete=models.CASCADE, related_name="+", verbose_name=_("metropole")
    )
    code = models.SlugField(_("code"), max_length=64)
    title = models.CharField(_("title"), max_length=200)
    url = models.URLField(_("licence text"))
    allowed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    allowed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["metropole", "code"], name="unique_allowed_licence")
        ]
        ordering = ["code"]

    def __str__(self):
        return self.title


class DatasetQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=DatasetStatus.PUBLISHED)

    def public(self):
        return self.filter(status=DatasetStatus.PUBLISHED, access=Access.PUBLIC)


class Dataset(models.Model):
    """A dataset of the catalogue, with its DCAT-AP metadata.

    `territory` owns it (its agents manage it); when a partner organisation publishes,
    `organisation` is set and `territory` is the metropole. `uid` is the stable
    identifier exported to DCAT-AP (dct:identifier): a UUID, never a URL.
    """

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    territory = models.ForeignKey(
        Territory, on_delete=models.PROTECT, related_name="datasets", verbose_name=_("territory")
    )
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="datasets",
        verbose_name=_("publishing organisation"),
    )
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    keywords = models.JSONField(_("keywords"), default=list, blank=True)
    licence = models.CharField(_("licence"), max_length=64, default=Licence.ETALAB_2)
    frequency = models.CharField(
        _("update frequency"), max_length=16, choices=Frequency.choices, default=Frequency.UNKNOWN
    )
    spatial = models.ManyToManyField(
        Territory,
        blank=True,
        related_name="datasets_covering",
        verbose_name=_("spatial coverage"),
    )
    temporal_start = models.DateField(_("covers from"), null=True, blank=True)
    temporal_end = models.DateField(_("covers until"), null=True, blank=True)
    contact_name = models.CharField(_("contact point"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    landing_page = models.URLField(_("web page"), blank=True)
    provenance = models.TextField(
        _("source and provenance"),
        blank=True,
        help_text=_("Where the data comes from, and how it was produced or transformed."),
    )
    schema_name = models.CharField(
        _("Table Schema name"),
        max_length=200,
        blank=True,
        help_text=_("e.g. etalab/schema-irve-statique (schema.data.gouv.fr)"),
    )
    schema_version = models.CharField(_("Table Schema version"), max_length=32, blank=True)
    # The Table Schema descriptor itself (frictionless), when declared.
    table_schema = models.JSONField(_("Table Schema"), null=True, blank=True)
    invalid_rows = models.CharField(
        _("rows that break the schema"),
        max_length=8,
        choices=InvalidRows.choices,
        default=InvalidRows.REJECT,
    )
    access = models.CharField(
        _("access"), max_length=16, choices=Access.choices, default=Access.PRIVATE
    )
    allowed_organisations = models.ManyToManyField(
        Organisation,
        blank=True,
        related_name="restricted_datasets",
        verbose_name=_("organisations allowed to read it"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=DatasetStatus.choices, default=DatasetStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    # When the data last changed (a version became current); drives freshness.
    data_updated_at = models.DateTimeField(null=True, blank=True)
    quality_score = models.PositiveSmallIntegerField(null=True, blank=True)
    quality_details = models.JSONField(default=dict, blank=True)

    objects = DatasetQuerySet.as_manager()

    class Meta:
        verbose_name = _("dataset")
        verbose_name_plural = _("datasets")
        ordering = ["-updated_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "access", "-updated_at"]),
            models.Index(fields=["territory", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(temporal_start__isnull=True)
                | Q(temporal_end__isnull=True)
                | Q(temporal_start__lte=models.F("temporal_end")),
                name="dataset_temporal_order",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def publisher_name(self) -> str:
        return self.organisation.name if self.organisation_id else self.territory.display_name

    @property
    def theme_codes(self) -> list[str]:
        return [t.theme for t in self.themes.all()]

    def get_absolute_url(self) -> str:
        try:
            return reverse("datahub:dataset", kwargs={"slug": self.slug})
        except NoReverseMatch:  # the portal's URLs are not mounted
            return reverse("api:datahub_dataset", kwargs={"uid": self.uid})


class DatasetTheme(models.Model):
    """One EU data theme of a dataset (a row per theme keeps facets portable)."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="themes")
    theme = models.CharField(max_length=4, choices=Theme.choices, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dataset", "theme"], name="unique_dataset_theme")
        ]
        ordering = ["theme"]

    def __str__(self):
        return self.theme


class ResourceKind(models.TextChoices):
    UPLOAD = "upload", _("uploaded file")
    REMOTE = "remote", _("remote file pulled on a schedule")
    API = "api", _("table fed through the API")
    MODULE_EXPORT = "module_export", _("open data of a platform module")


class Format(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"
    ODS = "ods", "ODS"
    JSON = "json", "JSON"
    GEOJSON = "geojson", "GeoJSON"


class Resource(models.Model):
    """A distribution of a dataset: a table whose rows come from a file, a URL, the API
    or a module's export. It serves its `current_version`."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="resources")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(
        _("kind"), max_length=16, choices=ResourceKind.choices, default=ResourceKind.UPLOAD
    )
    format = models.CharField(_("format"), max_length=8, choices=Format.choices, blank=True)
    remote_url = models.URLField(_("address of the remote file"), max_length=1000, blank=True)
    pull_frequency = models.CharField(
        _("pulled"), max_length=16, choices=Frequency.choices, blank=True
    )
    next_pull_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_pulled_at = models.DateTimeField(null=True, blank=True)
    # "<module label>.<export key>" of registry.exports() for kind=module_export.
    export_key = models.CharField(max_length=100, blank=True)
    # Reviewers' decisions on columns flagged as personal, by source header:
    # {"Courriel": {"decision": "removed", "by": "...", "at": "..."}}. A removed column is
    # dropped from every table of this resource and skipped by every later load.
    column_decisions = models.JSONField(default=dict, blank=True)
    current_version = models.ForeignKey(
        "ResourceVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "pk"]
        indexes = [models.Index(fields=["kind", "next_pull_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind=ResourceKind.REMOTE) | ~Q(remote_url=""),
                name="remote_resource_has_url",
            ),
            models.CheckConstraint(
                condition=~Q(kind=ResourceKind.MODULE_EXPORT) | ~Q(export_key=""),
                name="module_export_has_key",
            ),
        ]

    def __str__(self):
        return self.title

    def decision(self, header: str) -> str:
        return (self.column_decisions.get(header) or {}).get("decision", "")


class VersionStatus(models.TextChoices):
    QUEUED = "queued", _("waiting")
    LOADING = "loading", _("loading")
    READY = "ready", _("ready")
    FAILED = "failed", _("failed")
    SUPERSEDED = "superseded", _("replaced by a newer version")


class ResourceVersion(models.Model):
    """One load of a resource: its source file, progress, columns and report, and the
    table holding its rows.

    `columns` is a list of dicts, one per source column in file order:
    {"name": header, "sql_name": "c1", "type": "integer", "title": "", "format": "",
     "stored": bool, "personal": {"flagged": bool, "reasons": [...], "kind": "email"}}
    A column with stored=False (removed by a reviewer) has no physical column.

    `report` holds what the load found: {"errors": [{"row": n, "column": name,
    "code": "...", "message": "..."}], "error_count": n, "invalid_rows": n,
    "warnings": [...], "formulas": [...]}; `error_title`/`error_detail` say why a failed
    load failed.
    """

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(
        max_length=16, choices=VersionStatus.choices, default=VersionStatus.QUEUED
    )
    file = models.FileField(storage=private_storage, upload_to="sources/%Y/%m/", blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    source_url = models.URLField(max_length=1000, blank=True)
    format = models.CharField(max_length=8, choices=Format.choices, blank=True)
    size = models.BigIntegerField(default=0)
    checksum = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the source")
    encoding = models.CharField(max_length=32, blank=True)
    delimiter = models.CharField(max_length=4, blank=True)
    invalid_rows = models.CharField(
        max_length=8, choices=InvalidRows.choices, default=InvalidRows.REJECT
    )
    rows_done = models.BigIntegerField(default=0)
    rows_total = models.BigIntegerField(null=True, blank=True, help_text="estimate while loading")
    row_count = models.BigIntegerField(default=0)
    invalid_row_count = models.BigIntegerField(default=0)
    columns = models.JSONField(default=list, blank=True)
    geolocated = models.BooleanField(default=False)
    report = models.JSONField(default=dict, blank=True)
    error_title = models.CharField(max_length=200, blank=True)
    error_detail = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Timings of the load's stages in seconds: {"read": .., "copy": .., "index": ..}.
    timings = models.JSONField(default=dict, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    table_dropped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["resource", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["resource", "number"], name="unique_version_number")
        ]
        indexes = [models.Index(fields=["status", "superseded_at"])]

    def __str__(self):
        return f"{self.resource} v{self.number}"

    @property
    def table_name(self) -> str:
        """The physical table's name (unqualified)."""
        return f"rv_{self.pk}" if connection.vendor == "postgresql" else f"datahub_rv_{self.pk}"

    @property
    def table_schema_name(self) -> str | None:
        return DATA_SCHEMA if connection.vendor == "postgresql" else None

    @property
    def is_current(self) -> bool:
        return self.resource.current_version_id == self.pk

    @property
    def has_table(self) -> bool:
        return self.status in (VersionStatus.READY, VersionStatus.SUPERSEDED) and (
            self.table_dropped_at is None
        )

    @property
    def stored_columns(self) -> list[dict]:
        return [c for c in self.columns if c.get("stored", True)]

    @property
    def undecided_personal_columns(self) -> list[dict]:
        return [
            c
            for c in self.stored_columns
            if (c.get("personal") or {}).get("flagged")
            and self.resource.decision(c["name"]) != "confirmed"
        ]

    @property
    def progress_percent(self) -> int | None:
        if self.status == VersionStatus.READY:
            return 100
        if not self.rows_total:
            return None
        return min(99, int(100 * self.rows_done / self.rows_total))

    def table_spec(self):
        """The contract's TableSpec of this version (every stored column)."""
        from .querying.spec import Column, TableSpec

        return TableSpec(
            table=self.table_name,
            schema=self.table_schema_name,
            columns=tuple(
                Column(
                    name=c["name"],
                    sql_name=c["sql_name"],
                    type=c["type"],
                    title=c.get("title", ""),
                    aggregatable=c["type"] in ("integer", "number"),
                )
                for c in self.stored_columns
            ),
            row_count=self.row_count,
            geolocated=self.geolocated,
            cache_key=f"rv{self.pk}",
        )


class AvailabilityCheck(models.Model):
    """One check that a remote resource's URL answers."""

    resource = models.ForeignKey(
        Resource, on_delete=models.CASCADE, related_name="availability_checks"
    )
    checked_at = models.DateTimeField(default=timezone.now)
    available = models.BooleanField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-checked_at", "-pk"]
        indexes = [models.Index(fields=["resource", "-checked_at"])]

    def __str__(self):
        return f"{self.resource} {self.checked_at:%Y-%m-%d %H:%M} {self.available}"
