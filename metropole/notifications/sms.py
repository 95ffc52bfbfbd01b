"""SMS gateways, chosen with METROPOLE_SMS_BACKEND.

A backend is a class with `send(to: str, text: str) -> str` returning the gateway's
reference for the message, and raising `DeliveryError` when the message was not accepted.
Two ship with the platform:

- `FileBackend` (development, demo): appends each message to a file (METROPOLE_SMS_FILE,
  default `<VAR_DIR>/sms.log`) and logs it, so nothing leaves the machine;
- `HttpGatewayBackend` (production): POSTs `{"to", "text", "sender"}` as JSON to
  METROPOLE_SMS_HTTP_URL with `Authorization: Bearer METROPOLE_SMS_HTTP_TOKEN`; any 2xx
  answer means accepted, and an `id` in a JSON answer is kept as the reference. Most
  commercial SMS gateways accept such a request, or one small subclass adapts it.
"""

import json
import logging
import re
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from metropole.core.conf import setting

logger = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A message was not accepted. `transient` errors (network, 5xx, 429) are worth a retry."""

    def __init__(self, message: str, *, transient: bool = False):
        super().__init__(message)
        self.transient = transient


_SEPARATORS = re.compile(r"[\s.\-()/]")


def normalise_phone(number: str) -> str | None:
    """A phone number in E.164 form (+33612345678), or None if it cannot be one.

    French national numbers (10 digits starting with 0) get +33; numbers written
    with 00 or + keep their country code.
    """
    digits = _SEPARATORS.sub("", number or "")
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if re.fullmatch(r"0[1-9]\d{8}", digits):
        return "+33" + digits[1:]
    if re.fullmatch(r"\+[1-9]\d{7,14}", digits):
        return digits
    return None


class FileBackend:
    """Writes messages to a file: for development and the demo."""

    def __init__(self):
        configured = setting("METROPOLE_SMS_FILE", "")
        self.path = Path(configured) if configured else Path(settings.VAR_DIR) / "sms.log"

    def send(self, to: str, text: str) -> str:
        reference = uuid.uuid4().hex
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as stream:
            stream.write(f"{timezone.now().isoformat()} {reference} to {to}\n{text}\n{'-' * 40}\n")
        logger.info("SMS to %s written to %s", to, self.path)
        return reference


class HttpGatewayBackend:
    """Posts each message as JSON to a generic HTTP SMS gateway."""

    def __init__(self):
        self.url = setting("METROPOLE_SMS_HTTP_URL", "")
        self.token = setting("METROPOLE_SMS_HTTP_TOKEN", "")
        self.sender = setting("METROPOLE_SMS_SENDER", "Metropole")
        self.timeout = float(setting("METROPOLE_SMS_HTTP_TIMEOUT", 10.0))
        if not self.url:
            raise DeliveryError(_("METROPOLE_SMS_HTTP_URL is not set: no SMS gateway to send to."))

    def send(self, to: str, text: str) -> str:
        body = json.dumps({"to": to, "text": text, "sender": self.sender}).encode()
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = response.read(65536)
        except urllib.error.HTTPError as error:
            detail = error.read(500).decode("utf-8", "replace")
            raise DeliveryError(
                _("The SMS gateway answered %(status)s: %(detail)s")
                % {"status": error.code, "detail": detail},
                transient=error.code >= 500 or error.code == 429,
            ) from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise DeliveryError(
                _("The SMS gateway could not be reached: %(reason)s") % {"reason": reason},
                transient=True,
            ) from None
        try:
            return str(json.loads(answer).get("id", ""))[:200]
        except (ValueError, AttributeError):
            return ""


def get_backend():
    return import_string(
        setting("METROPOLE_SMS_BACKEND", "metropole.notifications.sms.FileBackend")
    )()
