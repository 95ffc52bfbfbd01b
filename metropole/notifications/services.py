"""Notifications: e-mail and SMS to citizens and agents, sent in the background, each one
recorded with its outcome.

API (for every module)
----------------------

    from metropole.notifications.services import send_notification

    notification = send_notification(
        channel="email",                  # or "sms" (Channel.EMAIL / Channel.SMS)
        to="someone@example.org",         # an e-mail address, or a phone number for "sms"
        subject="Votre rendez-vous",      # e-mail only (ignored for SMS)
        body="Bonjour, ...",              # plain text
        source="appointments.reminder",   # "<module>.<use case>", for the log and statistics
        territory=commune,                # optional: whose message (reply-to, log scope)
        user=person,                      # optional: the recipient's account (RGPD export/erasure)
        obj=appointment,                  # optional: what the message is about
    )

- The message is validated (address or phone number, non-empty text; SMS at most
  `SMS_MAX_LENGTH` characters) and recorded as a `Notification` with status "queued"; a
  bad one raises `BadRequest` naming the field ("to", "body") and nothing is recorded.
- Delivery runs in the task `metropole.notifications.tasks.deliver` (Django tasks API). With
  the database task backend the task row is written in the caller's transaction, so if the
  caller's transaction rolls back, nothing is sent. A transient failure (SMTP server or
  gateway unreachable, 5xx) is retried with backoff up to METROPOLE_NOTIFICATION_MAX_ATTEMPTS
  when the task backend can defer; then the status becomes "failed" with the error kept.
- `send_to_person(user, body, ...)` sends to a person's account address.
- `notifications_about(obj)` (in queries.py) lists what was sent about an object.
- E-mail goes through Django's mailer (SMTP in production). SMS goes through
  METROPOLE_SMS_BACKEND (see sms.py): a file backend for development, a generic HTTP gateway.

No permission check: sending is a consequence of a use case the caller already checked.
"""

import smtplib
from datetime import timedelta
from email.utils import make_msgid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.mail.utils import DNS_NAME
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from metropole.core.conf import setting
from metropole.core.exceptions import BadRequest

from . import sms
from .models import Channel, Notification, Status

# Four concatenated SMS segments; longer texts belong in an e-mail.
SMS_MAX_LENGTH = 640


def _validated_recipient(channel: str, to: str) -> str:
    to = (to or "").strip()
    if channel == Channel.EMAIL:
        try:
            validate_email(to)
        except ValidationError:
            raise BadRequest(
                _("Invalid e-mail address"),
                _("“%(to)s” is not an e-mail address.") % {"to": to},
                field="to",
            ) from None
        return to
    if channel == Channel.SMS:
        phone = sms.normalise_phone(to)
        if phone is None:
            raise BadRequest(
                _("Invalid phone number"),
                _("“%(to)s” is not a phone number (e.g. 06 12 34 56 78 or +33 6 12 34 56 78).")
                % {"to": to},
                field="to",
            )
        return phone
    raise BadRequest(
        _("Unknown channel"),
        _("“%(channel)s” is not a channel: use e-mail or SMS.") % {"channel": channel},
        field="channel",
    )


@transaction.atomic
def send_notification(
    *,
    channel: str,
    to: str,
    body: str,
    source: str,
    subject: str = "",
    territory=None,
    user=None,
    obj=None,
) -> Notification:
    """Record a message and queue its delivery; returns the queued Notification."""
    recipient = _validated_recipient(channel, to)
    body = (body or "").strip()
    if not body:
        raise BadRequest(_("Empty message"), _("The message has no text."), field="body")
    if channel == Channel.SMS and len(body) > SMS_MAX_LENGTH:
        raise BadRequest(
            _("Message too long"),
            _("An SMS holds at most %(max)d characters; this one has %(length)d.")
            % {"max": SMS_MAX_LENGTH, "length": len(body)},
            field="body",
        )
    notification = Notification.objects.create(
        territory=territory,
        user=user,
        channel=channel,
        recipient=recipient,
        subject=(subject or "")[:200] if channel == Channel.EMAIL else "",
        body=body,
        source=source[:64],
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
    )
    from .tasks import deliver

    deliver.enqueue(notification.pk)
    return notification


