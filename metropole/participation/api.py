"""The participation API (/api/participation/): the same services and rules as the pages.

Reads of published processes are public; writes take a personal token or the session
(CSRF-checked). A refusal carries its reason (problem+json, 403/409/400)."""

from datetime import datetime

from django.urls import reverse
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from metropole.core import queries as core_queries
from metropole.core.api_auth import TokenAuth, person_auth
from metropole.core.api_pagination import Pagination
from metropole.core.exceptions import NotFound, PermissionDenied

from . import queries, services, similarity
from .models import Action, BudgetRule, ComponentKind
from .rules import refusal

router = Router(tags=["participation"])


def anyone(request):
    """Optional authentication: a token identifies the caller when sent (TokenAuth runs
    first), the session is already read by the middleware, and anonymous callers pass."""
    return True


optional_auth = [TokenAuth(), anyone]


class PhaseOut(Schema):
    id: int
    title: str
    start: datetime
    end: datetime
    actions: list[str]
    is_active: bool

    @staticmethod
    def resolve_is_active(obj):
        return obj.is_active()


class ComponentOut(Schema):
    id: int
    kind: str
    title: str
    position: int
    phase_id: int | None = Field(description="The only phase that opens it; null: every phase")
    settings: dict
    open_actions: list[str] = Field(description="Actions open now (by phase), for anyone eligible")

    @staticmethod
    def resolve_open_actions(obj):
        from .models import COMPONENT_ACTIONS
        from .rules import open_phase

        return sorted(a for a in COMPONENT_ACTIONS[obj.kind] if open_phase(obj, a) is not None)


class ProcessOut(Schema):
    slug: str
    title: str
    description: str
    blueprint: str
    territory_code: str
    territory_name: str
    is_demo: bool
    url: str
    phases: list[PhaseOut]

    @staticmethod
    def resolve_territory_code(obj):
        return obj.territory.code

    @staticmethod
    def resolve_territory_name(obj):
        return obj.territory.display_name

    @staticmethod
    def resolve_url(obj, context):
        return context["request"].build_absolute_uri(
            reverse("participation:process", kwargs={"slug": obj.slug})
        )

    @staticmethod
    def resolve_phases(obj):
        return list(obj.phases.all())


class ProcessDetailOut(ProcessOut):
    components: list[ComponentOut]

    @staticmethod
    def resolve_components(obj):
        items = list(obj.components.all())
        for c in items:
            c.process = obj
        return items


class ProcessIn(Schema):
    territory_code: str = Field(description="INSEE code of a commune or SIREN of the metropole")
    title: str
    blueprint: str = Field(description="consultation, idea_box, budget or meeting")
    description: str = ""
    start: datetime | None = None


class PhaseIn(Schema):
    title: str
    start: datetime
    end: datetime
    actions: list[str] = []


class ComponentIn(Schema):
    kind: str = Field(description="proposals, survey, budget, meetings, results or debates")
    title: str
    phase_id: int | None = None
    settings: dict = Field(default={}, description="Rules of the tool (see the documentation)")


class ComponentPatch(Schema):
    title: str | None = None
    phase_id: int | None = Field(None, description="null: every phase opens it")
    settings: dict | None = None


class PositionIn(Schema):
    position: int = Field(description="0 = first")


class ProposalOut(Schema):
    id: int
    title: str
    body: str
    status: str
    answer: str
    support_count: int
    comment_count: int
    latitude: float | None
    longitude: float | None
    commune_code: str | None
    merged_into_id: int | None
    created_at: datetime
    is_demo: bool

    @staticmethod
    def resolve_commune_code(obj):
        return obj.commune.code if obj.commune_id else None


class ProposalIn(Schema):
    title: str
    body: str
    latitude: float | None = None
    longitude: float | None = None


class CommentIn(Schema):
    body: str
    parent_id: int | None = None


class CommentOut(Schema):
    id: int
    parent_id: int | None
    body: str
    depth: int
    stance: str = Field(description="Arguments of a debate: for, against or neutral")
    created_at: datetime
    edited_at: datetime | None


class CommentPatch(Schema):
    body: str


