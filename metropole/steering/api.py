"""API of strategy steering, mounted at /api/steering/.

Same services, same permission checks (rules.py) as the pages. Reads of a plan's back
office and every write need a person (token or session); the transparency endpoints are
public and return only what the territory published.
"""

from datetime import date
from decimal import Decimal

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, File, Router, Schema, UploadedFile
from ninja.pagination import paginate
from ninja.responses import Status

from metropole.core.api_auth import person_auth
from metropole.core.api_pagination import Pagination
from metropole.core.exceptions import NotFound
from metropole.core.models import Organisation, Territory
from metropole.core.queries import territory_by_code
from metropole.core.rules import require_perm

from . import collectors, queries, services
from .models import (
    Action,
    Body,
    Decision,
    Indicator,
    IndicatorValue,
    Meeting,
    Node,
    Plan,
)

router = Router(tags=["steering"])


# --- schemas -------------------------------------------------------------------------------------


class PlanOut(Schema):
    id: int
    territory: str = Field(description="SIREN of the metropole or INSEE code of the commune")
    title: str
    summary: str
    source: str
    start: date
    end: date | None
    is_public: bool
    publish_budget: bool
    publish_indicators: bool
    demo_note: str

    @staticmethod
    def resolve_territory(obj):
        return obj.territory.code


class PlanIn(Schema):
    territory: str = Field(description="SIREN or INSEE code of the territory")
    title: str = Field(min_length=1, max_length=200)
    summary: str = ""
    source: str = ""
    start: date
    end: date | None = None
    is_public: bool = False
    publish_budget: bool = False
    publish_indicators: bool = True


class PlanPatch(Schema):
    title: str | None = None
    summary: str | None = None
    start: date | None = None
    end: date | None = None
    is_public: bool | None = None
    publish_budget: bool | None = None
    publish_indicators: bool | None = None


class NodeOut(Schema):
    id: int
    parent_id: int | None
    kind: str
    code: str
    title: str
    description: str
    weight: Decimal
    position: int


class NodeIn(Schema):
    parent_id: int | None = None
    kind: str
    code: str = ""
    title: str = Field(min_length=1, max_length=300)
    description: str = ""
    weight: Decimal = Decimal(1)
    position: int = 0


class NodePatch(Schema):
    parent_id: int | None = Field(None, description="Move under this node (null: to the top)")
    move: bool = Field(False, description="Set to true to apply parent_id (even null)")
    title: str | None = None
    code: str | None = None
    weight: Decimal | None = None
    position: int | None = None


class StepOut(Schema):
    id: int
    title: str
    due: date | None
    done_on: date | None


class ActionOut(Schema):
    id: int
    plan_id: int
    node_id: int
    code: str
    title: str
    description: str
    pilot_name: str
    partners: list[str]
    partners_text: str
    communes: list[str] = Field(description="INSEE codes")
    start: date | None
    end: date | None
    status: str
    late: bool
    progress: int
    weight: Decimal
    budget_total: Decimal | None
    is_demo: bool

    @staticmethod
    def resolve_partners(obj):
        return [p.name for p in obj.partners.all()]

    @staticmethod
    def resolve_communes(obj):
        return [c.code for c in obj.communes.all()]

    @staticmethod
    def resolve_late(obj):
        return obj.is_late

    @staticmethod
    def resolve_progress(obj):
        return obj.effective_progress


class ActionDetailOut(ActionOut):
    steps: list[StepOut]

    @staticmethod
    def resolve_steps(obj):
        return list(obj.steps.all())


class ActionIn(Schema):
    node_id: int
    code: str = ""
    title: str = Field(min_length=1, max_length=300)
    description: str = ""
    pilot_name: str = ""
    partners: list[int] = Field(default_factory=list, description="Organisation ids")
    communes: list[str] = Field(default_factory=list, description="INSEE codes")
    start: date | None = None
    end: date | None = None
    status: str = "planned"
    progress: int = Field(0, ge=0, le=100)
    weight: Decimal = Decimal(1)
    budget_total: Decimal | None = None


class ActionPatch(Schema):
    node_id: int | None = None
    title: str | None = None
    description: str | None = None
    pilot_name: str | None = None
    communes: list[str] | None = None
    start: date | None = None
    end: date | None = None
    status: str | None = None
    progress: int | None = Field(None, ge=0, le=100)
    weight: Decimal | None = None


class BudgetLineIO(Schema):
    year: int
    source: str
    planned: Decimal = Decimal(0)
    actual: Decimal | None = None
    comment: str = ""
    rate: Decimal | None = Field(None, description="Declared co-financing rate (%), checked")


