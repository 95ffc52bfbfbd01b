"""Helpers shared by the benchmarks: paths, Markdown tables, machine description."""

import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def table(headers: list[str], rows: list[list], align: str | None = None) -> str:
    """A Markdown table; `align` is one letter per column (l or r), numbers right by default."""
    if align is None:
        align = "l" + "r" * (len(headers) - 1)
    cells = [[str(c) for c in row] for row in rows]
    lines = ["| " + " | ".join(headers) + " |"]
    lines.append("|" + "|".join(":---" if a == "l" else "---:" for a in align) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)


def fmt_int(value: float) -> str:
    return f"{value:,.0f}".replace(",", "\u202f")


def fmt_ms(value: float) -> str:
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _first_line(command: list[str]) -> str:
    if not shutil.which(command[0]):
        return "not found"
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return "not found"
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else "unknown"


def postgres_bin(name: str) -> str | None:
    """A PostgreSQL server binary: on PATH, else in /usr/lib/postgresql/<version>/bin."""
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    return None


def machine() -> list[tuple[str, str]]:
    """What the figures were measured on."""
    import sqlite3

    import django
    import shapely

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        meminfo = Path("/proc/meminfo").read_text()
        kib = int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1))
        ram = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        pass
    postgres = postgres_bin("postgres")
    return [
        (
            "CPUs (`nproc`)",
            str(os.cpu_count() if not shutil.which("nproc") else _first_line(["nproc"])),
        ),
        ("CPU model", cpu),
        ("RAM", ram),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", platform.python_version()),
        ("Django", django.get_version()),
        ("shapely / GEOS", f"{shapely.__version__} / {shapely.geos_version_string}"),
        ("SQLite", sqlite3.sqlite_version),
        ("PostgreSQL", _first_line([postgres, "--version"]) if postgres else "not found"),
        ("gunicorn", _first_line([str(Path(sys.executable).parent / "gunicorn"), "--version"])),
        ("wrk", _first_line(["wrk", "--version"]) if shutil.which("wrk") else "not found"),
        ("Chromium", _first_line(["/usr/bin/chromium", "--version"])),
    ]


# --- in-process benchmarks (Django test client) -----------------------------------------------


def setup_django_in_process(database_url: str | None, prefix: str) -> None:
    """Django for a benchmark run in this process: the given database (else SQLite in a new
    temporary directory), tasks run inline, mail kept in memory; migrated."""
    import tempfile

    os.environ.setdefault("METROPOLE_TESTING", "1")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
    os.environ.setdefault(
        "METROPOLE_TASKS_BACKEND", "django.tasks.backends.immediate.ImmediateBackend"
    )
    os.environ.setdefault("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ["METROPOLE_VAR_DIR"] = tempfile.mkdtemp(prefix=f"bench-{prefix}-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "metropole.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)


def percentile(values, q: float):
    """The q-quantile (0 to 1) of `values`, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def timed(fn, rounds: int) -> dict:
    """p50 and p95 in ms of `rounds` calls of `fn`, after one warm-up call."""
    import statistics
    import time

    fn()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(percentile(samples, 0.95), 2),
    }


def queries_of(fn, status: int = 200) -> int:
    """SQL statements run by one request `fn()`, which must answer `status`."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = fn()
    assert response.status_code == status, (response.status_code, response.content[:300])
    return len(ctx.captured_queries)