class VersionOut(Schema):
    body: str
    created_at: datetime


class ArgumentIn(Schema):
    body: str
    stance: str = Field("", description="for, against or neutral (not for a reply)")
    parent_id: int | None = None


class DebateIn(Schema):
    title: str
    start: datetime
    end: datetime
    description: str = ""
    meeting_id: int | None = None


class DebateOut(Schema):
    id: int
    component_id: int
    title: str
    description: str
    start: datetime
    end: datetime
    meeting_id: int | None
    is_open: bool
    conclusion: str
    concluded_at: datetime | None
    arguments_for: int
    arguments_against: int
    arguments_neutral: int
    is_demo: bool

    @staticmethod
    def resolve_is_open(obj):
        return obj.is_open()

    @staticmethod
    def resolve_arguments_for(obj):
        return _stance_count(obj, "for")

    @staticmethod
    def resolve_arguments_against(obj):
        return _stance_count(obj, "against")

    @staticmethod
    def resolve_arguments_neutral(obj):
        return _stance_count(obj, "neutral")


def _stance_count(debate, stance: str) -> int:
    """Visible arguments of one side (annotated by queries.debates, else counted)."""
    annotated = getattr(debate, f"n_{stance}", None)
    if annotated is not None:
        return annotated
    return debate.arguments.filter(is_hidden=False, parent__isnull=True, stance=stance).count()


class ConclusionIn(Schema):
    conclusion: str


class MergeIn(Schema):
    proposal_ids: list[int] = Field(description="Proposals merged into this one")
    note: str = ""


class ResidenceOut(Schema):
    postal_code: str | None
    commune_code: str | None
    commune_name: str | None
    birth_year: int | None
    source: str | None = Field(description="declared, franceconnect, or null (account's commune)")
    verified: bool


class AnswerIn(Schema):
    status: str
    answer: str


class SurveyIn(Schema):
    answers: dict[str, list[str] | str] = Field(
        description="By question id: a choice index, a list of indexes (multiple; ranking "
        "best first), a scale value, or a text"
    )


class BallotIn(Schema):
    area_id: int
    project_ids: list[int]


class BallotOut(Schema):
    area_id: int
    project_ids: list[int]
    total_cost: int
    cast_at: datetime | None

    @staticmethod
    def resolve_project_ids(obj):
        return sorted(line.project_id for line in obj.lines.all())

    @staticmethod
    def resolve_total_cost(obj):
        return sum(line.project.cost for line in obj.lines.select_related("project"))


class RefusalOut(Schema):
    allowed: bool
    reason: str | None


def _component(component_id: int, kind=None):
    component = queries.component_by_id(component_id)
    if kind is not None and component.kind != kind:
        raise NotFound("Wrong component", f"Component {component_id} is not a {kind}.")
    if not component.process.is_published:
        raise NotFound("Unknown component", f"No published component has the id {component_id}.")
    return component


@router.get("/processes", response=list[ProcessOut], url_name="participation_processes")
@paginate(Pagination)
def process_list(request, territory: str = Query("", description="INSEE/SIREN code")):
    metropole = core_queries.current_metropole()
    scope = core_queries.territory_by_code(territory, metropole) if territory else None
    return queries.processes(metropole, scope)


@router.get("/processes/{slug}", response=ProcessDetailOut, url_name="participation_process")
def process_detail(request, slug: str):
    process = queries.process_by_slug(slug)
    if not process.is_published:
        raise NotFound("Unknown process", f"No participatory process is called {slug!r}.")
    return process


@router.post(
    "/processes",
    response={201: ProcessDetailOut},
    auth=person_auth,
    url_name="participation_process_create",
)
def process_create(request, payload: ProcessIn):
    territory = core_queries.territory_by_code(payload.territory_code)
    process = services.create_process(
        request.user,
        territory,
        title=payload.title,
        blueprint=payload.blueprint,
        description=payload.description,
        start=payload.start,
    )
    return Status(201, queries.process_by_slug(process.slug))