class BudgetIn(Schema):
    total: Decimal | None = Field(None, description="The action's total cost; lines must add up")
    lines: list[BudgetLineIO]


class BudgetOut(Schema):
    total: Decimal | None
    lines: list[BudgetLineIO]


class IndicatorOut(Schema):
    id: int
    plan_id: int
    node_id: int | None
    action_id: int | None
    name: str
    kind: str
    unit: str
    value_type: str
    direction: str
    baseline_value: Decimal | None
    baseline_date: date | None
    target_value: Decimal | None
    target_date: date | None
    specific: str
    measurable: str
    achievable: str
    relevant: str
    time_bound: str
    source: str
    owner_name: str
    frequency: str
    collector: str
    is_public: bool
    is_demo: bool


class IndicatorIn(Schema):
    node_id: int | None = None
    action_id: int | None = None
    name: str = Field(min_length=1, max_length=300)
    kind: str
    unit: str = Field(min_length=1, max_length=40)
    value_type: str = "integer"
    direction: str = "increase"
    baseline_value: Decimal | None = None
    baseline_date: date | None = None
    target_value: Decimal | None = None
    target_date: date | None = None
    specific: str = ""
    measurable: str = ""
    achievable: str = ""
    relevant: str = ""
    time_bound: str = ""
    source: str = ""
    owner_name: str = ""
    frequency: str = "annual"
    collector: str = ""
    is_public: bool = True


class ValueOut(Schema):
    id: int
    date: date
    kind: str
    value: Decimal
    comment: str
    provenance: str
    source_detail: str


class ValueIn(Schema):
    date: date
    value: str | float | int = Field(description="A number of the indicator's type")
    kind: str = "actual"
    unit: str | None = Field(None, description="If given, must be the indicator's unit")
    comment: str = ""


class ImportOut(Schema):
    imported: int


class BodyOut(Schema):
    id: int
    kind: str
    name: str
    frequency: str


class BodyIn(Schema):
    kind: str
    name: str = Field(min_length=1, max_length=200)
    frequency: str = ""
    description: str = ""


class DecisionOut(Schema):
    id: int
    action_id: int
    kind: str
    reasons: str
    communes: list[str]

    @staticmethod
    def resolve_communes(obj):
        return [c.code for c in obj.communes.all()]


class MeetingOut(Schema):
    id: int
    body_id: int
    date: date
    title: str
    scope: list[int] = Field(description="Ids of the actions reviewed")
    decisions: list[DecisionOut]
    minutes: str

    @staticmethod
    def resolve_scope(obj):
        return [a.pk for a in obj.scope.all()]

    @staticmethod
    def resolve_decisions(obj):
        return list(obj.decisions.all())


class MeetingIn(Schema):
    body_id: int
    date: date
    title: str = ""
    actions: list[int] | None = Field(None, description="Actions reviewed (default: all open)")


class DecisionIn(Schema):
    action_id: int
    kind: str = Field(description="maintain, extend, extend_all or abandon")
    reasons: str
    communes: list[str] = Field(default_factory=list, description="INSEE codes, for extend")


class NodeProgressOut(Schema):
    id: int
    title: str
    depth: int
    progress: float | None
    actions: int
    planned: Decimal
    actual: Decimal


class IndicatorStateOut(Schema):
    id: int
    name: str
    unit: str
    actual: Decimal | None
    actual_date: date | None
    expected: Decimal | None
    target_value: Decimal | None
    state: str


class DashboardOut(Schema):
    plan: PlanOut
    progress: float | None
    status_counts: dict[str, int]
    late_actions: list[int]
    nodes: list[NodeProgressOut]
    budget_planned: Decimal
    budget_actual: Decimal
    budget_consumption: float | None
    indicators: list[IndicatorStateOut]
    communes: dict[str, int] = Field(description="Number of actions by INSEE code")


# --- helpers -------------------------------------------------------------------------------------


def _plan(request, plan_id, permission="steering.view_plan") -> Plan:
    plan = queries.get_plan(plan_id)
    require_perm(request.user, permission, plan)
    return plan


def _object(model, pk, request, permission="steering.view_plan", select=()):
    obj = (
        model.objects.filter(pk=pk).select_related(*select).first()
        if queries.valid_id(pk)
        else None
    )
    if obj is None:
        raise NotFound(
            _("Not found"), _("No %(what)s %(pk)s.") % {"what": model._meta.model_name, "pk": pk}
        )
    require_perm(request.user, permission, obj)
    return obj


