"""The steering API: the "done when" path through HTTP, the same refusals as the pages."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from metropole.core.models import Territory
from metropole.steering.models import Action, BudgetLine, Decision, IndicatorValue, Node, Plan


def post(client, url, payload):
    return client.post(url, payload, content_type="application/json")


def problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


@pytest.fixture
def api(client, agent):
    client.force_login(agent)
    return client


def test_the_whole_path_through_the_api(api, elected, lille, client):
    # build a plan, its tree and an action (dates around today, so "late" is known)
    today = date.today()
    soon, later = (
        (today + timedelta(days=30)).isoformat(),
        (today + timedelta(days=400)).isoformat(),
    )
    plan = post(
        api,
        "/api/steering/plans",
        {
            "territory": lille.code,
            "title": "Plan API",
            "start": f"{today.year - 1}-01-01",
            "end": f"{today.year + 3}-12-31",
        },
    )
    assert plan.status_code == 201, plan.content
    plan_id = plan.json()["id"]
    axis = post(
        api, f"/api/steering/plans/{plan_id}/nodes", {"kind": "axis", "code": "A", "title": "Axe"}
    ).json()
    sub = post(
        api,
        f"/api/steering/plans/{plan_id}/nodes",
        {"kind": "orientation", "title": "Sous-axe", "parent_id": axis["id"]},
    ).json()
    created = post(
        api,
        f"/api/steering/plans/{plan_id}/actions",
        {
            "node_id": sub["id"],
            "title": "Tiers-lieux",
            "start": soon,
            "end": later,
            "communes": ["59512"],
            "pilot_name": "DSI",
        },
    )
    assert created.status_code == 201, created.content
    action = created.json()
    assert action["communes"] == ["59512"] and action["late"] is False
    # record progress and budget
    patched = api.patch(
        f"/api/steering/actions/{action['id']}",
        {"status": "in_progress", "progress": 40},
        content_type="application/json",
    )
    assert patched.json()["progress"] == 40
    budget = api.put(
        f"/api/steering/actions/{action['id']}/budget",
        {
            "total": "1000",
            "lines": [
                {"year": today.year, "source": "eu_feder", "planned": "600", "rate": "60"},
                {"year": today.year, "source": "own", "planned": "400"},
            ],
        },
        content_type="application/json",
    )
    assert budget.status_code == 200, budget.content
    # an indicator fills itself from the platform's statistics
    indicator = post(
        api,
        f"/api/steering/plans/{plan_id}/indicators",
        {
            "name": "Communes sur la plateforme",
            "kind": "result",
            "unit": "communes",
            "collector": "statistic:core.joined_communes",
            "target_value": "95",
            "target_date": later,
        },
    ).json()
    collected = post(api, f"/api/steering/indicators/{indicator['id']}/collect", {})
    assert collected.status_code == 201 and collected.json()["provenance"] == "automatic"
    # the dashboard rolls it up
    board = api.get(f"/api/steering/plans/{plan_id}/dashboard").json()
    assert board["progress"] == pytest.approx(40)
    assert Decimal(board["budget_planned"]) == 1000
    assert board["communes"] == {"59512": 1}
    assert [i["state"] for i in board["indicators"]] in (["on_track"], ["off_track"])
    # the steering committee meets and decides
    body = post(
        api, f"/api/steering/plans/{plan_id}/bodies", {"kind": "steering", "name": "COPIL"}
    ).json()
    meeting = post(
        api, f"/api/steering/plans/{plan_id}/meetings", {"body_id": body["id"], "date": soon}
    ).json()
    assert meeting["scope"] == [action["id"]]
    api.force_login(elected)
    decision = post(
        api,
        f"/api/steering/meetings/{meeting['id']}/decisions",
        {
            "action_id": action["id"],
            "kind": "extend",
            "reasons": "Succès à Roubaix",
            "communes": ["59599"],
        },
    )
    assert decision.status_code == 201, decision.content
    assert sorted(api.get(f"/api/steering/actions/{action['id']}").json()["communes"]) == [
        "59512",
        "59599",
    ]
    # the public sees the published plan, without budget unless published
    assert client.get(f"/api/steering/public/plans/{plan_id}").status_code == 200  # a reader
    client.logout()
    assert client.get(f"/api/steering/public/plans/{plan_id}").status_code == 403
    Plan.objects.filter(pk=plan_id).update(is_public=True)
    public = client.get(f"/api/steering/public/plans/{plan_id}")
    assert public.status_code == 200 and Decimal(public.json()["budget_planned"]) == 0
    assert [p["id"] for p in client.get("/api/steering/public/plans").json()] == [plan_id]


def test_refusals_are_problems_naming_the_field(api, plan, tree, indicator, lille):
    # a cycle in the tree
    moved = api.patch(
        f"/api/steering/nodes/{tree['axis1'].pk}",
        {"move": True, "parent_id": tree["orientation"].pk},
        content_type="application/json",
    )
    assert problem(moved, 400)["field"] == "parent"
    assert Node.objects.get(pk=tree["axis1"].pk).parent_id is None
    # dates outside the plan
    outside = post(
        api,
        f"/api/steering/plans/{plan.pk}/actions",
        {"node_id": tree["axis1"].pk, "title": "X", "end": "2030-01-01"},
    )
    assert problem(outside, 400)["field"] == "end"
    # budget lines that do not add up
    budget = api.put(
        f"/api/steering/actions/{tree['half'].pk}/budget",
        {"total": "1000", "lines": [{"year": 2021, "source": "own", "planned": "900"}]},
        content_type="application/json",
    )
    assert "do not add up" in problem(budget, 400)["title"]
    assert not BudgetLine.objects.exists()
    # a value of the wrong unit or type
    wrong_unit = post(
        api,
        f"/api/steering/indicators/{indicator.pk}/values",
        {"date": "2021-01-01", "value": "3", "unit": "km"},
    )
    assert problem(wrong_unit, 400)["field"] == "unit"
    wrong_type = post(
        api,
        f"/api/steering/indicators/{indicator.pk}/values",
        {"date": "2021-01-01", "value": "trois"},
    )
    assert problem(wrong_type, 400)["field"] == "value"
    assert not IndicatorValue.objects.exists()


def test_a_decision_outside_the_scope_is_refused(api, plan, tree, elected):
    body = post(
        api, f"/api/steering/plans/{plan.pk}/bodies", {"kind": "steering", "name": "COPIL"}
    ).json()
    meeting = post(
        api,
        f"/api/steering/plans/{plan.pk}/meetings",
        {"body_id": body["id"], "date": "2022-01-10", "actions": [tree["half"].pk]},
    ).json()
    api.force_login(elected)
    refused = post(
        api,
        f"/api/steering/meetings/{meeting['id']}/decisions",
        {"action_id": tree["late"].pk, "kind": "abandon", "reasons": "x"},
    )
    assert problem(refused, 400)["field"] == "action"
    assert not Decision.objects.exists()
    assert Action.objects.get(pk=tree["late"].pk).status == "in_progress"


def test_the_csv_import_lists_every_bad_row(api, plan, indicator):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = (
        f"indicator;date;value\n{indicator.pk};2021-01-01;3\n"
        f"{indicator.pk};hier;4\n{indicator.pk};2021-03-01;4,5\n"
    )
    response = api.post(
        f"/api/steering/plans/{plan.pk}/values/import",
        {"file": SimpleUploadedFile("v.csv", data.encode())},
    )
    body = problem(response, 400)
    assert [(e["line"], e["column"]) for e in body["errors"]] == [(3, "date"), (4, "value")]
    good = f"indicator;date;value\n{indicator.pk};2021-01-01;3\n"
    response = api.post(
        f"/api/steering/plans/{plan.pk}/values/import",
        {"file": SimpleUploadedFile("v.csv", good.encode())},
    )
    assert response.status_code == 201 and response.json() == {"imported": 1}


def test_another_communes_agent_is_refused(client, roubaix_agent, plan, tree):
    client.force_login(roubaix_agent)
    assert problem(client.get(f"/api/steering/plans/{plan.pk}"), 403)
    assert problem(
        client.patch(
            f"/api/steering/actions/{tree['half'].pk}",
            {"progress": 99},
            content_type="application/json",
        ),
        403,
    )
    assert client.get("/api/steering/plans").json() == []
    assert problem(
        post(client, f"/api/steering/plans/{plan.pk}/nodes", {"kind": "axis", "title": "Intrus"}),
        403,
    )


def test_anonymous_clients_need_a_token(client, plan):
    assert problem(client.get(f"/api/steering/plans/{plan.pk}"), 401)
    assert problem(client.get(f"/api/steering/public/plans/{plan.pk}"), 403)
    assert problem(client.get("/api/steering/public/plans/99999999999999999999"), 404)


def test_a_token_works_like_the_session(client, agent, plan):
    from metropole.core.services import create_api_token

    _token, key = create_api_token(agent, "script")
    response = client.get(
        f"/api/steering/plans/{plan.pk}/dashboard", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert response.status_code == 200 and response.json()["plan"]["title"] == plan.title


def test_open_data_exports_only_published_plans(client, plan, tree, indicator, agent, lille):
    from metropole.steering import services

    services.record_value(agent, indicator, date=date(2021, 1, 1), value=4)
    csv_url = "/api/open-data/steering.actions.csv"
    assert client.get(csv_url).status_code == 200
    assert "Faite" not in b"".join(client.get(csv_url).streaming_content).decode()
    plan.is_public = True
    plan.save()
    rows = b"".join(client.get(csv_url).streaming_content).decode().splitlines()
    assert rows[0].startswith("plan,branch,code,title,pilot,status,late")
    assert len(rows) == 4
    values = b"".join(
        client.get("/api/open-data/steering.indicators.jsonl").streaming_content
    ).decode()
    assert '"value": "4.0000"' in values
    assert Territory.objects.filter(code=lille.code).exists()


def test_a_plan_for_an_unknown_territory_is_refused(api):
    payload = {"territory": "99999", "title": "X", "start": "2021-01-01", "end": "2026-12-31"}
    body = problem(post(api, "/api/steering/plans", payload), 404)
    assert "99999" in body["detail"]
    assert not Plan.objects.exists()


def test_the_plan_lists_are_paged(api, plan, tree, indicator):
    nodes = api.get(f"/api/steering/plans/{plan.pk}/nodes", {"limit": 2}).json()
    assert nodes["count"] == 3 and [n["code"] for n in nodes["items"]] == ["A1", "A2"]
    rest = api.get(f"/api/steering/plans/{plan.pk}/nodes", {"limit": 2, "offset": 2}).json()
    assert [n["code"] for n in rest["items"]] == ["O1"]
    actions = api.get(f"/api/steering/plans/{plan.pk}/actions", {"limit": 1}).json()
    assert actions["count"] == 3 and len(actions["items"]) == 1
    indicators = api.get(f"/api/steering/plans/{plan.pk}/indicators").json()
    assert [i["id"] for i in indicators["items"]] == [indicator.pk]
    values = api.get(f"/api/steering/indicators/{indicator.pk}/values").json()
    assert values["count"] == indicator.values.count()
    too_many = api.get(f"/api/steering/plans/{plan.pk}/nodes", {"limit": 501})
    assert too_many.status_code == 400
