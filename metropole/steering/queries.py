"""Reads of strategy steering, shared by pages, API, exports, the meeting pack and the report.

The dashboard is computed from a fixed number of queries whatever the plan's size (nodes,
actions, action–commune links, budget sums, indicators with their latest values through
subqueries): the roll-ups are done in Python over those rows.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django.utils.translation import ngettext

from metropole.core.exceptions import NotFound
from metropole.core.models import Territory
from metropole.core.rules import role_map

from .models import (
    CLOSED_STATUSES,
    Action,
    ActionStatus,
    BudgetLine,
    Direction,
    FundingSource,
    Indicator,
    IndicatorValue,
    Meeting,
    Node,
    Plan,
    ValueKind,
)
from .rules import READERS


def plans_visible_to(user):
    """Plans whose back office `user` may open (same roles as rules.view_plan)."""
    plans = Plan.objects.select_related("territory")
    if user.is_authenticated and user.is_superuser:
        return plans
    grants = role_map(user)
    territory_ids = {tid for tid, roles in grants.items() if roles & READERS}
    admin_of = [tid for tid, roles in grants.items() if "admin" in roles]
    return plans.filter(Q(territory_id__in=territory_ids) | Q(territory__metropole_id__in=admin_of))


def public_plans():
    return Plan.objects.filter(is_public=True).select_related("territory")


MAX_ID = 2**63 - 1


def valid_id(pk) -> bool:
    """Ids beyond a 64-bit integer cannot exist (and would overflow the database driver)."""
    try:
        return 0 < int(pk) <= MAX_ID
    except (TypeError, ValueError):
        return False


def get_plan(pk) -> Plan:
    plan = Plan.objects.select_related("territory").filter(pk=pk).first() if valid_id(pk) else None
    if plan is None:
        raise NotFound("Plan not found", f"No plan {pk}.")
    return plan


# --- dashboard -----------------------------------------------------------------------------------


@dataclass
class Filters:
    node: int | None = None
    commune: str = ""
    pilot: str = ""

    @classmethod
    def from_query(cls, data) -> "Filters":
        node = data.get("axe") or data.get("node") or ""
        return cls(
            node=int(node) if str(node).isdigit() else None,
            commune=(data.get("commune") or "").strip(),
            pilot=(data.get("pilote") or data.get("pilot") or "").strip(),
        )

    @property
    def active(self) -> bool:
        return bool(self.node or self.commune or self.pilot)


@dataclass
class NodeRow:
    node: Node
    depth: int
    progress: float | None = None
    actions: int = 0
    planned: Decimal = Decimal(0)
    actual: Decimal = Decimal(0)
    children: list = field(default_factory=list)

    @property
    def label(self) -> str:
        return "— " * self.depth + str(self.node)


@dataclass
class IndicatorRow:
    indicator: Indicator
    actual: Decimal | None
    actual_date: date | None
    expected: Decimal | None
    state: str  # on_track, off_track, no_data, no_target

    @property
    def off_track(self) -> bool:
        return self.state == "off_track"


def subtree_ids(nodes: list[Node], root_id: int) -> set[int]:
    children = defaultdict(list)
    for node in nodes:
        children[node.parent_id].append(node.pk)
    found, stack = set(), [root_id]
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.add(current)
        stack.extend(children[current])
    return found


def tree(nodes: list[Node]) -> list[NodeRow]:
    """Nodes in display order (depth-first), each with its depth."""
    children = defaultdict(list)
    for node in nodes:
        children[node.parent_id].append(node)
    rows, seen = [], set()

    def walk(parent_id, depth):
        for node in sorted(children[parent_id], key=lambda n: (n.position, n.pk)):
            if node.pk in seen:
                continue
            seen.add(node.pk)
            row = NodeRow(node=node, depth=depth)
            rows.append(row)
            walk(node.pk, depth + 1)

    walk(None, 0)
    return rows


def filtered_actions(plan: Plan, filters: Filters, nodes: list[Node]):
    actions = (
        Action.objects.filter(plan=plan).select_related("node", "pilot").order_by("position", "pk")
    )
    if filters.node:
        actions = actions.filter(node_id__in=subtree_ids(nodes, filters.node))
    if filters.commune:
        actions = actions.filter(communes__code=filters.commune)
    if filters.pilot:
        actions = actions.filter(pilot_name=filters.pilot)
    return list(actions.distinct())


def roll_up(rows: list[NodeRow], actions: list[Action], budget_by_action: dict) -> float | None:
    """Weighted progress of each node over its subtree (abandoned actions left out), and
    budgets summed up the tree. Returns the plan's overall progress."""
    by_id = {row.node.pk: row for row in rows}
    direct = defaultdict(list)
    for action in actions:
        direct[action.node_id].append(action)
    for row in rows:
        parent = by_id.get(row.node.parent_id)
        if parent is not None:
            parent.children.append(row)

    def visit(row: NodeRow) -> tuple[Decimal, Decimal]:
        weighted, weights = Decimal(0), Decimal(0)
        for action in direct[row.node.pk]:
            planned, actual = budget_by_action.get(action.pk, (Decimal(0), Decimal(0)))
            row.planned += planned
            row.actual += actual
            row.actions += 1
            if action.status == ActionStatus.ABANDONED:
                continue
            weighted += action.weight * action.effective_progress
            weights += action.weight
        for child in row.children:
            child_weighted, child_weights = visit(child)
            row.planned += child.planned
            row.actual += child.actual
            row.actions += child.actions
            if child_weights:
                # A child counts with its own weight, whatever the number of its actions.
                weighted += child.node.weight * (child_weighted / child_weights)
                weights += child.node.weight
        row.progress = float(weighted / weights) if weights else None
        return weighted, weights

    total_weighted, total_weights = Decimal(0), Decimal(0)
    for row in rows:
        if row.node.parent_id is None or row.node.parent_id not in by_id:
            w, ws = visit(row)
            if ws:
                total_weighted += row.node.weight * (w / ws)
                total_weights += row.node.weight
    return float(total_weighted / total_weights) if total_weights else None