@router.post("/processes/{slug}/phases", response={201: PhaseOut}, auth=person_auth)
def phase_create(request, slug: str, payload: PhaseIn):
    process = queries.process_by_slug(slug)
    phase = services.add_phase(
        request.user,
        process,
        title=payload.title,
        start=payload.start,
        end=payload.end,
        actions=payload.actions,
    )
    return Status(201, phase)


@router.post(
    "/processes/{slug}/components",
    response={201: ComponentOut},
    auth=person_auth,
    url_name="participation_component_create",
)
def component_create(request, slug: str, payload: ComponentIn):
    """Add a tool to a process by hand (agents of its territory)."""
    process = queries.process_by_slug(slug)
    component = services.add_component(
        request.user,
        process,
        kind=payload.kind,
        title=payload.title,
        phase=payload.phase_id,
        settings=payload.settings,
    )
    return Status(201, queries.component_by_id(component.pk))


@router.patch("/components/{component_id}", response=ComponentOut, auth=person_auth)
def component_update(request, component_id: int, payload: ComponentPatch):
    """Rename a tool, tie it to a phase (phase_id null: every phase), change some rules."""
    component = queries.component_by_id(component_id)
    given = payload.dict(exclude_unset=True)
    kwargs = {"title": given.get("title"), "settings": given.get("settings")}
    if "phase_id" in given:
        kwargs["phase"] = given["phase_id"]
    services.update_component(request.user, component, **kwargs)
    return queries.component_by_id(component_id)


@router.put("/components/{component_id}/position", response=list[ComponentOut], auth=person_auth)
def component_move(request, component_id: int, payload: PositionIn):
    """Move a tool in its process's list; answers the tools in their new order."""
    component = queries.component_by_id(component_id)
    services.move_component(request.user, component, payload.position)
    process = queries.process_by_slug(component.process.slug)
    items = list(process.components.all())
    for c in items:
        c.process = process
    return items


@router.delete("/components/{component_id}", response={204: None}, auth=person_auth)
def component_delete(request, component_id: int):
    """Remove a tool nobody has used yet (409 with the reason otherwise)."""
    services.remove_component(request.user, queries.component_by_id(component_id))
    return Status(204, None)


@router.get(
    "/components/{component_id}/permissions/{action}", response=RefusalOut, auth=person_auth
)
def permission(request, component_id: int, action: Action):
    """Whether the caller may do `action` now, and why not (the check the service makes)."""
    reason = refusal(request.user, _component(component_id), action)
    return {"allowed": reason is None, "reason": reason}


@router.get(
    "/components/{component_id}/proposals",
    response=list[ProposalOut],
    url_name="participation_proposals",
)
@paginate(Pagination)
def proposal_list(request, component_id: int, order: str = "recent", status: str = ""):
    return queries.proposals(
        _component(component_id, ComponentKind.PROPOSALS), order=order, status=status or None
    )


@router.post("/components/{component_id}/proposals", response={201: ProposalOut}, auth=person_auth)
def proposal_create(request, component_id: int, payload: ProposalIn):
    component = _component(component_id, ComponentKind.PROPOSALS)
    proposal = services.create_proposal(request.user, component, **payload.dict())
    return Status(201, proposal)


@router.get("/components/{component_id}/similar", response=list[dict])
def similar(request, component_id: int, title: str = "", body: str = ""):
    component = _component(component_id, ComponentKind.PROPOSALS)
    return [
        {"id": p.pk, "title": p.title, "score": round(score, 3), "method": how}
        for p, score, how in similarity.similar_proposals(component, title[:150], body[:2000])
    ]


def _proposal(proposal_id: int):
    proposal = queries.proposal(proposal_id)
    if proposal.is_hidden or not proposal.component.process.is_published:
        raise NotFound("Unknown proposal", f"No visible proposal has the id {proposal_id}.")
    return proposal


@router.get("/proposals/{proposal_id}", response=ProposalOut)
def proposal_detail(request, proposal_id: int):
    return _proposal(proposal_id)


@router.get("/proposals/{proposal_id}/comments", response=list[CommentOut])
def comment_list(request, proposal_id: int):
    return [c for c in queries.comment_tree(_proposal(proposal_id)) if not c.is_hidden]


