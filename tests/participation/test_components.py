"""Components added by hand: add, configure, reorder and remove — services, API and page."""

import json

import pytest
from django.utils import translation

from metropole.core import services as core_services
from metropole.core.exceptions import BadRequest, Conflict, PermissionDenied
from metropole.core.models import AuditEvent, Role
from metropole.participation import services
from metropole.participation.models import Component, ComponentKind, Question

from .conftest import component


@pytest.fixture(autouse=True)
def english():
    """Refusals are matched on their English text, whatever a page left active."""
    with translation.override("en"):
        yield


@pytest.fixture
def consultation(make_process):
    return make_process("consultation", open_phase=1, title="Consultation de Roubaix")


def kinds(process):
    return [c.kind for c in Component.objects.filter(process=process).order_by("position", "pk")]


def test_an_agent_adds_a_tool_tied_to_a_phase_with_its_rules(agent, consultation, citizen):
    vote_phase = consultation.phases.order_by("start")[1]
    ideas = services.add_component(
        agent,
        consultation,
        kind="proposals",
        title="Vos idées",
        phase=vote_phase.pk,
        settings={"support_limit": "3", "edit_minutes": 30, "residents_only": "on"},
    )
    assert kinds(consultation) == ["survey", "results", "proposals"]
    assert ideas.phase == vote_phase
    assert ideas.settings == {"support_limit": 3, "edit_minutes": 30, "residents_only": True}
    assert AuditEvent.objects.filter(action="participation.component_added").count() == 1
    # The consultation phase opens "answer" and "comment", not "propose": the tool exists,
    # the refusal says why nobody can propose yet.
    from django.utils import translation

    from metropole.participation.rules import refusal

    with translation.override("en"):
        assert "not open now" in refusal(citizen, ideas, "propose")
    assert refusal(citizen, ideas, "comment") is None


def test_wrong_kinds_settings_and_phases_are_refused_with_their_field(
    agent, consultation, make_process
):
    with pytest.raises(BadRequest) as error:
        services.add_component(agent, consultation, kind="petition", title="x")
    assert error.value.field == "kind"
    with pytest.raises(BadRequest) as error:
        services.add_component(
            agent,
            consultation,
            kind="survey",
            title="x",
            settings={"support_limit": 3, "min_age": -1},
        )
    assert [e["field"] for e in error.value.errors] == ["support_limit", "min_age"]
    other = make_process("idea_box", title="Autre")
    with pytest.raises(BadRequest) as error:
        services.add_component(
            agent, consultation, kind="survey", title="x", phase=other.phases.first().pk
        )
    assert error.value.field == "phase"
    assert kinds(consultation) == ["survey", "results"]  # nothing half-made


def test_only_the_agents_of_the_territory_change_tools(make_member, commune, consultation):
    tourcoing_agent = make_member("agent.tourcoing@example.org", commune("59599"), Role.AGENT)
    with pytest.raises(PermissionDenied):
        services.add_component(tourcoing_agent, consultation, kind="survey", title="x")
    with pytest.raises(PermissionDenied):
        services.remove_component(tourcoing_agent, consultation.components.first())


def test_reorder_puts_the_tool_where_asked(agent, consultation):
    added = services.add_component(agent, consultation, kind="debates", title="Débats")
    services.move_component(agent, added, 0)
    assert kinds(consultation) == ["debates", "survey", "results"]
    assert list(
        Component.objects.filter(process=consultation)
        .order_by("position")
        .values_list("position", flat=True)
    ) == [0, 1, 2]
    with pytest.raises(BadRequest):
        services.move_component(agent, added, 3)


def test_a_tool_people_used_cannot_be_removed_an_unused_one_goes_with_its_setup(
    agent, consultation, citizen
):
    survey = component(consultation, ComponentKind.SURVEY)
    services.add_question(agent, survey, kind="text", text="Votre avis ?")
    services.submit_survey(citizen, survey, {str(survey.questions.get().pk): "Oui"})
    with pytest.raises(Conflict, match="1 contributions"):
        services.remove_component(agent, survey)
    assert Question.objects.filter(component=survey).exists()

    extra = services.add_component(agent, consultation, kind="survey", title="Second")
    services.add_question(agent, extra, kind="text", text="Encore ?")
    services.move_component(agent, extra, 0)
    services.remove_component(agent, extra)
    assert kinds(consultation) == ["survey", "results"]
    assert [c.position for c in consultation.components.order_by("position")] == [0, 1]
    assert not Question.objects.filter(text="Encore ?").exists()


def test_update_renames_reties_and_keeps_other_rules(agent, make_process):
    ideas = component(make_process("idea_box"), ComponentKind.PROPOSALS)
    phase = ideas.process.phases.order_by("start")[0]
    services.update_component(agent, ideas, title="Idées", phase=phase.pk, settings={"min_age": 16})
    ideas.refresh_from_db()
    assert (ideas.title, ideas.phase_id) == ("Idées", phase.pk)
    assert ideas.settings["min_age"] == 16 and ideas.settings["support_limit"] == 10
    services.update_component(agent, ideas, phase=None)
    ideas.refresh_from_db()
    assert ideas.phase_id is None


