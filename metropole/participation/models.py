"""Citizen participation: processes, phases, components and what people contribute.

Invariants the database holds (so that concurrent requests cannot break them):
one support per person and proposal, one survey response per person and survey, one
ballot per voter (account or paper code) and budget, one line per project in a ballot,
one registration per person and meeting, one report per person and content, voting codes
unique by hash. Counters that several requests change (supports of a proposal) are
updated with `F()` expressions inside row-locked transactions (see services.py).
"""

import hashlib

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from metropole.core.models import Territory


class Blueprint(models.TextChoices):
    CONSULTATION = "consultation", _("Consultation")
    IDEA_BOX = "idea_box", _("Idea box")
    BUDGET = "budget", _("Participatory budget")
    MEETING = "meeting", _("Public meeting")


class Action(models.TextChoices):
    """What a participant can do; a phase opens some of them."""

    PROPOSE = "propose", _("propose")
    COMMENT = "comment", _("comment")
    SUPPORT = "support", _("support")
    ANSWER = "answer", _("answer the survey")
    VOTE = "vote", _("vote")
    REGISTER = "register", _("register to a meeting")


class ComponentKind(models.TextChoices):
    PROPOSALS = "proposals", _("Proposals")
    SURVEY = "survey", _("Survey")
    BUDGET = "budget", _("Participatory budget")
    MEETINGS = "meetings", _("Meetings")
    RESULTS = "results", _("Results tracking")
    DEBATES = "debates", _("Debates")


# Which actions make sense on which component.
COMPONENT_ACTIONS = {
    ComponentKind.PROPOSALS: {Action.PROPOSE, Action.COMMENT, Action.SUPPORT},
    ComponentKind.SURVEY: {Action.ANSWER},
    ComponentKind.BUDGET: {Action.VOTE},
    ComponentKind.MEETINGS: {Action.REGISTER},
    ComponentKind.RESULTS: set(),
    # Arguments in a debate are comments (with a stance), opened by the same action.
    ComponentKind.DEBATES: {Action.COMMENT},
}

# The settings an agent may give a component, by kind (see Component's docstring).
COMPONENT_SETTINGS = {
    ComponentKind.PROPOSALS: (
        "support_limit",
        "support_threshold",
        "edit_minutes",
        "max_image_kb",
        "residents_only",
        "verified_residence",
        "min_age",
    ),
    ComponentKind.SURVEY: ("residents_only", "verified_residence", "min_age"),
    ComponentKind.BUDGET: ("residents_only", "verified_residence", "min_age"),
    ComponentKind.MEETINGS: ("residents_only", "verified_residence", "min_age"),
    ComponentKind.RESULTS: (),
    ComponentKind.DEBATES: ("edit_minutes", "residents_only", "verified_residence", "min_age"),
}
BOOLEAN_SETTINGS = frozenset({"residents_only", "verified_residence"})


