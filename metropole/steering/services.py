"""Every write of strategy steering: transactional, permission-checked, audited.

Pages, API, the CSV import, the collector and the demo loader all come through here, so
the rules (no cycle in the tree, dates inside the plan, budget lines that add up, values of
the indicator's unit and type, decisions inside a meeting's scope) hold whatever the door.
A rule broken raises BadRequest naming the field (and the row for files) before anything
is written; the transaction makes a multi-row write all or nothing.
"""

import csv
import io
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from metropole.core.exceptions import BadRequest, PlatformError, from_validation_error
from metropole.core.models import Organisation, Territory
from metropole.core.rules import require_perm
from metropole.core.services import audit

from .models import (
    Action,
    ActionStatus,
    Body,
    BudgetLine,
    Decision,
    DecisionKind,
    Document,
    FundingSource,
    Indicator,
    IndicatorValue,
    Meeting,
    Node,
    Note,
    Plan,
    Provenance,
    Step,
    ValueKind,
    ValueType,
)


class _System:
    """The actor of writes nobody asked for in person: demo loading, scheduled collection."""

    is_authenticated = False
    email = "system"
    pk = None


SYSTEM = _System()


def _check(actor, permission: str, obj) -> None:
    if actor is SYSTEM:
        return
    require_perm(actor, permission, obj)


def _person(actor):
    return None if actor is SYSTEM else actor


def _audit(actor, verb: str, plan: Plan, obj=None, **details):
    return audit(_person(actor), verb, plan.territory, obj, **details)


def _full_clean(obj, exclude=None):
    try:
        obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise from_validation_error(error) from None


# --- plans and their tree ------------------------------------------------------------------------

PLAN_FIELDS = {
    "title",
    "summary",
    "source",
    "start",
    "end",
    "is_public",
    "publish_budget",
    "publish_indicators",
    "demo_note",
}


@transaction.atomic
def create_plan(actor, territory: Territory, **values) -> Plan:
    _check(actor, "steering.add_plan", territory)
    plan = Plan(territory=territory, **_only(values, PLAN_FIELDS))
    _validate_plan(plan)
    if Plan.objects.filter(territory=territory, title=plan.title).exists():
        raise BadRequest(
            _("Plan already exists"),
            _("%(territory)s already has a plan named %(title)r.")
            % {"territory": territory.display_name, "title": plan.title},
            field="title",
        )
    plan.save()
    _audit(actor, "steering.plan_created", plan, plan, title=plan.title)
    return plan


@transaction.atomic
def update_plan(actor, plan: Plan, **values) -> Plan:
    _check(actor, "steering.change_plan", plan)
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    for name, value in _only(values, PLAN_FIELDS).items():
        setattr(plan, name, value)
    _validate_plan(plan)
    outside = [
        a
        for a in plan.actions.all()
        if (a.start and not _inside(plan, a.start)) or (a.end and not _inside(plan, a.end))
    ]
    if outside:
        raise BadRequest(
            _("Dates outside the plan"),
            _("The new period leaves action %(action)s (%(start)s – %(end)s) outside the plan.")
            % {"action": outside[0], "start": outside[0].start, "end": outside[0].end},
            field="end",
        )
    plan.save()
    _audit(actor, "steering.plan_updated", plan, plan, fields=sorted(_only(values, PLAN_FIELDS)))
    return plan


def _validate_plan(plan: Plan) -> None:
    _full_clean(plan, exclude=["territory"])
    if plan.end and plan.end < plan.start:
        raise BadRequest(_("Invalid period"), _("The plan ends before it starts."), field="end")


def _only(values: dict, allowed: set) -> dict:
    unknown = set(values) - allowed
    if unknown:
        raise BadRequest(_("Unknown field"), ", ".join(sorted(unknown)), field=sorted(unknown)[0])
    return values


def _inside(plan: Plan, day: date) -> bool:
    return day >= plan.start and (plan.end is None or day <= plan.end)


def _require_inside(plan: Plan, day: date | None, field: str) -> None:
    if day is not None and not _inside(plan, day):
        raise BadRequest(
            _("Date outside the plan"),
            _("%(field)s %(day)s is outside the plan's period (%(start)s – %(end)s).")
            % {"field": field, "day": day, "start": plan.start, "end": plan.end or "…"},
            field=field,
        )


NODE_FIELDS = {"kind", "code", "title", "description", "weight", "position", "parent"}


