"""Settings of the notification layer: Django settings first, then environment variables.

| Name | Default | Meaning |
|---|---|---|
| METROPOLE_SMS_BACKEND | `metropole.notifications.sms.FileBackend` | class sending SMS |
| METROPOLE_SMS_FILE | `<VAR_DIR>/sms.log` | where the file backend appends messages |
| METROPOLE_SMS_HTTP_URL | (none) | the HTTP gateway's endpoint (POST, JSON) |
| METROPOLE_SMS_HTTP_TOKEN | (none) | sent as `Authorization: Bearer <token>` |
| METROPOLE_SMS_SENDER | `Metropole` | sender name shown on phones (11 characters max) |
| METROPOLE_NOTIFICATION_MAX_ATTEMPTS | `3` | attempts before a message is recorded as failed |
"""

import os

from django.conf import settings

DEFAULTS = {
    "METROPOLE_SMS_BACKEND": "metropole.notifications.sms.FileBackend",
    "METROPOLE_SMS_FILE": "",
    "METROPOLE_SMS_HTTP_URL": "",
    "METROPOLE_SMS_HTTP_TOKEN": "",
    "METROPOLE_SMS_SENDER": "Metropole",
    "METROPOLE_SMS_HTTP_TIMEOUT": "10",
    "METROPOLE_NOTIFICATION_MAX_ATTEMPTS": "3",
}


def get(name: str) -> str:
    """A setting: from Django settings if defined there, else the environment, else default."""
    if hasattr(settings, name):
        return getattr(settings, name)
    return os.environ.get(name, DEFAULTS[name])
