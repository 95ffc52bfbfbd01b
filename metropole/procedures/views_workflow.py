"""The workflow editor of the back-office, one thing per page: the workflow (diagram, its
statuses and transitions, what is left to fix), a status, a transition, an action; the JSON
stays for export and import. Every change goes through `services.save_workflow`."""

import json

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from metropole.core.exceptions import PlatformError
from metropole.core.views.administration import admin_context
from metropole.core.views.helpers import territory_permission_required

from . import diagram, editor, services
from .forms import (
    ActionForm,
    ActionTypeForm,
    StatusForm,
    TransitionForm,
    WorkflowForm,
    WorkflowNewForm,
    WorkflowRenameForm,
)
from .models import Workflow
from .workflow import (
    describe_action,
    endpoint_choices,
    problems,
    status_name,
    team_choices,
    transition_name,
)


def _get(territory, workflow_id) -> Workflow:
    return get_object_or_404(Workflow, pk=workflow_id, territory=territory)


def _detail_url(territory, workflow, anchor=""):
    url = reverse(
        "procedures:workflow_edit", kwargs={"slug": territory.slug, "workflow_id": workflow.pk}
    )
    return f"{url}#{anchor}" if anchor else url


def _store(request, territory, workflow, definition, *, name=None):
    """Save a changed definition; returns the workflow or None (the error is a message)."""
    try:
        return services.save_workflow(
            request.user,
            territory,
            name=name if name is not None else workflow.name,
            definition=definition,
            workflow=workflow,
            expected_version=request.POST.get("version", ""),
        )
    except PlatformError as error:
        messages.error(request, error.detail or error.title)
        return None


def _team_choices(territory, definition):
    """Teams of the territory, and codes the definition names that no team has (kept, so an
    edit never drops them silently)."""
    choices = team_choices(territory)
    known = {code for code, _name in choices}
    named = {team for t in definition.get("transitions", []) for team in t.get("teams", [])} | {
        a["team"]
        for owner in [*definition.get("statuses", []), *definition.get("transitions", [])]
        for a in owner.get("actions", [])
        if a["type"] == "assign"
    }
    for code in sorted(named - known):
        choices.append((code, _("%(code)s (no such team)") % {"code": code}))
    return choices


def _actions_view(definition, actions):
    return [describe_action(a, definition) for a in actions]


# --- list, new, import, export ---------------------------------------------------------------


@territory_permission_required("procedures.manage_forms")
def workflows(request, territory):
    items = []
    for workflow in Workflow.objects.filter(territory=territory).prefetch_related("forms"):
        found = problems(workflow.definition, territory)
        items.append(
            {
                "workflow": workflow,
                "problems": sum(1 for p in found if p["blocking"]),
                "forms": list(workflow.forms.all()),
            }
        )
    return render(
        request,
        "procedures/admin/workflows.html",
        admin_context(request, territory, items=items),
    )


def _copies(territory):
    ids = [territory.pk] + ([territory.metropole_id] if territory.metropole_id else [])
    return Workflow.objects.filter(territory_id__in=ids)


@territory_permission_required("procedures.manage_forms")
def workflow_new(request, territory):
    copies = list(_copies(territory))
    form = WorkflowNewForm(request.POST or None, copies=copies)
    if request.method == "POST" and form.is_valid():
        start = form.cleaned_data["start"]
        if start.startswith("copy:"):
            source = next(w for w in copies if str(w.pk) == start[5:])
            definition = source.definition
        else:
            definition = model_workflow()
        try:
            saved = services.save_workflow(
                request.user, territory, name=form.cleaned_data["name"], definition=definition
            )
        except PlatformError as error:
            form.add_error("name", error.detail or error.title)
        else:
            messages.success(request, _("Workflow created. Change its statuses and steps below."))
            return redirect(_detail_url(territory, saved))
    return render(
        request,
        "procedures/admin/workflow_new.html",
        admin_context(request, territory, form=form),
        status=400 if form.errors else 200,
    )


