"""The form-based workflow editor: pages that build a workflow, the diagram and its text
alternative, problems named by status or transition, edits that would strand requests
refused, transitions' own actions and the `route` action, JSON export and import."""

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from metropole.core.exceptions import BadRequest, Conflict
from metropole.procedures import diagram, editor, services
from metropole.procedures.models import EventKind, Request, Workflow
from metropole.procedures.workflow import problems, reachable, validate_definition

from .conftest import WORKFLOW, answers

pytestmark = pytest.mark.django_db


def _base(lille, workflow):
    return f"/demarches/gestion/{lille.slug}/circuits/{workflow.pk}/"


def _version(client, url) -> str:
    return re.search(r'name="version" value="([^"]+)"', client.get(url).content.decode())[1]


def test_an_administrator_builds_a_workflow_with_the_pages(client, procedure, people, lille):
    client.force_login(people["admin"])
    response = client.post(
        f"/demarches/gestion/{lille.slug}/circuits/nouveau/",
        {"name": "Parking permits", "start": "model"},
    )
    workflow = Workflow.objects.get(territory=lille, slug="parking-permits")
    base = _base(lille, workflow)
    assert response.status_code == 302 and response["Location"] == base
    assert [s["code"] for s in workflow.definition["statuses"]] == [
        "nouvelle",
        "en-cours",
        "terminee",
    ]

    # A status reached from "en-cours" by a new button, orange, with a public label.
    response = client.post(
        f"{base}ajouter-un-etat/",
        {
            "version": _version(client, f"{base}ajouter-un-etat/"),
            "label": "Waiting for documents",
            "public_label": "We need a document",
            "colour": "warning",
            "came_from": "en-cours",
            "button": "Ask for documents",
        },
    )
    assert response.status_code == 302
    workflow.refresh_from_db()
    status = workflow.statuses["waiting-for-documents"]
    assert status["public_label"] == "We need a document" and status["colour"] == "warning"
    assert {"from": "en-cours", "to": "waiting-for-documents", "label": "Ask for documents"} in (
        workflow.definition["transitions"]
    )
    # It has no way out yet: the page names it.
    page = client.get(base).content.decode()
    assert "Status “Waiting for documents”" in page and "for ever" in page

    # An action on arrival: wait 15 days, then close.
    action_url = f"{base}etats/waiting-for-documents/ajouter-une-action/"
    chooser = client.get(action_url).content.decode()
    assert 'name="type"' in chooser and "<legend>" in chooser
    response = client.post(
        f"{action_url}?type=timeout",
        {
            "version": _version(client, f"{action_url}?type=timeout"),
            "amount": "15",
            "unit": "days",
            "to": "terminee",
        },
    )
    assert response.status_code == 302
    workflow.refresh_from_db()
    assert workflow.statuses["waiting-for-documents"]["actions"] == [
        {"type": "timeout", "days": 15, "to": "terminee"}
    ]
    assert not [p for p in problems(workflow.definition, lille) if p["blocking"]]

    # A transition kept to a team, with its own actions.
    response = client.post(
        f"{base}ajouter-une-transition/",
        {
            "version": _version(client, f"{base}ajouter-une-transition/"),
            "label": "Documents received",
            "from_status": "waiting-for-documents",
            "to_status": "en-cours",
            "teams": ["civil"],
        },
    )
    assert response.status_code == 302
    workflow.refresh_from_db()
    index = len(workflow.definition["transitions"]) - 1
    assert workflow.definition["transitions"][index]["teams"] == ["civil"]
    action_url = f"{base}transitions/{index}/ajouter-une-action/"
    assert 'value="timeout"' not in client.get(action_url).content.decode()
    for kind, data in (
        ("route", {"to": "metropole"}),
        ("notify", {"channel": "email", "subject": "{code}", "message": "Thanks: {url}"}),
    ):
        response = client.post(
            f"{action_url}?type={kind}",
            {"version": _version(client, f"{action_url}?type={kind}"), **data},
        )
        assert response.status_code == 302, response.content.decode()[:2000]
    workflow.refresh_from_db()
    actions = workflow.definition["transitions"][index]["actions"]
    assert [a["type"] for a in actions] == ["route", "notify"]

    # Order and delete on the transition's page.
    page_url = f"{base}transitions/{index}/"
    client.post(page_url, {"version": _version(client, page_url), "op": "down", "number": "0"})
    workflow.refresh_from_db()
    assert [a["type"] for a in workflow.definition["transitions"][index]["actions"]] == [
        "notify",
        "route",
    ]
    client.post(
        page_url, {"version": _version(client, page_url), "op": "delete_action", "number": "0"}
    )
    workflow.refresh_from_db()
    assert workflow.definition["transitions"][index]["actions"] == [
        {"type": "route", "to": "metropole"}
    ]

    # Rename a status; make another the first one.
    status_url = f"{base}etats/en-cours/"
    client.post(
        status_url,
        {
            "version": _version(client, status_url),
            "label": "Being handled",
            "colour": "info",
            "initial": "on",
        },
    )
    workflow.refresh_from_db()
    assert workflow.definition["statuses"][0] == {
        "code": "en-cours",
        "label": "Being handled",
        "colour": "info",
        "actions": [],
    }
    # The overview: the diagram and the list of transitions in words.
    page = client.get(base).content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page and 'role="img"' in page
    assert "“Documents received”</strong>: from “Waiting for documents” to “Being handled”" in page
    # "nouvelle" is no longer reached: named as a problem.
    assert "Status “Nouvelle demande”" in page and "no request can reach it" in page


