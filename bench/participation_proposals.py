"""Proposal list page with 5,000 proposals and 50,000 supports: server time and queries.

    .venv/bin/python bench/participation_proposals.py [--requests 200] [--rounds 3] [--sqlite-only]

For SQLite (a fresh file) and PostgreSQL (a fresh database on $BENCH_POSTGRES_URL, default
postgres://postgres@127.0.0.1:5439/), in a child process each: migrate, load Lille's
communes, create one idea box with 5,000 proposals (with a commune each) and 50,000
supports from 5,000 people, then time the public list page in-process with Django's test
client (URL resolution, middleware, view, template; no network), logged in as a person
(so the page also asks which proposals they support).

Side by side in the same run:
- queries per page for a list of 50, 500 and 5,000 proposals (must not grow);
- the reference: the same first page ordered by supports counted with COUNT() over the
  supports table at request time (what the page would do without the counter kept on the
  proposal), and the bare ORM query of the page's 20 rows (a lower bound).
Every measure (the page and its references) is taken in each of `--rounds` rounds, one
after the other inside a round, so that a change of machine load hits them alike; each round
records the 1-minute load average when it starts. The summary pools every round's requests.
Decidim's figure for the same page, 7.4 s at 900 proposals, is quoted from the issue's text
(not measured here).
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import fmt_ms, machine, table  # noqa: E402

PROPOSALS, SUPPORTS, PEOPLE = 5_000, 50_000, 5_000


def child(requests: int, rounds: int = 1) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from metropole.core import services as core_services
    from metropole.core.models import Membership, Role, Territory, User
    from metropole.participation import queries, services
    from metropole.participation.models import Component, ComponentKind, Proposal, Support

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # DEBUG off: hashed names
    lille = core_services.load_metropole("200093201")
    communes = list(Territory.objects.communes().filter(metropole=lille))
    roubaix = Territory.objects.get(code="59512")
    agent = User.objects.create_user(email="agent@bench.example.org", password="x" * 12)
    Membership.objects.create(user=agent, territory=roubaix, role=Role.AGENT)
    process = services.create_process(agent, roubaix, title="Bench", blueprint="idea_box")
    component = process.components.get(kind=ComponentKind.PROPOSALS)

    def fill(component, n_proposals, n_supports):
        people = User.objects.bulk_create(
            [User(email=f"p{component.pk}-{i}@bench.example.org") for i in range(PEOPLE)],
            batch_size=2000,
        )
        now = timezone.now()
        proposals = Proposal.objects.bulk_create(
            [
                Proposal(
                    component=component,
                    author=people[i % PEOPLE],
                    title=f"Proposition {i} : aménager la rue {i % 97}",
                    body="Texte de la proposition, de longueur ordinaire. " * 6,
                    commune=communes[i % len(communes)],
                    created_at=now,
                )
                for i in range(n_proposals)
            ],
            batch_size=2000,
        )
        supports, per = [], {}
        for k in range(n_supports):
            # person k % PEOPLE supports proposal (k * 7 + k // PEOPLE) % n: distinct pairs
            person = people[k % PEOPLE]
            proposal = proposals[(k * 7 + k // PEOPLE) % n_proposals]
            supports.append(Support(proposal=proposal, component=component, user=person))
            per[proposal.pk] = per.get(proposal.pk, 0) + 1
        Support.objects.bulk_create(supports, batch_size=5000, ignore_conflicts=True)
        for proposal in proposals:
            proposal.support_count = per.get(proposal.pk, 0)
        Proposal.objects.bulk_update(proposals, ["support_count"], batch_size=2000)
        return people

    started = time.perf_counter()
    people = fill(component, PROPOSALS, SUPPORTS)
    load_s = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # what autovacuum does soon after a bulk load
            cursor.execute("ANALYZE")
    assert Support.objects.filter(component=component).count() == SUPPORTS

    client = Client()
    client.force_login(people[3])
    url = f"/participer/p/{process.slug}/{component.pk}/propositions/"

    def summary(times, cpu=None):
        times = sorted(times)
        return {
            "p50": statistics.median(times),
            "p95": times[max(int(len(times) * 0.95) - 1, 0)],
            "cpu_p50": statistics.median(cpu) if cpu else None,
            "n": len(times),
        }

    def timed_raw(path, n):
        client.get(path)
        times, cpu = [], []
        for _ in range(n):
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.get(path)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
            assert response.status_code == 200
        return times, cpu

    def count_queries(path):
        client.get(path)
        with CaptureQueriesContext(connection) as ctx:
            client.get(path)
        return len(ctx.captured_queries)

    results = {"vendor": connection.vendor, "load_s": load_s}
    # Queries per page against the size of the list: other components of 50 and 500.
    sizes = {}
    for n in (50, 500):
        small = Component.objects.create(
            process=process, kind=ComponentKind.PROPOSALS, title=f"{n}", settings={}
        )
        Proposal.objects.bulk_create(
            [
                Proposal(
                    component=small, author=agent, title=f"P{i}", body="t", commune=communes[0]
                )
                for i in range(n)
            ]
        )
        sizes[n] = count_queries(f"/participer/p/{process.slug}/{small.pk}/propositions/")
    sizes[PROPOSALS] = count_queries(url)
    results["queries"] = sizes

    # Reference 1: supports counted at request time (no counter on the proposal).
    def aggregate_page():
        rows = list(
            Proposal.objects.filter(component=component, is_hidden=False)
            .annotate(n=Count("supports"))
            .order_by("-n", "-pk")[:20]
        )
        return [r.n for r in rows]

    def bare_page():
        return list(queries.proposals(component, order="supported")[:20])

    def loop_raw(fn, n):
        fn()
        times = []
        for _ in range(n):
            start = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start) * 1000)
        return times, None

    assert aggregate_page() == [p.support_count for p in bare_page()]
    measures = {
        "recent": lambda: timed_raw(url, requests),
        "supported": lambda: timed_raw(url + "?ordre=supported", requests),
        "page_100": lambda: timed_raw(url + "?page=100", requests),
        "reference_count": lambda: loop_raw(aggregate_page, max(20, requests // 5)),
        "reference_bare": lambda: loop_raw(bare_page, requests),
    }
    pooled = {key: ([], []) for key in measures}
    results["rounds"] = []
    for number in range(1, rounds + 1):
        this_round = {"round": number, "load": round(os.getloadavg()[0], 1)}
        for key, measure in measures.items():
            times, cpu = measure()
            this_round[key] = summary(times, cpu)
            pooled[key][0].extend(times)
            pooled[key][1].extend(cpu or [])
        results["rounds"].append(this_round)
    for key, (times, cpu) in pooled.items():
        results[key] = summary(times, cpu)
    return results


def run_child(database_url: str, var_dir: str, requests: int, rounds: int) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "METROPOLE_VAR_DIR": var_dir,
        "METROPOLE_EXTRA_APPS": "metropole.participation",
        "DJANGO_SECRET_KEY": "bench-secret-key-not-for-production-0123456789",
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "METROPOLE_TASKS_BACKEND": "django.tasks.backends.dummy.DummyBackend",
        "DJANGO_SETTINGS_MODULE": "metropole.settings",
    }
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(requests), str(rounds)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(out.stderr[-4000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def postgres_database(name: str) -> str | None:
    import psycopg

    base = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5439/")
    try:
        with psycopg.connect(base + "postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        print(f"PostgreSQL not reachable ({error}); SQLite only.", file=sys.stderr)
        return None
    return base + name


def main():
    requests = int(sys.argv[sys.argv.index("--requests") + 1]) if "--requests" in sys.argv else 200
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 3
    load_before = f"{os.getloadavg()[0]:.1f}"
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        runs.append(run_child(f"sqlite:///{tmp}/bench.sqlite3", tmp, requests, rounds))
        if "--sqlite-only" not in sys.argv:
            url = postgres_database("metropole_participation_bench")
            if url:
                runs.append(run_child(url, tmp, requests, rounds))
    print(f"## Proposal list: {PROPOSALS:,} proposals, {SUPPORTS:,} supports\n")
    print(table(["", "value"], [[k, v] for k, v in machine()], align="ll"))
    print()
    rows = []
    for r in runs:
        for label, key in [
            ("list page, most recent first", "recent"),
            ("list page, most supported first", "supported"),
            ("list page 100 (rows 1,981–2,000)", "page_100"),
            ("reference: first page by COUNT(supports)", "reference_count"),
            ("reference: bare ORM query of the 20 rows", "reference_bare"),
        ]:
            cpu = r[key]["cpu_p50"]
            rows.append(
                [
                    r["vendor"],
                    label,
                    fmt_ms(r[key]["p50"]),
                    fmt_ms(r[key]["p95"]),
                    fmt_ms(cpu) if cpu is not None else "–",
                ]
            )
    print(f"All rounds pooled ({rounds} rounds of {requests} requests per page measure):\n")
    print(table(["database", "measure", "p50 ms", "p95 ms", "app CPU p50 ms"], rows, align="llrrr"))
    print(f"\nLoad average before / after: {load_before} / {os.getloadavg()[0]:.1f}")
    print("\nRound by round (p50 / p95 ms; load = 1-minute load average at the round's start):\n")
    keys = ["recent", "supported", "page_100", "reference_count", "reference_bare"]
    print(
        table(
            [
                "database",
                "round",
                "load",
                "recent",
                "supported",
                "page 100",
                "ref. COUNT",
                "ref. bare",
            ],
            [
                [r["vendor"], rd["round"], rd["load"]]
                + [f"{fmt_ms(rd[k]['p50'])} / {fmt_ms(rd[k]['p95'])}" for k in keys]
                for r in runs
                for rd in r["rounds"]
            ],
            align="lrrrrrrr",
        )
    )
    print()
    print(
        table(
            ["database", "queries, 50 proposals", "500", "5,000", "fixture load s"],
            [
                [
                    r["vendor"],
                    *(r["queries"][str(n)] for n in (50, 500, PROPOSALS)),
                    f"{r['load_s']:.1f}",
                ]
                for r in runs
            ],
        )
    )


if __name__ == "__main__":
    if "--child" in sys.argv:
        print(json.dumps(child(int(sys.argv[-2]), int(sys.argv[-1]))))
    else:
        main()