@territory_permission_required("procedures.manage_forms")
def workflow_json(request, territory, workflow_id=None):
    """The definition as JSON: import a new workflow, or replace one's definition (same
    checks as the editor's pages)."""
    workflow = _get(territory, workflow_id) if workflow_id else None
    if workflow is not None:
        initial = {
            "name": workflow.name,
            "definition": json.dumps(workflow.definition, indent=2, ensure_ascii=False),
        }
    else:
        initial = {"definition": json.dumps(model_workflow(), indent=2, ensure_ascii=False)}
    form = WorkflowForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_workflow(
                request.user,
                territory,
                name=form.cleaned_data["name"],
                definition=form.cleaned_data["definition"],
                workflow=workflow,
                expected_version=request.POST.get("version", ""),
            )
        except PlatformError as error:
            form.add_error("definition", error.detail or error.title)
        else:
            messages.success(request, _("Workflow saved."))
            return redirect(_detail_url(territory, saved))
    return render(
        request,
        "procedures/admin/workflow_json.html",
        admin_context(request, territory, workflow=workflow, form=form),
        status=400 if form.errors else 200,
    )


@require_safe
@territory_permission_required("procedures.manage_forms")
def workflow_export(request, territory, workflow_id):
    workflow = _get(territory, workflow_id)
    body = json.dumps(
        {"name": workflow.name, "code": workflow.slug, **workflow.definition},
        indent=2,
        ensure_ascii=False,
    )
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="circuit-{workflow.slug}.json"'
    return response


# --- the workflow -----------------------------------------------------------------------------


@territory_permission_required("procedures.manage_forms")
def workflow_edit(request, territory, workflow_id):
    workflow = _get(territory, workflow_id)
    rename = WorkflowRenameForm(
        request.POST if "rename" in request.POST else None, initial={"name": workflow.name}
    )
    if request.method == "POST" and "rename" in request.POST and rename.is_valid():
        if _store(
            request, territory, workflow, workflow.definition, name=rename.cleaned_data["name"]
        ):
            messages.success(request, _("Name saved."))
        return redirect(_detail_url(territory, workflow))
    definition = workflow.definition
    in_use = services.statuses_in_use(workflow)
    team_names = dict(team_choices(territory))
    statuses = [
        {
            **status,
            "colour": status.get("colour") or "neutral",
            "initial": index == 0,
            "in_use": in_use.get(status["code"], ""),
            "actions_text": _actions_view(definition, status.get("actions", [])),
        }
        for index, status in enumerate(definition["statuses"])
    ]
    transitions = [
        {
            "index": index,
            "name": transition_name(definition, index),
            "label": t["label"],
            "from_label": _("any open status")
            if t["from"] == "*"
            else status_name(definition, t["from"]),
            "to_label": status_name(definition, t["to"]),
            "teams": [team_names.get(code, code) for code in t.get("teams", [])],
            "actions_text": _actions_view(definition, t.get("actions", [])),
        }
        for index, t in enumerate(definition.get("transitions", []))
    ]
    return render(
        request,
        "procedures/admin/workflow_edit.html",
        admin_context(
            request,
            territory,
            workflow=workflow,
            rename=rename,
            svg=diagram.render(definition, key=f"wf{workflow.pk}"),
            statuses=statuses,
            transitions=transitions,
            problems=problems(definition, territory),
            forms=list(workflow.forms.all()),
        ),
    )


# --- a status ----------------------------------------------------------------------------------


def _action_ops(request, territory, workflow, target, back):
    """The buttons under an action list: delete or move one. Returns a response or None."""
    op = request.POST.get("op", "")
    if op not in ("delete_action", "up", "down"):
        return None
    number = int(request.POST.get("number", -1)) if request.POST.get("number", "").isdigit() else -1
    try:
        if op == "delete_action":
            definition = editor.delete_action(workflow.definition, target, number)
        else:
            definition = editor.move_action(
                workflow.definition, target, number, -1 if op == "up" else 1
            )
    except PlatformError as error:
        messages.error(request, error.detail or error.title)
        return redirect(back)
    if _store(request, territory, workflow, definition):
        messages.success(request, _("Action deleted.") if op == "delete_action" else _("Saved."))
    return redirect(back)


