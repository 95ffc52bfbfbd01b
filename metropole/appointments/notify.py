"""Messages to people about their appointments: through the notifications module
(e-mail and SMS, each recorded with its outcome) when it is installed, else the core's
e-mail task."""

from django.apps import apps


def send(appointment, *, subject: str, body: str, source: str) -> int:
    """Send `body` by e-mail and by SMS to the appointment's contacts; returns how many."""
    sent = 0
    if apps.is_installed("metropole.notifications"):
        from metropole.notifications.services import send_notification

        if appointment.email:
            send_notification(
                channel="email",
                to=appointment.email,
                subject=subject,
                body=body,
                source=source,
                territory=appointment.agenda.territory,
                user=appointment.user,
                obj=appointment,
            )
            sent += 1
        if appointment.phone:
            send_notification(
                channel="sms",
                to=appointment.phone,
                body=body[:600],
                source=source,
                territory=appointment.agenda.territory,
                user=appointment.user,
                obj=appointment,
            )
            sent += 1
        return sent
    if appointment.email:
        from metropole.core.tasks import send_email

        send_email.enqueue([appointment.email], subject, body)
        sent += 1
    return sent


def send_to_address(email: str, *, subject: str, body: str, source: str, territory=None) -> None:
    if apps.is_installed("metropole.notifications"):
        from metropole.notifications.services import send_notification

        send_notification(
            channel="email",
            to=email,
            subject=subject,
            body=body,
            source=source,
            territory=territory,
        )
    else:
        from metropole.core.tasks import send_email

        send_email.enqueue([email], subject, body)