def api(client, method, url, data, user):
    _token, key = core_services.create_api_token(user, "tests")
    return getattr(client, method)(
        url, json.dumps(data), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )


def test_the_api_adds_configures_moves_and_removes(client, agent, citizen, consultation):
    url = f"/api/participation/processes/{consultation.slug}/components"
    created = api(
        client,
        "post",
        url,
        {"kind": "debates", "title": "Débats", "settings": {"edit_minutes": 15}},
        agent,
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["kind"], body["position"], body["settings"]) == (
        "debates",
        2,
        {"edit_minutes": 15},
    )
    cid = body["id"]
    refused = api(client, "post", url, {"kind": "debates", "title": "x"}, citizen)
    assert refused.status_code == 403
    bad = api(
        client, "patch", f"/api/participation/components/{cid}", {"settings": {"x": 1}}, agent
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "x"
    changed = api(
        client,
        "patch",
        f"/api/participation/components/{cid}",
        {"title": "Questions en débat", "settings": {"min_age": 16}},
        agent,
    )
    assert changed.json()["settings"] == {"edit_minutes": 15, "min_age": 16}
    moved = api(
        client, "put", f"/api/participation/components/{cid}/position", {"position": 0}, agent
    )
    assert [c["kind"] for c in moved.json()] == ["debates", "survey", "results"]
    assert (
        api(client, "delete", f"/api/participation/components/{cid}", {}, agent).status_code == 204
    )
    assert kinds(consultation) == ["survey", "results"]


def test_the_management_page_adds_moves_and_removes(client, agent, consultation, roubaix):
    client.force_login(agent)
    page = f"/participer/administration/{roubaix.slug}/processus/{consultation.slug}/"
    response = client.post(
        page,
        {
            "action": "component_add",
            "component_add-kind": "proposals",
            "component_add-title": "Vos idées",
            "component_add-phase": "",
        },
    )
    assert response.status_code == 302
    ideas = consultation.components.get(kind="proposals")
    html = client.get(page).content.decode()
    assert "Vos idées" in html
    client.post(page, {"action": "component_move", "component": ideas.pk, "up": "1"})
    assert kinds(consultation) == ["survey", "proposals", "results"]
    client.post(
        page,
        {"action": "settings", "component": ideas.pk, f"s{ideas.pk}-support_limit": "4"},
    )
    ideas.refresh_from_db()
    assert ideas.settings["support_limit"] == 4
    remove = page + f"outils/{ideas.pk}/retirer/"
    assert client.get(remove).status_code == 200
    assert client.post(remove).status_code == 302
    assert kinds(consultation) == ["survey", "results"]


def test_budget_voting_rules_change_until_the_first_ballot(client, agent, make_process, citizen):
    budget = component(make_process("budget", open_phase=2), ComponentKind.BUDGET)
    area = services.add_area(agent, budget, name="Roubaix", amount=1000)
    project = services.add_project(agent, area, title="Bancs", cost=400)
    changed = services.update_area(
        agent, area, name="Roubaix", amount=800, rule="approval", max_projects=2
    )
    assert (changed.amount, changed.rule, changed.max_projects) == (800, "approval", 2)
    with pytest.raises(BadRequest) as error:
        services.update_area(agent, area, name="Roubaix", amount=800, rule="borda")
    assert error.value.field == "rule"
    with pytest.raises(BadRequest) as error:
        services.update_area(
            agent, area, name="Roubaix", amount=800, rule="knapsack", min_projects=3, max_projects=2
        )
    assert error.value.field == "min_projects"
    services.save_ballot(citizen, budget, area_id=area.pk, project_ids=[project.pk])
    services.cast_ballot(citizen, budget)
    with pytest.raises(Conflict, match="already cast"):
        services.update_area(agent, area, name="Roubaix", amount=100, rule="knapsack")
    area.refresh_from_db()
    assert area.amount == 800

    created = api(
        client,
        "post",
        f"/api/participation/components/{budget.pk}/areas",
        {"name": "Tourcoing", "amount": 500, "rule": "knapsack", "min_share": 50},
        agent,
    )
    assert created.status_code == 201, created.content
    new_id = created.json()["id"]
    put = api(
        client,
        "put",
        f"/api/participation/areas/{new_id}",
        {"name": "Tourcoing", "amount": 600, "rule": "approval"},
        agent,
    )
    assert put.status_code == 200 and put.json()["rule"] == "approval"
    refused = api(
        client, "put", f"/api/participation/areas/{new_id}", {"name": "x", "amount": 1}, citizen
    )
    assert refused.status_code == 403
