"""The form-based workflow editor's changes, as pure functions on a definition.

Each takes a definition, returns a changed copy, and raises BadRequest naming the status or
transition at fault; the views store the result with `services.save_workflow` (permission,
validation, refusal of changes that would strand requests, audit) — the same path as the
JSON import.
"""

import copy

from django.utils.text import slugify
from django.utils.translation import gettext as _

from metropole.core.exceptions import BadRequest, Conflict

from .workflow import status_name, transition_name


def _statuses(definition):
    return definition.setdefault("statuses", [])


def _transitions(definition):
    return definition.setdefault("transitions", [])


def _find_status(definition, code: str) -> dict:
    for status in _statuses(definition):
        if status["code"] == code:
            return status
    raise BadRequest(
        _("Unknown status"), _("This workflow has no status “%(code)s”.") % {"code": code}
    )


def _find_transition(definition, index: int) -> dict:
    transitions = _transitions(definition)
    if not 0 <= index < len(transitions):
        raise BadRequest(_("Unknown transition"), _("This workflow has no such transition."))
    return transitions[index]


def _status_values(status: dict, *, label, public_label, colour, final) -> None:
    label = (label or "").strip()
    if not label:
        raise BadRequest(_("Name needed"), _("Give the status a name."), field="label")
    status["label"] = label
    if (public_label or "").strip():
        status["public_label"] = public_label.strip()
    else:
        status.pop("public_label", None)
    if colour and colour != "neutral":
        status["colour"] = colour
    else:
        status.pop("colour", None)
    if final:
        status["final"] = True
    else:
        status.pop("final", None)


def _make_initial(definition, code: str) -> None:
    statuses = _statuses(definition)
    status = _find_status(definition, code)
    statuses.remove(status)
    statuses.insert(0, status)


def add_status(
    definition,
    *,
    label: str,
    code: str = "",
    public_label: str = "",
    colour: str = "neutral",
    final: bool = False,
    initial: bool = False,
    came_from: str = "",
    button: str = "",
) -> tuple[dict, str]:
    """Add a status; with `came_from`, also the transition that leads to it from that status
    (its button says `button`, or "Move to “label”"). Returns (definition, new code)."""
    definition = copy.deepcopy(definition)
    code = slugify(code or label)[:50]
    if not code or code == "draft":
        raise BadRequest(
            _("Code needed"),
            _("Give a name made of letters or digits (not “draft”)."),
            field="code",
        )
    if any(s["code"] == code for s in _statuses(definition)):
        raise Conflict(
            _("Code in use"),
            _("The status “%(label)s” already has the code “%(code)s”: choose another.")
            % {"label": status_name(definition, code), "code": code},
            field="code",
        )
    status = {"code": code, "actions": []}
    _status_values(status, label=label, public_label=public_label, colour=colour, final=final)
    _statuses(definition).append(status)
    if came_from:
        _find_status(definition, came_from)
        _transitions(definition).append(
            {
                "from": came_from,
                "to": code,
                "label": (button or "").strip()
                or _("Move to “%(label)s”") % {"label": status["label"]},
            }
        )
    if initial:
        _make_initial(definition, code)
    return definition, code


def update_status(
    definition, code: str, *, label, public_label="", colour="neutral", final=False, initial=False
) -> dict:
    """Rename a status, change its public label, colour, "final" mark; make it the first.
    Its code never changes (requests store it)."""
    definition = copy.deepcopy(definition)
    status = _find_status(definition, code)
    _status_values(status, label=label, public_label=public_label, colour=colour, final=final)
    if initial:
        _make_initial(definition, code)
    return definition


def status_references(definition, code: str) -> list[str]:
    """The places that lead to or from status `code` (plain words)."""
    found = []
    for index, transition in enumerate(_transitions(definition)):
        if code in (transition["from"], transition["to"]):
            found.append(_("transition %(name)s") % {"name": transition_name(definition, index)})
    for status in _statuses(definition):
        for action in status.get("actions", []):
            if (action["type"] == "timeout" and action.get("to") == code) or (
                action["type"] == "ask_citizen" and action.get("then") == code
            ):
                found.append(_("an action of the status “%(label)s”") % {"label": status["label"]})
    return found


def delete_status(definition, code: str) -> dict:
    definition = copy.deepcopy(definition)
    status = _find_status(definition, code)
    if len(_statuses(definition)) == 1:
        raise Conflict(_("Last status"), _("A workflow needs at least one status."))
    references = status_references(definition, code)
    if references:
        raise Conflict(
            _("Status in use"),
            _("“%(label)s” is used by %(places)s: change or delete them first.")
            % {"label": status["label"], "places": "; ".join(references)},
        )
    _statuses(definition).remove(status)
    return definition


def _transition_values(definition, transition, *, from_status, to_status, label, teams):
    codes = [s["code"] for s in _statuses(definition)]
    if from_status not in [*codes, "*"]:
        raise BadRequest(_("Unknown status"), _("Choose the status it starts from."), field="from")
    if to_status not in codes:
        raise BadRequest(_("Unknown status"), _("Choose the status it leads to."), field="to")
    if from_status == to_status:
        raise BadRequest(
            _("Same status"), _("A transition must lead to another status."), field="to"
        )
    label = (label or "").strip()
    if not label:
        raise BadRequest(
            _("Name needed"), _("Give the button's text, e.g. “Accept”."), field="label"
        )
    transition.update({"from": from_status, "to": to_status, "label": label})
    if teams:
        transition["teams"] = list(teams)
    else:
        transition.pop("teams", None)


def add_transition(definition, *, from_status, to_status, label, teams=()) -> tuple[dict, int]:
    definition = copy.deepcopy(definition)
    transition = {}
    _transition_values(
        definition,
        transition,
        from_status=from_status,
        to_status=to_status,
        label=label,
        teams=teams,
    )
    _transitions(definition).append(transition)
    return definition, len(_transitions(definition)) - 1


def update_transition(definition, index, *, from_status, to_status, label, teams=()) -> dict:
    definition = copy.deepcopy(definition)
    transition = _find_transition(definition, index)
    _transition_values(
        definition,
        transition,
        from_status=from_status,
        to_status=to_status,
        label=label,
        teams=teams,
    )
    return definition


def delete_transition(definition, index: int) -> dict:
    definition = copy.deepcopy(definition)
    _find_transition(definition, index)
    del _transitions(definition)[index]
    return definition


def _actions(definition, target: tuple[str, str | int]) -> list:
    kind, key = target
    owner = _find_status(definition, key) if kind == "status" else _find_transition(definition, key)
    return owner.setdefault("actions", [])


def add_action(definition, target, action: dict) -> dict:
    definition = copy.deepcopy(definition)
    if target[0] == "transition" and action["type"] == "timeout":
        raise BadRequest(
            _("Not on a transition"),
            _("A time limit belongs to a status: add it to the status the transition leads to."),
            field="type",
        )
    _actions(definition, target).append(action)
    return definition


def delete_action(definition, target, number: int) -> dict:
    definition = copy.deepcopy(definition)
    actions = _actions(definition, target)
    if not 0 <= number < len(actions):
        raise BadRequest(_("Unknown action"), _("This action is no longer there."))
    del actions[number]
    return definition


def move_action(definition, target, number: int, direction: int) -> dict:
    definition = copy.deepcopy(definition)
    actions = _actions(definition, target)
    other = number + (1 if direction > 0 else -1)
    if 0 <= number < len(actions) and 0 <= other < len(actions):
        actions[number], actions[other] = actions[other], actions[number]
    return definition
