"""Fixtures of the harvest tests: a catalogue of Lille (tests/datahub_interop), an
administrator of Grand Paris who harvests it, and a local HTTP server that serves
recorded responses of real portals (tests/fixtures/harvest/), paged like the portal."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from metropole.core.models import Role
from tests.conftest import restore_session_territories
from tests.datahub_interop.catalogue import (  # noqa: F401  (fixtures)
    catalogue,
    private_files,
    publisher,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "harvest"

_restore_session_data = pytest.fixture(scope="package", autouse=True)(restore_session_territories)


@pytest.fixture
def harvester_admin(make_member, grand_paris):
    return make_member("donnees@grandparis.example.org", grand_paris, Role.ADMIN)


class RecordedPortal:
    """Serves the datasets of a recorded answer of a real portal, `rows` at a time,
    answering the portal's own paging parameters. `keep` narrows the datasets served
    (a dataset removed on the portal); `edit` changes one (metadata changed there)."""

    def __init__(self, kind: str, recorded: dict):
        self.kind = kind
        self.recorded = recorded
        self.keep = None
        self.edits = {}
        self.requests: list[str] = []
        self.status = 200

    def items(self) -> list[dict]:
        if self.kind == "ckan":
            items = self.recorded["result"]["results"]
            key = "id"
        else:
            items = self.recorded["results"]
            key = "dataset_id"
        items = [dict(item, **self.edits.get(item[key], {})) for item in items]
        if self.keep is not None:
            items = [i for i in items if i[key] in self.keep]
        return items

    def answer(self, path: str, query: dict) -> dict:
        items = self.items()
        if self.kind == "ckan":
            start, rows = int(query.get("start", ["0"])[0]), int(query.get("rows", ["10"])[0])
            result = dict(
                self.recorded["result"], count=len(items), results=items[start : start + rows]
            )
            return dict(self.recorded, result=result)
        offset, limit = int(query.get("offset", ["0"])[0]), int(query.get("limit", ["10"])[0])
        return dict(self.recorded, total_count=len(items), results=items[offset : offset + limit])


@pytest.fixture
def serve():
    """A local HTTP server answering every GET with `respond(path)`: (status, headers, body).
    Returns its address."""
    servers = []

    def start(respond) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                status, headers, body = respond(self.path)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if body:
                    self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def ok_answer(body: bytes, content_type: str = "application/json; charset=utf-8") -> tuple:
    """A 200 answer of `body` with its type and length (for `serve`)."""
    return 200, {"Content-Type": content_type, "Content-Length": str(len(body))}, body


@pytest.fixture
def recorded_portal(serve):
    def start(kind: str, fixture: str) -> tuple[RecordedPortal, str]:
        portal = RecordedPortal(kind, json.loads((FIXTURES / fixture).read_text("utf-8")))

        def respond(path: str) -> tuple:
            portal.requests.append(path)
            if portal.status != 200:
                return portal.status, {}, b""
            parts = urlsplit(path)
            return ok_answer(json.dumps(portal.answer(parts.path, parse_qs(parts.query))).encode())

        return portal, serve(respond)

    return start


@pytest.fixture
def ods_portal(settings, recorded_portal, harvester_admin, grand_paris):
    """The recorded Opendatasoft catalogue, 10 datasets a page, with the licence of its
    boundaries dataset (OGL v3) allowed in Grand Paris: (portal, url, licence)."""
    from metropole.datahub import services as datahub

    settings.HARVEST_PAGE_SIZE = 10
    portal, url = recorded_portal("ods", "ods/explore_v2.1_catalog_datasets.json")
    ogl = datahub.allow_licence(
        harvester_admin,
        grand_paris,
        code="ogl-3",
        title="Open Government Licence v3.0",
        url="http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
    )
    return portal, url, ogl


@pytest.fixture
def lille(db):
    """Lille, reloaded when a transactional (live server) test flushed the database."""
    from tests.conftest import lille_in_this_database

    return lille_in_this_database()


@pytest.fixture
def grand_paris(db):
    from metropole.core import services
    from metropole.core.models import Territory
    from tests.conftest import GRAND_PARIS

    return Territory.objects.filter(code=GRAND_PARIS).first() or services.load_metropole(
        GRAND_PARIS
    )
