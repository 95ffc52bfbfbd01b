"""SQL queries per page, counted in-process with CaptureQueriesContext (Django test client).

Run by pages.py in the benchmark install's environment (DATABASE_URL, METROPOLE_VAR_DIR,
DJANGO_SETTINGS_MODULE); prints one JSON document. Also times each query of the home and
commune pages, and checks whether the counts grow with the number of communes by loading
every metropole of the reference data inside a transaction that is rolled back.
"""

import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "metropole.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402

from metropole.core import queries, reference, services  # noqa: E402
from metropole.core.models import Territory  # noqa: E402

LILLE = "59350"


def count(client, path, timed=False):
    client.get(path)  # warm: the first request of a process loads URLconf, templates...
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    return {
        "status": response.status_code,
        "queries": len(ctx.captured_queries),
        "bytes": len(response.content),
        "sql": [q["sql"] for q in ctx.captured_queries],
        "median_ms": median_ms(lambda: client.get(path), 30) if timed else None,
    }


def abbreviate(sql: str) -> str:
    """The SQL with its select list replaced by its number of columns."""
    match = re.match(r"SELECT (.*?) FROM ", sql, re.S)
    if match:
        columns = match.group(1).count(",") + 1
        if columns > 2:
            sql = f"SELECT ‹{columns} columns› FROM " + sql[match.end() :]
    return sql if len(sql) <= 220 else sql[:217] + "…"


class QueryTimer:
    """`connection.execute_wrapper` that times each `cursor.execute` with perf_counter
    (the fetching of the rows that follows is not included)."""

    def __init__(self):
        self.queries = []

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append((sql, (time.perf_counter() - start) * 1000))


def query_breakdown(client, path, repeat=20):
    client.get(path)
    runs, totals = [], []
    for _ in range(repeat):
        timer = QueryTimer()
        with connection.execute_wrapper(timer):
            start = time.perf_counter()
            client.get(path)
            totals.append((time.perf_counter() - start) * 1000)
        runs.append(timer.queries)
    with CaptureQueriesContext(connection) as ctx:  # the SQL with its parameters
        client.get(path)
    per_query = [
        {
            "sql": abbreviate(ctx.captured_queries[i]["sql"]),
            "ms": statistics.median(run[i][1] for run in runs),
        }
        for i in range(len(runs[0]))
    ]
    return {"request_ms": statistics.median(totals), "queries": per_query}


def median_ms(function, repeat=20):
    function()
    durations = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        durations.append((time.perf_counter() - start) * 1000)
    return statistics.median(durations)


def main():
    client = Client(HTTP_HOST="127.0.0.1")
    metropole = queries.current_metropole()
    lille = Territory.objects.get(code=LILLE)
    pages = {}
    for path in [
        "/",
        lille.get_absolute_url(),
        "/health/",
        "/api/communes.geojson",
        f"/branding/{metropole.slug}.css",
        f"/branding/{lille.slug}.css",
    ]:
        pages[path] = count(client, path, timed=True)

    # The test client keeps the connection open between requests; gunicorn closes it at
    # the end of each request when CONN_MAX_AGE is 0; this measures that cost.
    def fresh_health():
        connection.close()
        client.get("/health/")

    reconnect = {
        "kept_ms": median_ms(lambda: client.get("/health/"), 50),
        "fresh_ms": median_ms(fresh_health, 50),
        "conn_max_age": settings.DATABASES["default"]["CONN_MAX_AGE"],
    }

    # Where a page's time goes: each query's own time (median over 20 requests), the rest
    # being Python (model instances, template). Whatever the views do at the time of the run.
    breakdown = {path: query_breakdown(client, path) for path in ["/", lille.get_absolute_url()]}
    # The home page links every commune: one reverse() per link.
    communes = list(queries.metropole_communes(metropole))
    links = {
        "communes": len(communes),
        "ms": median_ms(lambda: [c.get_absolute_url() for c in communes]),
    }

    # Do the counts grow with the number of communes? Every metropole with a commune file,
    # loaded in a transaction that is rolled back.
    scaling = []
    available = sorted(
        p.name.split(".")[0] for p in (reference.REFERENCE_DIR / "communes").glob("*.json.gz")
    )
    with transaction.atomic():
        for siren in available:
            loaded = services.load_metropole(siren)
            with override_settings(METROPOLE_SIREN=siren):
                home = count(client, "/")
                geojson = count(client, "/api/communes.geojson")
            scaling.append(
                {
                    "siren": siren,
                    "name": loaded.name,
                    "communes": queries.metropole_communes(loaded).count(),
                    "home_queries": home["queries"],
                    "home_status": home["status"],
                    "home_bytes": home["bytes"],
                    "geojson_queries": geojson["queries"],
                    "geojson_bytes": geojson["bytes"],
                }
            )
        transaction.set_rollback(True)

    print(
        json.dumps(
            {
                "vendor": connection.vendor,
                "metropole": {"siren": settings.METROPOLE_SIREN, "name": metropole.name},
                "lille_url": lille.get_absolute_url(),
                "pages": pages,
                "reconnect": reconnect,
                "breakdown": breakdown,
                "links": links,
                "scaling": sorted(scaling, key=lambda row: row["communes"]),
            }
        )
    )


if __name__ == "__main__":
    main()
