"""Reads of participation, shared by pages, API, exports and dashboards (no N+1)."""

from collections import Counter, defaultdict

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from metropole.core.exceptions import NotFound
from metropole.core.models import Territory

from .models import (
    Ballot,
    BallotLine,
    BudgetRule,
    Comment,
    Component,
    ComponentKind,
    Debate,
    Phase,
    Process,
    Project,
    Proposal,
    QuestionKind,
    Registration,
    Report,
    Result,
    Support,
    SurveyResponse,
)

PARTICIPANT_DEFINITION = gettext_lazy(
    "A participant is a distinct person who made at least one contribution or vote in a "
    "process: a proposal, a comment, an argument in a debate, a support, a survey response, a "
    "cast budget ballot or a meeting registration. A paper voting code counts as one person. "
    "Someone who only reads is not a participant; a person who takes part in several processes "
    "counts once in a total."
)
"""The one definition of "participant", used by the dashboard, the API, the manifest's
statistics and docs/participation.md. `participant_ids()` implements it."""


def processes(metropole=None, territory=None, *, published_only=True) -> QuerySet:
    qs = Process.objects.select_related("territory").prefetch_related(
        Prefetch("phases", queryset=Phase.objects.order_by("start"))
    )
    if metropole is not None:
        qs = qs.filter(metropole=metropole)
    if territory is not None:
        qs = qs.filter(territory=territory)
    if published_only:
        qs = qs.filter(is_published=True)
    return qs


def process_by_slug(slug: str) -> Process:
    process = (
        Process.objects.select_related("territory", "metropole")
        .prefetch_related(
            Prefetch("phases", queryset=Phase.objects.order_by("start")),
            Prefetch("components", queryset=Component.objects.select_related("phase")),
            "scope",
        )
        .filter(slug=slug)
        .first()
    )
    if process is None:
        raise NotFound(
            _("Unknown process"), _("No participatory process is called %(slug)r.") % {"slug": slug}
        )
    return process


def component_of(process: Process, component_id, kind: str | None = None) -> Component:
    for component in process.components.all():
        if str(component.pk) == str(component_id) and (kind is None or component.kind == kind):
            component.process = process  # keep the prefetched phases and scope
            return component
    raise NotFound(_("Unknown part"), _("This process has no such part."))


def _one(queryset: QuerySet, pk, title, detail):
    """The row `pk` of `queryset`, or NotFound(title, detail) — also for a `pk` that is not
    a number (a stale or hand-typed link)."""
    found = queryset.filter(pk=pk).first() if str(pk).isdigit() else None
    if found is None:
        raise NotFound(title, detail)
    return found


def component_by_id(component_id) -> Component:
    return _one(
        Component.objects.select_related("process__territory", "phase").prefetch_related(
            "process__phases", "process__scope"
        ),
        component_id,
        _("Unknown part"),
        _("No participation component has the id %(id)s.") % {"id": component_id},
    )


ORDERS = {
    "recent": ("-created_at", "-pk"),
    "supported": ("-support_count", "-pk"),
    "old": ("created_at", "pk"),
}


def proposals(
    component: Component, *, order="recent", status=None, include_hidden=False
) -> QuerySet:
    """Proposals of a component; two queries per page whatever its length (the list and,
    for a person, which of them they support — see supported_ids)."""
    qs = (
        Proposal.objects.filter(component=component)
        .select_related("commune")
        .only(
            "id",
            "component_id",
            "title",
            "body",
            "status",
            "support_count",
            "comment_count",
            "created_at",
            "commune__name",
            "commune__code",
            "image",
            "is_hidden",
            "is_demo",
            "latitude",
            "longitude",
        )
    )
    if not include_hidden:
        qs = qs.filter(is_hidden=False)
    # Merged proposals live on in their target (a link leads there), not in the list.
    qs = qs.filter(merged_into__isnull=True)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by(*ORDERS.get(order, ORDERS["recent"]))


def supported_ids(user, proposal_ids) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(
        Support.objects.filter(user=user, proposal_id__in=list(proposal_ids)).values_list(
            "proposal_id", flat=True
        )
    )


def supports_used(user, component) -> int:
    if not user.is_authenticated:
        return 0
    return Support.objects.filter(component=component, user=user).count()


def proposal(proposal_id) -> Proposal:
    return _one(
        Proposal.objects.select_related(
            "component__process__territory", "component__phase", "author", "commune", "merged_into"
        ).prefetch_related("component__process__phases", "component__process__scope"),
        proposal_id,
        _("Unknown proposal"),
        _("No proposal has the number %(id)s.") % {"id": proposal_id},
    )