def test_a_status_in_use_or_referenced_is_not_deleted(client, procedure, people, lille):
    workflow = procedure["workflow"]
    services.submit_answers(people["citizen"], procedure["form"], answers())
    client.force_login(people["admin"])
    base = _base(lille, workflow)
    # "new" holds a request and is the start of a transition.
    page = client.get(f"{base}etats/new/").content.decode()
    assert "Requests are in it." in page and "Delete the status" not in page
    with pytest.raises(Conflict, match="transition “Take”"):
        editor.delete_status(workflow.definition, "new")
    # Without the reference the service still refuses: requests are in it.
    changed = {
        "statuses": [s for s in WORKFLOW["statuses"] if s["code"] != "new"],
        "transitions": WORKFLOW["transitions"][1:],
    }
    with pytest.raises(Conflict, match=r"“New” \(requests are in it\)"):
        services.save_workflow(
            people["admin"], lille, name="x", definition=changed, workflow=workflow
        )
    # A status nobody is in but a pending time limit leads to is kept too.
    request = Request.objects.get()
    Request.objects.filter(pk=request.pk).update(
        wake_at=timezone.now() + timedelta(days=3), wake_to="dropped"
    )
    changed = editor.delete_action(WORKFLOW, ("status", "missing"), 1)
    changed = editor.delete_status(changed, "dropped")
    with pytest.raises(Conflict, match="pending time limit"):
        services.save_workflow(
            people["admin"], lille, name="x", definition=changed, workflow=workflow
        )
    # An unused status with nothing leading to it goes.
    spare, _code = editor.add_status(WORKFLOW, label="Spare", final=True)
    services.save_workflow(people["admin"], lille, name="x", definition=spare, workflow=workflow)
    response = client.post(
        f"{base}etats/spare/", {"version": _version(client, f"{base}etats/spare/"), "op": "delete"}
    )
    assert response.status_code == 302
    workflow.refresh_from_db()
    assert "spare" not in workflow.statuses


