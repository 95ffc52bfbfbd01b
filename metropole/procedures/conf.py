"""Settings of the procedures module (Django settings first, then the environment)."""

import os

from django.conf import settings


def _get(name: str, default: str) -> str:
    return str(getattr(settings, name, os.environ.get(name, default)))


def base_url() -> str:
    """Public address of the portal, for links in messages sent by background tasks."""
    return _get("METROPOLE_BASE_URL", "http://127.0.0.1:8000")


def link_max_age() -> int:
    """How long links e-mailed to citizens work (seconds; 90 days)."""
    return int(_get("PROCEDURES_LINK_MAX_AGE", str(90 * 24 * 3600)))