def comment_tree(on: Proposal | Debate) -> list[Comment]:
    """Comments of a proposal (or arguments of a debate) in reading order (each reply after
    its parent), with their depth and earlier versions; two queries."""
    where = {"debate": on} if isinstance(on, Debate) else {"proposal": on}
    comments = list(
        Comment.objects.filter(**where)
        .select_related("author")
        .prefetch_related("versions")
        .order_by("created_at", "pk")
    )
    children = defaultdict(list)
    for comment in comments:
        children[comment.parent_id].append(comment)
    ordered = []

    def walk(parent_id):
        for comment in children.get(parent_id, ()):
            ordered.append(comment)
            walk(comment.pk)

    walk(None)
    return ordered


def _unknown_comment(comment_id) -> tuple[str, str]:
    return _("Unknown comment"), _("No comment has the number %(id)s.") % {"id": comment_id}


def comment(comment_id) -> Comment:
    return _one(
        Comment.objects.select_related(
            "proposal__component__process__territory",
            "proposal__component__phase",
            "debate__component__process__territory",
            "debate__component__phase",
            "author",
        ),
        comment_id,
        *_unknown_comment(comment_id),
    )


def reply_parent(parent_id) -> Comment | None:
    """The comment a reply answers (None for a first-level comment or argument); the
    service checks it belongs to the same proposal or debate."""
    if not parent_id:
        return None
    return _one(Comment.objects.all(), parent_id, *_unknown_comment(parent_id))


# --- debates ---------------------------------------------------------------------------------


def debates(component: Component) -> list[Debate]:
    """Debates of a component with their arguments counted by stance (hidden ones left
    out), in one query."""
    visible = Q(arguments__is_hidden=False)
    return list(
        Debate.objects.filter(component=component)
        .select_related("meeting")
        .annotate(
            n_for=Count("arguments", filter=visible & Q(arguments__stance="for")),
            n_against=Count("arguments", filter=visible & Q(arguments__stance="against")),
            n_neutral=Count("arguments", filter=visible & Q(arguments__stance="neutral")),
            n_all=Count("arguments", filter=visible),
        )
        .order_by("-start", "-pk")
    )


def _unknown_debate(debate_id) -> tuple[str, str]:
    return _("Unknown debate"), _("No debate has the number %(id)s.") % {"id": debate_id}


def debate(component: Component, debate_id) -> Debate:
    """A debate of `component` (a page's), which it keeps with its prefetched process."""
    found = _one(
        Debate.objects.select_related("meeting", "concluded_by").filter(component=component),
        debate_id,
        *_unknown_debate(debate_id),
    )
    found.component = component
    return found


def debate_by_id(debate_id) -> Debate:
    return _one(
        Debate.objects.select_related(
            "component__process__territory", "component__phase", "meeting"
        ).prefetch_related("component__process__phases", "component__process__scope"),
        debate_id,
        *_unknown_debate(debate_id),
    )


# --- surveys ---------------------------------------------------------------------------------


def survey_results(component: Component) -> list[dict]:
    """Per question: counts per choice (single, multiple), distribution and mean (scale),
    Borda score (ranking: n-1 points for a first place ... 0 for last), texts (free text)."""
    questions = list(component.questions.all())
    total = SurveyResponse.objects.filter(component=component).count()
    answers = defaultdict(list)
    from .models import Answer

    for question_id, choices, text in Answer.objects.filter(
        question__component=component
    ).values_list("question_id", "choices", "text"):
        answers[question_id].append((choices, text))
    results = []
    for question in questions:
        given = answers.get(question.pk, [])
        entry = {"question": question, "answered": len(given), "rows": [], "texts": []}
        if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            counts = Counter(i for choices, _t in given for i in choices)
            entry["rows"] = [(c, counts.get(i, 0)) for i, c in enumerate(question.choices)]
        elif question.kind == QuestionKind.SCALE:
            counts = Counter(choices[0] for choices, _t in given if choices)
            entry["rows"] = [
                (str(v), counts.get(v, 0))
                for v in range(question.scale_min, question.scale_max + 1)
            ]
            values = [choices[0] for choices, _t in given if choices]
            entry["mean"] = round(sum(values) / len(values), 2) if values else None
        elif question.kind == QuestionKind.RANKING:
            n = len(question.choices)
            points = Counter()
            for choices, _t in given:
                for rank, index in enumerate(choices):
                    points[index] += n - 1 - rank
            entry["rows"] = sorted(
                ((c, points.get(i, 0)) for i, c in enumerate(question.choices)),
                key=lambda row: -row[1],
            )
        else:
            entry["texts"] = [t for _c, t in given if t]
        results.append(entry)
    return [{"total": total, **r} for r in results]


