"""Background exports (Django tasks API): a large export is written to a file under
METROPOLE_VAR_DIR and ends with a signed download link."""

from __future__ import annotations

import logging
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.tasks import task
from django.utils import timezone

from metropole.core.exceptions import PlatformError

from . import exports
from .parse import from_json, from_params

log = logging.getLogger(__name__)


@task
def run_export(
    token: str,
    user_id: int | None,
    resource_id: str,
    fmt: str,
    params: dict | None = None,
    body: dict | None = None,
) -> dict:
    """Write one export to its file; its status file says queued → running → done/failed."""
    from metropole.datahub import queries

    started = timezone.now().isoformat()
    exports.write_status(token, state="running", fmt=fmt, resource=resource_id, started=started)
    try:
        user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
        spec = queries.table_spec_for(user or AnonymousUser(), resource_id)
        query = from_params(params) if params is not None else from_json(body or {})
        size = exports.write_file(spec, query, fmt, token)
    except PlatformError as exc:
        exports.write_status(
            token, state="failed", fmt=fmt, resource=resource_id, error=str(exc.detail or exc.title)
        )
        return {"state": "failed"}
    except Exception:
        log.exception("export %s failed", token)
        exports.write_status(
            token, state="failed", fmt=fmt, resource=resource_id, error="internal error"
        )
        raise
    exports.write_status(
        token,
        state="done",
        fmt=fmt,
        resource=resource_id,
        size=size,
        started=started,
        finished=timezone.now().isoformat(),
    )
    exports.remove_expired()
    return {"state": "done", "size": size}


def start_export(user, resource_id: str, fmt: str, params: dict | None = None) -> str:
    """Queue the background export of `resource_id` (query `params`) for `user`; returns
    the export's token, to follow with ``exports.export_status``."""
    token = secrets.token_urlsafe(18)
    exports.write_status(token, state="queued", fmt=fmt, resource=resource_id)
    run_export.enqueue(
        token=token,
        user_id=user.pk if user.is_authenticated else None,
        resource_id=resource_id,
        fmt=fmt,
        params=params,
    )
    return token