class Process(models.Model):
    """A participatory process run by one territory (the metropole or a commune)."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="+")
    metropole = models.ForeignKey(
        Territory, on_delete=models.PROTECT, related_name="+", editable=False
    )
    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    blueprint = models.CharField(_("kind of process"), max_length=16, choices=Blueprint.choices)
    image = models.ImageField(_("image"), upload_to="participation/processes/", blank=True)
    # Empty: the whole territory. Otherwise only residents of these communes are "residents".
    scope = models.ManyToManyField(
        Territory, blank=True, related_name="+", verbose_name=_("communes concerned")
    )
    is_published = models.BooleanField(_("published"), default=True)
    is_demo = models.BooleanField(default=False, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["metropole", "territory"])]

    def __str__(self):
        return self.title

    def active_phase(self, now=None):
        now = now or timezone.now()
        for phase in self.phases.all():
            if phase.start <= now < phase.end:
                return phase
        return None


class Phase(models.Model):
    """A period of a process; the active one (by date) decides what participants may do.
    Phases of a process never overlap (checked in services under a lock on the process)."""

    process = models.ForeignKey(Process, on_delete=models.CASCADE, related_name="phases")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    actions = models.JSONField(_("what participants may do"), default=list, blank=True)

    class Meta:
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="phase_ends_after")
        ]

    def __str__(self):
        return self.title

    def is_active(self, now=None) -> bool:
        now = now or timezone.now()
        return self.start <= now < self.end


class Component(models.Model):
    """A participation tool inside a process; its `settings` hold its rules:

    proposals: support_limit (per person, 0 = none), support_threshold, edit_minutes
    (proposals and comments), max_image_kb; debates: edit_minutes (arguments); every kind
    but results: residents_only, verified_residence (residence must come from FranceConnect),
    min_age. Budget voting rules live on each budget area (BudgetArea). COMPONENT_SETTINGS
    lists what each kind takes.
    """

    process = models.ForeignKey(Process, on_delete=models.CASCADE, related_name="components")
    # Optional: only this phase opens the component; otherwise the process's active phase.
    phase = models.ForeignKey(
        Phase, null=True, blank=True, on_delete=models.SET_NULL, related_name="components"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ComponentKind.choices)
    title = models.CharField(_("title"), max_length=200)
    settings = models.JSONField(default=dict, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self):
        return self.title

    def setting(self, name, default=None):
        return self.settings.get(name, default)


class ProposalStatus(models.TextChoices):
    NOT_ANSWERED = "not_answered", _("Not answered yet")
    EVALUATING = "evaluating", _("Being studied")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    MERGED = "merged", _("Merged into another proposal")


class Proposal(models.Model):
    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="proposals")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(_("title"), max_length=150)
    body = models.TextField(_("your proposal"), max_length=5000)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    commune = models.ForeignKey(
        Territory, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    image = models.ImageField(_("image"), upload_to="participation/proposals/", blank=True)
    status = models.CharField(
        max_length=16, choices=ProposalStatus.choices, default=ProposalStatus.NOT_ANSWERED
    )
    answer = models.TextField(_("official answer"), blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    support_count = models.PositiveIntegerField(default=0)
    comment_count = models.PositiveIntegerField(default=0)
    report_count = models.PositiveIntegerField(default=0)
    is_hidden = models.BooleanField(default=False)
    is_demo = models.BooleanField(default=False, editable=False)
    # multilingual-e5-small vector (384 float32), computed by a background task.
    embedding = models.BinaryField(null=True, blank=True, editable=False)
    # Set when an agent merged this proposal into another (its supports, followers and
    # comments went there); a merged proposal leaves the lists and links to the other.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_proposals"
    )
    merged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The list's orders end with the primary key (a stable order for pagination);
            # the indexes carry it, so a page is read from the index, not sorted.
            models.Index(
                fields=["component", "is_hidden", "-created_at", "-id"], name="proposal_recent"
            ),
            models.Index(
                fields=["component", "is_hidden", "-support_count", "-id"],
                name="proposal_supported",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="proposal_location_valid",
            ),
            models.CheckConstraint(
                condition=~Q(merged_into=models.F("pk")), name="proposal_not_merged_into_itself"
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def threshold_reached(self) -> bool:
        threshold = self.component.setting("support_threshold", 0)
        return bool(threshold) and self.support_count >= threshold


class ProposalVersion(models.Model):
    """Edit history: the text as it was before each edit (comments: CommentVersion)."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="versions")
    title = models.CharField(max_length=150)
    body = models.TextField()
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.proposal_id} @ {self.created_at:%Y-%m-%d %H:%M}"


class Stance(models.TextChoices):
    """Where an argument of a debate stands."""

    FOR = "for", _("For")
    AGAINST = "against", _("Against")
    NEUTRAL = "neutral", _("Neither for nor against")


class Debate(models.Model):
    """A question put to debate, open between two dates, optionally tied to a meeting;
    participants post arguments (comments with a stance, threaded); the territory closes
    it with a conclusion."""

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="debates")
    title = models.CharField(_("question"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    start = models.DateTimeField(_("opens on"))
    end = models.DateTimeField(_("closes on"))
    meeting = models.ForeignKey(
        "Meeting",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="debates",
        verbose_name=_("meeting"),
    )
    conclusion = models.TextField(_("conclusion"), blank=True)
    concluded_at = models.DateTimeField(null=True, blank=True)
    concluded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_demo = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-start", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="debate_ends_after")
        ]

    def __str__(self):
        return self.title

    def is_open(self, now=None) -> bool:
        now = now or timezone.now()
        return self.concluded_at is None and self.start <= now < self.end


class Comment(models.Model):
    """A comment on a proposal, or an argument in a debate (top-level arguments carry a
    stance; replies do not). Exactly one of `proposal` and `debate` is set."""

    proposal = models.ForeignKey(
        Proposal, null=True, blank=True, on_delete=models.CASCADE, related_name="comments"
    )
    debate = models.ForeignKey(
        Debate, null=True, blank=True, on_delete=models.CASCADE, related_name="arguments"
    )
    stance = models.CharField(_("stance"), max_length=8, choices=Stance.choices, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(_("comment"), max_length=3000)
    depth = models.PositiveSmallIntegerField(default=0)
    report_count = models.PositiveIntegerField(default=0)
    is_hidden = models.BooleanField(default=False)
    is_demo = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(proposal__isnull=False, debate__isnull=True)
                | Q(proposal__isnull=True, debate__isnull=False),
                name="comment_on_one_thing",
            )
        ]
        indexes = [models.Index(fields=["debate", "created_at"])]

    def __str__(self):
        return self.body[:50]

    @property
    def on(self):
        """What the comment is about: its proposal or its debate."""
        return self.proposal if self.proposal_id else self.debate

    @property
    def component(self):
        return self.on.component


