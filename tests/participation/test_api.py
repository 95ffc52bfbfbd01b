"""The API goes through the same services and rules as the pages."""

import json

import pytest

from metropole.core import services as core_services
from metropole.core.models import Role
from metropole.participation import services
from metropole.participation.models import Ballot, ComponentKind, Process, QuestionKind, Support

from .conftest import component


@pytest.fixture
def bearer(db):
    def make(user):
        _token, key = core_services.create_api_token(user, "tests")
        return {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    return make


def post(client, url, data, auth, method="post"):
    return getattr(client, method)(url, json.dumps(data), content_type="application/json", **auth)


def test_the_main_path_through_the_api(
    client, bearer, agent, roubaix, citizen, make_citizen, lille, make_member
):
    created = post(
        client,
        "/api/participation/processes",
        {"territory_code": roubaix.code, "title": "Budget de Roubaix", "blueprint": "budget"},
        bearer(agent),
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert [c["kind"] for c in body["components"]] == ["proposals", "budget", "results"]
    proposals_id = body["components"][0]["id"]

    made = post(
        client,
        f"/api/participation/components/{proposals_id}/proposals",
        {"title": "Une fontaine", "body": "Place de la Liberté"},
        bearer(citizen),
    )
    assert made.status_code == 201, made.content
    proposal_id = made.json()["id"]
    supporter = bearer(make_citizen(1))
    assert (
        client.post(f"/api/participation/proposals/{proposal_id}/support", **supporter).status_code
        == 201
    )
    twice = client.post(f"/api/participation/proposals/{proposal_id}/support", **supporter)
    assert twice.status_code == 409 and twice["Content-Type"] == "application/problem+json"
    assert (
        post(
            client,
            f"/api/participation/proposals/{proposal_id}/comments",
            {"body": "Oui"},
            supporter,
        ).status_code
        == 201
    )
    listed = client.get(f"/api/participation/components/{proposals_id}/proposals?order=supported")
    assert listed.json()["items"][0]["support_count"] == 1

    answered = post(
        client,
        f"/api/participation/proposals/{proposal_id}/answer",
        {"status": "evaluating", "answer": "À l'étude"},
        bearer(citizen),
    )
    assert answered.status_code == 403
    answered = post(
        client,
        f"/api/participation/proposals/{proposal_id}/answer",
        {"status": "evaluating", "answer": "À l'étude"},
        bearer(agent),
    )
    assert answered.json()["status"] == "evaluating"

    # The vote is not open yet (the budget's vote phase comes later): refused with a reason.
    budget_id = body["components"][1]["id"]
    why = client.get(
        f"/api/participation/components/{budget_id}/permissions/vote", **bearer(citizen)
    )
    assert why.json() == {
        "allowed": False,
        "reason": "This is not open now: look at the dates of the phases.",
    }

    metro = make_member("metro@example.org", lille, Role.ADMIN)
    dashboard = client.get(f"/api/participation/dashboard/{lille.code}", **bearer(metro))
    assert dashboard.status_code == 200
    data = dashboard.json()
    assert data["totals"]["participants"] == 2 and data["totals"]["contributions"] == 2
    assert data["by_territory"][0]["code"] == roubaix.code
    assert data["by_residence"] == [{"commune": "Roubaix", "participants": 2}]
    assert "distinct person" in data["participant_definition"]
    assert (
        client.get(f"/api/participation/dashboard/{lille.code}", **bearer(citizen)).status_code
        == 403
    )


def test_survey_and_ballot_through_the_api(client, bearer, make_process, agent, citizen):
    survey = component(
        make_process("consultation", open_phase=1, title="Avis"), ComponentKind.SURVEY
    )
    q = services.add_question(agent, survey, kind=QuestionKind.SCALE, text="Note ?")
    url = f"/api/participation/components/{survey.pk}/survey/responses"
    assert post(client, url, {"answers": {str(q.pk): "9"}}, bearer(citizen)).status_code == 400
    assert post(client, url, {"answers": {str(q.pk): "4"}}, bearer(citizen)).status_code == 201
    assert post(client, url, {"answers": {str(q.pk): "4"}}, bearer(citizen)).status_code == 409
    results = client.get(f"/api/participation/components/{survey.pk}/survey/results").json()
    assert results[0]["mean"] == 4

    budget = component(make_process("budget", open_phase=2, title="Vote"), ComponentKind.BUDGET)
    area = services.add_area(agent, budget, name="Tout", amount=100)
    project = services.add_project(agent, area, title="P", cost=60)
    other = services.add_project(agent, area, title="Q", cost=60)
    url = f"/api/participation/components/{budget.pk}/ballot"
    over = post(
        client,
        url,
        {"area_id": area.pk, "project_ids": [project.pk, other.pk]},
        bearer(citizen),
        "put",
    )
    assert over.status_code == 400 and over.json()["field"] == "projects"
    draft = post(
        client, url, {"area_id": area.pk, "project_ids": [project.pk]}, bearer(citizen), "put"
    )
    assert draft.json() == {
        "area_id": area.pk,
        "project_ids": [project.pk],
        "total_cost": 60,
        "cast_at": None,
    }
    assert client.post(url + "/cast", **bearer(citizen)).json()["cast_at"]
    assert client.post(url + "/cast", **bearer(citizen)).status_code == 409
    assert Ballot.objects.get().cast_at is not None
    url = f"/api/participation/components/{budget.pk}/budget/results"
    assert client.get(url).status_code == 403  # not published while the vote is open
    results = client.get(url, **bearer(agent)).json()
    assert results[0]["projects"][0] == {
        "id": project.pk,
        "title": "P",
        "cost": 60,
        "votes": 1,
        "selected": True,
    }


def test_anonymous_writes_are_refused_and_unknown_process_is_404(client, ideas):
    assert (
        client.post(
            f"/api/participation/components/{ideas.pk}/proposals",
            "{}",
            content_type="application/json",
        ).status_code
        == 401
    )
    missing = client.get("/api/participation/processes/nothing")
    assert missing.status_code == 404 and missing["Content-Type"] == "application/problem+json"
    assert client.get("/api/participation/components/999999/proposals").status_code == 404
    assert not Support.objects.exists() and Process.objects.count() == 1


def test_the_process_list_is_public(client, ideas):
    items = client.get("/api/participation/processes").json()["items"]
    assert items[0]["slug"] == ideas.process.slug and len(items[0]["phases"]) == 3


def test_a_reply_names_a_comment_of_the_same_proposal(client, bearer, ideas, citizen):
    """The API finds the answered comment as the pages do: unknown is 404, another
    proposal's comment is 400 on `parent`, a comment of this one threads under it."""
    one = services.create_proposal(citizen, ideas, title="Un banc", body="Place")
    two = services.create_proposal(citizen, ideas, title="Un arbre", body="Rue")
    first = services.add_comment(citizen, one, body="Oui")
    elsewhere = services.add_comment(citizen, two, body="Ailleurs")
    url = f"/api/participation/proposals/{one.pk}/comments"
    auth = bearer(citizen)
    assert post(client, url, {"body": "R", "parent_id": 999999}, auth).status_code == 404
    wrong = post(client, url, {"body": "R", "parent_id": elsewhere.pk}, auth)
    assert wrong.status_code == 400, wrong.content
    reply = post(client, url, {"body": "R", "parent_id": first.pk}, auth)
    assert reply.status_code == 201 and reply.json()["depth"] == 1