def test_a_status_an_awaited_answer_leads_to_is_not_deleted(procedure, people, lille):
    request = services.submit_answers(people["citizen"], procedure["form"], answers())
    services.take_transition(people["agent"], request, 0, expected_to="open")
    services.take_transition(people["agent"], request, 1, expected_to="missing")
    request.refresh_from_db()
    assert request.status == "missing"
    # Nobody is in "open" any more, no time limit leads to it: only the citizen's awaited
    # answer (ask_citizen, then "open") does.
    definition = json.loads(json.dumps(WORKFLOW))
    definition["statuses"] = [s for s in definition["statuses"] if s["code"] != "open"]
    for status in definition["statuses"]:
        for action in status.get("actions", []):
            action.pop("then", None)
    definition["transitions"] = [
        {"from": "new", "to": "missing", "label": "Ask"},
        {"from": "missing", "to": "done", "label": "Deliver"},
    ]
    with pytest.raises(Conflict, match=r"“Being handled” \(a citizen's awaited answer"):
        services.save_workflow(
            people["admin"], lille, name="x", definition=definition, workflow=procedure["workflow"]
        )
    procedure["workflow"].refresh_from_db()
    assert "open" in procedure["workflow"].statuses
    # Once the question is answered (the request moves on), nothing leads there but requests.
    request.events.filter(kind=EventKind.INFO_REQUESTED).update(answered_at=timezone.now())
    assert "open" not in services.statuses_in_use(procedure["workflow"])


def test_an_edit_over_someone_elses_is_refused(client, procedure, people, lille):
    workflow = procedure["workflow"]
    client.force_login(people["admin"])
    url = f"{_base(lille, workflow)}etats/open/"
    stale = _version(client, url)
    services.save_workflow(
        people["admin"], lille, name="Renamed", definition=WORKFLOW, workflow=workflow
    )
    response = client.post(
        url, {"version": stale, "label": "Mine", "colour": "neutral"}, follow=True
    )
    assert "Someone changed this workflow" in response.content.decode()
    workflow.refresh_from_db()
    assert workflow.statuses["open"]["label"] == "Being handled"


def test_only_administrators_open_the_editor(client, procedure, people, lille):
    base = _base(lille, procedure["workflow"])
    client.force_login(people["agent"])
    for url in (base, f"{base}etats/new/", f"{base}ajouter-une-transition/", f"{base}json/"):
        assert client.get(url).status_code == 403
    response = client.post(f"{base}etats/new/", {"label": "Hacked", "colour": "neutral"})
    assert response.status_code == 403
    procedure["workflow"].refresh_from_db()
    assert procedure["workflow"].statuses["new"]["label"] == "New"


def test_problems_name_the_place_and_block_publishing(procedure, people, lille):
    definition = {
        "statuses": [
            {"code": "a", "label": "Received"},
            {"code": "b", "label": "Stuck"},
            {"code": "c", "label": "Lost", "final": True},
        ],
        "transitions": [{"from": "a", "to": "b", "label": "Go", "teams": ["nobody"]}],
    }
    validate_definition(definition)
    assert reachable(definition) == {"a", "b"}
    found = {(p["where"], p["message"].split(":")[0]) for p in problems(definition, lille)}
    assert found == {
        ("Status “Stuck”", "requests would stay in it for ever"),
        ("Status “Lost”", "no request can reach it"),
        ("Transition “Go” (Received → Stuck)", "no team has the code “nobody”"),
    }
    workflow = services.save_workflow(people["admin"], lille, name="Broken", definition=definition)
    with pytest.raises(BadRequest) as error:
        services.save_form(
            people["admin"], lille, form=procedure["form"], workflow=workflow, published=True
        )
    assert error.value.field == "published" and len(error.value.errors) == 3
    assert "Broken" in error.value.detail
    procedure["form"].refresh_from_db()
    assert procedure["form"].workflow_id == procedure["workflow"].pk
    # Unpublished, the form may use it while it is being fixed.
    services.save_form(
        people["admin"], lille, form=procedure["form"], workflow=workflow, published=False
    )