@transaction.atomic
def add_node(actor, plan: Plan, *, parent: Node | None = None, **values) -> Node:
    _check(actor, "steering.change_plan", plan)
    _check_parent(plan, parent, None)
    node = Node(plan=plan, parent=parent, **_only(values, NODE_FIELDS - {"parent"}))
    _full_clean(node, exclude=["plan", "parent"])
    node.save()
    _audit(actor, "steering.node_added", plan, node, title=node.title)
    return node


@transaction.atomic
def update_node(actor, node: Node, **values) -> Node:
    """Change a node; moving it under one of its own descendants is refused (a cycle)."""
    _check(actor, "steering.change_plan", node.plan)
    values = _only(values, NODE_FIELDS)
    if "parent" in values:
        _check_parent(node.plan, values["parent"], node)
    for name, value in values.items():
        setattr(node, name, value)
    _full_clean(node, exclude=["plan", "parent"])
    node.save()
    _audit(actor, "steering.node_updated", node.plan, node, fields=sorted(values))
    return node


def _check_parent(plan: Plan, parent: Node | None, node: Node | None) -> None:
    if parent is None:
        return
    if parent.plan_id != plan.pk:
        raise BadRequest(
            _("Wrong parent"),
            _("The parent %(parent)s belongs to another plan.") % {"parent": parent},
            field="parent",
        )
    if node is None:
        return
    # Walk up from the new parent with the plan's parent links loaded once.
    parents = dict(Node.objects.filter(plan=plan).values_list("id", "parent_id"))
    current, seen = parent.pk, set()
    while current is not None and current not in seen:
        if current == node.pk:
            raise BadRequest(
                _("Cycle in the tree"),
                _("%(node)s cannot be placed under %(parent)s: %(parent)s is inside it.")
                % {"node": node, "parent": parent},
                field="parent",
            )
        seen.add(current)
        current = parents.get(current)


# --- actions -------------------------------------------------------------------------------------

ACTION_FIELDS = {
    "node",
    "code",
    "title",
    "description",
    "pilot",
    "pilot_name",
    "partners_text",
    "start",
    "end",
    "status",
    "progress",
    "weight",
    "budget_total",
    "is_demo",
    "position",
}


@transaction.atomic
def add_action(actor, plan: Plan, *, node: Node, partners=(), communes=(), **values) -> Action:
    _check(actor, "steering.change_plan", plan)
    action = Action(plan=plan, node=node, **_only(values, ACTION_FIELDS - {"node"}))
    _validate_action(action)
    action.save()
    _set_relations(action, partners, communes)
    _audit(actor, "steering.action_added", plan, action, title=action.title)
    return action


@transaction.atomic
def update_action(actor, action: Action, *, partners=None, communes=None, **values) -> Action:
    _check(actor, "steering.change_plan", action.plan)
    action = Action.objects.select_for_update(of=("self",)).select_related("plan").get(pk=action.pk)
    values = _only(values, ACTION_FIELDS)
    before = {name: str(getattr(action, name)) for name in values}
    for name, value in values.items():
        setattr(action, name, value)
    _validate_action(action)
    action.save()
    _set_relations(action, partners, communes)
    changed = {k: [before[k], str(v)] for k, v in values.items() if before[k] != str(v)}
    _audit(actor, "steering.action_updated", action.plan, action, changed=changed)
    return action


def _validate_action(action: Action) -> None:
    plan = action.plan
    if action.node_id is None or action.node.plan_id != plan.pk:
        raise BadRequest(
            _("Wrong branch"), _("The action must hang on a branch of its own plan."), field="node"
        )
    _full_clean(action, exclude=["plan", "node", "pilot", "partners", "communes"])
    _require_inside(plan, action.start, "start")
    _require_inside(plan, action.end, "end")
    if action.start and action.end and action.end < action.start:
        raise BadRequest(_("Invalid period"), _("The action ends before it starts."), field="end")
    if action.status == ActionStatus.DONE and action.progress < 100:
        action.progress = 100


def _set_relations(action: Action, partners, communes) -> None:
    metropole = action.plan.territory.root
    if partners is not None:
        partners = list(partners)
        foreign = [p for p in partners if p.metropole_id != metropole.pk]
        if foreign:
            raise BadRequest(
                _("Unknown partner"),
                _("%(name)s is not a partner organisation of %(metropole)s.")
                % {"name": foreign[0], "metropole": metropole.display_name},
                field="partners",
            )
        action.partners.set(partners)
    if communes is not None:
        communes = list(communes)
        _check_communes(metropole, communes)
        action.communes.set(communes)