def _ids(values) -> list[int]:
    return [v for v in values if queries.valid_id(v)]


def _communes(plan: Plan, codes) -> list[Territory]:
    communes = list(Territory.objects.filter(code__in=list(codes)))
    missing = set(codes) - {c.code for c in communes}
    if missing:
        from metropole.core.exceptions import BadRequest

        raise BadRequest(
            _("Unknown commune"),
            _("No commune has the code %(code)r.") % {"code": sorted(missing)[0]},
            field="communes",
        )
    return communes


def _node(plan: Plan, node_id):
    if node_id is None:
        return None
    node = Node.objects.filter(pk=node_id, plan=plan).first() if queries.valid_id(node_id) else None
    if node is None:
        from metropole.core.exceptions import BadRequest

        raise BadRequest(
            _("Unknown branch"),
            _("No branch %(id)s in this plan.") % {"id": node_id},
            field="node_id",
        )
    return node


def _dashboard_out(board) -> dict:
    return {
        "plan": board.plan,
        "progress": board.progress,
        "status_counts": {value: n for value, _label, n in board.status_counts},
        "late_actions": [a.pk for a in board.late],
        "nodes": [
            {
                "id": r.node.pk,
                "title": r.node.title,
                "depth": r.depth,
                "progress": r.progress,
                "actions": r.actions,
                "planned": r.planned,
                "actual": r.actual,
            }
            for r in board.nodes
        ],
        "budget_planned": board.budget["planned"],
        "budget_actual": board.budget["actual"],
        "budget_consumption": board.budget["consumption"],
        "indicators": [
            {
                "id": r.indicator.pk,
                "name": r.indicator.name,
                "unit": r.indicator.unit,
                "actual": r.actual,
                "actual_date": r.actual_date,
                "expected": r.expected,
                "target_value": r.indicator.target_value,
                "state": r.state,
            }
            for r in board.indicators
        ],
        "communes": {c["code"]: c["actions"] for c in board.communes},
    }


# --- public (transparency) -----------------------------------------------------------------------


@router.get(
    "/public/plans",
    response=list[PlanOut],
    url_name="steering_public_plans",
    summary="Published plans",
)
def public_plans(request):
    return list(queries.public_plans())


@router.get(
    "/public/plans/{plan_id}",
    response=DashboardOut,
    url_name="steering_public_plan",
    summary="A published plan's progress, actions and indicators (what the territory publishes)",
)
def public_plan(request, plan_id: int):
    plan = queries.get_plan(plan_id)
    require_perm(request.user, "steering.view_public_plan", plan)
    board = queries.dashboard(plan, public=True)
    out = _dashboard_out(board)
    if not plan.publish_budget:
        out["budget_planned"] = out["budget_actual"] = Decimal(0)
        out["budget_consumption"] = None
        for node in out["nodes"]:
            node["planned"] = node["actual"] = Decimal(0)
    if not plan.publish_indicators:
        out["indicators"] = []
    return out


# --- plans and tree ------------------------------------------------------------------------------


@router.get("/plans", response=list[PlanOut], auth=person_auth, url_name="steering_plans")
def plan_list(request):
    return list(queries.plans_visible_to(request.user))


@router.post("/plans", response={201: PlanOut}, auth=person_auth, url_name="steering_plan_create")
def plan_create(request, payload: PlanIn):
    data = payload.dict()
    territory = territory_by_code(data.pop("territory"))
    return Status(201, services.create_plan(request.user, territory, **data))


@router.get("/plans/{plan_id}", response=PlanOut, auth=person_auth, url_name="steering_plan")
def plan_detail(request, plan_id: int):
    return _plan(request, plan_id)


@router.patch("/plans/{plan_id}", response=PlanOut, auth=person_auth)
def plan_update(request, plan_id: int, payload: PlanPatch):
    plan = _plan(request, plan_id, "steering.change_plan")
    return services.update_plan(request.user, plan, **payload.dict(exclude_none=True))


@router.get(
    "/plans/{plan_id}/dashboard",
    response=DashboardOut,
    auth=person_auth,
    url_name="steering_dashboard",
)
def plan_dashboard(
    request, plan_id: int, node: int | None = None, commune: str = "", pilot: str = ""
):
    plan = _plan(request, plan_id)
    return _dashboard_out(queries.dashboard(plan, queries.Filters(node, commune, pilot)))