def test_transition_actions_run_before_the_status_ones_and_route_hands_over(
    procedure, people, lille
):
    definition = json.loads(json.dumps(WORKFLOW))
    definition["transitions"][0]["actions"] = [
        {"type": "route", "to": "metropole"},
        {"type": "assign", "team": "civil"},
    ]
    services.save_workflow(
        people["admin"], lille, name="x", definition=definition, workflow=procedure["workflow"]
    )
    request = services.submit_answers(people["citizen"], procedure["form"], answers())
    assert request.territory == procedure["lille_commune"]
    services.take_transition(people["agent"], request, 0, expected_to="open")
    request.refresh_from_db()
    assert request.territory == lille and request.team == procedure["team"]
    texts = list(request.events.filter(kind=EventKind.ACTION).values_list("text", flat=True))
    assert any("Handed over from" in t and "to Métropole Européenne de Lille" in t for t in texts)
    # The commune's agent no longer handles it; the metropole's administrator does.
    assert not people["agent"].has_perm("procedures.handle_request", request)
    assert people["admin"].has_perm("procedures.handle_request", request)


def test_a_button_of_a_page_opened_before_an_edit_is_refused(client, procedure, people, lille):
    request = services.submit_answers(people["citizen"], procedure["form"], answers())
    changed = editor.delete_transition(WORKFLOW, 0)
    changed, _index = editor.add_transition(
        changed, from_status="new", to_status="done", label="Close at once"
    )
    services.save_workflow(
        people["admin"], lille, name="x", definition=changed, workflow=procedure["workflow"]
    )
    # The agent's page still showed "Take" (index 0, to "open"): index 0 is now "Ask".
    client.force_login(people["agent"])
    response = client.post(
        f"/demarches/gestion/demandes/{request.code}/",
        {"action": "transition", "index": "0", "to": "open"},
        follow=True,
    )
    assert "were changed since the page was opened" in response.content.decode()
    request.refresh_from_db()
    assert request.status == "new"


def test_json_export_and_import_round_trip(client, procedure, people, lille):
    client.force_login(people["admin"])
    base = _base(lille, procedure["workflow"])
    exported = client.get(f"{base}export.json")
    assert exported["Content-Disposition"].startswith("attachment")
    data = json.loads(exported.content)
    assert data["statuses"] == WORKFLOW["statuses"] and data["code"] == "certificates"
    response = client.post(
        f"/demarches/gestion/{lille.slug}/circuits/importer/",
        {"name": "Imported", "definition": json.dumps(data)},
    )
    imported = Workflow.objects.get(territory=lille, slug="imported")
    assert response.status_code == 302
    assert imported.definition["transitions"] == WORKFLOW["transitions"]


def test_citizens_read_the_public_label_agents_the_colour(client, procedure, people, lille):
    definition = json.loads(json.dumps(WORKFLOW))
    definition["statuses"][0].update(public_label="Received", colour="success")
    services.save_workflow(
        people["admin"], lille, name="x", definition=definition, workflow=procedure["workflow"]
    )
    request = services.submit_answers(people["citizen"], procedure["form"], answers())
    client.force_login(people["citizen"])
    page = client.get(f"/demarches/suivi/{request.code}/").content.decode()
    assert "<strong>Received</strong>" in page
    client.force_login(people["agent"])
    page = client.get(f"/demarches/gestion/demandes/{request.code}/").content.decode()
    assert '<span class="badge badge--success">New</span>' in page


def test_the_diagram_escapes_labels_and_marks_unreachable_statuses():
    definition = {
        "statuses": [
            {"code": "a", "label": "<script>x</script>"},
            {"code": "b", "label": "Nowhere", "final": True},
        ],
        "transitions": [{"from": "*", "to": "a", "label": "Again & again"}],
    }
    svg = str(diagram.render(definition, key="t"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "Again &amp; again" in svg
    assert 'stroke-dasharray="6 4"' in svg  # "Nowhere" cannot be reached
    assert "style=" not in svg
