"""Connectors: configuration (audited, administrators only) and calls.

    from metropole.connectors.services import call_for
    call_for(territory, "logiciel-etat-civil", "acte", {"request": "ABCD-EFGH", ...},
             source="procedures.request:12")

`call_for` finds the connector configured for the territory (or its metropole), checks the
endpoint exists and its declared parameters are present, records a `ConnectorCall` and
queues it; the task POSTs (or PUTs/GETs) JSON to base_url + path with an HMAC signature
(see signing.py). Network errors, 5xx and 429 are retried after 30 s, 2 min, 8 min, ... up to
the connector's `max_attempts`; a 4xx fails at once. Every attempt's outcome is in the log.
"""

import json
import time
import urllib.error
import urllib.request
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from metropole.core.exceptions import BadRequest, Conflict
from metropole.core.rules import require_perm
from metropole.core.services import audit

from . import signing
from .models import CallStatus, Connector, ConnectorCall, Kind

METHODS = {"POST", "PUT", "PATCH", "GET", "DELETE"}


def validate_endpoints(endpoints) -> list[dict]:
    if not isinstance(endpoints, list):
        raise BadRequest(_("Invalid endpoints"), _("A list is expected."), field="endpoints")
    names = set()
    for i, endpoint in enumerate(endpoints):
        where = f"endpoints[{i}]"
        if not isinstance(endpoint, dict) or not endpoint.get("name"):
            raise BadRequest(
                _("Invalid endpoints"), _("%(w)s: a name is needed") % {"w": where}, field=where
            )
        if endpoint["name"] in names:
            raise BadRequest(
                _("Invalid endpoints"), _("%(w)s: name used twice") % {"w": where}, field=where
            )
        names.add(endpoint["name"])
        if endpoint.get("method", "POST").upper() not in METHODS:
            raise BadRequest(
                _("Invalid endpoints"),
                _("%(w)s.method: unknown") % {"w": where},
                field=f"{where}.method",
            )
        if not str(endpoint.get("path", "")).startswith("/"):
            raise BadRequest(
                _("Invalid endpoints"),
                _("%(w)s.path: must start with /") % {"w": where},
                field=f"{where}.path",
            )
        parameters = endpoint.get("parameters", {})
        if not isinstance(parameters, dict):
            raise BadRequest(
                _("Invalid endpoints"),
                _("%(w)s.parameters: an object {name: description}") % {"w": where},
                field=f"{where}.parameters",
            )
    return endpoints


@transaction.atomic
def save_connector(
    actor,
    territory,
    *,
    name,
    base_url,
    secret,
    endpoints,
    slug="",
    kind=Kind.REST,
    timeout=10,
    max_attempts=5,
    enabled=True,
) -> Connector:
    require_perm(actor, "connectors.manage", territory)
    validate_endpoints(endpoints)
    slug = slugify(slug or name)[:50]
    if len(secret or "") < 16:
        raise BadRequest(
            _("Secret too short"),
            _("Use a signing secret of 16 characters or more."),
            field="secret",
        )
    connector, created = Connector.objects.update_or_create(
        territory=territory,
        slug=slug,
        defaults=dict(
            name=name,
            base_url=base_url,
            secret=secret,
            endpoints=endpoints,
            kind=kind,
            timeout=timeout,
            max_attempts=max_attempts,
            enabled=enabled,
        ),
    )
    try:
        connector.full_clean()
    except Exception as error:  # noqa: BLE001  (ValidationError -> readable BadRequest)
        from metropole.core.exceptions import from_validation_error

        raise from_validation_error(error) from None
    audit(actor, "connectors.saved", territory, connector, slug=slug, created=created)
    return connector


def connector_for(territory, slug: str) -> Connector | None:
    """The connector `slug` of the territory, else the one of its metropole."""
    found = Connector.objects.filter(territory=territory, slug=slug, enabled=True).first()
    if found is None and territory.metropole_id:
        found = Connector.objects.filter(
            territory_id=territory.metropole_id, slug=slug, enabled=True
        ).first()
    return found