def send_to_person(user, *, body: str, source: str, subject: str = "", **kwargs) -> Notification:
    """E-mail a person at their account's address."""
    return send_notification(
        channel=Channel.EMAIL,
        to=user.email,
        subject=subject,
        body=body,
        source=source,
        user=user,
        **kwargs,
    )


def _send_email(notification: Notification) -> str:
    territory = notification.territory
    from_email = settings.DEFAULT_FROM_EMAIL
    reply_to = []
    if territory is not None and territory.contact_email:
        reply_to = [territory.contact_email]
    message = EmailMessage(
        subject=notification.subject
        or _("Message from %(name)s")
        % {"name": territory.display_name if territory else "Métropole"},
        body=notification.body,
        from_email=from_email,
        to=[notification.recipient],
        reply_to=reply_to,
        headers={"Auto-Submitted": "auto-generated", "Message-ID": make_msgid(domain=DNS_NAME)},
    )
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as error:
        raise sms.DeliveryError(
            _("The mail server refused the address: %(error)s") % {"error": error}
        ) from None
    except (smtplib.SMTPException, OSError) as error:
        raise sms.DeliveryError(
            _("The mail server could not take the message: %(error)s") % {"error": error},
            transient=True,
        ) from None
    return message.extra_headers.get("Message-ID", "")


def _retry_delay(attempt: int) -> timedelta:
    return timedelta(seconds=60 * 4 ** (attempt - 1))  # 1 min, 4 min, 16 min, ...


def deliver(notification_id: int) -> str:
    """Send one queued notification and record the outcome (run by the task).

    The row is claimed first (queued -> sending, in one UPDATE), so two workers never
    send the same message; the network call runs outside any transaction, so a slow
    gateway holds no database lock.
    """
    claimed = Notification.objects.filter(pk=notification_id, status=Status.QUEUED).update(
        status=Status.SENDING, attempts=F("attempts") + 1
    )
    if not claimed:  # already sent, failed, being sent or anonymised: nothing to do
        return "skipped"
    notification = Notification.objects.select_related("territory").get(pk=notification_id)
    try:
        if notification.channel == Channel.EMAIL:
            reference = _send_email(notification)
        else:
            reference = sms.get_backend().send(notification.recipient, notification.body)
    except sms.DeliveryError as error:
        notification.error = str(error)
        retry = error.transient and notification.attempts < int(
            setting("METROPOLE_NOTIFICATION_MAX_ATTEMPTS", 3)
        )
        if retry and _can_defer():
            notification.status = Status.QUEUED
            notification.save(update_fields=["error", "status"])
            from .tasks import deliver as deliver_task

            run_after = timezone.now() + _retry_delay(notification.attempts)
            deliver_task.using(run_after=run_after).enqueue(notification.pk)
            return "retry"
        notification.status = Status.FAILED
        notification.save(update_fields=["error", "status"])
        return "failed"
    notification.status = Status.SENT
    notification.sent_at = timezone.now()
    notification.error = ""
    notification.gateway_reference = (reference or "")[:200]
    notification.save(update_fields=["error", "status", "sent_at", "gateway_reference"])
    return "sent"


def _can_defer() -> bool:
    from .tasks import deliver as deliver_task

    return deliver_task.get_backend().supports_defer


@transaction.atomic
def erase_person(user) -> int:
    """RGPD: blank the address and text of every message sent to a person."""
    return Notification.objects.filter(user=user).update(
        recipient="", subject="", body="", user=None, anonymised_at=timezone.now()
    )


@transaction.atomic
def anonymise_about(object_type: str, object_ids) -> int:
    """RGPD: blank the messages sent about some objects (used by retention periods)."""
    return Notification.objects.filter(
        object_type=object_type, object_id__in=[str(i) for i in object_ids]
    ).update(recipient="", subject="", body="", user=None, anonymised_at=timezone.now())
