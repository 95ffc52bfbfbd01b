"""Online procedures: forms and workflows defined as data, requests and their history.

- `Workflow.definition` is JSON (statuses, transitions, actions), validated by
  `workflow.validate_definition` before it is stored (see docs/adr/0045).
- A `Form` is a list of `FormField` rows; a field of kind "page" starts a new page.
- A `Request` is one citizen's procedure: its data (JSON keyed by field key), its current
  status code, the territory that handles it (routed), its channel, deadlines.
- `RequestEvent` is the history: submissions, status changes, assignments, messages with the
  citizen, internal comments, actions run.
"""

import secrets

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.utils import timezone
from django.utils.functional import LazyObject
from django.utils.translation import gettext_lazy as _

from metropole.core.models import Territory


class Team(models.Model):
    """A functional role of a territory (e.g. "État civil"): its queue, its transitions."""

    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="+")
    slug = models.SlugField(_("code"), max_length=50)
    name = models.CharField(_("name"), max_length=200)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="procedure_teams"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "slug"], name="unique_team_slug")
        ]

    def __str__(self):
        return self.name


class Workflow(models.Model):
    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="+")
    slug = models.SlugField(_("code"), max_length=50)
    name = models.CharField(_("name"), max_length=200)
    definition = models.JSONField(_("definition"), default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "slug"], name="unique_workflow_slug")
        ]

    def __str__(self):
        return self.name

    @property
    def version(self) -> str:
        """Changes with every save: the editor's pages send it back (see save_workflow)."""
        return self.updated_at.isoformat() if self.updated_at else ""

    @property
    def statuses(self) -> dict[str, dict]:
        return {s["code"]: s for s in self.definition.get("statuses", [])}

    @property
    def initial_status(self) -> str:
        return self.definition["statuses"][0]["code"]

    def status_label(self, code: str) -> str:
        status = self.statuses.get(code)
        return status["label"] if status else code

    def public_label(self, code: str) -> str:
        """What the citizen reads: the status' public label, else its label."""
        status = self.statuses.get(code)
        if not status:
            return code
        return (status.get("public_label") or "").strip() or status["label"]

    def colour(self, code: str) -> str:
        return self.statuses.get(code, {}).get("colour") or "neutral"


class Routing(models.TextChoices):
    OWNER = "owner", _("the territory that publishes the form")
    COMMUNE = "commune", _("the commune of the address given")


class Form(models.Model):
    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="+")
    metropole = models.ForeignKey(
        Territory, on_delete=models.CASCADE, related_name="+", editable=False
    )
    service = models.ForeignKey(
        "catalogue.Service",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="procedure_forms",
        verbose_name=_("service of the catalogue"),
    )
    slug = models.SlugField(_("code"), max_length=100)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("introduction"), blank=True)
    workflow = models.ForeignKey(
        Workflow, on_delete=models.PROTECT, related_name="forms", verbose_name=_("workflow")
    )
    routing = models.CharField(
        _("handled by"), max_length=16, choices=Routing.choices, default=Routing.OWNER
    )
    allow_anonymous = models.BooleanField(_("can be sent without an account"), default=False)
    published = models.BooleanField(_("published"), default=False)
    deadline_days = models.PositiveIntegerField(_("answer within (days)"), default=15)
    retention_days = models.PositiveIntegerField(
        _("keep personal data for (days)"),
        default=365,
        help_text=_("After this time once a request is closed, its personal data is erased."),
    )
    source = models.CharField(_("source"), max_length=300, blank=True)
    is_demo = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(fields=["metropole", "slug"], name="unique_form_slug")
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.metropole_id = self.territory.metropole_id or self.territory_id
        super().save(*args, **kwargs)


class FieldKind(models.TextChoices):
    PAGE = "page", _("new page")
    TEXT = "text", _("short text")
    TEXTAREA = "textarea", _("long text")
    NUMBER = "number", _("number")
    DATE = "date", _("date")
    EMAIL = "email", _("e-mail address")
    PHONE = "phone", _("phone number")
    RADIO = "radio", _("one choice (buttons)")
    SELECT = "select", _("one choice (list)")
    CHECKBOXES = "checkboxes", _("several choices")
    ADDRESS = "address", _("address (with a map)")
    FILE = "file", _("file")


