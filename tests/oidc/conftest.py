"""OpenID Connect log-in against a real provider running in a second process.

- `oidc_provider` (session): django-oauth-toolkit in OIDC mode (tests/oidc_provider/), with
  its own SQLite database in a temporary directory and an RSA key generated here, started
  with `runserver` on a free port of 127.0.0.1 and stopped at the end of the session.
- `oidc_settings`: our app's OIDC_PROVIDERS pointed at it ("franceconnect": JSON userinfo,
  "proconnect": signed JWT userinfo, like the real services), Authlib's registry reset.
- `visitor`: a person with a browser (a `requests` session, cookies for both sites) who
  clicks through our log-in page, the provider's log-in form and its consent page.

These tests use `live_server`, so they are transactional and the database is flushed after
each one: `territories` reloads Lille before each test and `_restore_session_data` reloads
what tests/conftest.py loads once the package is done (as tests/browser/ does).
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from tests.conftest import lille_in_this_database, restore_session_territories

REPO = Path(__file__).resolve().parents[2]
PROVIDER_USER = {
    "username": "camille",
    "password": "provider-password-for-tests",
    "email": "camille.martin@example.org",
    "first_name": "Camille",
    "last_name": "Martin",
}
CLIENTS = {
    "franceconnect": {"client_id": "metropole-fc", "client_secret": "fc-secret-for-tests"},
    "proconnect": {"client_id": "metropole-pc", "client_secret": "pc-secret-for-tests"},
}
STARTUP_TIMEOUT = 60


class Provider:
    def __init__(self, url: str):
        self.url = url
        self.discovery_url = f"{url}/o/.well-known/openid-configuration"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rsa_private_key_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="session")
def oidc_provider(live_server):
    """The test provider, running; its clients accept our live server's callbacks."""
    with tempfile.TemporaryDirectory(prefix="oidc-provider-") as tmp:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "METROPOLE_", "DATABASE_"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="tests.oidc_provider.settings",
            OIDC_PROVIDER_DB=str(Path(tmp) / "provider.sqlite3"),
            OIDC_PROVIDER_RSA_KEY=_rsa_private_key_pem(),
            PYTHONPATH=str(REPO),
        )
        seed = {
            "user": PROVIDER_USER,
            "applications": [
                {
                    "name": name,
                    **client,
                    "redirect_uris": [f"{live_server.url}/compte/oidc/{name}/retour/"],
                }
                for name, client in CLIENTS.items()
            ],
        }
        subprocess.run(
            [sys.executable, "-m", "tests.oidc_provider.seed"],
            input=json.dumps(seed),
            text=True,
            env=env,
            cwd=REPO,
            check=True,
            timeout=STARTUP_TIMEOUT,
        )
        port = _free_port()
        log_path = Path(tmp) / "provider.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload"],
                env=env,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        provider = Provider(f"http://127.0.0.1:{port}")
        try:
            _wait_until_ready(provider, process, log_path)
            yield provider
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_ready(provider: Provider, process, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"The test OIDC provider stopped:\n{log_path.read_text()}")
        try:
            if requests.get(provider.discovery_url, timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    pytest.fail(f"The test OIDC provider did not start:\n{log_path.read_text()}")


def provider_settings(provider: Provider) -> dict:
    """OIDC_PROVIDERS of our app for the test provider, as settings.py builds it."""
    return {
        "franceconnect": {
            "label": "FranceConnect",
            "discovery_url": provider.discovery_url,
            **CLIENTS["franceconnect"],
            "scope": "openid email given_name family_name",
            "acr_values": "eidas1",
        },
        "proconnect": {
            "label": "ProConnect",
            "discovery_url": provider.discovery_url,
            **CLIENTS["proconnect"],
            "scope": "openid email given_name usual_name",
            "acr_values": "",
        },
    }


@pytest.fixture
def oidc_settings(settings, oidc_provider):
    """Our app configured with both providers; Authlib's clients are made afresh for each
    test (they cache the discovery document and keys)."""
    from metropole.core import oidc

    oidc.reset()
    settings.OIDC_PROVIDERS = provider_settings(oidc_provider)
    yield settings
    oidc.reset()


# Transactional tests flush the database; put back what tests/conftest.py loaded.
_restore_session_data = pytest.fixture(scope="package", autouse=True)(restore_session_territories)


@pytest.fixture(autouse=True)
def territories(request):
    """The Métropole Européenne de Lille and its communes, in the database of each test that
    uses the live server (tests of services alone keep the session's data untouched)."""
    if "live_server" not in request.fixturenames:
        return None
    request.getfixturevalue("transactional_db")
    return lille_in_this_database()


# --- a person with a browser ----------------------------------------------------------


class _Forms(HTMLParser):
    """The forms of a page: action, method and the values their fields would send."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(
                {
                    "id": attrs.get("id"),
                    "action": attrs.get("action") or "",
                    "method": (attrs.get("method") or "get").lower(),
                    "fields": {},
                    "submits": {},
                }
            )
        elif tag in ("input", "button") and self.forms and attrs.get("name"):
            kind = (attrs.get("type") or ("submit" if tag == "button" else "text")).lower()
            target = "submits" if kind == "submit" else "fields"
            self.forms[-1][target][attrs["name"]] = attrs.get("value") or ""


def forms_of(response) -> list[dict]:
    parser = _Forms()
    parser.feed(response.text)
    return parser.forms


class Visitor:
    """Someone using our site and the provider's pages through one cookie jar."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.http = requests.Session()
        # English pages: assertions do not depend on the French catalogue being complete.
        self.http.headers["Accept-Language"] = "en"

    def get(self, path_or_url: str, **kwargs):
        return self.http.get(urljoin(self.base_url, path_or_url), timeout=30, **kwargs)

    def submit(self, response, form: dict, extra=None, **kwargs):
        data = {**form["fields"], **(extra or {})}
        action = urljoin(response.url, form["action"])
        return self.http.request(form["method"], action, data=data, timeout=30, **kwargs)

    def click_provider_button(self, provider: str, next_url: str = ""):
        """Open our log-in page and press the provider's button: lands on the provider."""
        page = self.get(f"/compte/connexion/?next={next_url}" if next_url else "/compte/connexion/")
        assert page.status_code == 200
        action = f"/compte/oidc/{provider}/connexion/"
        form = next(f for f in forms_of(page) if f["action"] == action)
        return self.submit(page, form)

    def log_in_at_provider(self, page, username=None, password=None):
        """Fill the provider's log-in form: lands on its consent page."""
        assert "/accounts/login/" in page.url, page.url
        form = next(f for f in forms_of(page) if f["id"] == "login-form")
        return self.submit(
            page,
            form,
            {
                "username": username or PROVIDER_USER["username"],
                "password": password or PROVIDER_USER["password"],
            },
        )

    def answer_consent(self, page, *, allow: bool, follow: bool = True):
        """Press "Authorize" or "Cancel" on the provider's consent page."""
        assert "/o/authorize/" in page.url, page.url
        form = next(f for f in forms_of(page) if f["id"] == "authorizationForm")
        extra = {"allow": form["submits"]["allow"]} if allow else {}
        return self.submit(page, form, extra, allow_redirects=follow)

    def log_in_with(self, provider: str, next_url: str = ""):
        """The whole journey: our button, the provider's log-in form, consent, back to us."""
        page = self.click_provider_button(provider, next_url)
        page = self.log_in_at_provider(page)
        return self.answer_consent(page, allow=True)


@pytest.fixture
def new_visitor(live_server):
    """Factory of visitors, each with a browser of their own."""
    visitors = []

    def make() -> Visitor:
        visitors.append(Visitor(live_server.url))
        return visitors[-1]

    yield make
    # Close kept-alive connections now: a server thread left waiting on one would close its
    # database connection after the live server has stopped sharing it.
    for visitor in visitors:
        visitor.http.close()


@pytest.fixture
def visitor(new_visitor):
    return new_visitor()