@territory_permission_required("procedures.manage_forms")
def status_edit(request, territory, workflow_id, code=None):
    workflow = _get(territory, workflow_id)
    definition = workflow.definition
    status = None
    if code is not None:
        status = next((s for s in definition["statuses"] if s["code"] == code), None)
        if status is None:
            raise Http404
        back = reverse(
            "procedures:status_edit",
            kwargs={"slug": territory.slug, "workflow_id": workflow.pk, "code": code},
        )
        if request.method == "POST":
            handled = _action_ops(request, territory, workflow, ("status", code), back)
            if handled:
                return handled
            if request.POST.get("op") == "delete":
                try:
                    changed = editor.delete_status(definition, code)
                except PlatformError as error:
                    messages.error(request, error.detail or error.title)
                    return redirect(back)
                if _store(request, territory, workflow, changed):
                    messages.success(request, _("Status deleted."))
                    return redirect(_detail_url(territory, workflow, "statuses"))
                return redirect(back)
    initial = None
    if status is not None:
        initial = {
            "label": status["label"],
            "public_label": status.get("public_label", ""),
            "colour": status.get("colour") or "neutral",
            "final": bool(status.get("final")),
            "initial": definition["statuses"][0]["code"] == code,
        }
    form = StatusForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        statuses=definition["statuses"],
        creating=status is None,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if status is None:
                changed, code = editor.add_status(
                    definition,
                    label=data["label"],
                    public_label=data["public_label"],
                    colour=data["colour"],
                    final=data["final"],
                    initial=data["initial"],
                    came_from=data.get("came_from", ""),
                    button=data.get("button", ""),
                )
            else:
                changed = editor.update_status(
                    definition,
                    code,
                    label=data["label"],
                    public_label=data["public_label"],
                    colour=data["colour"],
                    final=data["final"],
                    initial=data["initial"],
                )
        except PlatformError as error:
            form.add_error(error.field if error.field in form.fields else None, error.detail)
        else:
            if _store(request, territory, workflow, changed):
                messages.success(request, _("Status saved."))
                return redirect(_detail_url(territory, workflow, f"status-{code}"))
    in_use = services.statuses_in_use(workflow).get(code, "") if code else ""
    return render(
        request,
        "procedures/admin/workflow_status.html",
        admin_context(
            request,
            territory,
            workflow=workflow,
            status=status,
            form=form,
            in_use=in_use,
            references=editor.status_references(definition, code) if code else [],
            actions=_actions_view(definition, status.get("actions", [])) if status else [],
        ),
        status=400 if form.errors else 200,
    )


# --- a transition --------------------------------------------------------------------------------


@territory_permission_required("procedures.manage_forms")
def transition_edit(request, territory, workflow_id, index=None):
    workflow = _get(territory, workflow_id)
    definition = workflow.definition
    transition = None
    if index is not None:
        transitions = definition.get("transitions", [])
        if index >= len(transitions):
            raise Http404
        transition = transitions[index]
        back = reverse(
            "procedures:transition_edit",
            kwargs={"slug": territory.slug, "workflow_id": workflow.pk, "index": index},
        )
        if request.method == "POST":
            handled = _action_ops(request, territory, workflow, ("transition", index), back)
            if handled:
                return handled
            if request.POST.get("op") == "delete":
                changed = editor.delete_transition(definition, index)
                if _store(request, territory, workflow, changed):
                    messages.success(request, _("Transition deleted."))
                    return redirect(_detail_url(territory, workflow, "transitions"))
                return redirect(back)
    initial = None
    if transition is not None:
        initial = {
            "label": transition["label"],
            "from_status": transition["from"],
            "to_status": transition["to"],
            "teams": transition.get("teams", []),
        }
    form = TransitionForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        statuses=definition["statuses"],
        teams=_team_choices(territory, definition),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        values = {
            "from_status": data["from_status"],
            "to_status": data["to_status"],
            "label": data["label"],
            "teams": data["teams"],
        }
        try:
            if transition is None:
                changed, index = editor.add_transition(definition, **values)
            else:
                changed = editor.update_transition(definition, index, **values)
        except PlatformError as error:
            name = {"from": "from_status", "to": "to_status"}.get(error.field, error.field)
            form.add_error(name if name in form.fields else None, error.detail)
        else:
            if _store(request, territory, workflow, changed):
                messages.success(request, _("Transition saved."))
                return redirect(_detail_url(territory, workflow, f"transition-{index}"))
    return render(
        request,
        "procedures/admin/workflow_transition.html",
        admin_context(
            request,
            territory,
            workflow=workflow,
            transition=transition,
            index=index,
            form=form,
            actions=_actions_view(definition, transition.get("actions", [])) if transition else [],
        ),
        status=400 if form.errors else 200,
    )