def _check_communes(metropole: Territory, communes) -> None:
    foreign = [c for c in communes if not c.is_commune or c.metropole_id != metropole.pk]
    if foreign:
        raise BadRequest(
            _("Unknown commune"),
            _("%(name)s is not a commune of %(metropole)s.")
            % {"name": foreign[0].display_name, "metropole": metropole.display_name},
            field="communes",
        )


@transaction.atomic
def add_step(actor, action: Action, *, title: str, due=None, done_on=None, position=0) -> Step:
    _check(actor, "steering.change_plan", action.plan)
    _require_inside(action.plan, due, "due")
    step = Step(action=action, title=title, due=due, done_on=done_on, position=position)
    _full_clean(step, exclude=["action"])
    step.save()
    _audit(actor, "steering.step_added", action.plan, step, action_id=action.pk)
    return step


@transaction.atomic
def complete_step(actor, step: Step, done_on: date | None = None) -> Step:
    _check(actor, "steering.change_plan", step.action.plan)
    step.done_on = done_on or timezone.localdate()
    step.save(update_fields=["done_on"])
    _audit(actor, "steering.step_done", step.action.plan, step, done_on=str(step.done_on))
    return step


@transaction.atomic
def add_note(actor, action: Action, *, text: str, day: date | None = None) -> Note:
    _check(actor, "steering.change_plan", action.plan)
    if not text.strip():
        raise BadRequest(_("Empty note"), _("Write the note's text."), field="text")
    note = Note.objects.create(
        action=action, text=text.strip(), date=day or timezone.localdate(), author=_person(actor)
    )
    _audit(actor, "steering.note_added", action.plan, note, action_id=action.pk)
    return note


MAX_DOCUMENT_SIZE = 20 * 1024 * 1024


