"""Settings of the reports module, read from Django settings or the environment."""

import os

from django.conf import settings


def _setting(name: str, default):
    if hasattr(settings, name):
        return getattr(settings, name)
    raw = os.environ.get(f"METROPOLE_{name}")
    if raw is None:
        return default
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    return type(default)(raw)


def photo_max_bytes() -> int:
    return _setting("REPORTS_PHOTO_MAX_BYTES", 8 * 1024 * 1024)


def photo_max_side() -> int:
    return _setting("REPORTS_PHOTO_MAX_SIDE", 2048)


def reopen_days() -> int:
    """How long after a fix or a closure the reporter may reopen the report."""
    return _setting("REPORTS_REOPEN_DAYS", 30)


def nearby_metres() -> int:
    """Radius in which open reports of the same category are shown before a new one."""
    return _setting("REPORTS_NEARBY_METRES", 150)


def open311_anonymous() -> bool:
    """Whether Open311 clients may post without an api_key (the core's API tokens)."""
    return _setting("OPEN311_ALLOW_ANONYMOUS", False)
