"""The live server of the browser tests answers requests at once, as a browser sends them."""

import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from metropole.reports.demo import install_categories
from metropole.reports.models import ReportCategory
from metropole.reports.services import submit_report


def test_requests_at_once_each_get_their_own_answer(live_server, territories, make_user):
    """The public map of reports fetches its two layers together. On SQLite's in-memory test
    database the live server's request threads shared the test's one connection, and the two
    requests broke each other's queries ("bad parameter or other API misuse", then a 404
    "Metropole not loaded"): a browser test failed once in CI. The test database is a file.
    (No browser here, but the browser tests' package: it reloads the territories after its
    transactional tests.)"""
    install_categories(territories)
    submit_report(
        make_user("camille@example.org"),
        territories,
        category=ReportCategory.objects.get(slug="nid-de-poule"),
        lat=50.6903,
        lon=3.1817,
        description="Trou",
    )
    layers = ["/api/communes.geojson", "/api/reports/map.geojson"]
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy

    def fetch(n):
        try:
            with direct.open(live_server.url + layers[n % 2], timeout=30) as answer:
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(fetch, range(200)))
    assert statuses == [200] * 200
