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
- A status may have a `public_label` (what the citizen reads; `label` otherwise) and a
  `colour` (one of COLOURS: the badge shown to agents and the box of the diagram).
- A transition may carry its own `actions`, run when an agent takes it (before the actions
  of the status it leads to); every type but `timeout`, which belongs to a status.
- Actions run when a request enters the status, in order:
  `notify` (channel "email" or "sms"; `message` and `subject` may use {code}, {form},
  {status}, {url}), `assign` (to a team), `connector` (calls an endpoint of a connector
  configured for the territory, in the background), `timeout` (after `days` — or `hours` —
  without change, the request moves to status `to`), `ask_citizen` (asks the citizen for more
  information; their answer moves the request to `then` if given), `route` (the request
  is handed to `to`: "commune" — the commune of its address —, "owner" — the territory
  that publishes the form — or "metropole"; its team and agent are cleared).

`validate_definition` refuses a malformed definition (nothing stored); `problems` lists what
a well-formed definition still gets wrong for a territory (a status no request can reach, a
status with no way out, a team or connector that does not exist), naming the status or the
transition: the back-office shows them and a procedure using the workflow cannot be
published while one is left.
"""

from django.utils.translation import gettext as _

from metropole.core.exceptions import BadRequest

ACTION_TYPES = {"notify", "assign", "connector", "timeout", "ask_citizen", "route"}
# Actions a transition may carry (a timeout starts when a request enters a status).
TRANSITION_ACTION_TYPES = ACTION_TYPES - {"timeout"}
ROUTE_TARGETS = ("commune", "owner", "metropole")
# Status colours: the core's badge variants.
COLOURS = ("neutral", "info", "success", "warning", "danger")


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
        if not isinstance(status.get("public_label", ""), str):
            raise _error(f"{path}.public_label", _("a text is expected"))
        if status.get("colour", "neutral") not in COLOURS:
            raise _error(
                f"{path}.colour",
                _("one of %(colours)s is expected") % {"colours": ", ".join(COLOURS)},
            )
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
        actions = transition.get("actions", [])
        if not isinstance(actions, list):
            raise _error(f"{path}.actions", _("a list is expected"))
        for j, action in enumerate(actions):
            if isinstance(action, dict) and action.get("type") == "timeout":
                raise _error(
                    f"{path}.actions[{j}].type",
                    _("a time limit belongs to a status, not to a transition"),
                )
            _validate_action(f"{path}.actions[{j}]", action, codes, teams)
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
        if action.get("then") not in (None, "", *codes):
            raise _error(f"{path}.then", _("not a status of this workflow"))
    elif kind == "route" and action.get("to") not in ROUTE_TARGETS:
        raise _error(
            f"{path}.to",
            _("one of %(targets)s is expected") % {"targets": ", ".join(ROUTE_TARGETS)},
        )


# --- what a well-formed definition still gets wrong ----------------------------------------


def status_name(definition: dict, code: str) -> str:
    for status in definition.get("statuses", []):
        if status["code"] == code:
            return status["label"]
    return code


def transition_name(definition: dict, index: int) -> str:
    transition = definition["transitions"][index]
    start = (
        _("any open status")
        if transition["from"] == "*"
        else status_name(definition, transition["from"])
    )
    return _("“%(label)s” (%(from)s → %(to)s)") % {
        "label": transition["label"],
        "from": start,
        "to": status_name(definition, transition["to"]),
    }


def reachable(definition: dict) -> set[str]:
    """Statuses a submitted request can get to: from the first, along transitions, time
    limits and answers to requests for information."""
    statuses = {s["code"]: s for s in definition["statuses"]}
    transitions = definition.get("transitions", [])
    seen = {definition["statuses"][0]["code"]}
    changed = True
    while changed:
        changed = False
        for code in list(seen):
            status = statuses[code]
            targets = [
                t["to"]
                for t in transitions
                if t["from"] == code or (t["from"] == "*" and not status.get("final"))
            ]
            for action in status.get("actions", []):
                if action["type"] == "timeout":
                    targets.append(action["to"])
                elif action["type"] == "ask_citizen" and action.get("then"):
                    targets.append(action["then"])
            for target in targets:
                if target not in seen:
                    seen.add(target)
                    changed = True
    return seen


def _scope(territory):
    """Where a workflow of `territory` finds teams and connectors: the territory, its
    communes (a metropole's workflow routed to them) and its metropole."""
    from django.db.models import Q

    scope = Q(territory=territory) | Q(territory__metropole=territory)
    if territory.metropole_id:
        scope |= Q(territory_id=territory.metropole_id)
    return scope


def team_choices(territory) -> list[tuple[str, str]]:
    """(code, name) of the teams a workflow of `territory` may name, one per code."""
    from .models import Team

    found: dict[str, str] = {}
    for slug, name in Team.objects.filter(_scope(territory)).values_list("slug", "name"):
        found.setdefault(slug, name)
    return sorted(found.items(), key=lambda item: item[1].lower())


def _known_teams(territory) -> set[str]:
    return {slug for slug, _name in team_choices(territory)}


def _connectors(territory):
    from metropole.connectors.models import Connector

    return Connector.objects.filter(_scope(territory)).order_by("name")


def endpoint_choices(territory) -> list[tuple[str, str]]:
    """("<connector>:<endpoint>", words) of the endpoints a workflow may call."""
    found = {}
    for connector in _connectors(territory):
        for endpoint in connector.endpoints or []:
            value = f"{connector.slug}:{endpoint.get('name')}"
            words = f"{connector.name} — {endpoint.get('name')}"
            if endpoint.get("description"):
                words += f" ({endpoint['description']})"
            found.setdefault(value, words)
    return list(found.items())


def _known_connectors(territory) -> dict[str, set[str]]:
    """Connector code -> its endpoints' names (a commune without its own connector uses the
    metropole's)."""
    known: dict[str, set[str]] = {}
    for connector in _connectors(territory):
        known.setdefault(connector.slug, set()).update(
            e.get("name") for e in connector.endpoints or []
        )
    return known


def problems(definition: dict, territory) -> list[dict]:
    """What keeps a valid definition from working for `territory`: [{"where", "anchor",
    "message", "blocking"}] — `where` names the status or transition, `anchor` is
    "status-<code>" or "transition-<n>" (the back-office links to it). Blocking problems stop
    a procedure using the workflow from being published; the others are warnings."""
    found = []
    statuses = definition["statuses"]
    transitions = definition.get("transitions", [])

    def add(where, anchor, message, blocking=True):
        found.append(
            {"where": where, "anchor": anchor, "message": str(message), "blocking": blocking}
        )

    reach = reachable(definition)
    for status in statuses:
        where = _("Status “%(label)s”") % {"label": status["label"]}
        anchor = f"status-{status['code']}"
        if status["code"] not in reach:
            add(where, anchor, _("no request can reach it: add a transition that leads to it"))
        if not status.get("final"):
            exits = [
                t
                for t in transitions
                if t["from"] in (status["code"], "*") and t["to"] != status["code"]
            ]
            waits = [
                a
                for a in status.get("actions", [])
                if a["type"] == "timeout" or (a["type"] == "ask_citizen" and a.get("then"))
            ]
            if not exits and not waits:
                add(
                    where,
                    anchor,
                    _("requests would stay in it for ever: add a way out, or mark it final"),
                )
    if not any(s.get("final") for s in statuses):
        add(_("Workflow"), "statuses", _("no status closes a request: mark at least one final"))
    teams = _known_teams(territory)
    connectors = None
    places = [
        (
            _("Status “%(label)s”") % {"label": s["label"]},
            f"status-{s['code']}",
            s.get("actions", []),
        )
        for s in statuses
    ] + [
        (
            _("Transition %(name)s") % {"name": transition_name(definition, i)},
            f"transition-{i}",
            t.get("actions", []),
        )
        for i, t in enumerate(transitions)
    ]
    for i, transition in enumerate(transitions):
        for team in transition.get("teams", []):
            if team not in teams:
                add(
                    _("Transition %(name)s") % {"name": transition_name(definition, i)},
                    f"transition-{i}",
                    _("no team has the code “%(team)s”: create it or choose another")
                    % {"team": team},
                )
    for where, anchor, actions in places:
        for action in actions:
            if action["type"] == "assign" and action["team"] not in teams:
                add(
                    where,
                    anchor,
                    _("no team has the code “%(team)s”: create it or choose another")
                    % {"team": action["team"]},
                )
            elif action["type"] == "connector":
                if connectors is None:
                    connectors = _known_connectors(territory)
                if action["connector"] not in connectors:
                    add(
                        where,
                        anchor,
                        _("no connector “%(connector)s” is configured: nothing will be sent")
                        % {"connector": action["connector"]},
                        blocking=False,
                    )
                elif action["endpoint"] not in connectors[action["connector"]]:
                    add(
                        where,
                        anchor,
                        _("the connector “%(connector)s” has no endpoint “%(endpoint)s”")
                        % {"connector": action["connector"], "endpoint": action["endpoint"]},
                        blocking=False,
                    )
    return found


def describe_action(action: dict, definition: dict) -> str:
    """An action in plain words, for the back-office and the diagram's text alternative."""
    kind = action["type"]
    if kind == "notify":
        what = _("SMS") if action.get("channel") == "sms" else _("e-mail")
        return _("Send an %(what)s to the citizen: “%(message)s”") % {
            "what": what,
            "message": action.get("message", ""),
        }
    if kind == "assign":
        return _("Give it to the team “%(team)s”") % {"team": action["team"]}
    if kind == "connector":
        return _("Call the connector “%(connector)s” (%(endpoint)s)") % {
            "connector": action["connector"],
            "endpoint": action["endpoint"],
        }
    if kind == "timeout":
        if action.get("days") is not None:
            delay = _("%(n)s day(s)") % {"n": action["days"]}
        else:
            delay = _("%(n)s hour(s)") % {"n": action["hours"]}
        return _("Without change after %(delay)s, go to “%(status)s”") % {
            "delay": delay,
            "status": status_name(definition, action["to"]),
        }
    if kind == "ask_citizen":
        text = _("Ask the citizen: “%(message)s”") % {"message": action.get("message", "")}
        if action.get("then"):
            text += " " + _("(their answer moves it to “%(status)s”)") % {
                "status": status_name(definition, action["then"])
            }
        return text
    if kind == "route":
        return {
            "commune": _("Hand it to the commune of the address"),
            "owner": _("Hand it to the territory that publishes the procedure"),
            "metropole": _("Hand it to the metropole"),
        }[action["to"]]
    return kind


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