# --- an action ------------------------------------------------------------------------------------


@territory_permission_required("procedures.manage_forms")
def action_new(request, territory, workflow_id, target, key):
    """Add an action to a status (`target` "etat") or a transition ("transition"): first
    what kind (one question), then its fields."""
    workflow = _get(territory, workflow_id)
    definition = workflow.definition
    if target == "etat":
        owner = next((s for s in definition["statuses"] if s["code"] == key), None)
        where = ("status", key)
        owner_name = owner["label"] if owner else ""
        back = "procedures:status_edit"
        back_kwargs = {"code": key}
    else:
        index = int(key) if key.isdigit() else -1
        transitions = definition.get("transitions", [])
        owner = transitions[index] if 0 <= index < len(transitions) else None
        where = ("transition", index)
        owner_name = transition_name(definition, index) if owner else ""
        back = "procedures:transition_edit"
        back_kwargs = {"index": index}
    if owner is None:
        raise Http404
    back_url = reverse(
        back, kwargs={"slug": territory.slug, "workflow_id": workflow.pk, **back_kwargs}
    )
    on_transition = where[0] == "transition"
    chooser = ActionTypeForm(request.GET or None, on_transition=on_transition)
    kind = chooser.cleaned_data["type"] if chooser.is_valid() else None
    form = None
    missing = ""
    if kind is not None:
        teams = _team_choices(territory, definition)
        endpoints = endpoint_choices(territory)
        if kind == "assign" and not teams:
            missing = "teams"
        elif kind == "connector" and not endpoints:
            missing = "connectors"
        else:
            form = ActionForm(
                request.POST if request.method == "POST" else None,
                kind=kind,
                statuses=definition["statuses"],
                teams=teams,
                endpoints=endpoints,
            )
            if request.method == "POST" and form.is_valid():
                try:
                    changed = editor.add_action(definition, where, form.action())
                except PlatformError as error:
                    form.add_error(None, error.detail)
                else:
                    if _store(request, territory, workflow, changed):
                        messages.success(request, _("Action added."))
                        return redirect(back_url)
    return render(
        request,
        "procedures/admin/workflow_action.html",
        admin_context(
            request,
            territory,
            workflow=workflow,
            owner_name=owner_name,
            on_transition=on_transition,
            chooser=chooser,
            kind=kind,
            kind_label=dict(chooser.fields["type"].choices).get(kind, ""),
            form=form,
            missing=missing,
            back_url=back_url,
        ),
        status=400 if form is not None and form.errors else 200,
    )


def model_workflow() -> dict:
    """The model a new workflow starts from (French: what agents and citizens read)."""
    return {
        "statuses": [
            {
                "code": "nouvelle",
                "label": "Nouvelle demande",
                "public_label": "Reçue",
                "colour": "info",
                "actions": [
                    {
                        "type": "notify",
                        "channel": "email",
                        "subject": "Demande {code} reçue",
                        "message": "Votre demande {code} ({form}) est enregistrée : {url}",
                    }
                ],
            },
            {
                "code": "en-cours",
                "label": "En cours de traitement",
                "colour": "warning",
                "actions": [],
            },
            {
                "code": "terminee",
                "label": "Terminée",
                "colour": "success",
                "final": True,
                "actions": [
                    {
                        "type": "notify",
                        "channel": "email",
                        "subject": "Demande {code} traitée",
                        "message": "Votre demande {code} est traitée : {url}",
                    }
                ],
            },
        ],
        "transitions": [
            {"from": "nouvelle", "to": "en-cours", "label": "Prendre en charge"},
            {"from": "en-cours", "to": "terminee", "label": "Clore"},
        ],
    }