def call_for(territory, slug: str, endpoint: str, payload: dict, *, source: str = "") -> str:
    """Queue a call; return a line for the caller's history (never raises for a missing or
    misconfigured connector: the workflow goes on and the line says what happened)."""
    connector = connector_for(territory, slug)
    if connector is None:
        return _("No connector “%(slug)s” for %(territory)s: nothing sent.") % {
            "slug": slug,
            "territory": territory.display_name,
        }
    try:
        call = queue_call(connector, endpoint, payload, source=source)
    except BadRequest as error:
        return str(error.detail)
    return _("Sent to %(connector)s (%(endpoint)s), call no. %(id)d.") % {
        "connector": connector.name,
        "endpoint": endpoint,
        "id": call.pk,
    }


def queue_call(connector: Connector, endpoint: str, payload: dict, *, source: str = ""):
    declared = connector.endpoint(endpoint)
    if declared is None:
        raise BadRequest(
            _("Unknown endpoint"),
            _("%(connector)s has no endpoint “%(endpoint)s”.")
            % {"connector": connector.name, "endpoint": endpoint},
            field="endpoint",
        )
    missing = [p for p in declared.get("parameters", {}) if p not in payload]
    if missing:
        raise BadRequest(
            _("Missing parameters"),
            _("%(endpoint)s needs: %(names)s.")
            % {"endpoint": endpoint, "names": ", ".join(missing)},
            field="payload",
        )
    call = ConnectorCall.objects.create(
        connector=connector, endpoint=endpoint, payload=payload, source=source[:100]
    )
    from .tasks import perform_call

    perform_call.enqueue(call.pk)
    return call


def _backoff(attempt: int) -> timedelta:
    return timedelta(seconds=30 * 4 ** (attempt - 1))


def perform(call_id: int) -> str:
    """One attempt of a call; the network request runs outside any transaction."""
    claimed = ConnectorCall.objects.filter(
        pk=call_id, status__in=[CallStatus.QUEUED, CallStatus.RETRYING]
    ).update(status=CallStatus.RUNNING, attempts=F("attempts") + 1)
    if not claimed:
        return "skipped"
    call = ConnectorCall.objects.select_related("connector").get(pk=call_id)
    connector = call.connector
    declared = connector.endpoint(call.endpoint) or {}
    method = declared.get("method", "POST").upper()
    body = json.dumps(call.payload, sort_keys=True, ensure_ascii=False).encode()
    timestamp = int(time.time())
    request = urllib.request.Request(
        connector.base_url.rstrip("/") + declared.get("path", "/"),
        data=None if method == "GET" else body,
        method=method,
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Metropole-Connector/1",
            "X-Metropole-Timestamp": str(timestamp),
            "X-Metropole-Signature": signing.sign(connector.secret, timestamp, body),
            "X-Metropole-Call": str(call.pk),
        },
    )
    transient = False
    try:
        with urllib.request.urlopen(request, timeout=connector.timeout) as response:
            call.response_status = response.status
            call.response_body = response.read(4000).decode("utf-8", "replace")
        call.status, call.error = CallStatus.SUCCEEDED, ""
    except urllib.error.HTTPError as error:
        call.response_status = error.code
        call.response_body = error.read(4000).decode("utf-8", "replace")
        call.error = _("HTTP %(status)s") % {"status": error.code}
        transient = error.code >= 500 or error.code == 429
        call.status = CallStatus.FAILED
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        call.error = str(getattr(error, "reason", error))
        transient = True
        call.status = CallStatus.FAILED
    if call.status == CallStatus.FAILED and transient and call.attempts < connector.max_attempts:
        from .tasks import perform_call

        backend = perform_call.get_backend()
        if backend.supports_defer:
            call.status = CallStatus.RETRYING
            call.next_attempt_at = timezone.now() + _backoff(call.attempts)
            perform_call.using(run_after=call.next_attempt_at).enqueue(call.pk)
    if call.status in (CallStatus.SUCCEEDED, CallStatus.FAILED):
        call.finished_at = timezone.now()
        call.next_attempt_at = None
    call.save()
    return call.status


@transaction.atomic
def retry_call(actor, call: ConnectorCall) -> ConnectorCall:
    """An administrator sends a failed call again."""
    require_perm(actor, "connectors.manage", call.connector.territory)
    if call.status != CallStatus.FAILED:
        raise Conflict(_("Not failed"), _("Only a failed call can be sent again."))
    call.status = CallStatus.QUEUED
    call.save(update_fields=["status"])
    from .tasks import perform_call

    perform_call.enqueue(call.pk)
    audit(actor, "connectors.retried", call.connector.territory, call.connector, call=call.pk)
    return call