class FormField(models.Model):
    form = models.ForeignKey(Form, on_delete=models.CASCADE, related_name="fields")
    order = models.PositiveIntegerField(default=0)
    key = models.SlugField(_("code"), max_length=50)
    label = models.CharField(_("label"), max_length=300)
    kind = models.CharField(_("kind"), max_length=16, choices=FieldKind.choices)
    required = models.BooleanField(_("required"), default=True)
    help_text = models.CharField(_("help text"), max_length=500, blank=True)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    # Shown only when the field `condition_field` has the value `condition_value`.
    condition_field = models.SlugField(_("shown when the field"), max_length=50, blank=True)
    condition_value = models.CharField(_("has the value"), max_length=200, blank=True)
    # Number fields: whole numbers only, and the smallest and largest value accepted.
    number_whole = models.BooleanField(_("whole numbers only"), default=False)
    number_min = models.DecimalField(
        _("smallest number"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    number_max = models.DecimalField(
        _("largest number"), max_digits=12, decimal_places=2, null=True, blank=True
    )

    class Meta:
        ordering = ["order", "pk"]
        constraints = [models.UniqueConstraint(fields=["form", "key"], name="unique_field_key")]

    def __str__(self):
        return self.label


class Channel(models.TextChoices):
    ONLINE = "online", _("online")
    COUNTER = "counter", _("at the counter")
    PHONE = "phone", _("by phone")
    MAIL = "mail", _("by post")


DRAFT = "draft"


def new_tracking_code() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
    raw = "".join(secrets.choice(alphabet) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


class Request(models.Model):
    form = models.ForeignKey(Form, on_delete=models.PROTECT, related_name="requests")
    metropole = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="+")
    territory = models.ForeignKey(
        Territory, on_delete=models.PROTECT, related_name="+", verbose_name=_("handled by")
    )
    commune = models.ForeignKey(
        Territory, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    code = models.CharField(
        _("tracking code"), max_length=9, unique=True, default=new_tracking_code
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="procedure_requests",
    )
    email = models.EmailField(_("e-mail address"), blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    data = models.JSONField(default=dict, blank=True)
    status = models.CharField(_("status"), max_length=50, default=DRAFT, db_index=True)
    channel = models.CharField(
        _("received"), max_length=16, choices=Channel.choices, default=Channel.ONLINE
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="requests"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    awaiting_citizen = models.BooleanField(default=False)
    wake_at = models.DateTimeField(null=True, blank=True, db_index=True)
    wake_to = models.CharField(max_length=50, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(_("deadline"), null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)
    summary = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        # The queue reads rows in (submitted_at, id) order: "all" on the first index, "open"
        # (closed_at IS NULL, the usual view) on the second, a team's queue on the third;
        # no index leads the planner to sort the whole queue.
        indexes = [
            models.Index(fields=["territory", "-submitted_at", "-id"], name="request_queue_all"),
            models.Index(
                fields=["territory", "closed_at", "-submitted_at", "-id"], name="request_queue_open"
            ),
            models.Index(fields=["team", "-submitted_at", "-id"], name="request_queue_team"),
            models.Index(fields=["user", "-created_at"], name="request_by_user"),
            # "Are requests of this form in this status?" (the workflow editor, per status).
            models.Index(fields=["form", "status"], name="request_form_status"),
            # Requests waiting for a time limit (few): which statuses they will move to.
            models.Index(
                fields=["form", "wake_to"],
                condition=models.Q(wake_at__isnull=False),
                name="request_pending_wake",
            ),
        ]

    def __str__(self):
        return f"{self.code} — {self.form.title}"

    @property
    def is_draft(self) -> bool:
        return self.status == DRAFT

    @property
    def status_label(self) -> str:
        if self.is_draft:
            return str(_("draft"))
        return self.form.workflow.status_label(self.status)

    @property
    def documents(self):
        """Files sent after the request (not answers of the form's file fields)."""
        return [a for a in self.attachments.all() if not a.field_key]

    @property
    def public_status_label(self) -> str:
        if self.is_draft:
            return str(_("draft"))
        return self.form.workflow.public_label(self.status)

    @property
    def status_colour(self) -> str:
        return "neutral" if self.is_draft else self.form.workflow.colour(self.status)

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def is_late(self) -> bool:
        return self.closed_at is None and self.due_at is not None and self.due_at < timezone.now()


class EventKind(models.TextChoices):
    SUBMITTED = "submitted", _("sent")
    STATUS = "status", _("status changed")
    ASSIGNED = "assigned", _("assigned")
    MESSAGE = "message", _("message")
    COMMENT = "comment", _("internal comment")
    INFO_REQUESTED = "info_requested", _("information requested")
    ACTION = "action", _("action")


class RequestEvent(models.Model):
    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    by_citizen = models.BooleanField(default=False)
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    from_status = models.CharField(max_length=50, blank=True)
    to_status = models.CharField(max_length=50, blank=True)
    text = models.TextField(blank=True)
    internal = models.BooleanField(default=False)
    # For INFO_REQUESTED: when the citizen answered (the answer link works once).
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [
            # Questions still awaiting the citizen's answer: the workflow editor checks no
            # edit removes the status they will move a request to (a handful of rows).
            models.Index(
                fields=["request"],
                condition=models.Q(kind="info_requested", answered_at__isnull=True),
                name="request_event_open_question",
            )
        ]

    def __str__(self):
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"


class _PrivateStorage(LazyObject):
    """Attachments live under VAR_DIR/private, outside MEDIA_ROOT and the web root; they are
    served only by a view that checks permission."""

    def _setup(self):
        self._wrapped = FileSystemStorage(location=settings.VAR_DIR / "private", base_url=None)


_private_storage = _PrivateStorage()


def private_storage():
    """The attachments' storage, given to the field as a callable: migrations then name this
    function instead of the path of the machine that made them (VAR_DIR differs per site)."""
    return _private_storage


def _attachment_path(instance, filename):
    return f"procedures/{instance.request.metropole_id}/{secrets.token_hex(16)}"


class Attachment(models.Model):
    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="attachments")
    field_key = models.SlugField(max_length=50)
    file = models.FileField(storage=private_storage, upload_to=_attachment_path, max_length=200)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return self.filename
