"""Fixtures of the steering tests: a small plan of Lille built through the services."""

from datetime import date
from decimal import Decimal

import pytest

from metropole.core.models import Role
from metropole.steering import services
from metropole.steering.models import IndicatorKind, NodeKind


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    """Attached documents go to a temporary VAR_DIR, never into the repository."""
    settings.VAR_DIR = tmp_path


@pytest.fixture
def agent(make_member, lille):
    return make_member("agent@example.org", lille, Role.AGENT)


@pytest.fixture
def elected(make_member, lille):
    return make_member("elu@example.org", lille, Role.ELECTED)


@pytest.fixture
def roubaix_agent(make_member, commune):
    return make_member("agent.roubaix@example.org", commune("59512"), Role.AGENT)


@pytest.fixture
def plan(lille, metropole_admin):
    return services.create_plan(
        metropole_admin,
        lille,
        title="Stratégie de test",
        start=date(2020, 1, 1),
        end=date(2025, 12, 31),
    )


@pytest.fixture
def tree(plan, metropole_admin):
    """Two axes; the first has one orientation; three actions."""
    axis1 = services.add_node(metropole_admin, plan, kind=NodeKind.AXIS, code="A1", title="Axe 1")
    axis2 = services.add_node(
        metropole_admin, plan, kind=NodeKind.AXIS, code="A2", title="Axe 2", weight=Decimal(3)
    )
    orientation = services.add_node(
        metropole_admin,
        plan,
        parent=axis1,
        kind=NodeKind.ORIENTATION,
        code="O1",
        title="Orientation",
    )
    done = services.add_action(
        metropole_admin,
        plan,
        node=orientation,
        title="Faite",
        status="done",
        start=date(2020, 1, 1),
        end=date(2021, 1, 1),
    )
    half = services.add_action(
        metropole_admin,
        plan,
        node=axis1,
        title="À moitié",
        status="in_progress",
        progress=50,
        weight=Decimal(3),
        start=date(2020, 6, 1),
        end=date(2025, 6, 1),
    )
    late = services.add_action(
        metropole_admin,
        plan,
        node=axis2,
        title="En retard",
        status="in_progress",
        progress=20,
        start=date(2020, 1, 1),
        end=date(2021, 6, 30),
    )
    return {
        "axis1": axis1,
        "axis2": axis2,
        "orientation": orientation,
        "done": done,
        "half": half,
        "late": late,
    }


@pytest.fixture
def indicator(plan, metropole_admin):
    return services.add_indicator(
        metropole_admin,
        plan,
        name="Communes raccordées",
        kind=IndicatorKind.RESULT,
        unit="communes",
        value_type="integer",
        baseline_value=Decimal(0),
        baseline_date=date(2020, 1, 1),
        target_value=Decimal(90),
        target_date=date(2025, 12, 31),
    )
