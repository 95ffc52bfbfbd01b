"""Telling a reporter that their report moved on: through the notifications module (each
message recorded with its outcome) when installed, else the core's e-mail task."""

from django.apps import apps
from django.utils.translation import gettext as _


def status_changed(report, text: str = "") -> None:
    email = report.reporter.email if report.reporter_id else report.reporter_email
    if not email:
        return
    subject = _("Your report no. %(pk)d: %(status)s") % {
        "pk": report.pk,
        "status": report.get_status_display(),
    }
    body = "\n".join(
        line
        for line in (
            _("Your report “%(category)s” in %(commune)s is now: %(status)s.")
            % {
                "category": report.category.name,
                "commune": report.commune.name,
                "status": report.get_status_display(),
            },
            text,
        )
        if line
    )
    if apps.is_installed("metropole.notifications"):
        from metropole.notifications.services import send_notification

        send_notification(
            channel="email",
            to=email,
            subject=subject,
            body=body,
            source="reports.status",
            territory=report.territory,
            user=report.reporter,
            obj=report,
        )
    else:
        from metropole.core.tasks import send_email

        send_email.enqueue([email], subject, body)