@router.post("/proposals/{proposal_id}/comments", response={201: CommentOut}, auth=person_auth)
def comment_create(request, proposal_id: int, payload: CommentIn):
    proposal = _proposal(proposal_id)
    parent = queries.reply_parent(payload.parent_id)
    return Status(
        201, services.add_comment(request.user, proposal, body=payload.body, parent=parent)
    )


@router.post("/proposals/{proposal_id}/support", response={201: ProposalOut}, auth=person_auth)
def support(request, proposal_id: int):
    proposal = _proposal(proposal_id)
    services.support(request.user, proposal)
    return Status(201, queries.proposal(proposal_id))


@router.delete("/proposals/{proposal_id}/support", response={204: None}, auth=person_auth)
def withdraw_support(request, proposal_id: int):
    services.withdraw_support(request.user, _proposal(proposal_id))
    return Status(204, None)


@router.post("/proposals/{proposal_id}/merge", response=ProposalOut, auth=person_auth)
def merge(request, proposal_id: int, payload: MergeIn):
    """Merge proposals of the same list into this one (agents): supports move, one per
    person; followers and comments move; the merged ones point to this one."""
    target = services.merge_proposals(
        request.user, _proposal(proposal_id), payload.proposal_ids, note=payload.note
    )
    return queries.proposal(target.pk)


@router.patch("/comments/{comment_id}", response=CommentOut, auth=person_auth)
def comment_edit(request, comment_id: int, payload: CommentPatch):
    """The author edits a comment or an argument within the edit window (history kept)."""
    return services.edit_comment(request.user, _comment(comment_id), body=payload.body)


@router.get("/comments/{comment_id}/versions", response=list[VersionOut])
def comment_versions(request, comment_id: int):
    """Earlier texts of a comment, newest first."""
    return list(_comment(comment_id).versions.all())


def _comment(comment_id: int):
    comment = queries.comment(comment_id)
    on = comment.on
    if comment.is_hidden or not on.component.process.is_published:
        raise NotFound("Unknown comment", f"No visible comment has the id {comment_id}.")
    if comment.proposal_id and on.is_hidden:
        raise NotFound("Unknown comment", f"No visible comment has the id {comment_id}.")
    return comment


def _debate(debate_id: int):
    debate = queries.debate_by_id(debate_id)
    if not debate.component.process.is_published:
        raise NotFound("Unknown debate", f"No published debate has the id {debate_id}.")
    return debate


@router.get("/components/{component_id}/debates", response=list[DebateOut])
def debate_list(request, component_id: int):
    return queries.debates(_component(component_id, ComponentKind.DEBATES))


@router.post("/components/{component_id}/debates", response={201: DebateOut}, auth=person_auth)
def debate_create(request, component_id: int, payload: DebateIn):
    """Put a question to debate (agents of the territory)."""
    component = queries.component_by_id(component_id)
    if component.kind != ComponentKind.DEBATES:
        raise NotFound("Wrong component", f"Component {component_id} is not a debates.")
    debate = services.add_debate(
        request.user,
        component,
        title=payload.title,
        description=payload.description,
        start=payload.start,
        end=payload.end,
        meeting=payload.meeting_id,
    )
    return Status(201, debate)


@router.get("/debates/{debate_id}", response=DebateOut)
def debate_detail(request, debate_id: int):
    return _debate(debate_id)


@router.get("/debates/{debate_id}/arguments", response=list[CommentOut])
def argument_list(request, debate_id: int):
    """Arguments and replies in reading order (hidden ones left out)."""
    return [c for c in queries.comment_tree(_debate(debate_id)) if not c.is_hidden]


@router.post("/debates/{debate_id}/arguments", response={201: CommentOut}, auth=person_auth)
def argument_create(request, debate_id: int, payload: ArgumentIn):
    debate = _debate(debate_id)
    parent = queries.reply_parent(payload.parent_id)
    return Status(
        201,
        services.add_argument(
            request.user, debate, body=payload.body, stance=payload.stance, parent=parent
        ),
    )


