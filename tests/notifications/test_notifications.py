"""Notifications: e-mail through a real SMTP server, SMS through the file backend and a real
HTTP gateway, outcomes recorded, retries, bad input refused, RGPD erasure, the log page."""

import socket

import pytest
from django.core.management import call_command

from metropole.core.exceptions import BadRequest
from metropole.core.models import Role
from metropole.notifications import services, sms
from metropole.notifications.models import Notification, Status

pytestmark = pytest.mark.django_db


def test_email_goes_through_smtp_and_is_recorded_as_sent(smtp_server, lille, make_user):
    person = make_user("citoyen@example.org")
    lille.contact_email = "contact@lillemetropole.fr"
    lille.save()
    n = services.send_notification(
        channel="email",
        to="citoyen@example.org",
        subject="Votre demande",
        body="Bonjour,\nvotre demande est enregistrée.",
        source="tests.email",
        territory=lille,
        user=person,
        obj=person,
    )
    n.refresh_from_db()
    assert n.status == Status.SENT and n.attempts == 1 and n.sent_at and not n.error
    [message] = smtp_server.messages
    assert message["To"] == "citoyen@example.org"
    assert message["Subject"] == "Votre demande"
    assert message["Reply-To"] == "contact@lillemetropole.fr"
    assert message["Message-ID"] == n.gateway_reference
    assert "votre demande est enregistrée" in message.get_content()
    assert n.object_type == "core.user" and n.object_id == str(person.pk)


def test_refused_address_is_recorded_as_failed_with_the_error(smtp_server):
    smtp_server.refuse.add("nobody@example.org")
    n = services.send_notification(
        channel="email", to="nobody@example.org", body="x", source="tests.email"
    )
    n.refresh_from_db()
    assert n.status == Status.FAILED
    assert "refused" in n.error and "550" in n.error
    assert not smtp_server.messages


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_smtp_server_fails_after_the_attempts(settings):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": _closed_port(), "timeout": 2},
        }
    }
    n = services.send_notification(channel="email", to="a@example.org", body="x", source="t")
    n.refresh_from_db()
    # The immediate task backend cannot defer a retry: the failure is recorded at once.
    assert n.status == Status.FAILED and "could not take the message" in n.error


def test_sms_file_backend_writes_the_message(settings, tmp_path):
    settings.METROPOLE_SMS_BACKEND = "metropole.notifications.sms.FileBackend"
    settings.METROPOLE_SMS_FILE = str(tmp_path / "sms.log")
    n = services.send_notification(
        channel="sms", to="06 12 34 56 78", body="Rappel : rendez-vous demain 9h", source="t"
    )
    n.refresh_from_db()
    assert n.status == Status.SENT and n.recipient == "+33612345678"
    written = (tmp_path / "sms.log").read_text()
    assert "+33612345678" in written and "Rappel : rendez-vous demain 9h" in written
    assert n.gateway_reference in written


def test_sms_http_gateway_receives_json_with_the_token(sms_gateway):
    n = services.send_notification(
        channel="sms", to="+32 470 12 34 56", body="Votre code : 1234", source="t"
    )
    n.refresh_from_db()
    assert n.status == Status.SENT and n.gateway_reference == "msg-1"
    [request] = sms_gateway.received
    assert request["json"] == {
        "to": "+32470123456",
        "text": "Votre code : 1234",
        "sender": "Metropole",
    }
    assert request["headers"]["Authorization"] == "Bearer secret-token"


def test_sms_gateway_refusal_is_recorded(sms_gateway):
    sms_gateway.answers.append((400, {"error": "invalid number"}))
    n = services.send_notification(channel="sms", to="0612345678", body="x", source="t")
    n.refresh_from_db()
    assert n.status == Status.FAILED
    assert "400" in n.error and "invalid number" in n.error