def survey_csv_rows(component: Component):
    """One row per response (no identity: response number, commune, answers)."""
    questions = list(component.questions.all())
    yield [_("response"), _("commune")] + [q.text for q in questions]
    responses = (
        SurveyResponse.objects.filter(component=component)
        .select_related("commune")
        .prefetch_related("answers")
        .order_by("pk")
    )
    for number, response in enumerate(responses.iterator(chunk_size=500), start=1):
        by_question = {a.question_id: a for a in response.answers.all()}
        row = [number, response.commune.name if response.commune else ""]
        for q in questions:
            a = by_question.get(q.pk)
            if a is None:
                row.append("")
            elif q.kind == QuestionKind.TEXT:
                row.append(a.text)
            elif q.kind == QuestionKind.SCALE:
                row.append(a.choices[0] if a.choices else "")
            else:
                row.append(
                    " > ".join(q.choices[i] for i in a.choices)
                    if q.kind == QuestionKind.RANKING
                    else "; ".join(q.choices[i] for i in a.choices)
                )
        yield row


# --- budgets ---------------------------------------------------------------------------------


def budget_results(component: Component) -> list[dict]:
    """Per area: votes per project (cast ballots only) and the winners — projects taken by
    number of votes, highest first, as long as they fit in what remains of the budget
    (knapsack) or all projects with votes ranked (approval, within the budget likewise)."""
    votes = dict(
        BallotLine.objects.filter(ballot__component=component, ballot__cast_at__isnull=False)
        .values("project_id")
        .annotate(n=Count("id"))
        .values_list("project_id", "n")
    )
    ballots = dict(
        Ballot.objects.filter(component=component, cast_at__isnull=False)
        .values("area_id")
        .annotate(n=Count("id"))
        .values_list("area_id", "n")
    )
    results = []
    for area in component.areas.prefetch_related("projects"):
        projects = sorted(area.projects.all(), key=lambda p: (-votes.get(p.pk, 0), p.cost, p.pk))
        remaining, rows = area.amount, []
        for project in projects:
            n = votes.get(project.pk, 0)
            selected = n > 0 and project.cost <= remaining
            if selected:
                remaining -= project.cost
            rows.append({"project": project, "votes": n, "selected": selected})
        results.append(
            {
                "area": area,
                "ballots": ballots.get(area.pk, 0),
                "rows": rows,
                "spent": area.amount - remaining,
                "rule": area.rule,
            }
        )
    return results


def ballot_of(user, component) -> Ballot | None:
    if not user.is_authenticated:
        return None
    return (
        Ballot.objects.filter(component=component, user=user)
        .select_related("area")
        .prefetch_related(Prefetch("lines", queryset=BallotLine.objects.select_related("project")))
        .first()
    )


def projects_of(component) -> QuerySet:
    return Project.objects.filter(area__component=component).select_related("area")


# --- meetings and results ----------------------------------------------------------------------


def meeting_places(meeting) -> dict:
    counts = dict(
        meeting.registrations.values("status").annotate(n=Count("id")).values_list("status", "n")
    )
    confirmed = counts.get(Registration.CONFIRMED, 0)
    return {
        "confirmed": confirmed,
        "waiting": counts.get(Registration.WAITING, 0),
        "left": max(meeting.capacity - confirmed, 0) if meeting.capacity else None,
    }


def results_tree(component) -> list[dict]:
    """Results with their children; a parent's progress is its children's progress
    weighted by their weights (its own when it has none)."""
    results = list(
        Result.objects.filter(component=component).prefetch_related("updates", "proposals")
    )
    children = defaultdict(list)
    for r in results:
        children[r.parent_id].append(r)

    def build(result):
        kids = [build(c) for c in children.get(result.pk, ())]
        if kids:
            weights = sum(k["result"].weight for k in kids)
            progress = round(sum(k["progress"] * k["result"].weight for k in kids) / weights)
        else:
            progress = result.progress
        return {"result": result, "children": kids, "progress": progress}

    return [build(r) for r in children.get(None, ())]


# --- moderation --------------------------------------------------------------------------------


def moderation_queue(territory: Territory) -> QuerySet:
    """Open reports of a territory (a metropole sees its communes' reports too)."""
    qs = Report.objects.filter(resolved_at__isnull=True).select_related(
        "proposal",
        "comment__proposal",
        "comment__debate__component__process",
        "reporter",
        "territory",
    )
    if territory.is_metropole:
        return qs.filter(Q(territory=territory) | Q(territory__metropole=territory))
    return qs.filter(territory=territory)


# --- statistics ------------------------------------------------------------------------------


def _process_filter(territory: Territory | None, prefix: str) -> Q:
    if territory is None:
        return Q()
    if territory.is_metropole:
        return Q(**{f"{prefix}metropole": territory})
    if territory.is_commune:
        return Q(**{f"{prefix}territory": territory})
    return Q(**{f"{prefix}territory": territory}) | Q(**{f"{prefix}territory__parent": territory})


