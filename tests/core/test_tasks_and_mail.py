"""Background e-mail through the persistent task backend and the worker command, and the
readable console backend of the local demo."""

import io

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.core.management import call_command

from metropole.core import tasks
from metropole.core.mail import ReadableConsoleBackend

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.mark.django_db(transaction=True)
def test_queued_email_is_sent_by_the_worker(settings, restore_lille):
    settings.TASKS = DATABASE_TASKS  # Django resets its task backends on this change
    result = tasks.send_email.enqueue(
        to=["someone@example.org"], subject="Hello", body="A link: http://x/y=z"
    )
    assert not mail.outbox  # queued, not sent
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*")
    result.refresh()
    assert result.status == "SUCCESSFUL"
    assert [m.to for m in mail.outbox] == [["someone@example.org"]]


@pytest.fixture
def restore_lille(django_db_blocker):
    """This transactional test flushes the database: put the session's territories back."""
    yield
    from tests.conftest import load_session_territories

    with django_db_blocker.unblock():
        load_session_territories()


def test_demo_console_backend_prints_links_as_they_are():
    stream = io.StringIO()
    backend = ReadableConsoleBackend(stream=stream)
    long_link = "http://127.0.0.1:8000/compte/verifier/" + "a" * 80 + "=:b/"
    backend.send_messages([EmailMessage("Confirmez", f"Lien : {long_link}", to=["x@example.org"])])
    output = stream.getvalue()
    assert long_link in output and "Subject: Confirmez" in output


def test_a_record_of_django_is_printed_by_one_console_handler():
    """The worker's log printed each task's state twice: Django's default config gives the
    "django" logger its own console handler, and records also propagate to the root's."""
    import logging

    consoles, logger = [], logging.getLogger("django.tasks")
    while logger is not None:
        consoles += [h for h in logger.handlers if type(h) is logging.StreamHandler]
        logger = logger.parent if logger.propagate else None
    assert len(consoles) == 1
