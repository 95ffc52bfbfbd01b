"""Reports on public space (signalements), FixMyStreet style.

A report is a point, a category, a text and maybe a photo. It is routed when it is
made: the category's competence says which level runs that field (catalogue), the
commune containing the point says which commune; `territory` is the one that handles
it, `commune` the one it is in. Supporters ("me too") count instead of duplicates.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from metropole.catalogue.models import Competence, Service
from metropole.core.models import Territory


class ReportCategory(models.Model):
    """What can be reported; also an Open311 service (`slug` is its service_code)."""

    metropole = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="+")
    slug = models.SlugField(_("code"), max_length=60)
    name = models.CharField(_("name"), max_length=200)
    group = models.CharField(_("group"), max_length=100, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    competence = models.ForeignKey(
        Competence,
        on_delete=models.PROTECT,
        related_name="report_categories",
        verbose_name=_("competence"),
        help_text=_("Decides who receives the reports: the metropole or the commune."),
    )
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveIntegerField(default=100)

    class Meta:
        verbose_name = _("report category")
        verbose_name_plural = _("report categories")
        ordering = ["order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["metropole", "slug"], name="unique_report_category")
        ]

    def __str__(self):
        return self.name


class AttributeType(models.TextChoices):
    """Open311 GeoReport v2 datatypes of a category's extra questions."""

    STRING = "string", _("short text")
    TEXT = "text", _("long text")
    NUMBER = "number", _("number")
    SINGLE = "singlevaluelist", _("one choice in a list")
    MULTI = "multivaluelist", _("several choices in a list")


class ReportAttribute(models.Model):
    """An extra question of a category (an Open311 service attribute, `metadata: true`).

    `choices` is a list of {"key", "name"} for the list types; `code` is what Open311
    clients post as attribute[code]."""

    category = models.ForeignKey(
        ReportCategory, on_delete=models.CASCADE, related_name="attributes"
    )
    code = models.SlugField(_("code"), max_length=60)
    label = models.CharField(_("question"), max_length=200)
    help_text = models.CharField(_("help"), max_length=300, blank=True)
    datatype = models.CharField(_("type of answer"), max_length=20, choices=AttributeType.choices)
    required = models.BooleanField(_("required"), default=False)
    order = models.PositiveIntegerField(_("order"), default=1)
    choices = models.JSONField(_("choices"), default=list, blank=True)

    class Meta:
        verbose_name = _("question of a category")
        verbose_name_plural = _("questions of a category")
        ordering = ["order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="unique_report_attribute")
        ]

    def __str__(self):
        return self.label

    @property
    def is_list(self) -> bool:
        return self.datatype in (AttributeType.SINGLE, AttributeType.MULTI)

    def choice_name(self, key) -> str:
        return next((c["name"] for c in self.choices if c["key"] == key), str(key))


class Status(models.TextChoices):
    NEW = "new", _("new")
    ACKNOWLEDGED = "acknowledged", _("acknowledged")
    IN_PROGRESS = "in_progress", _("in progress")
    PLANNED = "planned", _("planned")
    FIXED = "fixed", _("fixed")
    CLOSED = "closed", _("closed")


OPEN_STATUSES = (Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.PLANNED)


class CloseReason(models.TextChoices):
    NOT_RESPONSIBLE = "not_responsible", _("not our responsibility")
    DUPLICATE = "duplicate", _("duplicate")
    CANNOT_FIX = "cannot_fix", _("cannot be fixed")


class Channel(models.TextChoices):
    WEB = "web", _("website")
    OPEN311 = "open311", _("Open311 application")
    AGENT = "agent", _("entered by an agent")


class Report(models.Model):
    metropole = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="+")
    territory = models.ForeignKey(
        Territory,
        on_delete=models.PROTECT,
        related_name="handled_reports",
        verbose_name=_("handled by"),
    )
    commune = models.ForeignKey(
        Territory, on_delete=models.PROTECT, related_name="reports", verbose_name=_("commune")
    )
    service = models.ForeignKey(
        Service, on_delete=models.SET_NULL, null=True, blank=True, related_name="reports"
    )
    category = models.ForeignKey(
        ReportCategory, on_delete=models.PROTECT, related_name="reports", verbose_name=_("category")
    )
    lat = models.FloatField(_("latitude"))
    lon = models.FloatField(_("longitude"))
    address = models.CharField(_("address or place"), max_length=300, blank=True)
    # True when the reporter could not place a point (no map): the point is the commune's
    # town hall, the address text says where; an agent corrects the point.
    location_approximate = models.BooleanField(_("approximate position"), default=False)
    # Answers to the category's questions (ReportAttribute.code -> value, a list for
    # several choices), as validated by services.clean_answers.
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    # A link to a picture given by an Open311 client: never fetched (no outbound request
    # from the server, SSRF), shown to agents as a link.
    media_url = models.URLField(_("link to a picture"), max_length=500, blank=True)
    description = models.TextField(_("description"))
    photo = models.ImageField(_("photo"), upload_to="reports/%Y/%m/", blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.NEW, db_index=True
    )
    close_reason = models.CharField(
        _("reason"), max_length=20, choices=CloseReason.choices, blank=True
    )
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="duplicates"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.WEB)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
    )
    # Contact of a reporter without an account (Open311 clients); erased with the report's
    # personal data, never published.
    reporter_email = models.EmailField(blank=True)
    reporter_name = models.CharField(max_length=200, blank=True)
    supporter_count = models.PositiveIntegerField(default=0)
    satisfied = models.BooleanField(null=True, blank=True)
    satisfaction_comment = models.CharField(max_length=500, blank=True)
    is_demo = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    fixed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["metropole", "lat", "lon"]),
            models.Index(fields=["territory", "status", "created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(lat__gte=-90, lat__lte=90, lon__gte=-180, lon__lte=180),
                name="report_coordinates_in_range",
            ),
            models.CheckConstraint(
                condition=Q(status=Status.CLOSED) | Q(close_reason=""),
                name="report_close_reason_only_when_closed",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.category}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def get_absolute_url(self) -> str:
        return reverse("reports:detail", kwargs={"pk": self.pk})


class Supporter(models.Model):
    """A person who says "me too" on a report (once per person)."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="supporters")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="supported_reports"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["report", "user"], name="reports_one_supporter_per_person"
            )
        ]

    def __str__(self):
        return f"{self.user_id} supports #{self.report_id}"


class Update(models.Model):
    """A step in a report's life: a status change, a re-routing, or a message."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="updates")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status_before = models.CharField(max_length=16, choices=Status.choices, blank=True)
    status_after = models.CharField(max_length=16, choices=Status.choices, blank=True)
    text = models.TextField(blank=True)
    public = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"#{self.report_id} {self.status_after or 'message'}"
