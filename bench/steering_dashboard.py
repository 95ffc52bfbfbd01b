"""Dashboard of a strategy plan: server time and SQL queries per page, for two plan sizes.

    .venv/bin/python bench/steering_dashboard.py                # SQLite in a temporary dir
    DATABASE_URL=postgres://postgres@127.0.0.1:5439/metropole_steering_bench \\
        .venv/bin/python bench/steering_dashboard.py            # PostgreSQL (database created)

The large plan is the issue's: 200 actions in a tree of 4 axes × 5 orientations, 500
indicators with 10 years of monthly values (actual and target: 120 000 values), budget
lines for every action and year. The reference, measured side by side in the same run and
database, is the same shape ten times smaller (20 actions, 50 indicators, 1 year of
values). Rows are bulk-inserted (the point is reading them, not the write path).

Each page is requested in-process through Django's test client (logged in as an agent of
the metropole), after two warm-up requests; "server time" is the time of `client.get`,
rendering included; "CPU" is the benchmark process's CPU time for the same request (stable on
a loaded machine; with SQLite it includes the database's work, with PostgreSQL it does not).
The number of SQL queries is counted on one request.
"""

import os
import statistics
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
VAR = Path(tempfile.mkdtemp(prefix="steering-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "metropole.settings")
os.environ.setdefault("METROPOLE_TESTING", "1")
os.environ["METROPOLE_VAR_DIR"] = str(VAR)
apps_env = os.environ.get("METROPOLE_EXTRA_APPS", "")
if "metropole.steering" not in apps_env:
    os.environ["METROPOLE_EXTRA_APPS"] = ",".join(filter(None, [apps_env, "metropole.steering"]))


def ensure_postgres_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            conn.execute(f'DROP DATABASE "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


if os.environ.get("DATABASE_URL", "").startswith("postgres"):
    ensure_postgres_database(os.environ["DATABASE_URL"])

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from metropole.core import services as core_services  # noqa: E402
from metropole.core.models import Membership, Role, Territory, User  # noqa: E402
from metropole.steering.models import (  # noqa: E402
    Action,
    BudgetLine,
    Indicator,
    IndicatorValue,
    Node,
    Plan,
)

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "30"))


def build(metropole, title, *, actions, indicators, years):
    plan = Plan.objects.create(
        territory=metropole,
        title=title,
        start=date(2016, 1, 1),
        end=date(2026, 12, 31),
        is_public=True,
        publish_budget=True,
    )
    axes = [
        Node.objects.create(plan=plan, kind="axis", code=f"A{a}", title=f"Axe {a}", position=a)
        for a in range(4)
    ]
    orientations = [
        Node.objects.create(
            plan=plan,
            parent=axis,
            kind="orientation",
            code=f"{axis.code}.{o}",
            title=f"Orientation {axis.code}.{o}",
            position=o,
        )
        for axis in axes
        for o in range(5)
    ]
    communes = list(Territory.objects.communes().filter(metropole=metropole)[:40])
    statuses = ["planned", "in_progress", "done", "paused", "blocked", "in_progress"]
    created = Action.objects.bulk_create(
        Action(
            plan=plan,
            node=orientations[i % len(orientations)],
            code=f"#{i}",
            title=f"Action {i}",
            pilot_name=f"Direction {i % 7}",
            start=date(2017 + i % 5, 1, 1),
            end=date(2018 + i % 5 + i % 6, 12, 31),
            status=statuses[i % len(statuses)],
            progress=(i * 7) % 101,
            position=i,
        )
        for i in range(actions)
    )
    Action.communes.through.objects.bulk_create(
        Action.communes.through(
            action_id=a.pk, territory_id=communes[(i * 3 + k) % len(communes)].pk
        )
        for i, a in enumerate(created)
        for k in range(3)
    )
    BudgetLine.objects.bulk_create(
        BudgetLine(
            action=a,
            year=2016 + y,
            source=source,
            planned=Decimal(10000 + i),
            actual=Decimal(9000 + i) if y < 8 else None,
        )
        for i, a in enumerate(created)
        for y in range(min(years, 10))
        for source in ("own", "eu_feder")
    )
    made = Indicator.objects.bulk_create(
        Indicator(
            plan=plan,
            node=orientations[i % len(orientations)],
            action=created[i % len(created)],
            name=f"Indicateur {i}",
            kind="result" if i % 2 else "process",
            unit="u",
            baseline_value=Decimal(0),
            baseline_date=date(2016, 1, 1),
            target_value=Decimal(1000),
            target_date=date(2026, 12, 31),
            frequency="monthly",
            direction="increase" if i % 3 else "decrease",
            position=i,
        )
        for i in range(indicators)
    )
    months = [date(2016 + m // 12, m % 12 + 1, 1) for m in range(12 * years)]
    batch = []
    for i, indicator in enumerate(made):
        for m, day in enumerate(months):
            batch.append(
                IndicatorValue(
                    indicator=indicator,
                    date=day,
                    kind="actual",
                    value=Decimal(m * (5 + i % 9)),
                    provenance="import",
                )
            )
            batch.append(
                IndicatorValue(
                    indicator=indicator,
                    date=day,
                    kind="target",
                    value=Decimal(m * 8),
                    provenance="import",
                )
            )
        if len(batch) >= 20000:
            IndicatorValue.objects.bulk_create(batch)
            batch = []
    IndicatorValue.objects.bulk_create(batch)
    return plan


def measure(client, path):
    client.get(path)
    client.get(path)
    connection.queries_log.clear()  # a full log (9000 entries) would capture nothing
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    queries = len(captured.captured_queries)  # now: the next request resets the log
    assert response.status_code == 200, (path, response.status_code)
    times, cpu = [], []
    for _ in range(ROUNDS):
        start, start_cpu = time.perf_counter(), time.process_time()
        client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    times.sort()
    cpu.sort()
    return {
        "cpu50": statistics.median(cpu),
        "cpu95": cpu[max(0, int(round(0.95 * len(cpu))) - 1)],
        "queries": queries,
        "p50": statistics.median(times),
        "p95": times[max(0, int(round(0.95 * len(times))) - 1)],
        "kb": len(response.content) / 1024,
    }


def main():
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    lille = core_services.load_metropole("200093201")
    agent = User.objects.create_user(email="bench@example.org", password="bench-password-1")
    Membership.objects.create(user=agent, territory=lille, role=Role.AGENT)
    small = build(lille, "Plan de référence (×0,1)", actions=20, indicators=50, years=1)
    large = build(lille, "Plan du ticket", actions=200, indicators=500, years=10)
    print(
        f"Data built in {time.perf_counter() - started:.0f} s: "
        f"{IndicatorValue.objects.count():,} values."
    )
    client = Client(HTTP_ACCEPT_LANGUAGE="fr", HTTP_HOST="localhost")
    client.force_login(agent)
    vendor = connection.vendor
    pages = [
        ("dashboard", "/pilotage/plans/{}/"),
        ("dashboard, filtered by axis", "/pilotage/plans/{}/?axe={}"),
        ("transparency page (anonymous)", "/pilotage/transparence/{}/"),
        ("API dashboard", "/api/steering/plans/{}/dashboard"),
    ]
    print(f"\n{vendor}, {ROUNDS} requests per page after 2 warm-up requests\n")
    print(f"load average before the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")
    print(
        "| page | plan | actions | indicators | values | queries "
        "| p50 (ms) | p95 (ms) | CPU p50 (ms) | CPU p95 (ms) | KiB |"
    )
    print("|:---|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, pattern in pages:
        for plan in (small, large):
            axis = plan.nodes.filter(parent=None).first().pk
            path = pattern.format(plan.pk, axis)
            who = Client(HTTP_HOST="localhost") if "anonymous" in label else client
            r = measure(who, path)
            values = IndicatorValue.objects.filter(indicator__plan=plan).count()
            print(
                f"| {label} | {plan.title} | {plan.actions.count()} | "
                f"{plan.indicators.count()} | {values:,} | {r['queries']} | "
                f"{r['p50']:.1f} | {r['p95']:.1f} | {r['cpu50']:.1f} | {r['cpu95']:.1f} | "
                f"{r['kb']:.0f} |"
            )


if __name__ == "__main__":
    main()
