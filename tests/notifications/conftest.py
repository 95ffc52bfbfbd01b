"""Real local servers for the notification tests: an SMTP server (aiosmtpd) and an HTTP
SMS gateway (http.server), both on loopback ports chosen by the OS."""

import json
import socket
import threading
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


class _Collector:
    def __init__(self):
        self.messages = []
        self.refuse = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server; Django's mailer is pointed at it. `.messages` holds what arrived."""
    handler = _Collector()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }
    handler.port = port
    yield handler
    controller.stop()


class _Gateway(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _GatewayHandler)
        self.received = []
        self.answers = []  # (status, body) to return, in order; then 200

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/sms"


class _GatewayHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        self.server.received.append(
            {"path": self.path, "headers": dict(self.headers), "json": json.loads(body)}
        )
        status, answer = (
            self.server.answers.pop(0)
            if self.server.answers
            else (200, {"id": f"msg-{len(self.server.received)}"})
        )
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def sms_gateway(settings):
    """A real HTTP SMS gateway on loopback; the HTTP backend is configured to use it."""
    server = _Gateway()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.METROPOLE_SMS_BACKEND = "metropole.notifications.sms.HttpGatewayBackend"
    settings.METROPOLE_SMS_HTTP_URL = server.url
    settings.METROPOLE_SMS_HTTP_TOKEN = "secret-token"
    yield server
    server.shutdown()
    server.server_close()


# aiosmtpd's SMTP class is imported so a missing package fails at collection, clearly.
assert SMTP


@pytest.fixture(autouse=True)
def english():
    """Recorded errors in English, as the assertions read them (French is the default)."""
    from django.utils import translation

    with translation.override("en"):
        yield
