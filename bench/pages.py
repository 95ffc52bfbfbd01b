"""Pages served by gunicorn under load, on SQLite and on PostgreSQL.

For each database: a throwaway install (bench/_server.py) served by gunicorn
(2 workers × 4 threads, gthread, DJANGO_DEBUG=0, static files by whitenoise), then wrk with
50 concurrent keep-alive connections on loopback against, in turn, a static file and
/health/ (the server's floor, measured in the same run) and the home page and Lille's
commune page. Server time is gunicorn's own request time from its access log; client
latency and requests/s are wrk's. SQL queries per page are counted in-process
(bench/query_counts.py).

    .venv/bin/python bench/pages.py [--duration 10] [--rounds 3] [--databases sqlite,postgresql]
"""

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import fmt_int, fmt_ms, table
from _server import Site, cpu_seconds_between, system_cpu_seconds

WRK_SCRIPT = Path(__file__).resolve().parent / "wrk_report.lua"
CONNECTIONS = 50
WORKERS, THREADS = 2, 4


def percentile(values, q):
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def wrk(url: str, duration: float, connections: int = CONNECTIONS) -> dict:
    command = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "30s",
        "--latency",
        "-s",
        str(WRK_SCRIPT),
        url,
    ]
    out = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=duration + 120
    )
    for line in out.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line[len("BENCH_JSON ") :])
    raise RuntimeError("wrk printed no report:\n" + out.stdout + out.stderr)


def _wrk_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk runs are waited children
    return usage.ru_utime + usage.ru_stime


