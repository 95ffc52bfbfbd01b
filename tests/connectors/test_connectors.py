"""Connectors against a real HTTP server started in the test: signed requests the receiver
verifies, retries with backoff on 5xx, refusals on 4xx, the call log, workflow actions,
configuration rules and the log page."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from metropole.connectors import services, signing
from metropole.connectors.models import CallStatus, Connector, ConnectorCall
from metropole.core.exceptions import BadRequest, PermissionDenied
from metropole.core.models import Role

pytestmark = pytest.mark.django_db

SECRET = "a-long-shared-secret-for-tests"


class Receiver(ThreadingHTTPServer):
    """A business application: checks the signature, answers as told."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received, self.answers = [], []

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/api"


class _Handler(BaseHTTPRequestHandler):
    def _serve(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        valid = signing.verify(
            SECRET,
            self.headers["X-Metropole-Timestamp"],
            body,
            self.headers["X-Metropole-Signature"],
        )
        self.server.received.append(
            {
                "method": self.command,
                "path": self.path,
                "valid": valid,
                "call": self.headers["X-Metropole-Call"],
                "json": json.loads(body) if body else None,
            }
        )
        status = self.server.answers.pop(0) if self.server.answers else (200 if valid else 401)
        payload = json.dumps({"ok": status < 300}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_POST = do_PUT = _serve

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = Receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


ENDPOINTS = [
    {
        "name": "closed",
        "method": "POST",
        "path": "/requests",
        "description": "A request closed",
        "parameters": {"request": "tracking code", "status": "status code"},
    },
    {"name": "update", "method": "PUT", "path": "/requests/update", "parameters": {}},
]


@pytest.fixture
def connector(commune, make_member, receiver):
    territory = commune("59350")
    admin = make_member("admin@mairie-lille.fr", territory, Role.ADMIN)
    return services.save_connector(
        admin,
        territory,
        name="CRM",
        slug="crm",
        base_url=receiver.url,
        secret=SECRET,
        endpoints=ENDPOINTS,
    )


def test_signed_call_is_verified_by_the_receiver_and_logged(connector, receiver):
    call = services.queue_call(
        connector, "closed", {"request": "ABCD-EFGH", "status": "done"}, source="tests"
    )
    call.refresh_from_db()
    assert call.status == CallStatus.SUCCEEDED and call.attempts == 1
    assert call.response_status == 200 and '"ok": true' in call.response_body
    [got] = receiver.received
    assert got["valid"] and got["path"] == "/api/requests" and got["call"] == str(call.pk)
    assert got["json"] == {"request": "ABCD-EFGH", "status": "done"}


def test_a_wrong_secret_is_detected_by_the_receiver(connector, receiver):
    connector.secret = "another-secret-of-enough-length"
    connector.save()
    call = services.queue_call(connector, "update", {})
    call.refresh_from_db()
    assert receiver.received[0]["valid"] is False and receiver.received[0]["method"] == "PUT"
    assert call.status == CallStatus.FAILED and call.response_status == 401  # 4xx: no retry


def test_server_errors_are_retried_with_backoff(connector, receiver, settings):
    from django.tasks import task_backends

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    receiver.answers += [503, 500]
    call = services.queue_call(connector, "update", {})
    backend = task_backends["default"]
    assert services.perform(call.pk) == CallStatus.RETRYING
    call.refresh_from_db()
    first_delay = call.next_attempt_at - call.created_at
    assert services.perform(call.pk) == CallStatus.RETRYING
    call.refresh_from_db()
    assert call.next_attempt_at - call.created_at > first_delay  # backoff grows
    assert [r.task.run_after is not None for r in backend.results] == [False, True, True]
    assert services.perform(call.pk) == CallStatus.SUCCEEDED
    call.refresh_from_db()
    assert call.attempts == 3 and call.finished_at and call.error == ""
    assert services.perform(call.pk) == "skipped"
    assert len(receiver.received) == 3 and len({r["call"] for r in receiver.received}) == 1


def test_unreachable_application_fails_after_max_attempts(connector, settings):
    from tests.notifications.conftest import free_port

    connector.base_url = f"http://127.0.0.1:{free_port()}"
    connector.max_attempts = 1
    connector.save()
    call = services.queue_call(connector, "update", {})
    call.refresh_from_db()
    assert call.status == CallStatus.FAILED and "refused" in call.error.lower()


def test_declared_parameters_are_required(connector):
    with pytest.raises(BadRequest, match="status"):
        services.queue_call(connector, "closed", {"request": "X"})
    with pytest.raises(BadRequest, match="no endpoint"):
        services.queue_call(connector, "delete-everything", {})
    assert not ConnectorCall.objects.exists()


def test_configuration_is_for_administrators_and_checked(commune, make_member, receiver):
    territory = commune("59350")
    agent = make_member("agent@mairie-lille.fr", territory, Role.AGENT)
    with pytest.raises(PermissionDenied):
        services.save_connector(
            agent, territory, name="X", base_url=receiver.url, secret=SECRET, endpoints=[]
        )
    admin = make_member("a@mairie-lille.fr", territory, Role.ADMIN)
    with pytest.raises(BadRequest, match="16"):
        services.save_connector(
            admin, territory, name="X", base_url=receiver.url, secret="short", endpoints=[]
        )
    with pytest.raises(BadRequest) as error:
        services.save_connector(
            admin,
            territory,
            name="X",
            base_url=receiver.url,
            secret=SECRET,
            endpoints=[{"name": "a", "path": "no-slash"}],
        )
    assert error.value.field == "endpoints[0].path"


def test_workflow_action_calls_the_connector_of_the_territory(
    connector, receiver, procedure, people
):
    from metropole.procedures import services as procedures
    from tests.procedures.conftest import answers

    request = procedures.submit_answers(people["citizen"], procedure["form"], answers())
    assert request.territory == connector.territory
    procedures.take_transition(people["agent"], request, 0)
    procedures.take_transition(people["agent"], request, 2)  # "done" calls crm/closed
    [got] = receiver.received
    assert got["valid"] and got["json"]["request"] == request.code
    assert got["json"]["status"] == "done" and got["json"]["data"]["name"] == "Martin"
    line = request.events.filter(kind="action").last().text
    assert "Sent to CRM (closed)" in line
    assert ConnectorCall.objects.get().source == f"procedures.request:{request.pk}"


def test_log_page(client, connector, make_member, receiver):
    services.queue_call(connector, "update", {})
    slug = connector.territory.slug
    client.force_login(make_member("viewer@mairie-lille.fr", connector.territory, Role.AGENT))
    page = client.get(f"/connecteurs/{slug}/").content.decode()
    assert "CRM" in page and "/requests" in page and "tracking code" in page
    assert "Succeeded" in page and "Add or update a connector" not in page
    client.force_login(make_member("other@example.org", connector.territory, Role.CITIZEN))
    assert client.get(f"/connecteurs/{slug}/").status_code == 403


def test_signature_rejects_old_timestamps():
    body = b"{}"
    assert (
        signing.verify(SECRET, "1700000000", body, signing.sign(SECRET, 1700000000, body)) is False
    )
    assert signing.verify(SECRET, "not-a-time", body, "sha256=00") is False


def test_a_viewer_posting_a_connector_is_refused_not_ignored(client, connector, make_member):
    client.force_login(make_member("viewer@mairie-lille.fr", connector.territory, Role.AGENT))
    response = client.post(
        f"/connecteurs/{connector.territory.slug}/",
        {"name": "Other", "base_url": "http://127.0.0.1:9/", "secret": "s" * 20},
    )
    assert response.status_code == 403
    assert not Connector.objects.filter(name="Other").exists()