def test_transient_failure_is_retried_by_the_worker(settings, sms_gateway):
    """With a task backend that defers (the database one), a 503 is retried later."""
    from django.tasks import task_backends

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    sms_gateway.answers.append((503, {"error": "busy"}))
    n = services.send_notification(channel="sms", to="0612345678", body="x", source="t")
    backend = task_backends["default"]
    [first] = backend.results
    assert services.deliver(n.pk) == "retry"
    n.refresh_from_db()
    assert n.status == Status.QUEUED and n.attempts == 1 and "503" in n.error
    retry = backend.results[-1]
    assert retry.task.run_after is not None and retry.args == [n.pk]
    assert services.deliver(n.pk) == "sent"  # the worker runs it again
    n.refresh_from_db()
    assert n.status == Status.SENT and n.attempts == 2 and not n.error
    assert first.args == [n.pk]
    assert services.deliver(n.pk) == "skipped"  # a duplicate task sends nothing twice
    assert len(sms_gateway.received) == 2


@pytest.mark.parametrize(
    "channel,to,body,field",
    [
        ("email", "not-an-address", "x", "to"),
        ("sms", "12", "x", "to"),
        ("sms", "0612345678", "   ", "body"),
        ("sms", "0612345678", "x" * 641, "body"),
        ("fax", "0612345678", "x", "channel"),
    ],
)
def test_bad_input_is_refused_and_nothing_recorded(channel, to, body, field):
    with pytest.raises(BadRequest) as error:
        services.send_notification(channel=channel, to=to, body=body, source="t")
    assert error.value.field == field
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("06 12 34 56 78", "+33612345678"),
        ("06.12.34.56.78", "+33612345678"),
        ("0033 6 12 34 56 78", "+33612345678"),
        ("+33 (0)6", None),
        ("01-23-45-67-89", "+33123456789"),
        ("0012", None),
        ("", None),
    ],
)
def test_phone_numbers_are_normalised(raw, expected):
    assert sms.normalise_phone(raw) == expected


def test_account_deletion_erases_messages(smtp_server, make_user):
    from metropole.core.services import delete_account, export_personal_data

    person = make_user("p@example.org")
    services.send_to_person(person, subject="S", body="Secret", source="t")
    assert export_personal_data(person)["notifications"][0]["body"] == "Secret"
    delete_account(person)
    n = Notification.objects.get()
    assert n.user is None and n.recipient == "" and n.body == "" and n.anonymised_at


def test_log_page_is_for_staff_only(client, lille, commune, make_member, smtp_server):
    roubaix = commune("59512")
    services.send_notification(
        channel="email", to="a@example.org", subject="Lille", body="x", source="t", territory=lille
    )
    services.send_notification(
        channel="email",
        to="b@example.org",
        subject="Roubaix",
        body="y",
        source="t",
        territory=roubaix,
    )
    agent = make_member("agent@roubaix.fr", roubaix, Role.AGENT)
    citizen = make_member("c@example.org", roubaix, Role.CITIZEN)
    url = f"/notifications/{roubaix.slug}/journal/"
    client.force_login(citizen)
    assert client.get(url).status_code == 403
    client.force_login(agent)
    page = client.get(url).content.decode()
    assert "b@example.org" in page and "a@example.org" not in page
    # The metropole's staff sees its communes' messages too.
    client.force_login(make_member("m@lille.fr", lille, Role.AGENT))
    page = client.get(f"/notifications/{lille.slug}/journal/?status=sent").content.decode()
    assert "a@example.org" in page and "b@example.org" in page


@pytest.fixture
def restore_territories(django_db_blocker):
    """A transactional test flushes the database: put the session's territories back."""
    yield
    from tests.conftest import load_session_territories

    with django_db_blocker.unblock():
        load_session_territories()


@pytest.mark.django_db(transaction=True)
def test_worker_command_sends_a_queued_email(settings, smtp_server, restore_territories):
    """The persistent task backend: queued by the request, sent by the worker."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    n = services.send_notification(channel="email", to="w@example.org", body="x", source="t")
    n.refresh_from_db()
    assert n.status == Status.QUEUED and not smtp_server.messages
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*")
    n.refresh_from_db()
    assert n.status == Status.SENT and len(smtp_server.messages) == 1
