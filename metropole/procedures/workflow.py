"""Workflows as data: the definition format and its validation.

A definition is JSON:

    {
      "statuses": [
        {"code": "new", "label": "Nouvelle demande",
         "actions": [{"type": "assign", "team": "etat-civil"},
                     {"type": "notify", "channel": "email", "subject": "…", "message": "…"}]},
        {"code": "missing", "label": "En attente de pièces",
         "actions": [{"type": "ask_citizen", "message": "…", "then": "new"},
                     {"type": "timeout", "days": 15, "to": "rejected"}]},
        {"code": "done", "label": "Terminée", "final": true,
         "actions": [{"type": "connector", "connector": "logiciel-etat-civil",
                      "endpoint": "acte"}]}
      ],
      "transitions": [
        {"from": "new", "to": "done", "label": "Délivrer l'acte", "teams": ["etat-civil"]}
      ]
    }

- The first status is the one a submitted request enters.
- `final` statuses close the request (its delay stops, the retention period starts).
- A transition may name the teams allowed to take it; without `teams`, any agent of the
  territory handling the request may. `from` may be "*" (from any status that is not final).
- Actions run when a request enters the status, in order:
  `notify` (channel "email" or "sms"; `message` and `subject` may use {code}, {form},
  {status}, {url}), `assign` (to a team), `connector` (calls an endpoint of a connector
  configured for the territory, in the background), `timeout` (after `days` — or `hours` —
  without change, the request moves to status `to`), `ask_citizen` (asks the citizen for more
  information; their answer moves the request to `then` if given).
"""

from django.utils.translation import gettext as _

from metropole.core.exceptions import BadRequest

ACTION_TYPES = {"notify", "assign", "connector", "timeout", "ask_citizen"}


def _error(path: str, message: str) -> BadRequest:
    return BadRequest(
        _("Invalid workflow"),
        _("%(path)s: %(message)s") % {"path": path, "message": message},
        field=path,
    )


def validate_definition(definition) -> dict:
    """Check a workflow definition; raise BadRequest naming the faulty place (e.g.
    "statuses[2].actions[0].to") or return it unchanged."""
    if not isinstance(definition, dict):
        raise _error("definition", _("a JSON object is expected"))
    statuses = definition.get("statuses")
    if not isinstance(statuses, list) or not statuses:
        raise _error("statuses", _("at least one status is needed"))
    codes = []
    for i, status in enumerate(statuses):
        path = f"statuses[{i}]"
        if not isinstance(status, dict):
            raise _error(path, _("an object is expected"))
        code = status.get("code")
        if not isinstance(code, str) or not code or len(code) > 50 or code == "draft":
            raise _error(f"{path}.code", _("a code of 1 to 50 characters (not “draft”)"))
        if code in codes:
            raise _error(f"{path}.code", _("“%(code)s” is used twice") % {"code": code})
        if not isinstance(status.get("label"), str) or not status["label"].strip():
            raise _error(f"{path}.label", _("a label is needed"))
        codes.append(code)
    teams = set()
    for i, status in enumerate(statuses):
        actions = status.get("actions", [])
        if not isinstance(actions, list):
            raise _error(f"statuses[{i}].actions", _("a list is expected"))
        for j, action in enumerate(actions):
            _validate_action(f"statuses[{i}].actions[{j}]", action, codes, teams)
    transitions = definition.get("transitions", [])
    if not isinstance(transitions, list):
        raise _error("transitions", _("a list is expected"))
    for i, transition in enumerate(transitions):
        path = f"transitions[{i}]"
        if not isinstance(transition, dict):
            raise _error(path, _("an object is expected"))
        if transition.get("from") not in [*codes, "*"]:
            raise _error(f"{path}.from", _("not a status of this workflow"))
        if transition.get("to") not in codes:
            raise _error(f"{path}.to", _("not a status of this workflow"))
        if not isinstance(transition.get("label"), str) or not transition["label"].strip():
            raise _error(f"{path}.label", _("a label is needed"))
        allowed = transition.get("teams", [])
        if not isinstance(allowed, list) or not all(isinstance(t, str) for t in allowed):
            raise _error(f"{path}.teams", _("a list of team codes is expected"))
    return definition


def _validate_action(path, action, codes, teams):
    if not isinstance(action, dict) or action.get("type") not in ACTION_TYPES:
        raise _error(
            f"{path}.type",
            _("one of %(types)s is expected") % {"types": ", ".join(sorted(ACTION_TYPES))},
        )
    kind = action["type"]
    if kind == "notify":
        if action.get("channel", "email") not in ("email", "sms"):
            raise _error(f"{path}.channel", _("“email” or “sms” is expected"))
        if not str(action.get("message", "")).strip():
            raise _error(f"{path}.message", _("a message is needed"))
    elif kind == "assign":
        if not isinstance(action.get("team"), str) or not action["team"]:
            raise _error(f"{path}.team", _("a team code is needed"))
    elif kind == "connector":
        for key in ("connector", "endpoint"):
            if not isinstance(action.get(key), str) or not action[key]:
                raise _error(f"{path}.{key}", _("a code is needed"))
    elif kind == "timeout":
        days, hours = action.get("days"), action.get("hours")
        delay = days if days is not None else hours
        if not isinstance(delay, (int, float)) or delay <= 0:
            raise _error(f"{path}.days", _("a positive number of days (or hours) is needed"))
        if action.get("to") not in codes:
            raise _error(f"{path}.to", _("not a status of this workflow"))
    elif kind == "ask_citizen":
        if not str(action.get("message", "")).strip():
            raise _error(f"{path}.message", _("a message is needed"))
        if action.get("then") not in (None, *codes):
            raise _error(f"{path}.then", _("not a status of this workflow"))


def render_message(template: str, request, url: str) -> str:
    """Fill {code}, {form}, {status}, {url} in an action's message; other braces stay."""
    values = {
        "code": request.code,
        "form": request.form.title,
        "status": request.status_label,
        "url": url,
    }

    class _Keep(dict):
        def __missing__(self, key):
            return "{" + key + "}"

    try:
        return template.format_map(_Keep(values))
    except (ValueError, IndexError):
        return template
