"""Background work of the core, run by the task worker (`manage.py db_worker`)."""

from django.core.mail import send_mail
from django.tasks import task


@task
def send_email(to: list[str], subject: str, body: str) -> int:
    """Send one plain-text e-mail; retried by re-enqueueing if the server is down."""
    return send_mail(subject, body, None, to)