def budget_by_action(action_ids) -> dict[int, tuple[Decimal, Decimal]]:
    sums = (
        BudgetLine.objects.filter(action_id__in=action_ids)
        .values("action_id")
        .annotate(planned=Sum("planned"), actual=Sum("actual"))
    )
    return {s["action_id"]: (s["planned"] or Decimal(0), s["actual"] or Decimal(0)) for s in sums}


def budget_breakdown(action_ids) -> dict:
    """Planned and actual by year and by funding source, with co-financing rates."""
    rows = (
        BudgetLine.objects.filter(action_id__in=action_ids)
        .values("year", "source")
        .annotate(planned=Sum("planned"), actual=Sum("actual"))
        .order_by("year", "source")
    )
    by_year, by_source = (
        defaultdict(lambda: [Decimal(0), Decimal(0)]),
        defaultdict(lambda: [Decimal(0), Decimal(0)]),
    )
    for row in rows:
        for bucket in (by_year[row["year"]], by_source[row["source"]]):
            bucket[0] += row["planned"] or 0
            bucket[1] += row["actual"] or 0
    planned = sum((v[0] for v in by_year.values()), Decimal(0))
    actual = sum((v[1] for v in by_year.values()), Decimal(0))
    labels = dict(FundingSource.choices)
    return {
        "planned": planned,
        "actual": actual,
        "consumption": float(actual * 100 / planned) if planned else None,
        "years": [{"year": y, "planned": v[0], "actual": v[1]} for y, v in sorted(by_year.items())],
        "sources": [
            {
                "source": s,
                "label": labels.get(s, s),
                "planned": v[0],
                "actual": v[1],
                "rate": float(v[0] * 100 / planned) if planned else None,
            }
            for s, v in sorted(by_source.items(), key=lambda kv: -kv[1][0])
        ],
    }


def _latest(kind: str, before=None):
    values = IndicatorValue.objects.filter(indicator=OuterRef("pk"), kind=kind)
    if before is not None:
        values = values.filter(date__lte=before)
    return values.order_by("-date")


def indicator_rows(indicators) -> list[IndicatorRow]:
    """Each indicator with its latest actual value and whether it is on track.

    Expected value at the latest actual's date: the latest target-kind value dated on or
    before it if any, else the straight line from the baseline (or, without one, from the
    first actual value) to the target, else the target."""
    latest = _latest(ValueKind.ACTUAL)
    first = latest.order_by("date")
    indicators = indicators.annotate(
        latest_value=Subquery(latest.values("value")[:1]),
        latest_date=Subquery(latest.values("date")[:1]),
        first_value=Subquery(first.values("value")[:1]),
        first_date=Subquery(first.values("date")[:1]),
    ).annotate(
        step_target=Subquery(
            IndicatorValue.objects.filter(
                indicator=OuterRef("pk"), kind=ValueKind.TARGET, date__lte=OuterRef("latest_date")
            )
            .order_by("-date")
            .values("value")[:1]
        )
    )
    return [_indicator_row(i) for i in indicators]