@router.get("/plans/{plan_id}/nodes", response=list[NodeOut], auth=person_auth)
@paginate(Pagination)
def node_list(request, plan_id: int):
    return _plan(request, plan_id).nodes.all()


@router.post("/plans/{plan_id}/nodes", response={201: NodeOut}, auth=person_auth)
def node_create(request, plan_id: int, payload: NodeIn):
    plan = _plan(request, plan_id, "steering.change_plan")
    data = payload.dict()
    parent = _node(plan, data.pop("parent_id"))
    return Status(201, services.add_node(request.user, plan, parent=parent, **data))


@router.patch("/nodes/{node_id}", response=NodeOut, auth=person_auth)
def node_update(request, node_id: int, payload: NodePatch):
    node = _object(Node, node_id, request, "steering.change_plan", select=("plan__territory",))
    data = payload.dict(exclude_none=True)
    move = data.pop("move", False)
    parent_id = data.pop("parent_id", None)
    if move:
        data["parent"] = _node(node.plan, parent_id)
    return services.update_node(request.user, node, **data)


# --- actions -------------------------------------------------------------------------------------


def _actions():
    return Action.objects.select_related("plan__territory").prefetch_related(
        "partners", "communes", "steps"
    )


@router.get("/plans/{plan_id}/actions", response=list[ActionOut], auth=person_auth)
@paginate(Pagination)
def action_list(request, plan_id: int):
    plan = _plan(request, plan_id)
    return _actions().filter(plan=plan).order_by("position", "pk")


@router.post("/plans/{plan_id}/actions", response={201: ActionDetailOut}, auth=person_auth)
def action_create(request, plan_id: int, payload: ActionIn):
    plan = _plan(request, plan_id, "steering.change_plan")
    data = payload.dict()
    node = _node(plan, data.pop("node_id"))
    partners = list(Organisation.objects.filter(pk__in=_ids(data.pop("partners"))))
    communes = _communes(plan, data.pop("communes"))
    action = services.add_action(
        request.user, plan, node=node, partners=partners, communes=communes, **data
    )
    return Status(201, _actions().get(pk=action.pk))


@router.get("/actions/{action_id}", response=ActionDetailOut, auth=person_auth)
def action_detail(request, action_id: int):
    _object(Action, action_id, request, select=("plan__territory",))
    return _actions().get(pk=action_id)


@router.patch("/actions/{action_id}", response=ActionDetailOut, auth=person_auth)
def action_update(request, action_id: int, payload: ActionPatch):
    action = _object(
        Action, action_id, request, "steering.change_plan", select=("plan__territory",)
    )
    data = payload.dict(exclude_unset=True)
    communes = data.pop("communes", None)
    if communes is not None:
        communes = _communes(action.plan, communes)
    if "node_id" in data:
        data["node"] = _node(action.plan, data.pop("node_id"))
    services.update_action(request.user, action, communes=communes, **data)
    return _actions().get(pk=action_id)


@router.get("/actions/{action_id}/budget", response=BudgetOut, auth=person_auth)
def budget_detail(request, action_id: int):
    action = _object(Action, action_id, request, select=("plan__territory",))
    return {"total": action.budget_total, "lines": list(action.budget_lines.all())}


@router.put("/actions/{action_id}/budget", response=BudgetOut, auth=person_auth)
def budget_set(request, action_id: int, payload: BudgetIn):
    action = _object(
        Action, action_id, request, "steering.change_plan", select=("plan__territory",)
    )
    lines = [line.dict() for line in payload.lines]
    services.set_budget(request.user, action, lines, total=payload.total)
    action.refresh_from_db()
    return {"total": action.budget_total, "lines": list(action.budget_lines.all())}


# --- indicators ----------------------------------------------------------------------------------


@router.get("/plans/{plan_id}/indicators", response=list[IndicatorOut], auth=person_auth)
@paginate(Pagination)
def indicator_list(request, plan_id: int):
    return _plan(request, plan_id).indicators.all()


@router.post("/plans/{plan_id}/indicators", response={201: IndicatorOut}, auth=person_auth)
def indicator_create(request, plan_id: int, payload: IndicatorIn):
    plan = _plan(request, plan_id, "steering.change_plan")
    data = payload.dict()
    data["node"] = _node(plan, data.pop("node_id"))
    action_id = data.pop("action_id")
    data["action"] = (
        Action.objects.filter(pk__in=_ids([action_id]), plan=plan).first() if action_id else None
    )
    return Status(201, services.add_indicator(request.user, plan, **data))