def measure_once(server, postgres, path: str, duration: float) -> dict:
    """One wrk run, with gunicorn's own request times and who used the CPUs meanwhile."""
    db_snapshot = postgres.cpu_snapshot if postgres else dict
    position = server.log_position()
    busy0, total0 = system_cpu_seconds()
    server0, wrk0, db0 = server.cpu_snapshot(), _wrk_cpu_seconds(), db_snapshot()
    report = wrk(server.base_url + path, duration)
    busy1, total1 = system_cpu_seconds()
    server_cpu = cpu_seconds_between(server0, server.cpu_snapshot())
    wrk_cpu = _wrk_cpu_seconds() - wrk0
    db_cpu = cpu_seconds_between(db0, db_snapshot())
    time.sleep(1.0)  # let the workers write the last access-log lines
    server_ms, not_ok = server.server_times_ms(position, path)
    errors = sum(report[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts"))
    wall = report["duration_us"] / 1e6
    cpus = (total1 - total0) / wall  # CPUs of the machine, as /proc/stat counts them
    return {
        "requests": report["requests"],
        "rps": report["requests"] / wall,
        "server_ms": server_ms,
        "client_p50_ms": report["p50_us"] / 1000,
        "client_p95_ms": report["p95_us"] / 1000,
        "errors": errors + report["status_errors"] + not_ok,
        "server_cpu": server_cpu / wall,
        "wrk_cpu": wrk_cpu / wall,
        "db_cpu": db_cpu / wall,
        "server_cpu_ms_per_request": server_cpu * 1000 / max(1, report["requests"]),
        "db_cpu_ms_per_request": db_cpu * 1000 / max(1, report["requests"]),
        "other_cpu": max(0.0, (busy1 - busy0) - server_cpu - wrk_cpu - db_cpu) / wall,
        "cpus": cpus,
        "idle_cpu": max(0.0, (total1 - total0) - (busy1 - busy0)) / wall,
    }


def measure(server, postgres, targets, duration: float, rounds: int, log) -> list[dict]:
    """Every target `rounds` times, interleaved, so that each round compares pages and
    references under the same conditions; figures are medians over the rounds."""
    for label, path in targets:
        status, _ = server.get(path)
        if status != 200:
            raise RuntimeError(f"{label}: GET {path} answered {status}, not 200")
        wrk(server.base_url + path, min(3, duration))  # warm-up, discarded
    runs = {path: [] for _, path in targets}
    for round_number in range(1, rounds + 1):
        for label, path in targets:
            run = measure_once(server, postgres, path, duration)
            runs[path].append(run)
            log(
                f"  round {round_number}: {label:<40} {run['rps']:>7.0f} req/s  server p50 "
                f"{percentile(run['server_ms'], 50):7.2f} ms  p95 "
                f"{percentile(run['server_ms'], 95):7.2f} ms  CPU: server {run['server_cpu']:.2f}"
                f" db {run['db_cpu']:.2f} wrk {run['wrk_cpu']:.2f} other {run['other_cpu']:.2f}"
                f" idle {run['idle_cpu']:.2f}"
                f"  errors {run['errors']}"
            )
    rows = []
    for label, path in targets:
        per_round = runs[path]
        pooled = [ms for run in per_round for ms in run["server_ms"]]
        _, body = server.get(path)
        rows.append(
            {
                "label": label,
                "path": path,
                "requests": sum(r["requests"] for r in per_round),
                "rps": statistics.median(r["rps"] for r in per_round),
                "rps_range": (min(r["rps"] for r in per_round), max(r["rps"] for r in per_round)),
                "server_p50_ms": percentile(pooled, 50),
                "server_p95_ms": percentile(pooled, 95),
                "client_p50_ms": statistics.median(r["client_p50_ms"] for r in per_round),
                "client_p95_ms": statistics.median(r["client_p95_ms"] for r in per_round),
                "errors": sum(r["errors"] for r in per_round),
                "server_cpu": statistics.fmean(r["server_cpu"] for r in per_round),
                "wrk_cpu": statistics.fmean(r["wrk_cpu"] for r in per_round),
                "db_cpu": statistics.fmean(r["db_cpu"] for r in per_round),
                "idle_cpu": statistics.fmean(r["idle_cpu"] for r in per_round),
                "server_cpu_ms": statistics.median(
                    r["server_cpu_ms_per_request"] for r in per_round
                ),
                "db_cpu_ms": statistics.median(r["db_cpu_ms_per_request"] for r in per_round),
                "other_cpu": statistics.fmean(r["other_cpu"] for r in per_round),
                "cpus": statistics.fmean(r["cpus"] for r in per_round),
                "body_bytes": len(body),
            }
        )
    return rows


def bench_database(database: str, duration: float, rounds: int, log) -> dict:
    log(f"[{database}] preparing a throwaway install…")
    with Site(database, log=log) as site:
        counts = json.loads(site.python("query_counts.py"))
        lille = counts["lille_url"]
        targets = [
            ("Static file (reference)", site.static_url("core/css/metropole.css")),
            ("`/health/` (reference)", "/health/"),
            ("Home page `/`", "/"),
            (f"Commune page Lille `{lille}`", lille),
        ]
        with site.serve(WORKERS, THREADS) as server:
            rows = measure(server, site.postgres, targets, duration, rounds, log)
        return {
            "database": database,
            "rows": rows,
            "counts": counts,
            "postgres_version": site.postgres.version if site.postgres else None,
        }


def _rows_table(rows):
    return table(
        [
            "Request",
            "Requests/s (min–max)",
            "Server p50 (ms)",
            "Server p95 (ms)",
            "Client p50 (ms)",
            "Client p95 (ms)",
            "Errors",
            "Body (bytes)",
            "CPU ms per request: gunicorn / PostgreSQL",
            "CPUs: gunicorn / PostgreSQL / wrk / other / idle",
        ],
        [
            [
                r["label"],
                f"{fmt_int(r['rps'])} ({fmt_int(r['rps_range'][0])}–{fmt_int(r['rps_range'][1])})",
                fmt_ms(r["server_p50_ms"]),
                fmt_ms(r["server_p95_ms"]),
                fmt_ms(r["client_p50_ms"]),
                fmt_ms(r["client_p95_ms"]),
                r["errors"],
                fmt_int(r["body_bytes"]),
                f"{fmt_ms(r['server_cpu_ms'])} / {fmt_ms(r['db_cpu_ms'])}",
                f"{r['server_cpu']:.2f} / {r['db_cpu']:.2f} / {r['wrk_cpu']:.2f} / "
                f"{r['other_cpu']:.2f} / {r['idle_cpu']:.2f}",
            ]
            for r in rows
        ],
    )


def _cpu_ms(row) -> float:
    return row["server_cpu_ms"] + row["db_cpu_ms"]


def _name(result) -> str:
    return "SQLite" if result["database"] == "sqlite" else "PostgreSQL"


def run(
    duration: float = 10, databases=("sqlite", "postgresql"), rounds: int = 3, log=print
) -> dict:
    if not shutil.which("wrk"):
        raise RuntimeError("wrk is not installed (apt-get install -y wrk)")
    results = [bench_database(db, duration, rounds, log) for db in databases]
    cpus = results[0]["rows"][0]["cpus"]

    md = [
        "## Pages under load",
        "",
        f"gunicorn {WORKERS} workers × {THREADS} threads (gthread) on 127.0.0.1, "
        "DJANGO_DEBUG=0, static files by whitenoise after `collectstatic`, demo data "
        f"(`migrate`, `createcachetable`, `load_demo`); wrk (2 threads, {CONNECTIONS} "
        f"concurrent keep-alive connections) on the same {cpus:.0f}-CPU machine. Each "
        f"request is run {rounds} times for {duration:g} s, the four requests interleaved "
        "round by round after a warm-up: requests/s and client latencies are the median of "
        "the rounds (min–max in brackets), server percentiles are over every request of "
        "the rounds.",
        "",
        "- **Server** time: gunicorn's own request time (access log `%(D)s`), from the parsed "
        "request to the last byte written. It excludes waiting for a free thread but "
        f"includes waiting for the GIL among the {THREADS} threads of a worker.",
        "- **Client** latency: wrk's, including the queueing of "
        f"{CONNECTIONS} connections on {WORKERS * THREADS} threads.",
        "- The static file and `/health/` (one `SELECT 1`) are the server's floor, measured "
        "in the same run.",
        "- **CPU ms per request**: CPU time gunicorn (master and workers) and PostgreSQL "
        "(postmaster and backends) spent per request served, from /proc (median of the "
        "rounds). Other processes competing for the CPUs do not inflate it as they do "
        "throughput and latencies, but it still follows the speed the host gives the "
        "virtual machine; its ratio to `/health/` in the same run (side-by-side table) is "
        "the steadiest figure from one run to the next.",
        "- **CPUs**: average number of CPUs used during the row's runs by gunicorn, "
        "PostgreSQL, wrk, anything else on the machine, and left idle (from /proc/stat). "
        "The server is saturated in every row (50 connections for 8 threads), so a large "
        "*other* (another workload) or *idle* (the virtual machine not getting its CPUs "
        "from the host) means the row's throughput and latencies are pessimistic.",
    ]
    for result in results:
        title = _name(result)
        if result["postgres_version"]:
            title += f" {result['postgres_version']} (fsync off)"
        md += ["", f"### {title}", "", _rows_table(result["rows"])]

    if len(results) > 1:
        by_db = {r["database"]: {row["label"]: row for row in r["rows"]} for r in results}
        labels = [row["label"] for row in results[0]["rows"]]
        health_of = {
            r["database"]: next(row for row in r["rows"] if row["path"] == "/health/")
            for r in results
        }
        headers = ["Request"]
        for r in results:
            name = _name(r)
            headers += [
                f"{name} req/s",
                f"{name} server p95 (ms)",
                f"{name} CPU ms/request",
                f"{name} CPU vs `/health/`",
            ]
        md += [
            "",
            "### Side by side",
            "",
            table(
                headers,
                [
                    [label]
                    + [
                        v
                        for r in results
                        for row, health in [(by_db[r["database"]][label], health_of[r["database"]])]
                        for v in (
                            fmt_int(row["rps"]),
                            fmt_ms(row["server_p95_ms"]),
                            fmt_ms(_cpu_ms(row)),
                            f"{_cpu_ms(row) / _cpu_ms(health):.1f}×",
                        )
                    ]
                    for label in labels
                ],
            ),
        ]

    md += [
        "",
        "### SQL queries and single-request cost, in-process",
        "",
        "Counted with `CaptureQueriesContext` around Django's test client, in one process "
        "with no concurrency (bench/query_counts.py); time is the median of 30 requests "
        "after a warm-up, database connection kept open. The GeoJSON and branding CSS are "
        "the same-origin requests the two pages make in a browser.",
        "",
    ]
    paths = list(results[0]["counts"]["pages"])
    md.append(
        table(
            ["Request"]
            + [f"{_name(r)} queries" for r in results]
            + [f"{_name(r)} ms" for r in results],
            [
                [f"`{p}`"]
                + [r["counts"]["pages"][p]["queries"] for r in results]
                + [fmt_ms(r["counts"]["pages"][p]["median_ms"]) for r in results]
                for p in paths
            ],
        )
    )
    for r in results:
        reconnect = r["counts"]["reconnect"]
        md.append(
            f"\n{_name(r)}: `/health/` takes {fmt_ms(reconnect['kept_ms'])} ms on an open "
            f"connection and {fmt_ms(reconnect['fresh_ms'])} ms when the request opens its own "
            f"(CONN_MAX_AGE = {reconnect['conn_max_age']} for this database in settings.py)."
        )
    scaling = results[0]["counts"]["scaling"]
    md += [
        "",
        "Do the counts grow with the number of communes? Every metropole of the reference "
        f"data, loaded in a rolled-back transaction ({_name(results[0])}):",
        "",
        table(
            [
                "Metropole",
                "Communes",
                "`/` queries",
                "`/` bytes",
                "GeoJSON queries",
                "GeoJSON bytes",
            ],
            [
                [
                    s["name"],
                    s["communes"],
                    s["home_queries"],
                    fmt_int(s["home_bytes"]),
                    s["geojson_queries"],
                    fmt_int(s["geojson_bytes"]),
                ]
                for s in scaling
            ],
        ),
    ]
    for path in results[0]["counts"]["breakdown"]:
        per_db = [r["counts"]["breakdown"][path] for r in results]
        md += [
            "",
            f"Where `{path}` spends its time, in-process: each query's `cursor.execute` time "
            "(median of 20 requests; the select list abbreviated; fetching the rows comes "
            "after and is not included); the rest of the request is Python (fetching and "
            "building model instances, template, middleware).",
            "",
            table(
                ["#", "SQL"] + [f"{_name(r)} ms" for r in results],
                [
                    [i + 1, "`" + q["sql"].replace("|", "\\|") + "`"]
                    + [
                        fmt_ms(b["queries"][i]["ms"]) if i < len(b["queries"]) else "–"
                        for b in per_db
                    ]
                    for i, q in enumerate(per_db[0]["queries"])
                ]
                + [
                    ["", "**All queries**"]
                    + [fmt_ms(sum(q["ms"] for q in b["queries"])) for b in per_db],
                    ["", "**Whole request**"] + [fmt_ms(b["request_ms"]) for b in per_db],
                ],
                align="rl" + "r" * len(results),
            ),
        ]
    md += [""] + [
        f"{_name(r)}: building the home page's {r['counts']['links']['communes']} commune links "
        "(`Territory.get_absolute_url`, one `reverse()` each) takes "
        f"{fmt_ms(r['counts']['links']['ms'])} ms of the page's "
        f"{fmt_ms(r['counts']['breakdown']['/']['request_ms'])} ms (median of 20)."
        for r in results
    ]
    return {"markdown": "\n".join(md), "results": results}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    result = run(
        args.duration,
        tuple(args.databases.split(",")),
        args.rounds,
        log=lambda m: print(m, file=sys.stderr),
    )
    print(result["markdown"])


if __name__ == "__main__":
    main()
