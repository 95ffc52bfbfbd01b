"""Permissions of strategy steering: one path for pages, API and services.

Every object permission is checked against the plan's territory with the core's role
predicates (an administrator of the metropole holds the administrator role on its
communes). Objects below a plan (actions, indicators, meetings...) resolve to their plan.

- view a plan's back office: staff (administrator, agent) or elected official of its territory;
- change a plan (structure, progress, budgets, indicator values): staff of its territory;
- create a plan on a territory: staff of that territory;
- record a meeting's decisions: staff or elected officials of the plan's territory;
- see the transparency page: anyone when the plan is published, else whoever may view it.
"""

import rules

from metropole.core.models import Role, Territory
from metropole.core.rules import effective_roles, is_platform_admin

STAFF = frozenset({Role.ADMIN, Role.AGENT})
READERS = frozenset({Role.ADMIN, Role.AGENT, Role.ELECTED})


def territory_of(obj) -> Territory | None:
    """The territory that owns `obj` (a territory, a plan, or anything below a plan)."""
    if obj is None:
        return None
    if isinstance(obj, Territory):
        return obj
    plan = plan_of(obj)
    return plan.territory if plan is not None else None


def plan_of(obj):
    from .models import Body, Meeting, Plan

    if isinstance(obj, Plan):
        return obj
    if isinstance(obj, Meeting):
        return obj.body.plan
    if isinstance(obj, Body):
        return obj.plan
    return getattr(obj, "plan", None)


def _has(roles):
    def check(user, obj) -> bool:
        territory = territory_of(obj)
        return territory is not None and bool(effective_roles(user, territory) & roles)

    return check


is_staff_of = rules.predicate(_has(STAFF), name="is_steering_staff")
is_reader_of = rules.predicate(_has(READERS), name="is_steering_reader")


@rules.predicate
def is_published(user, obj) -> bool:
    plan = plan_of(obj)
    return plan is not None and plan.is_public


PERMISSIONS = {
    "steering.view_plan": is_platform_admin | is_reader_of,
    "steering.change_plan": is_platform_admin | is_staff_of,
    "steering.add_plan": is_platform_admin | is_staff_of,
    "steering.decide": is_platform_admin | is_reader_of,
    "steering.view_public_plan": is_published | is_platform_admin | is_reader_of,
}
for _name, _predicate in PERMISSIONS.items():
    rules.add_perm(_name, _predicate)