@router.get("/indicators/{indicator_id}/values", response=list[ValueOut], auth=person_auth)
@paginate(Pagination)
def value_list(request, indicator_id: int):
    indicator = _object(Indicator, indicator_id, request, select=("plan__territory",))
    return indicator.values.all()


@router.post("/indicators/{indicator_id}/values", response={201: ValueOut}, auth=person_auth)
def value_create(request, indicator_id: int, payload: ValueIn):
    indicator = _object(
        Indicator, indicator_id, request, "steering.change_plan", select=("plan__territory",)
    )
    value = services.record_value(request.user, indicator, **payload.dict())
    return Status(201, value)


@router.post("/indicators/{indicator_id}/collect", response={201: ValueOut}, auth=person_auth)
def value_collect(request, indicator_id: int):
    """Collect the indicator's value now from its automatic source."""
    indicator = _object(
        Indicator, indicator_id, request, "steering.change_plan", select=("plan__territory",)
    )
    if not indicator.collector:
        from metropole.core.exceptions import BadRequest

        raise BadRequest(
            _("No automatic source"), _("This indicator is entered by hand."), field="collector"
        )
    return Status(201, collectors.collect(indicator, actor=request.user))


@router.post("/plans/{plan_id}/values/import", response={201: ImportOut}, auth=person_auth)
def value_import(request, plan_id: int, file: File[UploadedFile]):
    """Import values from CSV (indicator, date, value[, kind, unit, comment]): all or nothing;
    the error lists every faulty row (`errors`: line, column, message)."""
    plan = _plan(request, plan_id, "steering.change_plan")
    imported = services.import_values_csv(request.user, plan, file.read())
    return Status(201, {"imported": imported})


# --- governance ----------------------------------------------------------------------------------


@router.get("/plans/{plan_id}/bodies", response=list[BodyOut], auth=person_auth)
def body_list(request, plan_id: int):
    return list(_plan(request, plan_id).bodies.all())


@router.post("/plans/{plan_id}/bodies", response={201: BodyOut}, auth=person_auth)
def body_create(request, plan_id: int, payload: BodyIn):
    plan = _plan(request, plan_id, "steering.change_plan")
    return Status(201, services.add_body(request.user, plan, **payload.dict()))


def _meetings():
    return Meeting.objects.select_related("body__plan__territory").prefetch_related(
        "scope", "decisions__communes"
    )


@router.get("/plans/{plan_id}/meetings", response=list[MeetingOut], auth=person_auth)
def meeting_list(request, plan_id: int):
    plan = _plan(request, plan_id)
    return list(_meetings().filter(body__plan=plan))


@router.post("/plans/{plan_id}/meetings", response={201: MeetingOut}, auth=person_auth)
def meeting_create(request, plan_id: int, payload: MeetingIn):
    plan = _plan(request, plan_id, "steering.change_plan")
    body = get_object_or_404(Body, pk__in=_ids([payload.body_id]), plan=plan)
    actions = None
    if payload.actions is not None:
        actions = list(Action.objects.filter(pk__in=_ids(payload.actions)))
        if len(actions) != len(set(payload.actions)):
            from metropole.core.exceptions import BadRequest

            raise BadRequest(
                _("Unknown action"), _("Some action ids do not exist."), field="actions"
            )
    meeting = services.create_meeting(
        request.user, body, date=payload.date, title=payload.title, actions=actions
    )
    return Status(201, _meetings().get(pk=meeting.pk))


@router.get("/meetings/{meeting_id}", response=MeetingOut, auth=person_auth)
def meeting_detail(request, meeting_id: int):
    _object(Meeting, meeting_id, request, select=("body__plan__territory",))
    return _meetings().get(pk=meeting_id)


@router.post("/meetings/{meeting_id}/decisions", response={201: DecisionOut}, auth=person_auth)
def decision_create(request, meeting_id: int, payload: DecisionIn):
    meeting = _object(
        Meeting, meeting_id, request, "steering.decide", select=("body__plan__territory",)
    )
    action = Action.objects.filter(pk__in=_ids([payload.action_id])).first()
    if action is None:
        raise NotFound(_("Not found"), _("No action %(pk)s.") % {"pk": payload.action_id})
    communes = _communes(meeting.body.plan, payload.communes)
    decision = services.record_decision(
        request.user, meeting, action, kind=payload.kind, reasons=payload.reasons, communes=communes
    )
    return Status(201, Decision.objects.prefetch_related("communes").get(pk=decision.pk))


__all__ = ["router", "IndicatorValue"]
