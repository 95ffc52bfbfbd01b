"""Connectors to the communes' business software, and the log of every call."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from metropole.core.models import Territory


class Kind(models.TextChoices):
    REST = "rest", _("REST / webhook (JSON, HMAC-signed)")


class Connector(models.Model):
    """A connector configured for one territory. Its endpoints are declared as data:
    [{"name", "method", "path", "description", "parameters": {name: description}}]."""

    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="+")
    slug = models.SlugField(_("code"), max_length=50)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.REST)
    base_url = models.URLField(_("base address"))
    secret = models.CharField(_("signing secret"), max_length=200)
    endpoints = models.JSONField(_("endpoints"), default=list)
    timeout = models.PositiveSmallIntegerField(_("timeout (seconds)"), default=10)
    max_attempts = models.PositiveSmallIntegerField(_("attempts"), default=5)
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "slug"], name="unique_connector_slug")
        ]

    def __str__(self):
        return self.name

    def endpoint(self, name: str) -> dict | None:
        return next((e for e in self.endpoints if e.get("name") == name), None)


class CallStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    RETRYING = "retrying", _("will be retried")
    SUCCEEDED = "succeeded", _("succeeded")
    FAILED = "failed", _("failed")


class ConnectorCall(models.Model):
    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="calls")
    endpoint = models.CharField(max_length=100)
    payload = models.JSONField(default=dict)
    source = models.CharField(max_length=100, blank=True)
    status = models.CharField(
        max_length=16, choices=CallStatus.choices, default=CallStatus.QUEUED, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.connector} {self.endpoint} #{self.pk}: {self.status}"