@router.put("/debates/{debate_id}/conclusion", response=DebateOut, auth=person_auth)
def debate_conclude(request, debate_id: int, payload: ConclusionIn):
    """The territory's conclusion; it closes the debate (agents)."""
    return services.conclude_debate(request.user, _debate(debate_id), payload.conclusion)


@router.get("/me/residence", response=ResidenceOut, auth=person_auth)
def my_residence(request):
    """Where the platform takes the caller to live, and whether FranceConnect confirmed it
    (what residents-only tools check)."""
    from .rules import declaration_of, resident_commune

    declaration = declaration_of(request.user)
    commune = resident_commune(request.user)
    return {
        "postal_code": declaration.postal_code if declaration else None,
        "commune_code": commune.code if commune else None,
        "commune_name": commune.name if commune else None,
        "birth_year": declaration.birth_year if declaration else None,
        "source": declaration.source if declaration else None,
        "verified": bool(declaration and declaration.is_verified),
    }


@router.post("/proposals/{proposal_id}/answer", response=ProposalOut, auth=person_auth)
def answer(request, proposal_id: int, payload: AnswerIn):
    return services.answer_proposal(
        request.user, queries.proposal(proposal_id), status=payload.status, answer=payload.answer
    )


@router.get("/components/{component_id}/survey", response=list[dict])
def survey_questions(request, component_id: int):
    component = _component(component_id, ComponentKind.SURVEY)
    return [
        {
            "id": q.pk,
            "kind": q.kind,
            "text": q.text,
            "required": q.required,
            "choices": q.choices,
            "scale_min": q.scale_min,
            "scale_max": q.scale_max,
        }
        for q in component.questions.all()
    ]


@router.post("/components/{component_id}/survey/responses", response={201: dict}, auth=person_auth)
def survey_answer(request, component_id: int, payload: SurveyIn):
    component = _component(component_id, ComponentKind.SURVEY)
    response = services.submit_survey(request.user, component, payload.answers)
    return Status(201, {"id": response.pk, "created_at": response.created_at.isoformat()})


@router.get("/components/{component_id}/survey/results", response=list[dict])
def survey_results(request, component_id: int):
    component = _component(component_id, ComponentKind.SURVEY)
    return [
        {
            "question_id": r["question"].pk,
            "question": r["question"].text,
            "kind": r["question"].kind,
            "responses": r["total"],
            "answered": r["answered"],
            "counts": [{"label": label, "value": value} for label, value in r["rows"]],
            "mean": r.get("mean"),
            "texts": r["texts"],
        }
        for r in queries.survey_results(component)
    ]


@router.get("/components/{component_id}/budget", response=list[dict])
def budget(request, component_id: int):
    component = _component(component_id, ComponentKind.BUDGET)
    return [
        {
            "id": a.pk,
            "name": a.name,
            "amount": a.amount,
            "rule": a.rule,
            "min_projects": a.min_projects,
            "max_projects": a.max_projects,
            "min_share": a.min_share,
            "commune_code": a.commune.code if a.commune_id else None,
            "projects": [
                {"id": p.pk, "title": p.title, "cost": p.cost, "description": p.description}
                for p in a.projects.all()
            ],
        }
        for a in component.areas.select_related("commune").prefetch_related("projects")
    ]


class AreaIn(Schema):
    name: str
    amount: int = Field(description="Budget of the area, in euros")
    rule: str = Field("knapsack", description="knapsack or approval")
    min_projects: int = 0
    max_projects: int = Field(0, description="0: no maximum")
    min_share: int = Field(0, description="Percent of the budget a knapsack ballot must spend")
    commune_code: str | None = None


def _area_out(area) -> dict:
    return {
        "id": area.pk,
        "name": area.name,
        "amount": area.amount,
        "rule": area.rule,
        "min_projects": area.min_projects,
        "max_projects": area.max_projects,
        "min_share": area.min_share,
        "commune_code": area.commune.code if area.commune_id else None,
    }


@router.post("/components/{component_id}/areas", response={201: dict}, auth=person_auth)
def area_create(request, component_id: int, payload: AreaIn):
    """Add a budget area with its amount and voting rule (agents)."""
    component = queries.component_by_id(component_id)
    commune = core_queries.territory_by_code(payload.commune_code) if payload.commune_code else None
    values = payload.dict(exclude={"commune_code"})
    return Status(
        201, _area_out(services.add_area(request.user, component, commune=commune, **values))
    )


