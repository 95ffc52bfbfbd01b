"""Browser tests: headless Chromium (Debian's `chromium` package, never `playwright install`)
driven by Playwright against pytest-django's live server, with axe-core for accessibility.

- Every test here uses `live_server`, so it is transactional: the database is flushed after
  each test. `territories` reloads Lille before each test, and `_restore_session_data`
  reloads what tests/conftest.py loads once the package is done, so later tests still find it.
- Pages are shown in English (language cookie), because the French catalogue is still being
  written: tests assert on structure and data, and on English text only where it is stable.
- Every browser context records console messages about the Content Security Policy and
  uncaught JavaScript errors; a test fails (at teardown) if any was seen.
- Screenshots go to $METROPOLE_SCREENSHOTS (default: <tmp>/screens), never into the repo.
"""

import os
import re
import tempfile
from pathlib import Path

import pytest

from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import lille_in_this_database, restore_session_territories

SCREENSHOTS = Path(os.environ.get("METROPOLE_SCREENSHOTS", Path(tempfile.gettempdir()) / "screens"))
# Generous for a loaded CI machine; a passing test never waits this long.
TIMEOUT_MS = 15_000

requires_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)",
)


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(requires_chromium)


@pytest.fixture(scope="package")
def _allow_sync_playwright():
    """Playwright's sync API runs an event loop in the test thread; Django's ORM refuses to
    run there unless told it is safe (it is: nothing else uses that loop)."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def browser(_allow_sync_playwright):
    """One Chromium for the package. Playwright runs an event loop in this thread while it is
    started, and Django connections opened meanwhile belong to that state: they are closed
    before Playwright stops, or PostgreSQL would still see them when the test database is
    dropped ("database is being accessed by other users")."""
    from django.db import connections
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
        connections.close_all()


# Transactional tests flush the database; put back what tests/conftest.py loaded.
_restore_session_data = pytest.fixture(scope="package", autouse=True)(restore_session_territories)


@pytest.fixture(autouse=True)
def territories(live_server, transactional_db):
    """The Métropole Européenne de Lille and its 95 communes, in this test's database."""
    return lille_in_this_database()


class BrowserProblems:
    """CSP reports and JavaScript errors seen by one browser context."""

    def __init__(self):
        self.csp: list[str] = []
        self.errors: list[str] = []

    def on_console(self, message):
        if "Content Security Policy" in message.text:
            self.csp.append(f"{message.page.url if message.page else '?'}: {message.text}")

    def on_error(self, error):
        self.errors.append(str(error.error))

    def check(self):
        problems = [f"CSP: {m}" for m in self.csp] + [f"JS error: {e}" for e in self.errors]
        assert not problems, "The browser reported problems:\n" + "\n".join(problems)


@pytest.fixture
def new_context(browser, live_server):
    """Factory of browser contexts (English, desktop size unless told) that are checked for
    CSP violations and JavaScript errors when the test ends."""
    opened = []

    def make(*, language="en", width=1280, height=900, **options):
        context = browser.new_context(
            base_url=live_server.url,
            locale="en-GB" if language == "en" else "fr-FR",
            viewport={"width": width, "height": height},
            **options,
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(MAP_SPY)  # init scripts are not subject to the page's CSP
        context.add_cookies(
            [{"name": "django_language", "value": language, "url": live_server.url}]
        )
        problems = context.problems = BrowserProblems()
        context.on("console", problems.on_console)
        context.on("weberror", problems.on_error)
        opened.append((context, problems))
        return context

    yield make
    for context, _problems in opened:
        context.close()
    for _context, problems in opened:
        problems.check()


@pytest.fixture
def page(new_context):
    return new_context().new_page()


# --- helpers ----------------------------------------------------------------------------

_AXE_SOURCE = None


def axe_source() -> str:
    global _AXE_SOURCE
    if _AXE_SOURCE is None:
        import axe_playwright_python

        _AXE_SOURCE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
    return _AXE_SOURCE


def assert_accessible(page, name: str, impacts=("serious", "critical")):
    """Run axe-core on the page as it is now; fail on any violation of the given impacts.

    axe is injected with page.evaluate, which the page's CSP does not apply to (a <script>
    tag would be refused: no inline scripts)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    results = page.evaluate(
        "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)"
    )
    found = [v for v in results if v.get("impact") in impacts]
    for violation in results:  # shown with `pytest -rP`: worth a look, not blocking
        if violation not in found:
            print(f"axe on {name}:\n{describe_violation(violation)}")
    assert not found, f"axe found {len(found)} problem(s) on {name} ({page.url}):\n" + "\n".join(
        describe_violation(v) for v in found
    )
    return results


def describe_violation(violation: dict) -> str:
    lines = [
        f"- [{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})"
    ]
    for node in violation["nodes"][:10]:
        summary = re.sub(r"\s+", " ", node.get("failureSummary") or "").strip()
        lines.append(f"    {' '.join(map(str, node['target']))}: {summary}")
    if len(violation["nodes"]) > 10:
        lines.append(f"    ... and {len(violation['nodes']) - 10} more")
    return "\n".join(lines)


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_no_horizontal_scroll(page, name: str):
    overflow = page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            const wide = [...document.querySelectorAll('body *')]
              .filter(el => el.getBoundingClientRect().right > width + 1)
              // content of a scroll area is fine, unless positioned out of it
              .filter(el => !el.closest('.table-wrap, .leaflet-container')
                            || getComputedStyle(el).position === 'absolute')
              .map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''));
            return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 10)};
        }"""
    )
    assert overflow["scroll"] <= overflow["width"], f"{name} scrolls sideways: {overflow}"


def log_in(page, email: str, password: str):
    page.goto("/compte/connexion/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/mon-compte/")


def wait_for_map(page):
    """Wait until map.js has drawn the GeoJSON (it fires metropole:map-ready)."""
    # (wait_for_function would evaluate a string in the page, which the CSP forbids)
    page.wait_for_selector("#map[data-test-map-ready]", state="attached")


# Installed in every page before its own scripts: keeps the Leaflet map that map.js announces.
MAP_SPY = """
document.addEventListener('metropole:map-ready', function (event) {
  window.__metropoleMap = event.detail.map;
  window.__metropoleLayer = event.detail.layer;
  event.target.setAttribute('data-test-map-ready', '');
}, true);
"""