def _indicator_row(indicator) -> IndicatorRow:
    actual, when = indicator.latest_value, indicator.latest_date
    expected = indicator.step_target
    if expected is None and indicator.target_value is not None:
        expected = indicator.target_value
        # Without a baseline the line starts at the first measure: an indicator is not "off
        # track" merely because its final target is not reached yet.
        origin, start = indicator.baseline_value, indicator.baseline_date
        if origin is None or start is None:
            origin, start = indicator.first_value, indicator.first_date
        end = indicator.target_date
        if origin is not None and start and end and when and start <= when < end:
            share = Decimal((when - start).days) / Decimal((end - start).days)
            expected = origin + (indicator.target_value - origin) * share
    if actual is None:
        state = "no_data"
    elif expected is None:
        state = "no_target"
    elif indicator.direction == Direction.INCREASE:
        state = "on_track" if actual >= expected else "off_track"
    elif indicator.direction == Direction.DECREASE:
        state = "on_track" if actual <= expected else "off_track"
    else:
        tolerance = abs(expected) * Decimal("0.05")
        state = "on_track" if abs(actual - expected) <= tolerance else "off_track"
    return IndicatorRow(indicator, actual, when, expected, state)


INDICATOR_STATES = ("off_track", "on_track", "no_target", "no_data")
DASHBOARD_INDICATORS = 40
DASHBOARD_LATE = 20


@dataclass
class Dashboard:
    plan: Plan
    filters: Filters
    nodes: list[NodeRow]
    actions: list[Action]
    progress: float | None
    status_counts: list[tuple[str, str, int]]
    late: list[Action]
    budget: dict
    indicators: list[IndicatorRow]
    communes: list[dict]
    pilots: list[str]
    today: date

    @property
    def off_track(self) -> list[IndicatorRow]:
        return [row for row in self.indicators if row.off_track]

    @property
    def indicator_states(self) -> dict[str, int]:
        counts = Counter(row.state for row in self.indicators)
        return {state: counts.get(state, 0) for state in INDICATOR_STATES}

    def indicators_first(self, limit: int = DASHBOARD_INDICATORS) -> list[IndicatorRow]:
        """Off-track indicators first, then the others, at most `limit` (the full list is on
        the indicators page): a plan of 500 indicators stays a light page."""
        order = {state: i for i, state in enumerate(INDICATOR_STATES)}
        return sorted(self.indicators, key=lambda r: order[r.state])[:limit]

    @property
    def late_first(self) -> list[Action]:
        return self.late[:DASHBOARD_LATE]


def dashboard(plan: Plan, filters: Filters | None = None, *, public=False, today=None) -> Dashboard:
    filters = filters or Filters()
    today = today or timezone.localdate()
    nodes = list(plan.nodes.all())
    rows = tree(nodes)
    actions = filtered_actions(plan, filters, nodes)
    action_ids = [a.pk for a in actions]
    budgets = budget_by_action(action_ids)
    progress = roll_up(rows, actions, budgets)
    counts = Counter(a.status for a in actions)
    status_counts = [(value, label, counts.get(value, 0)) for value, label in ActionStatus.choices]
    late = [a for a in actions if a.is_late_on(today)]
    communes_of = defaultdict(list)
    links = Action.communes.through.objects.filter(action_id__in=action_ids).values_list(
        "action_id", "territory__code", "territory__name"
    )
    per_commune = Counter()
    names = {}
    for action_id, code, name in links:
        communes_of[action_id].append(name)
        per_commune[code] += 1
        names[code] = name
    for action in actions:
        action.commune_names = names_of = sorted(communes_of.get(action.pk, []))
        action.communes_label = (
            ngettext("%(n)d commune", "%(n)d communes", len(names_of)) % {"n": len(names_of)}
            if len(names_of) > 5
            else ", ".join(names_of) or "–"
        )
    indicators = plan.indicators.only(
        "id",
        "plan_id",
        "node_id",
        "action_id",
        "name",
        "kind",
        "unit",
        "direction",
        "baseline_value",
        "baseline_date",
        "target_value",
        "target_date",
        "collector",
        "is_public",
        "position",
    )
    if public:
        indicators = indicators.filter(is_public=True)
    if filters.node:
        subtree = subtree_ids(nodes, filters.node)
        indicators = indicators.filter(Q(node_id__in=subtree) | Q(action__node_id__in=subtree))
    if filters.commune or filters.pilot:
        indicators = indicators.filter(action_id__in=action_ids)
    pilots = sorted(
        {p for p in Action.objects.filter(plan=plan).values_list("pilot_name", flat=True) if p}
    )
    return Dashboard(
        plan=plan,
        filters=filters,
        nodes=rows,
        actions=actions,
        progress=progress,
        status_counts=status_counts,
        late=late,
        budget=budget_breakdown(action_ids),
        indicators=indicator_rows(indicators),
        communes=[
            {"code": code, "name": names[code], "actions": count}
            for code, count in sorted(per_commune.items(), key=lambda kv: (-kv[1], names[kv[0]]))
        ],
        pilots=pilots,
        today=today,
    )