@router.put("/areas/{area_id}", response=dict, auth=person_auth)
def area_update(request, area_id: int, payload: AreaIn):
    """Change an area's budget and voting rule until a ballot is cast in it (agents)."""
    from .models import BudgetArea

    area = (
        BudgetArea.objects.select_related("component__process__territory")
        .filter(pk=area_id)
        .first()
    )
    if area is None:
        raise NotFound("Unknown area", f"No budget area has the id {area_id}.")
    values = payload.dict(exclude={"commune_code"})
    return _area_out(services.update_area(request.user, area, **values))


@router.get("/components/{component_id}/ballot", response=BallotOut, auth=person_auth)
def ballot(request, component_id: int):
    found = queries.ballot_of(request.user, _component(component_id, ComponentKind.BUDGET))
    if found is None:
        raise NotFound("No ballot", "You have no ballot in this budget yet.")
    return found


@router.put("/components/{component_id}/ballot", response=BallotOut, auth=person_auth)
def ballot_save(request, component_id: int, payload: BallotIn):
    """Save the draft ballot (checked against the budget and maximum), to review it."""
    component = _component(component_id, ComponentKind.BUDGET)
    services.save_ballot(
        request.user, component, area_id=payload.area_id, project_ids=payload.project_ids
    )
    return queries.ballot_of(request.user, component)


@router.post("/components/{component_id}/ballot/cast", response=BallotOut, auth=person_auth)
def ballot_cast(request, component_id: int):
    component = _component(component_id, ComponentKind.BUDGET)
    services.cast_ballot(request.user, component)
    return queries.ballot_of(request.user, component)


@router.get("/components/{component_id}/budget/results", response=list[dict], auth=optional_auth)
def budget_results(request, component_id: int):
    """Votes and selected projects per area; during the vote only the territory's staff
    see them (published results would sway the vote)."""
    component = _component(component_id, ComponentKind.BUDGET)
    if not request.user.has_perm("participation.view_budget_results", component):
        raise PermissionDenied(
            "Results not published yet", "The results are published when the vote is over."
        )
    return [
        {
            "area_id": r["area"].pk,
            "area": r["area"].name,
            "amount": r["area"].amount,
            "rule": BudgetRule(r["rule"]).value,
            "ballots": r["ballots"],
            "spent": r["spent"],
            "projects": [
                {
                    "id": row["project"].pk,
                    "title": row["project"].title,
                    "cost": row["project"].cost,
                    "votes": row["votes"],
                    "selected": row["selected"],
                }
                for row in r["rows"]
            ],
        }
        for r in queries.budget_results(component)
    ]


@router.get(
    "/dashboard/{code}", response=dict, auth=person_auth, url_name="participation_dashboard"
)
def dashboard(request, code: str):
    """Territory-wide figures (staff of the territory): totals, by organising territory
    and by process, with the definition of a participant."""
    territory = core_queries.territory_by_code(code)
    if not request.user.has_perm("participation.view_dashboard", territory):
        raise PermissionDenied(
            "Permission denied", f"You may not see the dashboard of {territory.display_name}."
        )
    data = queries.dashboard(territory)
    keys = (
        "participants",
        "contributions",
        "proposals",
        "comments",
        "debate_arguments",
        "survey_responses",
        "votes",
        "supports",
        "ballots",
    )
    return {
        "territory": territory.code,
        "participant_definition": str(data["definition"]),
        "totals": data["totals"],
        "by_residence": [{"commune": name, "participants": n} for name, n in data["by_residence"]],
        "by_territory": [
            {"code": r["territory"].code, "name": r["territory"].name, **{k: r[k] for k in keys}}
            for r in data["by_territory"]
        ],
        "by_process": [
            {
                "slug": r["process"].slug,
                "title": r["process"].title,
                "territory": r["process"].territory.code,
                **{k: r[k] for k in keys},
            }
            for r in data["by_process"]
        ],
    }