def _comments_in(processes: QuerySet) -> Q:
    """Comments on proposals and arguments in debates of `processes`."""
    return Q(proposal__component__process__in=processes) | Q(
        debate__component__process__in=processes
    )


def participant_ids(process_q: Q) -> tuple[QuerySet, int]:
    """The people behind contributions and votes of the processes matched by `process_q`
    (a Q on Process), per PARTICIPANT_DEFINITION: account ids (deduplicated across kinds)
    and the number of paper codes used."""
    comp = Q(component__process__in=Process.objects.filter(process_q))
    in_processes = Process.objects.filter(process_q)
    parts = [
        Proposal.objects.filter(comp, author__isnull=False).values_list("author_id"),
        Comment.objects.filter(_comments_in(in_processes), author__isnull=False).values_list(
            "author_id"
        ),
        Support.objects.filter(comp).values_list("user_id"),
        SurveyResponse.objects.filter(comp).values_list("user_id"),
        Ballot.objects.filter(comp, user__isnull=False, cast_at__isnull=False).values_list(
            "user_id"
        ),
        Registration.objects.filter(meeting__component__process__in=in_processes).values_list(
            "user_id"
        ),
    ]
    # UNION (not UNION ALL): a person who did several things is one row.
    first, *rest = [part.order_by() for part in parts]
    people = first.union(*rest).order_by()
    paper = Ballot.objects.filter(comp, user__isnull=True, cast_at__isnull=False).count()
    return people, paper


def participant_count(process_q: Q) -> int:
    people, paper = participant_ids(process_q)
    return people.count() + paper


def figures(process_q: Q) -> dict:
    """Counts of the processes matched by `process_q`. Contributions = proposals + comments
    on proposals + arguments in debates (replies included) + survey responses; votes =
    supports + cast ballots. One query per figure (COUNT with FILTER for the comments)."""
    in_processes = Process.objects.filter(process_q)
    comp = Q(component__process__in=in_processes)
    proposals_n = Proposal.objects.filter(comp).count()
    talk = Comment.objects.filter(_comments_in(in_processes)).aggregate(
        comments=Count("id", filter=Q(proposal__isnull=False)),
        arguments=Count("id", filter=Q(debate__isnull=False)),
    )
    responses_n = SurveyResponse.objects.filter(comp).count()
    supports_n = Support.objects.filter(comp).count()
    ballots_n = Ballot.objects.filter(comp, cast_at__isnull=False).count()
    return {
        "participants": participant_count(process_q),
        "contributions": proposals_n + talk["comments"] + talk["arguments"] + responses_n,
        "proposals": proposals_n,
        "comments": talk["comments"],
        "debate_arguments": talk["arguments"],
        "survey_responses": responses_n,
        "votes": supports_n + ballots_n,
        "supports": supports_n,
        "ballots": ballots_n,
    }


def participants_by_residence(process_q: Q) -> list[tuple[str, int]]:
    """Participants (accounts) by the commune they live in — declared in their participation
    profile, else their account's commune; "not said" otherwise. Paper codes are left out
    (nobody knows where their holders live)."""
    from django.db.models.functions import Coalesce

    from metropole.core.models import User

    people, _paper = participant_ids(process_q)
    ids = [row[0] for row in people]
    counts = Counter()
    for start in range(0, len(ids), 5000):
        rows = (
            User.objects.filter(pk__in=ids[start : start + 5000])
            .annotate(place=Coalesce("participation_profile__commune__name", "home_commune__name"))
            .values("place")
            .annotate(n=Count("id"))
        )
        for row in rows:
            counts[row["place"] or _("not said")] += row["n"]
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def dashboard(territory: Territory) -> dict:
    """Territory-wide figures: totals, by organising territory (commune) and by process."""
    base = _process_filter(territory, "")
    process_list = list(
        Process.objects.filter(base)
        .select_related("territory")
        .order_by("territory__name", "title")
    )
    by_territory = defaultdict(list)
    for p in process_list:
        by_territory[p.territory].append(p)
    return {
        "totals": figures(base),
        "by_territory": [
            {"territory": t, **figures(Q(pk__in=[p.pk for p in ps]))}
            for t, ps in sorted(by_territory.items(), key=lambda kv: kv[0].name)
        ],
        "by_process": [{"process": p, **figures(Q(pk=p.pk))} for p in process_list],
        "by_residence": participants_by_residence(base),
        "definition": PARTICIPANT_DEFINITION,
    }


def territory_filter(territory) -> Q:
    return _process_filter(territory, "")


def budget_rule_label(rule):
    return BudgetRule(rule).label


def components_by_kind(process, kind):
    return [c for c in process.components.all() if c.kind == kind]


__all__ = ["ComponentKind"]