class CommentVersion(models.Model):
    """Edit history of a comment: its text as it was before each edit (the same record
    as ProposalVersion for proposals)."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="versions")
    body = models.TextField()
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"comment {self.comment_id} @ {self.created_at:%Y-%m-%d %H:%M}"


class Support(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="supports")
    # The component, copied, so the per-person limit is one indexed count.
    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["proposal", "user"], name="one_support_per_person")
        ]
        indexes = [models.Index(fields=["component", "user"])]

    def __str__(self):
        return f"{self.user_id} → {self.proposal_id}"


class Follow(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="followers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["proposal", "user"], name="one_follow")]

    def __str__(self):
        return f"{self.user_id} follows {self.proposal_id}"


# --- surveys ---------------------------------------------------------------------------


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("One choice")
    MULTIPLE = "multiple", _("Several choices")
    SCALE = "scale", _("Scale")
    RANKING = "ranking", _("Ranking")
    TEXT = "text", _("Free text")


class Question(models.Model):
    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=10, choices=QuestionKind.choices)
    text = models.CharField(_("question"), max_length=300)
    help_text = models.CharField(max_length=300, blank=True)
    required = models.BooleanField(default=True)
    choices = models.JSONField(default=list, blank=True)
    scale_min = models.SmallIntegerField(default=1)
    scale_max = models.SmallIntegerField(default=5)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self):
        return self.text


class SurveyResponse(models.Model):
    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="responses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    commune = models.ForeignKey(
        Territory, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_demo = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["component", "user"], name="one_response_per_person")
        ]

    def __str__(self):
        return f"response {self.pk}"


class Answer(models.Model):
    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    # single: [i]; multiple: [i, j]; scale: [n]; ranking: [i, j, k] best first; text: [].
    choices = models.JSONField(default=list, blank=True)
    text = models.TextField(blank=True, max_length=3000)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="one_answer_per_question")
        ]

    def __str__(self):
        return f"answer {self.pk} to {self.question_id}"


# --- participatory budget ----------------------------------------------------------------


class BudgetRule(models.TextChoices):
    KNAPSACK = "knapsack", _("Choose projects within the budget")
    APPROVAL = "approval", _("Approve the projects you like")


class BudgetArea(models.Model):
    """A budget envelope; a voter picks one area of a component and votes in it."""

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="areas")
    name = models.CharField(_("name"), max_length=200)
    commune = models.ForeignKey(
        Territory, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    amount = models.PositiveBigIntegerField(_("budget (euros)"))
    rule = models.CharField(max_length=10, choices=BudgetRule.choices, default=BudgetRule.KNAPSACK)
    min_projects = models.PositiveSmallIntegerField(default=0)
    max_projects = models.PositiveSmallIntegerField(default=0)  # 0 = no maximum
    min_share = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(100)]
    )  # percent of the budget a knapsack ballot must spend

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Project(models.Model):
    area = models.ForeignKey(BudgetArea, on_delete=models.CASCADE, related_name="projects")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    cost = models.PositiveBigIntegerField(_("cost (euros)"), validators=[MinValueValidator(1)])
    proposal = models.ForeignKey(
        Proposal, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_demo = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["title", "pk"]

    def __str__(self):
        return self.title


class VotingCode(models.Model):
    """A paper voting code for a person without an account: only its hash is stored;
    it is spent in the same transaction as the ballot it casts."""

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64, unique=True)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    @staticmethod
    def hash(code: str) -> str:
        normalised = code.strip().upper().replace("-", "").replace(" ", "")
        return hashlib.sha256(f"{settings.SECRET_KEY}:{normalised}".encode()).hexdigest()

    def __str__(self):
        return f"code {self.pk}"


class Ballot(models.Model):
    """A voter's ballot: a draft while it is reviewed, then cast (final)."""

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="ballots")
    area = models.ForeignKey(BudgetArea, on_delete=models.CASCADE, related_name="ballots")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    voting_code = models.OneToOneField(
        VotingCode, null=True, blank=True, on_delete=models.PROTECT, related_name="ballot"
    )
    commune = models.ForeignKey(
        Territory, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cast_at = models.DateTimeField(null=True, blank=True)
    is_demo = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["component", "user"],
                condition=Q(user__isnull=False),
                name="one_ballot_per_person",
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=False) | Q(voting_code__isnull=False),
                name="ballot_has_a_voter",
            ),
        ]

    @property
    def is_cast(self) -> bool:
        return self.cast_at is not None

    def __str__(self):
        return f"ballot {self.pk}"


