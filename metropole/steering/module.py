"""Manifest of strategy steering: navigation, permissions, statistics, open data, demo."""

from django.utils.translation import gettext_lazy as _

from metropole.core.registry import (
    NAV_PUBLIC,
    ModuleManifest,
    NavEntry,
    OpenDataExport,
    PeriodicJob,
    Statistic,
    registry,
)


def _plans_of(territory):
    from django.db.models import Q

    from .models import Plan

    return Plan.objects.filter(Q(territory=territory) | Q(territory__metropole=territory))


def _action_count(territory) -> int:
    from .models import Action

    return Action.objects.filter(plan__in=_plans_of(territory)).count()


def _done_count(territory) -> int:
    from .models import Action, ActionStatus

    return Action.objects.filter(plan__in=_plans_of(territory), status=ActionStatus.DONE).count()


def _action_rows(territory):
    """Actions of the territory's published plans (open data: no person's name)."""
    from .models import Action

    actions = (
        Action.objects.filter(plan__in=_plans_of(territory).filter(is_public=True))
        .select_related("plan", "node")
        .prefetch_related("communes")
        .order_by("plan_id", "position", "pk")
    )
    for action in actions:
        yield {
            "plan": action.plan.title,
            "branch": str(action.node),
            "code": action.code,
            "title": action.title,
            "pilot": action.pilot_name,
            "status": action.status,
            "late": action.is_late,
            "progress": action.effective_progress,
            "start": action.start.isoformat() if action.start else None,
            "end": action.end.isoformat() if action.end else None,
            "communes": " ".join(c.code for c in action.communes.all()),
            "budget_total": str(action.budget_total)
            if action.plan.publish_budget and action.budget_total is not None
            else None,
            "demo": action.is_demo,
        }


def _indicator_rows(territory):
    from .models import IndicatorValue

    values = (
        IndicatorValue.objects.filter(
            indicator__plan__in=_plans_of(territory).filter(
                is_public=True, publish_indicators=True
            ),
            indicator__is_public=True,
        )
        .select_related("indicator__plan")
        .order_by("indicator__plan_id", "indicator_id", "date", "kind")
    )
    for value in values.iterator(chunk_size=2000):
        indicator = value.indicator
        yield {
            "plan": indicator.plan.title,
            "indicator_id": indicator.pk,
            "indicator": indicator.name,
            "kind": indicator.kind,
            "unit": indicator.unit,
            "direction": indicator.direction,
            "target_value": None if indicator.target_value is None else str(indicator.target_value),
            "target_date": indicator.target_date.isoformat() if indicator.target_date else None,
            "date": value.date.isoformat(),
            "value_kind": value.kind,
            "value": str(value.value),
            "provenance": value.provenance,
            "comment": value.comment,
        }


def _load_demo(metropole):
    from .demo import load_demo

    load_demo(metropole)


def _export_personal_data(user):
    from .models import Action, Note

    return {
        "piloted_actions": list(Action.objects.filter(pilot=user).values_list("title", flat=True)),
        "notes": [
            {"date": note.date.isoformat(), "action": str(note.action), "text": note.text}
            for note in Note.objects.filter(author=user).select_related("action")
        ],
    }


def _erase_personal_data(user):
    from .models import Action, Indicator, Note

    # Notes are part of the record of an action; their author is forgotten, the text stays.
    Note.objects.filter(author=user).update(author=None)
    Action.objects.filter(pilot=user).update(pilot=None)
    Indicator.objects.filter(owner=user).update(owner=None)


def _enqueue_collection():
    from .tasks import collect_indicators_task

    collect_indicators_task.enqueue()


manifest = registry.register(
    ModuleManifest(
        label="steering",
        name=_("Strategy steering"),
        order=60,
        navigation=[NavEntry(_("Strategy"), "steering:index", NAV_PUBLIC, order=60)],
        permissions=[
            "steering.view_plan",
            "steering.change_plan",
            "steering.add_plan",
            "steering.decide",
            "steering.view_public_plan",
        ],
        statistics=[
            Statistic("actions", _("strategy actions"), _action_count),
            Statistic("actions_done", _("strategy actions done"), _done_count),
        ],
        exports=[
            OpenDataExport(
                key="actions",
                title=_("Actions of the published strategy plans"),
                description=_(
                    "Each action of a published plan: branch, pilot service, status, late or "
                    "not, progress, dates, communes (INSEE codes), total cost when published."
                ),
                fields=(
                    "plan",
                    "branch",
                    "code",
                    "title",
                    "pilot",
                    "status",
                    "late",
                    "progress",
                    "start",
                    "end",
                    "communes",
                    "budget_total",
                    "demo",
                ),
                rows=_action_rows,
            ),
            OpenDataExport(
                key="indicators",
                title=_("Indicator values of the published strategy plans"),
                description=_(
                    "Every value (actual, target, estimate) of the published indicators, with "
                    "unit, direction, target and provenance."
                ),
                fields=(
                    "plan",
                    "indicator_id",
                    "indicator",
                    "kind",
                    "unit",
                    "direction",
                    "target_value",
                    "target_date",
                    "date",
                    "value_kind",
                    "value",
                    "provenance",
                    "comment",
                ),
                rows=_indicator_rows,
            ),
        ],
        # Only indicators whose collection is due are collected: checking hourly is cheap.
        periodic_jobs=[PeriodicJob("collect_indicators", 3600, _enqueue_collection)],
        demo_data=_load_demo,
        export_personal_data=_export_personal_data,
        erase_personal_data=_erase_personal_data,
        api_router="metropole.steering.api.router",
        api_prefix="steering",
        urls="metropole.steering.urls",
        url_prefix="pilotage",
    )
)
