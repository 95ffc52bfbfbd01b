"""The steering pages: same permissions as the API, refusals shown on the form, files private."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from metropole.steering import queries, services
from metropole.steering.models import Action, BudgetLine, Document, IndicatorValue, Meeting


@pytest.fixture
def logged(client, agent):
    client.force_login(agent)
    return client


def test_the_dashboard_shows_the_hypervision(logged, plan, tree, indicator, agent, commune):
    services.update_action(agent, tree["half"], communes=[commune("59512")], pilot_name="DSI")
    services.set_budget(
        agent,
        tree["half"],
        [{"year": 2021, "source": "eu_feder", "planned": "600", "actual": "150"}],
    )
    services.record_value(agent, indicator, date="2021-01-01", value="5")
    page = logged.get(f"/pilotage/plans/{plan.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    for expected in (
        "Progress by branch",
        "Late actions",
        "En retard",
        "EU — FEDER",
        "Communes raccordées",
        "Roubaix",
        "<svg",
    ):
        assert expected in html, expected
    assert 'data-counts="59512:1"' in html
    filtered = logged.get(f"/pilotage/plans/{plan.pk}/?axe={tree['axis2'].pk}").content.decode()
    assert "En retard" in filtered and "À moitié" not in filtered
    assert "À moitié" in logged.get(f"/pilotage/plans/{plan.pk}/?pilote=DSI").content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client, plan):
    response = client.get(f"/pilotage/plans/{plan.pk}/")
    assert response.status_code == 302 and "/compte/connexion/" in response["Location"]


def test_another_communes_agent_gets_403(client, roubaix_agent, plan, tree):
    client.force_login(roubaix_agent)
    assert client.get(f"/pilotage/plans/{plan.pk}/").status_code == 403
    assert client.get(f"/pilotage/actions/{tree['half'].pk}/").status_code == 403
    response = client.post(
        f"/pilotage/actions/{tree['half'].pk}/",
        {"form": "progress", "progress-status": "done", "progress-progress": "100"},
    )
    assert response.status_code == 403
    assert Action.objects.get(pk=tree["half"].pk).status == "in_progress"


def test_the_transparency_page_shows_only_published_plans(client, plan, tree, indicator):
    assert client.get(f"/pilotage/transparence/{plan.pk}/").status_code == 404
    plan.is_public, plan.publish_indicators, plan.publish_budget = True, False, False
    plan.save()
    services.set_budget(
        services.SYSTEM, tree["half"], [{"year": 2021, "source": "own", "planned": "123456"}]
    )
    html = client.get(f"/pilotage/transparence/{plan.pk}/").content.decode()
    assert plan.title in html and "En retard" in html
    assert "Communes raccordées" not in html and "123" not in html.replace(str(plan.pk), "")
    plan.publish_indicators = plan.publish_budget = True
    plan.save()
    html = client.get(f"/pilotage/transparence/{plan.pk}/").content.decode()
    assert "Communes raccordées" in html and "123" in html
    assert "steering.actions" in html  # the open-data links


def test_recording_progress_with_a_note(logged, tree):
    url = f"/pilotage/actions/{tree['half'].pk}/"
    response = logged.post(
        url,
        {
            "form": "progress",
            "progress-status": "in_progress",
            "progress-progress": "75",
            "progress-note": "Marché notifié",
        },
    )
    assert response.status_code == 302
    action = Action.objects.get(pk=tree["half"].pk)
    assert action.progress == 75 and action.notes.get().text == "Marché notifié"


def test_a_refused_budget_is_shown_and_nothing_is_stored(logged, tree):
    url = f"/pilotage/actions/{tree['half'].pk}/budget/"
    form = {
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        "total": "1000",
        "lines-0-year": "2021",
        "lines-0-source": "own",
        "lines-0-planned": "400",
        "lines-1-year": "2021",
        "lines-1-source": "eu_feder",
        "lines-1-planned": "500",
    }
    response = logged.post(url, form)
    assert response.status_code == 400
    assert "do not add up" in response.content.decode()
    assert not BudgetLine.objects.exists()
    form["lines-1-planned"] = "600"
    assert logged.post(url, form).status_code == 302
    assert BudgetLine.objects.count() == 2


def test_a_cycle_is_refused_on_the_structure_page(logged, plan, tree):
    response = logged.post(
        f"/pilotage/plans/{plan.pk}/structure/",
        {"form": "move", "move-node": tree["axis1"].pk, "move-parent": tree["orientation"].pk},
    )
    assert response.status_code == 400
    assert "Cycle in the tree" in response.content.decode()


def test_a_value_of_the_wrong_type_is_refused_on_the_form(logged, indicator):
    response = logged.post(
        f"/pilotage/indicateurs/{indicator.pk}/",
        {"form": "value", "date": "2021-01-01", "value": "2,5", "kind": "actual"},
    )
    assert response.status_code == 400
    assert "whole numbers" in response.content.decode()
    assert not IndicatorValue.objects.exists()


def test_the_import_page_lists_the_faulty_rows(logged, plan, indicator):
    data = (
        f"indicator;date;value\n{indicator.pk};2021-01-01;1\n{indicator.pk};2021-02-30;2\n".encode()
    )
    response = logged.post(
        f"/pilotage/plans/{plan.pk}/import/", {"file": SimpleUploadedFile("v.csv", data)}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert '<th scope="row">3</th>' in html and "date" in html
    assert not IndicatorValue.objects.exists()


def test_documents_are_private_and_served_with_permission(
    logged, client, tree, settings, roubaix_agent, make_user
):
    url = f"/pilotage/actions/{tree['half'].pk}/"
    upload = SimpleUploadedFile("compte-rendu.txt", b"COPIL du 3 mars", content_type="text/plain")
    assert (
        logged.post(url, {"form": "document", "doc-title": "CR", "doc-file": upload}).status_code
        == 302
    )
    document = Document.objects.get()
    path = document.file.path
    assert path.startswith(str(settings.VAR_DIR / "private" / "steering"))
    assert not path.startswith(str(settings.MEDIA_ROOT))
    response = logged.get(f"/pilotage/documents/{document.pk}/")
    assert (
        response.status_code == 200 and b"".join(response.streaming_content) == b"COPIL du 3 mars"
    )
    logged.force_login(roubaix_agent)
    assert logged.get(f"/pilotage/documents/{document.pk}/").status_code == 403


def test_the_meeting_flow_with_its_pack(logged, client, plan, tree, elected):
    body = services.add_body(services.SYSTEM, plan, kind="steering", name="COPIL")
    response = logged.post(
        f"/pilotage/plans/{plan.pk}/instances/",
        {
            "form": "meeting",
            "meeting-body": body.pk,
            "meeting-date": "2022-02-01",
            "meeting-actions": [tree["half"].pk, tree["late"].pk],
        },
    )
    assert response.status_code == 302
    meeting = Meeting.objects.get()
    assert set(meeting.scope.values_list("pk", flat=True)) == {tree["half"].pk, tree["late"].pk}
    pack = logged.get(f"/pilotage/reunions/{meeting.pk}/dossier/").content.decode()
    for section in (
        "Actions reviewed",
        "Schedule gaps",
        "Budget gaps",
        "Indicators off track",
        "En retard",
        "<svg",
    ):
        assert section in pack, section
    pdf = logged.get(f"/pilotage/reunions/{meeting.pk}/dossier.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    logged.force_login(elected)
    decided = logged.post(
        f"/pilotage/reunions/{meeting.pk}/",
        {
            "form": "decision",
            "action": tree["late"].pk,
            "kind": "abandon",
            "reasons": "Objectifs non atteints",
        },
    )
    assert decided.status_code == 302
    assert Action.objects.get(pk=tree["late"].pk).status == "abandoned"
    # an action outside the agenda is not even offered; forcing it is refused
    forced = logged.post(
        f"/pilotage/reunions/{meeting.pk}/",
        {"form": "decision", "action": tree["done"].pk, "kind": "maintain", "reasons": "x"},
    )
    assert forced.status_code == 400
    assert not meeting.decisions.filter(action=tree["done"]).exists()


def test_the_annual_report(logged, plan, tree):
    html = logged.get(f"/pilotage/plans/{plan.pk}/rapport/2021/").content.decode()
    assert "Annual report 2021" in html and "Progress by branch" in html
    pdf = logged.get(f"/pilotage/plans/{plan.pk}/rapport/2021.pdf")
    assert pdf.content.startswith(b"%PDF") and len(pdf.content) > 5000


def test_creating_a_plan_and_its_tree_from_the_pages(logged, lille):
    response = logged.post(
        f"/pilotage/nouveau/{lille.slug}/",
        {"title": "Nouveau plan", "start": "2024-01-01", "end": "2023-01-01"},
    )
    assert response.status_code == 400  # ends before it starts
    response = logged.post(
        f"/pilotage/nouveau/{lille.slug}/",
        {"title": "Nouveau plan", "start": "2024-01-01", "end": "2028-12-31"},
    )
    assert response.status_code == 302
    structure = response["Location"]
    assert (
        logged.post(
            structure,
            {"form": "node", "node-kind": "axis", "node-title": "Axe unique", "node-weight": "1"},
        ).status_code
        == 302
    )
    plan_id = int(structure.strip("/").split("/")[-2])
    node = queries.get_plan(plan_id).nodes.get()
    added = logged.post(
        structure,
        {
            "form": "action",
            "action-node": node.pk,
            "action-title": "Première action",
            "action-status": "planned",
            "action-progress": "0",
            "action-weight": "1",
            "action-start": "2024-03-01",
            "action-communes": [],
        },
    )
    assert added.status_code == 302
    assert Action.objects.get(title="Première action").start == date(2024, 3, 1)
    index = logged.get("/pilotage/").content.decode()
    assert "Nouveau plan" in index


def test_the_territory_overview(logged, client, plan, tree, lille, commune, roubaix_agent):
    roubaix_plan = services.create_plan(
        roubaix_agent, commune("59512"), title="Roubaix connectée", start=date(2022, 1, 1)
    )
    html = logged.get(f"/pilotage/territoire/{lille.slug}/").content.decode()
    assert plan.title in html and roubaix_plan.title not in html  # a metropole agent
    client.force_login(roubaix_agent)
    html = client.get(f"/pilotage/territoire/{commune('59512').slug}/").content.decode()
    assert roubaix_plan.title in html and plan.title not in html
    assert client.get(f"/pilotage/territoire/{commune('59599').slug}/").status_code == 403


def test_the_six_monthly_evaluation_report(logged, plan, tree, agent):
    body = services.add_body(agent, plan, kind="steering", name="COPIL d'exécution")
    first = services.create_meeting(agent, body, date=date(2021, 3, 1), actions=[tree["late"]])
    services.record_decision(agent, first, tree["late"], kind="maintain", reasons="Premier bilan")
    second = services.create_meeting(agent, body, date=date(2021, 10, 1), actions=[tree["half"]])
    services.record_decision(agent, second, tree["half"], kind="abandon", reasons="Second bilan")
    html = logged.get(f"/pilotage/plans/{plan.pk}/rapport/2021/s1/").content.decode()
    assert "Six-monthly evaluation report, half 1 of 2021" in html
    assert "Premier bilan" in html and "Second bilan" not in html
    year = logged.get(f"/pilotage/plans/{plan.pk}/rapport/2021/").content.decode()
    assert "Premier bilan" in year and "Second bilan" in year
    assert logged.get(f"/pilotage/plans/{plan.pk}/rapport/2021/s3/").status_code == 404
    assert logged.get(f"/pilotage/plans/{plan.pk}/rapport/2021/s2.pdf").content.startswith(b"%PDF")


def _grow(plan, node, agent, commune, actions, indicators):
    """More actions (with communes, budget lines, documents) and indicators (with values)."""
    places = [commune("59512"), commune("59599")]
    for i in range(actions):
        action = services.add_action(
            agent,
            plan,
            node=node,
            title=f"Action {i}",
            status="in_progress",
            progress=i % 90,
            start=date(2020, 1, 1),
            end=date(2021, 1, 1),
        )
        services.update_action(agent, action, communes=places[: 1 + i % 2])
        services.set_budget(
            agent, action, [{"year": 2021, "source": "own", "planned": "10", "actual": "20"}]
        )
        services.attach_document(
            agent,
            action,
            title=f"Note {i}",
            file=SimpleUploadedFile(f"note{i}.txt", b"note", "text/plain"),
            is_public=True,
        )
    for i in range(indicators):
        ind = services.add_indicator(
            agent, plan, name=f"Ind {i}", kind="result", unit="u", target_value=100
        )
        for month in range(1, 4):
            services.record_value(agent, ind, date=date(2021, month, 1), value=month)


def test_the_pages_cost_the_same_queries_whatever_the_plan_size(logged, plan, tree, agent, commune):
    """The dashboard, the public page and the meeting pack (templates included) run a fixed
    number of queries: nothing is fetched per action, indicator, commune or document."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    plan.is_public = plan.publish_indicators = plan.publish_budget = True
    plan.save()
    body = services.add_body(services.SYSTEM, plan, kind="steering", name="COPIL")

    def counts():
        meeting = services.create_meeting(
            agent, body, date=date(2022, 2, 1), actions=list(plan.actions.all())
        )
        result = []
        for url in (
            f"/pilotage/plans/{plan.pk}/",
            f"/pilotage/plans/{plan.pk}/?axe={tree['axis1'].pk}",
            f"/pilotage/transparence/{plan.pk}/",
            f"/pilotage/reunions/{meeting.pk}/dossier/",
        ):
            with CaptureQueriesContext(connection) as captured:
                assert logged.get(url).status_code == 200, url
            result.append(len(captured))
        return result

    _grow(plan, tree["axis1"], agent, commune, 2, 1)
    small = counts()
    _grow(plan, tree["axis1"], agent, commune, 12, 8)
    assert counts() == small