class BallotLine(models.Model):
    ballot = models.ForeignKey(Ballot, on_delete=models.CASCADE, related_name="lines")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="lines")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ballot", "project"], name="one_line_per_project")
        ]

    def __str__(self):
        return f"{self.ballot_id}: {self.project_id}"


# --- meetings ------------------------------------------------------------------------------


class Meeting(models.Model):
    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="meetings")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    address = models.CharField(_("address"), max_length=300, blank=True)
    online_url = models.URLField(_("online link"), blank=True)
    capacity = models.PositiveIntegerField(_("places (0 = no limit)"), default=0)
    minutes = models.TextField(_("minutes"), blank=True)
    is_demo = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="meeting_ends_after"
            )
        ]

    def __str__(self):
        return self.title


class Registration(models.Model):
    CONFIRMED, WAITING = "confirmed", "waiting"
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="registrations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        max_length=10, choices=[(CONFIRMED, _("confirmed")), (WAITING, _("waiting list"))]
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="one_registration")]

    def __str__(self):
        return f"{self.user_id} at {self.meeting_id} ({self.status})"


# --- results tracking -------------------------------------------------------------------------


class Result(models.Model):
    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="results")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=100, blank=True)
    progress = models.PositiveSmallIntegerField(
        _("progress (%)"), default=0, validators=[MaxValueValidator(100)]
    )
    weight = models.PositiveSmallIntegerField(_("weight"), default=1)
    proposals = models.ManyToManyField(Proposal, blank=True, related_name="results")

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return self.title


class ResultUpdate(models.Model):
    result = models.ForeignKey(Result, on_delete=models.CASCADE, related_name="updates")
    date = models.DateField(default=timezone.localdate)
    text = models.CharField(max_length=500)
    progress = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-date", "-pk"]

    def __str__(self):
        return self.text


# --- moderation and eligibility ---------------------------------------------------------------


class ReportReason(models.TextChoices):
    SPAM = "spam", _("Spam or advertising")
    OFFENSIVE = "offensive", _("Offensive or hateful")
    OFF_TOPIC = "off_topic", _("Off topic")


class Report(models.Model):
    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="+")
    proposal = models.ForeignKey(
        Proposal, null=True, blank=True, on_delete=models.CASCADE, related_name="reports"
    )
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="reports"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=10, choices=ReportReason.choices)
    details = models.CharField(_("details"), max_length=500, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["reporter", "proposal"],
                condition=Q(proposal__isnull=False),
                name="one_report_per_proposal",
            ),
            models.UniqueConstraint(
                fields=["reporter", "comment"],
                condition=Q(comment__isnull=False),
                name="one_report_per_comment",
            ),
        ]

    def __str__(self):
        return f"{self.reason} by {self.reporter_id}"


class Block(models.Model):
    """A person blocked from participating in a territory's processes."""

    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=300)
    blocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["territory", "user"], name="one_block")]

    def __str__(self):
        return f"{self.user_id} blocked in {self.territory_id}"


class Declaration(models.Model):
    """Where a person lives and their birth year, established once and reused by every
    process: declared by the person (postal code typed), or given by FranceConnect (its
    `address` and `birthdate` claims) — then `source` says so and `verified_at` is set."""

    DECLARED, FRANCECONNECT = "declared", "franceconnect"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="participation_profile"
    )
    postal_code = models.CharField(_("postal code"), max_length=5)
    commune = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="+")
    birth_year = models.PositiveSmallIntegerField(_("year of birth"), null=True, blank=True)
    source = models.CharField(
        max_length=16,
        choices=[(DECLARED, _("declared by the person")), (FRANCECONNECT, "FranceConnect")],
        default=DECLARED,
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    declared_at = models.DateTimeField(default=timezone.now)

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    def __str__(self):
        return f"{self.user_id}: {self.postal_code}"
