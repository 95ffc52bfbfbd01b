"""Processes from blueprints, phases by date, and the permission path."""

from datetime import timedelta

import pytest
from django.utils import timezone

from metropole.core.exceptions import BadRequest, Conflict, PermissionDenied
from metropole.core.models import Role
from metropole.participation import queries, services
from metropole.participation.models import Action, Blueprint, ComponentKind
from metropole.participation.rules import open_phase, refusal

from .conftest import component


@pytest.mark.parametrize(
    ("blueprint", "kinds"),
    [
        (Blueprint.CONSULTATION, {ComponentKind.SURVEY, ComponentKind.RESULTS}),
        (Blueprint.IDEA_BOX, {ComponentKind.PROPOSALS, ComponentKind.RESULTS}),
        (Blueprint.BUDGET, {ComponentKind.PROPOSALS, ComponentKind.BUDGET, ComponentKind.RESULTS}),
        (Blueprint.MEETING, {ComponentKind.MEETINGS, ComponentKind.DEBATES}),
    ],
)
def test_a_blueprint_creates_consecutive_phases_and_its_components(
    agent, roubaix, blueprint, kinds
):
    process = services.create_process(agent, roubaix, title="Essai", blueprint=blueprint)
    phases = list(process.phases.order_by("start"))
    assert len(phases) >= 2
    for before, after in zip(phases, phases[1:], strict=False):
        assert before.end == after.start
    assert {c.kind for c in process.components.all()} == kinds
    assert process.metropole == roubaix.metropole


def test_an_agent_of_another_commune_cannot_create_a_process(make_member, commune, roubaix):
    tourcoing_agent = make_member("agent.tourcoing@example.org", commune("59599"), Role.AGENT)
    with pytest.raises(PermissionDenied):
        services.create_process(tourcoing_agent, roubaix, title="x", blueprint="idea_box")


def test_an_unknown_blueprint_is_refused(agent, roubaix):
    with pytest.raises(BadRequest) as error:
        services.create_process(agent, roubaix, title="x", blueprint="referendum")
    assert error.value.field == "blueprint"


def test_overlapping_phases_are_refused(agent, make_process):
    process = make_process("idea_box")
    last = process.phases.order_by("-end").first()
    with pytest.raises(Conflict) as error:
        services.add_phase(
            agent,
            process,
            title="Trop tôt",
            start=last.end - timedelta(days=1),
            end=last.end + timedelta(days=5),
        )
    assert last.title in error.value.detail
    phase = services.add_phase(
        agent,
        process,
        title="Bilan",
        start=last.end,
        end=last.end + timedelta(days=5),
        actions=["comment"],
    )
    assert phase.actions == ["comment"]
    with pytest.raises(BadRequest):
        services.add_phase(
            agent,
            process,
            title="x",
            start=last.end + timedelta(days=9),
            end=last.end + timedelta(days=8),
        )


def test_phases_switch_automatically_with_the_date(make_process, citizen):
    ideas = component(make_process("idea_box"), ComponentKind.PROPOSALS)
    now = timezone.now()
    assert open_phase(ideas, Action.PROPOSE, now) is not None
    assert refusal(citizen, ideas, Action.PROPOSE, now) is None
    later = now + timedelta(days=31)  # the "study" phase: comments only
    assert refusal(citizen, ideas, Action.PROPOSE, later) is not None
    assert refusal(citizen, ideas, Action.COMMENT, later) is None
    assert citizen.has_perm("participation.propose", ideas)


def test_unknown_process_is_a_clear_not_found(db):
    from metropole.core.exceptions import NotFound

    with pytest.raises(NotFound):
        queries.process_by_slug("nothing-here")
