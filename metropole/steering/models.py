"""Strategy steering: plans, their tree of axes, actions, budgets, indicators, governance.

A plan belongs to a territory (the metropole or a commune). Its structure is a tree of
nodes of any depth (axes, orientations, challenges, levers...), actions hang on nodes.
Invariants the database can hold are constraints here; the others (no cycle in the tree,
dates inside the plan, budget lines that add up, decisions inside a meeting's scope) are
checked by services.py before anything is written.
"""

import os
from decimal import Decimal

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from metropole.core.models import Organisation, Territory


class PrivateStorage(FileSystemStorage):
    """Attached documents live outside the web root (VAR_DIR/private/steering, never
    MEDIA_ROOT) and are served by a view that checks permissions."""

    @property
    def base_location(self):
        return str(settings.VAR_DIR / "private" / "steering")

    @property
    def location(self):
        return os.path.abspath(self.base_location)


def private_storage():
    return PrivateStorage()


class Plan(models.Model):
    """A territory's strategy over a period."""

    territory = models.ForeignKey(
        Territory,
        on_delete=models.PROTECT,
        related_name="steering_plans",
        verbose_name=_("territory"),
    )
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    source = models.TextField(
        _("source"), blank=True, help_text=_("The deliberation or document the plan comes from.")
    )
    start = models.DateField(_("start"))
    end = models.DateField(_("end"), null=True, blank=True)
    # Transparency: what the territory chooses to publish.
    is_public = models.BooleanField(_("published on the transparency page"), default=False)
    publish_budget = models.BooleanField(_("publish budgets"), default=False)
    publish_indicators = models.BooleanField(_("publish indicators"), default=True)
    demo_note = models.TextField(
        _("demo note"),
        blank=True,
        help_text=_("Set on demonstration content: says what comes from the sources and what not."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["territory__name", "-start", "title"]
        verbose_name = _("plan")
        constraints = [
            models.UniqueConstraint(
                fields=["territory", "title"], name="steering_plan_unique_title"
            ),
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")),
                name="steering_plan_end_after_start",
            ),
        ]

    def __str__(self):
        return self.title


class NodeKind(models.TextChoices):
    AXIS = "axis", _("axis")
    ORIENTATION = "orientation", _("orientation")
    CHALLENGE = "challenge", _("challenge")
    THEME = "theme", _("theme")
    LEVER = "lever", _("lever")


class Node(models.Model):
    """A branch of a plan's tree: axis, orientation, challenge... of any depth."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="nodes")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=NodeKind.choices)
    code = models.CharField(_("code"), max_length=20, blank=True)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    weight = models.DecimalField(
        _("weight"),
        max_digits=6,
        decimal_places=2,
        default=Decimal(1),
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["plan", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(weight__gt=0), name="steering_node_weight_positive"),
            models.CheckConstraint(
                condition=~Q(parent=models.F("id")), name="steering_node_not_own_parent"
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.title}".strip()


class ActionStatus(models.TextChoices):
    # With a context: other modules translate the bare words differently ("planned").
    PLANNED = "planned", pgettext_lazy("action status", "planned")
    IN_PROGRESS = "in_progress", pgettext_lazy("action status", "in progress")
    DONE = "done", pgettext_lazy("action status", "done")
    PAUSED = "paused", pgettext_lazy("action status", "paused")
    ABANDONED = "abandoned", pgettext_lazy("action status", "abandoned")
    BLOCKED = "blocked", pgettext_lazy("action status", "blocked")


CLOSED_STATUSES = frozenset({ActionStatus.DONE, ActionStatus.ABANDONED})


class Action(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="actions")
    node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="actions")
    code = models.CharField(_("code"), max_length=20, blank=True)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    pilot = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="steering_actions",
        verbose_name=_("pilot (person)"),
    )
    pilot_name = models.CharField(
        _("pilot"), max_length=200, blank=True, help_text=_("The service or body leading it.")
    )
    partners = models.ManyToManyField(
        Organisation, blank=True, related_name="steering_actions", verbose_name=_("partners")
    )
    partners_text = models.CharField(_("other partners"), max_length=500, blank=True)
    communes = models.ManyToManyField(
        Territory, blank=True, related_name="steering_actions", verbose_name=_("communes involved")
    )
    start = models.DateField(_("start"), null=True, blank=True)
    end = models.DateField(_("end"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ActionStatus.choices, default=ActionStatus.PLANNED
    )
    progress = models.PositiveSmallIntegerField(
        _("progress (%)"), default=0, validators=[MaxValueValidator(100)]
    )
    weight = models.DecimalField(_("weight"), max_digits=6, decimal_places=2, default=Decimal(1))
    # The declared total cost, when the source gives one: budget lines must add up to it.
    budget_total = models.DecimalField(
        _("total cost (€)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    is_demo = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["plan", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__gte=0) & Q(progress__lte=100),
                name="steering_action_progress_percent",
            ),
            models.CheckConstraint(
                condition=Q(weight__gt=0), name="steering_action_weight_positive"
            ),
            models.CheckConstraint(
                condition=Q(end__isnull=True)
                | Q(start__isnull=True)
                | Q(end__gte=models.F("start")),
                name="steering_action_end_after_start",
            ),
        ]
        indexes = [models.Index(fields=["plan", "status"])]

    def __str__(self):
        return f"{self.code} {self.title}".strip()

    def is_late_on(self, today) -> bool:
        """Late: not finished after its end date, or not started after its start date."""
        if self.status in CLOSED_STATUSES:
            return False
        if self.end and self.end < today:
            return True
        return bool(self.status == ActionStatus.PLANNED and self.start and self.start < today)

    @cached_property
    def is_late(self) -> bool:
        return self.is_late_on(timezone.localdate())

    @property
    def effective_progress(self) -> int:
        return 100 if self.status == ActionStatus.DONE else self.progress


class Step(models.Model):
    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="steps")
    title = models.CharField(_("title"), max_length=300)
    due = models.DateField(_("due"), null=True, blank=True)
    done_on = models.DateField(_("done on"), null=True, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["action", "position", "due", "id"]

    def __str__(self):
        return self.title


class Note(models.Model):
    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="notes")
    date = models.DateField(_("date"), default=timezone.localdate)
    text = models.TextField(_("note"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]

    def __str__(self):
        return f"{self.date} — {self.text[:60]}"


class Document(models.Model):
    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(_("file"), storage=private_storage, upload_to="%Y/%m/")
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    is_public = models.BooleanField(_("published with the plan"), default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self):
        return self.title


class FundingSource(models.TextChoices):
    OWN = "own", _("own budget")
    EU_FEDER = "eu_feder", _("EU — FEDER")
    EU_FSE = "eu_fse", _("EU — FSE")
    EU_OTHER = "eu_other", _("EU — other funds")
    STATE = "state", _("State")
    REGION = "region", _("Region")
    DEPARTEMENT = "departement", _("Département")
    COMMUNES = "communes", _("communes")
    PARTNERS = "partners", _("partners")
    COFINANCING = "cofinancing", _("co-financing (not detailed)")


class BudgetLine(models.Model):
    """Money for one action, one year and one funding source, planned and actual."""

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="budget_lines")
    year = models.PositiveSmallIntegerField(_("year"))
    source = models.CharField(_("funding source"), max_length=16, choices=FundingSource.choices)
    planned = models.DecimalField(_("planned (€)"), max_digits=14, decimal_places=2, default=0)
    actual = models.DecimalField(
        _("actual (€)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    comment = models.CharField(_("comment"), max_length=300, blank=True)

    class Meta:
        ordering = ["action", "year", "source"]
        constraints = [
            models.UniqueConstraint(
                fields=["action", "year", "source"], name="steering_budget_line_unique"
            ),
            models.CheckConstraint(condition=Q(planned__gte=0), name="steering_budget_planned_pos"),
            models.CheckConstraint(
                condition=Q(actual__isnull=True) | Q(actual__gte=0),
                name="steering_budget_actual_pos",
            ),
        ]

    def __str__(self):
        return f"{self.year} {self.source} {self.planned}"


class IndicatorKind(models.TextChoices):
    PROCESS = "process", _("process")
    RESULT = "result", _("result")


class ValueType(models.TextChoices):
    INTEGER = "integer", _("whole number")
    DECIMAL = "decimal", _("decimal number")
    PERCENT = "percent", _("percentage (0–100)")


class Direction(models.TextChoices):
    INCREASE = "increase", _("higher is better")
    DECREASE = "decrease", _("lower is better")
    MAINTAIN = "maintain", _("keep at target")


class Frequency(models.TextChoices):
    MONTHLY = "monthly", _("monthly")
    QUARTERLY = "quarterly", _("quarterly")
    SEMIANNUAL = "semiannual", _("every six months")
    ANNUAL = "annual", _("yearly")
    ON_DEMAND = "on_demand", _("when available")


FREQUENCY_DAYS = {
    Frequency.MONTHLY: 28,
    Frequency.QUARTERLY: 90,
    Frequency.SEMIANNUAL: 181,
    Frequency.ANNUAL: 365,
}


class Indicator(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="indicators")
    node = models.ForeignKey(
        Node, null=True, blank=True, on_delete=models.SET_NULL, related_name="indicators"
    )
    action = models.ForeignKey(
        Action, null=True, blank=True, on_delete=models.SET_NULL, related_name="indicators"
    )
    name = models.CharField(_("name"), max_length=300)
    kind = models.CharField(_("kind"), max_length=8, choices=IndicatorKind.choices)
    unit = models.CharField(_("unit"), max_length=40, help_text=_("e.g. communes, %, €, people"))
    value_type = models.CharField(
        _("type of value"), max_length=8, choices=ValueType.choices, default=ValueType.INTEGER
    )
    direction = models.CharField(
        _("direction"), max_length=8, choices=Direction.choices, default=Direction.INCREASE
    )
    baseline_value = models.DecimalField(
        _("baseline"), max_digits=16, decimal_places=4, null=True, blank=True
    )
    baseline_date = models.DateField(_("baseline date"), null=True, blank=True)
    target_value = models.DecimalField(
        _("target"), max_digits=16, decimal_places=4, null=True, blank=True
    )
    target_date = models.DateField(_("target date"), null=True, blank=True)
    # SMART: specific, measurable, achievable, relevant, time-bound.
    specific = models.TextField(_("specific: what exactly is measured"), blank=True)
    measurable = models.TextField(_("measurable: how it is computed"), blank=True)
    achievable = models.TextField(_("achievable: why the target is reachable"), blank=True)
    relevant = models.TextField(_("relevant: which objective it serves"), blank=True)
    time_bound = models.TextField(_("time-bound: by when"), blank=True)
    source = models.CharField(_("data source"), max_length=300, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="steering_indicators",
        verbose_name=_("owner"),
    )
    owner_name = models.CharField(_("owner (service)"), max_length=200, blank=True)
    frequency = models.CharField(
        _("collection frequency"),
        max_length=12,
        choices=Frequency.choices,
        default=Frequency.ANNUAL,
    )
    # Automatic collection: "<source>:<key>", e.g. "statistic:core.joined_communes".
    collector = models.CharField(_("automatic collection"), max_length=200, blank=True)
    collector_params = models.JSONField(default=dict, blank=True)
    is_public = models.BooleanField(_("published"), default=True)
    is_demo = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["plan", "position", "id"]
        indexes = [models.Index(fields=["collector"])]

    def __str__(self):
        return self.name


class ValueKind(models.TextChoices):
    ACTUAL = "actual", _("actual")
    TARGET = "target", _("target")
    ESTIMATE = "estimate", _("estimate")


class Provenance(models.TextChoices):
    MANUAL = "manual", _("entered by hand")
    IMPORT = "import", _("imported from a file")
    AUTOMATIC = "automatic", _("collected automatically")
    DEMO = "demo", _("demo value")


class IndicatorValue(models.Model):
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="values")
    date = models.DateField(_("date"))
    kind = models.CharField(
        _("kind"), max_length=8, choices=ValueKind.choices, default=ValueKind.ACTUAL
    )
    value = models.DecimalField(_("value"), max_digits=16, decimal_places=4)
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    provenance = models.CharField(
        _("provenance"), max_length=10, choices=Provenance.choices, default=Provenance.MANUAL
    )
    source_detail = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["indicator", "date", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "date", "kind"], name="steering_value_unique_per_date"
            )
        ]
        indexes = [models.Index(fields=["indicator", "kind", "-date"])]

    def __str__(self):
        return f"{self.date} {self.kind} {self.value}"


class BodyKind(models.TextChoices):
    STEERING_COMMITTEE = "steering", _("steering committee")
    DIGITAL_COMMITTEE = "digital", _("metropolitan digital committee")
    SCIENTIFIC_COUNCIL = "scientific", _("scientific council")
    WORKING_GROUP = "group", _("working group")


class Body(models.Model):
    """A governance body of a plan."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="bodies")
    kind = models.CharField(_("kind"), max_length=12, choices=BodyKind.choices)
    name = models.CharField(_("name"), max_length=200)
    frequency = models.CharField(_("meets"), max_length=200, blank=True)
    description = models.TextField(_("role"), blank=True)

    class Meta:
        ordering = ["plan", "kind", "name"]
        verbose_name_plural = "bodies"

    def __str__(self):
        return self.name


class Meeting(models.Model):
    body = models.ForeignKey(Body, on_delete=models.CASCADE, related_name="meetings")
    date = models.DateField(_("date"))
    title = models.CharField(_("title"), max_length=200, blank=True)
    # The actions on the agenda: decisions can only be taken on these.
    scope = models.ManyToManyField(
        Action, related_name="meetings", verbose_name=_("actions reviewed")
    )
    minutes = models.TextField(_("minutes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]

    def __str__(self):
        return self.title or f"{self.body} — {self.date}"

    @property
    def plan(self):
        return self.body.plan


class DecisionKind(models.TextChoices):
    MAINTAIN = "maintain", _("maintain as it is")
    EXTEND = "extend", _("extend to more communes")
    EXTEND_METROPOLE = "extend_all", _("extend to the whole metropole")
    ABANDON = "abandon", _("abandon")


class Decision(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions")
    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="decisions")
    kind = models.CharField(_("decision"), max_length=12, choices=DecisionKind.choices)
    reasons = models.TextField(_("reasons"))
    communes = models.ManyToManyField(
        Territory, blank=True, related_name="+", verbose_name=_("communes added")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["meeting", "action__position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "action"], name="steering_one_decision_per_action"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} — {self.action}"