def territory_overview(territory: Territory, user) -> list[tuple[Plan, Dashboard]]:
    """Every plan of a territory (and of its communes, seen from the metropole) visible to
    `user`, each with its dashboard summary."""
    plans = plans_visible_to(user).filter(
        Q(territory=territory) | Q(territory__metropole=territory)
    )
    return [(plan, dashboard(plan)) for plan in plans]


# --- meeting pack and annual report --------------------------------------------------------------


def schedule_gaps(actions: list[Action], today: date) -> list[dict]:
    """Actions behind schedule: days past the end (or start), steps overdue."""
    gaps = []
    for action in actions:
        if action.status in CLOSED_STATUSES:
            continue
        overdue = [s for s in action.steps.all() if s.due and s.due < today and not s.done_on]
        days = None
        if action.end and action.end < today:
            days = (today - action.end).days
        elif action.status == ActionStatus.PLANNED and action.start and action.start < today:
            days = (today - action.start).days
        if days is not None or overdue:
            gaps.append({"action": action, "days_late": days, "overdue_steps": overdue})
    return gaps


def budget_gaps(actions: list[Action]) -> list[dict]:
    """Actions whose actual spending exceeds plan, per year and source."""
    gaps = []
    for action in actions:
        for line in action.budget_lines.all():
            if line.actual is not None and line.actual > line.planned:
                gaps.append(
                    {
                        "action": action,
                        "line": line,
                        "over": line.actual - line.planned,
                        "rate": float(line.actual * 100 / line.planned) if line.planned else None,
                    }
                )
    return gaps


def meeting_pack(meeting: Meeting, today=None) -> dict:
    today = today or meeting.date
    plan = meeting.body.plan
    actions = list(
        meeting.scope.select_related("node")
        .prefetch_related("steps", "budget_lines", "communes", "decisions")
        .order_by("position", "pk")
    )
    board = dashboard(plan, today=today)
    ids = {a.pk for a in actions}
    decisions = {d.action_id: d for d in meeting.decisions.select_related("action")}
    for action in actions:
        action.decision = decisions.get(action.pk)
    return {
        "plan": plan,
        "meeting": meeting,
        "actions": actions,
        "board": board,
        "schedule_gaps": schedule_gaps(actions, today),
        "budget_gaps": budget_gaps(actions),
        "off_track": [
            r
            for r in board.indicators
            if r.off_track and (r.indicator.action_id is None or r.indicator.action_id in ids)
        ],
        "today": today,
    }


def annual_report(plan: Plan, year: int, half: int | None = None) -> dict:
    """The annual report, or the six-monthly evaluation report when `half` is 1 or 2: the
    plan's state at the period's end (or today), the year's budget, the period's meetings."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    if half == 1:
        end = date(year, 6, 30)
    elif half == 2:
        start = date(year, 7, 1)
    board = dashboard(plan, today=min(end, timezone.localdate()))
    meetings = list(
        Meeting.objects.filter(body__plan=plan, date__range=(start, end))
        .select_related("body")
        .prefetch_related("decisions__action")
    )
    year_budget = next((y for y in board.budget["years"] if y["year"] == year), None)
    return {
        "plan": plan,
        "year": year,
        "half": half,
        "period_start": start,
        "period_end": end,
        "board": board,
        "meetings": meetings,
        "year_budget": year_budget,
    }
