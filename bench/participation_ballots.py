"""Ballots cast per second by 200 concurrent voters on PostgreSQL, integrity checked after.

    .venv/bin/python bench/participation_ballots.py [--voters 200]

In a fresh PostgreSQL database ($BENCH_POSTGRES_URL, default
postgres://postgres@127.0.0.1:5439/): Lille's communes, a participatory budget whose vote
is open (5 projects, at most 3 per ballot, knapsack within the budget), N voters.
Each voter saves a draft ballot and casts it — the same services as the page and the API
(permission and phase check, rule check, row locks, audit) — and at the same moment tries
to cast a second time from another thread. Every voter is a thread with its own database
connection, all released together by a barrier.

Side by side in the same run: the same N voters' ballots cast one after the other in one
thread (the reference: no contention, same code path).
Integrity afterwards: exactly N cast ballots, one per voter, no duplicate, the lines of
every ballot within the budget and the maximum, every second attempt refused.
"""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import machine, table  # noqa: E402


def child(voters: int) -> dict:
    import django

    django.setup()
    import random

    from django.core.management import call_command
    from django.db import connections
    from django.db.models import Count, Sum
    from django.utils import timezone

    from metropole.core import services as core_services
    from metropole.core.exceptions import PlatformError
    from metropole.core.models import Membership, Role, Territory, User
    from metropole.participation import services
    from metropole.participation.models import Ballot, BallotLine, ComponentKind
    from metropole.participation.services import _blueprint

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    core_services.load_metropole("200093201")
    roubaix = Territory.objects.get(code="59512")
    agent = User.objects.create_user(email="agent@bench.example.org", password="x" * 12)
    Membership.objects.create(user=agent, territory=roubaix, role=Role.AGENT)

    def budget(title):
        phases, _ = _blueprint("budget", timezone.now())
        start = timezone.now() - (phases[2][1] - phases[0][1]) - timedelta_hour()
        process = services.create_process(
            agent, roubaix, title=title, blueprint="budget", start=start
        )
        component = process.components.get(kind=ComponentKind.BUDGET)
        area = services.add_area(agent, component, name="Roubaix", amount=100_000, max_projects=3)
        projects = [
            services.add_project(agent, area, title=f"Projet {i}", cost=c)
            for i, c in enumerate([20_000, 30_000, 40_000, 50_000, 60_000])
        ]
        return component, area, projects

    def timedelta_hour():
        from datetime import timedelta

        return timedelta(hours=1)

    people = User.objects.bulk_create(
        [User(email=f"v{i}@bench.example.org", home_commune=roubaix) for i in range(voters)]
    )
    rng = random.Random(11)
    choices = []
    for _ in people:
        while True:
            picked = rng.sample(range(5), rng.randint(1, 3))
            if sum([20_000, 30_000, 40_000, 50_000, 60_000][i] for i in picked) <= 100_000:
                choices.append(picked)
                break

    def vote(user, component, area, projects, picked):
        services.save_ballot(
            user, component, area_id=area.pk, project_ids=[projects[i].pk for i in picked]
        )
        services.cast_ballot(user, component)

    # Reference: one thread, one voter after the other.
    component, area, projects = budget("Séquentiel")
    start = time.perf_counter()
    for user, picked in zip(people, choices, strict=True):
        vote(user, component, area, projects, picked)
    sequential_s = time.perf_counter() - start
    connections.close_all()

    # Concurrent: every voter on a thread, plus a second attempt at the same moment.
    component, area, projects = budget("Concurrent")
    jobs = []
    for user, picked in zip(people, choices, strict=True):
        jobs += [(user, picked), (user, picked)]
    barrier = threading.Barrier(len(jobs) + 1)
    outcomes = []
    lock = threading.Lock()

    def run(user, picked):
        barrier.wait()
        try:
            vote(user, component, area, projects, picked)
            result = "ok"
        except PlatformError as error:
            result = type(error).__name__
        except Exception as error:  # noqa: BLE001 - reported, counted as a failure
            result = f"error: {error!r}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    concurrent_s = time.perf_counter() - start

    cast = Ballot.objects.filter(component=component, cast_at__isnull=False)
    per_voter = cast.values("user").annotate(n=Count("id"))
    over = [
        b
        for b in cast.annotate(total=Sum("lines__project__cost"), n=Count("lines"))
        if b.total > area.amount or b.n > area.max_projects
    ]
    expected_lines = sum(len(p) for p in choices)
    integrity = {
        "cast_ballots": cast.count(),
        "all_ballots": Ballot.objects.filter(component=component).count(),
        "voters_with_more_than_one": sum(1 for row in per_voter if row["n"] > 1),
        "ballots_over_rules": len(over),
        "lines": BallotLine.objects.filter(ballot__component=component).count(),
        "expected_lines": expected_lines,
        "accepted": outcomes.count("ok"),
        "refused": sorted({o for o in outcomes if o != "ok"}),
    }
    return {
        "voters": voters,
        "sequential_s": sequential_s,
        "concurrent_s": concurrent_s,
        "integrity": integrity,
    }


def main():
    import psycopg

    voters = int(sys.argv[sys.argv.index("--voters") + 1]) if "--voters" in sys.argv else 200
    base = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5439/")
    name = "metropole_participation_ballots"
    load_before = os.getloadavg()[0]
    with psycopg.connect(base + "postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "DATABASE_URL": base + name,
            "DATABASE_CONN_MAX_AGE": "0",
            "METROPOLE_VAR_DIR": tmp,
            "METROPOLE_EXTRA_APPS": "metropole.participation",
            "DJANGO_SECRET_KEY": "bench-secret-key-not-for-production-0123456789",
            "DJANGO_DEBUG": "0",
            "METROPOLE_TASKS_BACKEND": "django.tasks.backends.dummy.DummyBackend",
            "DJANGO_SETTINGS_MODULE": "metropole.settings",
        }
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(voters)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if out.returncode != 0:
        raise SystemExit(out.stderr[-4000:])
    r = json.loads(out.stdout.strip().splitlines()[-1])
    n, i = r["voters"], r["integrity"]
    print(f"## Participatory budget: {n} voters on PostgreSQL\n")
    print(table(["", "value"], [[k, v] for k, v in machine()], align="ll"))
    print()
    print(
        table(
            ["run", "ballots cast", "seconds", "ballots / s"],
            [
                [
                    "reference: one after the other, 1 thread",
                    n,
                    f"{r['sequential_s']:.2f}",
                    f"{n / r['sequential_s']:.0f}",
                ],
                [
                    f"{n} concurrent voters (+{n} duplicate attempts)",
                    i["cast_ballots"],
                    f"{r['concurrent_s']:.2f}",
                    f"{i['cast_ballots'] / r['concurrent_s']:.0f}",
                ],
            ],
            align="lrrr",
        )
    )
    print()
    ok = (
        i["cast_ballots"] == i["all_ballots"] == n
        and i["voters_with_more_than_one"] == 0
        and i["ballots_over_rules"] == 0
        and i["lines"] == i["expected_lines"]
        and i["accepted"] == n
    )
    print(table(["integrity check", "value"], [[k, v] for k, v in i.items()], align="lr"))
    print(f"\nIntegrity: {'OK' if ok else 'FAILED'}")
    print(f"Load average before / after: {load_before:.1f} / {os.getloadavg()[0]:.1f}")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    if "--child" in sys.argv:
        print(json.dumps(child(int(sys.argv[-1]))))
    else:
        main()