@transaction.atomic
def attach_document(actor, action: Action, *, title: str, file, is_public=False) -> Document:
    _check(actor, "steering.change_plan", action.plan)
    if file is None or not getattr(file, "size", 0):
        raise BadRequest(_("No file"), _("Choose a file to attach."), field="file")
    if file.size > MAX_DOCUMENT_SIZE:
        raise BadRequest(
            _("File too large"),
            _("Documents are limited to %(mb)d MB.") % {"mb": MAX_DOCUMENT_SIZE // 2**20},
            field="file",
        )
    document = Document(
        action=action,
        title=title.strip() or file.name,
        is_public=is_public,
        content_type=getattr(file, "content_type", "") or "application/octet-stream",
        size=file.size,
        uploaded_by=_person(actor),
    )
    document.file.save(file.name, file, save=False)
    document.save()
    _audit(actor, "steering.document_attached", action.plan, document, action_id=action.pk)
    return document


# --- budget --------------------------------------------------------------------------------------

CENT = Decimal("0.01")


def _money(raw, field: str) -> Decimal | None:
    if raw is None or raw == "":
        return None
    try:
        value = Decimal(str(raw).replace(" ", "").replace("\u202f", "").replace(",", "."))
    except InvalidOperation:
        raise BadRequest(
            _("Invalid amount"),
            _("%(field)s: %(raw)r is not an amount.") % {"field": field, "raw": raw},
            field=field,
        ) from None
    if not value.is_finite() or value < 0:
        raise BadRequest(
            _("Invalid amount"),
            _("%(field)s must be zero or more.") % {"field": field},
            field=field,
        )
    return value.quantize(CENT)


@transaction.atomic
def set_budget(actor, action: Action, lines: list[dict], *, total=...) -> list[BudgetLine]:
    """Replace an action's budget lines (year, source, planned, actual, comment, rate).

    Refused, with nothing changed: a year outside the plan, an unknown source, the same
    year and source twice, lines whose planned amounts do not add up to the action's
    declared total cost, or a declared co-financing `rate` (%) that the amounts contradict.
    """
    _check(actor, "steering.change_plan", action.plan)
    plan = action.plan
    declared_total = action.budget_total if total is ... else _money(total, "budget_total")
    built, seen = [], set()
    for index, line in enumerate(lines, start=1):
        where = _("line %(n)d") % {"n": index}
        try:
            year = int(line.get("year"))
        except (TypeError, ValueError):
            raise BadRequest(
                _("Invalid year"),
                _("%(where)s: the year is missing or not a number.") % {"where": where},
                field=f"lines[{index}].year",
            ) from None
        last_year = plan.end.year if plan.end else None
        if year < plan.start.year or (last_year and year > last_year):
            raise BadRequest(
                _("Year outside the plan"),
                _("%(where)s: %(year)d is outside the plan's years (%(first)d – %(last)s).")
                % {
                    "where": where,
                    "year": year,
                    "first": plan.start.year,
                    "last": last_year or "…",
                },
                field=f"lines[{index}].year",
            )
        source = line.get("source")
        if source not in FundingSource.values:
            raise BadRequest(
                _("Unknown funding source"),
                _("%(where)s: %(source)r is not a funding source (%(known)s).")
                % {"where": where, "source": source, "known": ", ".join(FundingSource.values)},
                field=f"lines[{index}].source",
            )
        if (year, source) in seen:
            raise BadRequest(
                _("Duplicate line"),
                _("%(where)s: %(year)d / %(source)s appears twice.")
                % {"where": where, "year": year, "source": source},
                field=f"lines[{index}]",
            )
        seen.add((year, source))
        planned = _money(line.get("planned"), f"lines[{index}].planned") or Decimal(0)
        actual = _money(line.get("actual"), f"lines[{index}].actual")
        built.append(
            (
                BudgetLine(
                    action=action,
                    year=year,
                    source=source,
                    planned=planned,
                    actual=actual,
                    comment=(line.get("comment") or "")[:300],
                ),
                line.get("rate"),
            )
        )
    planned_sum = sum((b.planned for b, _rate in built), Decimal(0))
    if declared_total is not None and planned_sum != declared_total:
        raise BadRequest(
            _("Budget lines do not add up"),
            _("The planned amounts add up to %(sum)s €, the action's total cost is %(total)s €.")
            % {"sum": planned_sum, "total": declared_total},
            field="lines",
        )
    base = declared_total if declared_total is not None else planned_sum
    for index, (line, rate) in enumerate(built, start=1):
        if rate in (None, ""):
            continue
        try:
            rate = Decimal(str(rate).replace(",", "."))
        except InvalidOperation:
            raise BadRequest(
                _("Invalid rate"),
                _("line %(n)d: the rate is not a number.") % {"n": index},
                field=f"lines[{index}].rate",
            ) from None
        computed = line.planned * 100 / base if base else Decimal(0)
        if abs(computed - rate) > Decimal("0.01"):
            raise BadRequest(
                _("Co-financing rate does not match"),
                _("line %(n)d: %(amount)s € is %(computed)s %% of %(base)s €, not %(rate)s %%.")
                % {
                    "n": index,
                    "amount": line.planned,
                    "computed": computed.quantize(CENT),
                    "base": base,
                    "rate": rate,
                },
                field=f"lines[{index}].rate",
            )
    if total is not ...:
        action.budget_total = declared_total
        action.save(update_fields=["budget_total", "updated_at"])
    action.budget_lines.all().delete()
    created = BudgetLine.objects.bulk_create([b for b, _rate in built])
    _audit(
        actor,
        "steering.budget_set",
        plan,
        action,
        lines=len(created),
        planned=str(planned_sum),
        total=None if declared_total is None else str(declared_total),
    )
    return created


# --- indicators ----------------------------------------------------------------------------------

INDICATOR_FIELDS = {
    "node",
    "action",
    "name",
    "kind",
    "unit",
    "value_type",
    "direction",
    "baseline_value",
    "baseline_date",
    "target_value",
    "target_date",
    "specific",
    "measurable",
    "achievable",
    "relevant",
    "time_bound",
    "source",
    "owner",
    "owner_name",
    "frequency",
    "collector",
    "collector_params",
    "is_public",
    "is_demo",
    "position",
}


@transaction.atomic
def add_indicator(actor, plan: Plan, **values) -> Indicator:
    _check(actor, "steering.change_plan", plan)
    indicator = Indicator(plan=plan, **_only(values, INDICATOR_FIELDS))
    _validate_indicator(indicator)
    indicator.save()
    _audit(actor, "steering.indicator_added", plan, indicator, name=indicator.name)
    return indicator


@transaction.atomic
def update_indicator(actor, indicator: Indicator, **values) -> Indicator:
    _check(actor, "steering.change_plan", indicator.plan)
    for name, value in _only(values, INDICATOR_FIELDS).items():
        setattr(indicator, name, value)
    _validate_indicator(indicator)
    indicator.save()
    _audit(actor, "steering.indicator_updated", indicator.plan, indicator, fields=sorted(values))
    return indicator


def _validate_indicator(indicator: Indicator) -> None:
    from .collectors import check_collector

    plan = indicator.plan
    for name in ("node", "action"):
        related = getattr(indicator, name)
        if related is not None and related.plan_id != plan.pk:
            raise BadRequest(
                _("Wrong plan"),
                _("The %(what)s belongs to another plan.") % {"what": name},
                field=name,
            )
    _full_clean(indicator, exclude=["plan", "node", "action", "owner"])
    for field in ("baseline_value", "target_value"):
        raw = getattr(indicator, field)
        if raw is not None:
            setattr(indicator, field, parse_value(indicator, raw, field=field))
    _require_inside(plan, indicator.target_date, "target_date")
    if indicator.collector:
        check_collector(indicator.collector, indicator.collector_params)


def parse_value(indicator: Indicator, raw, *, unit: str | None = None, field="value") -> Decimal:
    """`raw` as a value of `indicator`, or BadRequest saying why not (type, range, unit)."""
    if unit not in (None, "") and unit.strip().casefold() != indicator.unit.strip().casefold():
        raise BadRequest(
            _("Wrong unit"),
            _("%(field)s is given in %(unit)r but %(indicator)s is measured in %(expected)r.")
            % {
                "field": field,
                "unit": unit,
                "indicator": indicator.name,
                "expected": indicator.unit,
            },
            field="unit",
        )
    if isinstance(raw, bool):
        raise BadRequest(
            _("Wrong type"), _("%(field)s must be a number.") % {"field": field}, field=field
        )
    text = str(raw).strip().replace("\u202f", "").replace(" ", "")
    if indicator.value_type == ValueType.PERCENT:
        text = text.removesuffix("%")
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise BadRequest(
            _("Wrong type"),
            _("%(field)s: %(raw)r is not a number.") % {"field": field, "raw": raw},
            field=field,
        ) from None
    if not value.is_finite():
        raise BadRequest(
            _("Wrong type"), _("%(field)s must be a finite number.") % {"field": field}, field=field
        )
    if indicator.value_type == ValueType.INTEGER and value != value.to_integral_value():
        raise BadRequest(
            _("Wrong type"),
            _("%(field)s: %(indicator)s counts whole numbers, %(raw)s is not one.")
            % {"field": field, "indicator": indicator.name, "raw": raw},
            field=field,
        )
    if indicator.value_type == ValueType.PERCENT and not (0 <= value <= 100):
        raise BadRequest(
            _("Out of range"),
            _("%(field)s: a percentage is between 0 and 100, not %(raw)s.")
            % {"field": field, "raw": raw},
            field=field,
        )
    if abs(value) >= Decimal(10) ** 12:
        raise BadRequest(
            _("Out of range"), _("%(field)s is too large.") % {"field": field}, field=field
        )
    return value.quantize(Decimal("0.0001"))


def _parse_day(raw, field="date") -> date:
    if isinstance(raw, date):
        return raw
    try:
        day = parse_date(str(raw or "").strip()) if raw else None
    except ValueError:  # well formed but impossible, e.g. month 13
        day = None
    if day is None:
        raise BadRequest(
            _("Invalid date"),
            _("%(field)s: %(raw)r is not a date (YYYY-MM-DD).") % {"field": field, "raw": raw},
            field=field,
        )
    return day


@transaction.atomic
def record_value(
    actor,
    indicator: Indicator,
    *,
    date,
    value,
    kind: str = ValueKind.ACTUAL,
    comment: str = "",
    unit: str | None = None,
    provenance: str = Provenance.MANUAL,
    source_detail: str = "",
) -> IndicatorValue:
    """Record (or correct) the value of `indicator` on `date`; one per date and kind."""
    _check(actor, "steering.change_plan", indicator.plan)
    day = _parse_day(date)
    if kind not in ValueKind.values:
        raise BadRequest(
            _("Unknown kind"),
            _("%(kind)r is not one of %(known)s.")
            % {"kind": kind, "known": ", ".join(ValueKind.values)},
            field="kind",
        )
    number = parse_value(indicator, value, unit=unit)
    stored, created = IndicatorValue.objects.update_or_create(
        indicator=indicator,
        date=day,
        kind=kind,
        defaults={
            "value": number,
            "comment": (comment or "")[:500],
            "provenance": provenance,
            "source_detail": source_detail[:300],
            "recorded_by": _person(actor),
        },
    )
    _audit(
        actor,
        "steering.value_recorded",
        indicator.plan,
        stored,
        indicator=indicator.pk,
        date=str(day),
        kind=kind,
        value=str(number),
        provenance=provenance,
        created=created,
    )
    return stored


class ImportReport(PlatformError):
    """A file refused: every faulty row, with its line number, column and reason."""

    status = 400

    def __init__(self, errors: list[dict]):
        first = errors[0]
        super().__init__(
            _("The file was not imported"),
            _("%(count)d row(s) have errors; first: line %(line)s, column %(column)s: %(message)s")
            % {"count": len(errors), **first},
            field=first.get("column"),
            errors=errors,
        )


IMPORT_COLUMNS = ("indicator", "date", "value")
MAX_IMPORT_SIZE = 10 * 2**20
OPTIONAL_COLUMNS = ("kind", "unit", "comment")


@transaction.atomic
def import_values_csv(actor, plan: Plan, data: bytes | str) -> int:
    """Import indicator values from CSV (columns: indicator — id or exact name —, date,
    value, and optionally kind, unit, comment; `,` or `;` separated).

    All or nothing: every row is checked first; if any is wrong, ImportReport lists each
    faulty row (line, column, message) and nothing is stored.
    """
    _check(actor, "steering.change_plan", plan)
    if len(data) > MAX_IMPORT_SIZE:
        raise BadRequest(
            _("File too large"),
            _("Imports are limited to %(mb)d MB; split the file.")
            % {"mb": MAX_IMPORT_SIZE // 2**20},
            field="file",
        )
    if isinstance(data, bytes):
        text = None
        for encoding in ("utf-8-sig", "cp1252"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    else:
        text = data
    if not text or not text.strip():
        raise BadRequest(_("Empty file"), _("The file has no rows."), field="file")
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in IMPORT_COLUMNS if c not in headers]
    if missing:
        raise ImportReport(
            [
                {
                    "line": 1,
                    "column": column,
                    "message": _("the column %(column)r is missing (found: %(found)s)")
                    % {"column": column, "found": ", ".join(headers) or "—"},
                }
                for column in missing
            ]
        )
    indicators = {str(i.pk): i for i in plan.indicators.all()}
    by_name = {i.name.casefold(): i for i in indicators.values()}
    errors, rows = [], []
    for line_number, raw_row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw_row.items() if k}
        if not any(row.values()):
            continue
        key = row.get("indicator", "")
        indicator = indicators.get(key) or by_name.get(key.casefold())
        if indicator is None:
            errors.append(
                {
                    "line": line_number,
                    "column": "indicator",
                    "message": _("no indicator of this plan is named or numbered %(key)r")
                    % {"key": key},
                }
            )
            continue
        kind = row.get("kind") or ValueKind.ACTUAL
        try:
            day = _parse_day(row.get("date"))
            if kind not in ValueKind.values:
                raise BadRequest(
                    _("Unknown kind"),
                    _("%(kind)r is not one of %(known)s.")
                    % {"kind": kind, "known": ", ".join(ValueKind.values)},
                    field="kind",
                )
            value = parse_value(indicator, row.get("value"), unit=row.get("unit"))
        except BadRequest as error:
            errors.append(
                {
                    "line": line_number,
                    "column": error.field or "value",
                    "message": str(error.detail),
                }
            )
            continue
        rows.append((indicator, day, kind, value, row.get("comment", "")))
    if errors:
        raise ImportReport(errors)
    if not rows:
        raise BadRequest(_("Empty file"), _("The file has a header but no rows."), field="file")
    for indicator, day, kind, value, comment in rows:
        IndicatorValue.objects.update_or_create(
            indicator=indicator,
            date=day,
            kind=kind,
            defaults={
                "value": value,
                "comment": comment[:500],
                "provenance": Provenance.IMPORT,
                "recorded_by": _person(actor),
            },
        )
    _audit(actor, "steering.values_imported", plan, plan, rows=len(rows))
    return len(rows)


# --- governance ----------------------------------------------------------------------------------


@transaction.atomic
def add_body(actor, plan: Plan, *, kind: str, name: str, frequency="", description="") -> Body:
    _check(actor, "steering.change_plan", plan)
    body = Body(plan=plan, kind=kind, name=name, frequency=frequency, description=description)
    _full_clean(body, exclude=["plan"])
    body.save()
    _audit(actor, "steering.body_added", plan, body, name=name)
    return body


@transaction.atomic
def create_meeting(actor, body: Body, *, date, title="", actions=None) -> Meeting:
    """Schedule a meeting; its scope (the actions reviewed) defaults to every open action."""
    plan = body.plan
    _check(actor, "steering.change_plan", plan)
    day = _parse_day(date)
    if actions is None:
        actions = list(plan.actions.exclude(status=ActionStatus.ABANDONED))
    actions = list(actions)
    foreign = [a for a in actions if a.plan_id != plan.pk]
    if foreign:
        raise BadRequest(
            _("Action of another plan"),
            _("%(action)s is not an action of %(plan)s.") % {"action": foreign[0], "plan": plan},
            field="actions",
        )
    meeting = Meeting.objects.create(body=body, date=day, title=title[:200])
    meeting.scope.set(actions)
    _audit(actor, "steering.meeting_created", plan, meeting, date=str(day), actions=len(actions))
    return meeting


@transaction.atomic
def record_decision(
    actor, meeting: Meeting, action: Action, *, kind: str, reasons: str, communes=()
) -> Decision:
    """Record the body's decision on one reviewed action and apply it: abandoning closes
    the action, extending adds communes (all of the metropole's for `extend_all`)."""
    plan = meeting.body.plan
    _check(actor, "steering.decide", plan)
    if not meeting.scope.filter(pk=action.pk).exists():
        raise BadRequest(
            _("Action outside the meeting's scope"),
            _("%(action)s was not on the agenda of %(meeting)s; no decision can be recorded on it.")
            % {"action": action, "meeting": meeting},
            field="action",
        )
    if kind not in DecisionKind.values:
        raise BadRequest(
            _("Unknown decision"),
            _("%(kind)r is not one of %(known)s.")
            % {"kind": kind, "known": ", ".join(DecisionKind.values)},
            field="kind",
        )
    if not (reasons or "").strip():
        raise BadRequest(
            _("Reasons missing"), _("Say why the decision was taken."), field="reasons"
        )
    if meeting.decisions.filter(action=action).exists():
        raise BadRequest(
            _("Decision already recorded"),
            _("%(meeting)s already decided on %(action)s.")
            % {"meeting": meeting, "action": action},
            field="action",
        )
    communes = list(communes)
    metropole = plan.territory.root
    if kind == DecisionKind.EXTEND:
        if not communes:
            raise BadRequest(
                _("Communes missing"),
                _("Choose the communes the action is extended to."),
                field="communes",
            )
        _check_communes(metropole, communes)
    elif communes:
        raise BadRequest(
            _("Communes not expected"),
            _("Communes are only chosen when the action is extended to more communes."),
            field="communes",
        )
    decision = Decision.objects.create(
        meeting=meeting,
        action=action,
        kind=kind,
        reasons=reasons.strip(),
        recorded_by=_person(actor),
    )
    if kind == DecisionKind.EXTEND:
        decision.communes.set(communes)
        action.communes.add(*communes)
    elif kind == DecisionKind.EXTEND_METROPOLE:
        action.communes.add(*Territory.objects.communes().filter(metropole=metropole))
    elif kind == DecisionKind.ABANDON:
        action.status = ActionStatus.ABANDONED
        action.save(update_fields=["status", "updated_at"])
    _audit(actor, "steering.decision_recorded", plan, decision, action_id=action.pk, kind=kind)
    return decision


@transaction.atomic
def update_minutes(actor, meeting: Meeting, minutes: str) -> Meeting:
    _check(actor, "steering.decide", meeting.body.plan)
    meeting.minutes = minutes
    meeting.save(update_fields=["minutes"])
    _audit(actor, "steering.minutes_updated", meeting.body.plan, meeting)
    return meeting


def organisations_by_name(metropole: Territory, names) -> list[Organisation]:
    return list(Organisation.objects.filter(metropole=metropole, name__in=list(names)))
