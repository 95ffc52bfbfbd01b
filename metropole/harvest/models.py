"""Harvest sources (other open-data catalogues), their runs, and which remote dataset
became which dataset of the data hub.

Idempotency rests on `HarvestedRecord`: one row per (source, remote identifier), unique,
pointing to the dataset it created and holding the fingerprint of the remote metadata
last applied. A run that finds the same identifier and the same fingerprint changes
nothing; a different fingerprint updates the dataset; an identifier no longer listed by
a complete run archives the dataset (never deletes it).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from metropole.core.models import Territory
from metropole.datahub.models import Dataset


class SourceKind(models.TextChoices):
    DCAT = "dcat", _("DCAT-AP catalogue (Turtle, RDF/XML or JSON-LD)")
    CKAN = "ckan", _("CKAN portal (Action API)")
    ODS = "ods", _("OpenDataSoft portal (Explore API v2.1)")


class Schedule(models.TextChoices):
    HOURLY = "hourly", _("every hour")
    DAILY = "daily", _("every day")
    WEEKLY = "weekly", _("every week")
    MONTHLY = "monthly", _("every month")
    MANUAL = "manual", _("only when asked")


class HarvestSource(models.Model):
    """A remote catalogue harvested into `territory`'s datasets.

    Runs act as `run_as` (the person who set the source up, or who last changed it):
    every dataset write goes through the data hub's services with their permission.
    """

    territory = models.ForeignKey(
        Territory, on_delete=models.PROTECT, related_name="+", verbose_name=_("territory")
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind of catalogue"), max_length=8, choices=SourceKind.choices)
    url = models.URLField(_("address"), max_length=1000)
    schedule = models.CharField(
        _("harvested"), max_length=16, choices=Schedule.choices, default=Schedule.DAILY
    )
    active = models.BooleanField(_("active"), default=True)
    pull_data = models.BooleanField(
        _("also pull the files"),
        default=False,
        help_text=_(
            "Off: the remote files are only listed (by their address). On: the data hub "
            "downloads and loads the tabular ones on its own schedule."
        ),
    )
    run_as = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("harvest source")
        verbose_name_plural = _("harvest sources")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "url"], name="unique_harvest_source_url")
        ]

    def __str__(self):
        return self.name


class RunStatus(models.TextChoices):
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    PARTIAL = "partial", _("done with errors")
    FAILED = "failed", _("failed")


class HarvestRun(models.Model):
    """One run of a source: counts, and a log of what happened, record by record."""

    source = models.ForeignKey(HarvestSource, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    seen = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    archived = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # [{"level": "info"|"warning"|"error", "record": remote id or "", "message": "..."}]
    log = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["source", "-started_at"])]

    def __str__(self):
        return f"{self.source} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def errors(self):
        return [entry for entry in self.log if entry.get("level") == "error"]


class HarvestedRecord(models.Model):
    """A remote dataset of a source and the dataset of the hub it became."""

    source = models.ForeignKey(HarvestSource, on_delete=models.CASCADE, related_name="records")
    remote_id = models.CharField(max_length=500)
    dataset = models.OneToOneField(
        Dataset, on_delete=models.CASCADE, related_name="harvested_record"
    )
    fingerprint = models.CharField(max_length=64)
    remote_url = models.URLField(max_length=1000, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "remote_id"], name="unique_harvested_remote_id"
            )
        ]

    def __str__(self):
        return f"{self.source}: {self.remote_id}"
