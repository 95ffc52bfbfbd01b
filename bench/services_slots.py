"""Appointments: slot computation for a month of an agenda with 20 agents, and 100
clients booking one slot at the same time on PostgreSQL.

1. Slot engine: `slots.free_slots` (three queries, then set look-ups) against
   `slots.naive_free_slots` (overlap tests against every appointment and absence) on the
   same agenda — 20 agents, weekday hours 08:30–12:00 and 13:30–17:30 plus Saturday
   morning, 15-minute grid, 30-minute appointments, about a third of the month already
   booked, absences — over one month. Both must return the same slots; p50/p95 of each.
2. Concurrent booking: 100 threads, each with its own PostgreSQL connection, wait on a
   barrier and book the same time of a one-agent agenda through `services.book`. Exactly
   one must succeed (the unique (agent, start) of the slot holds); the others get a
   Conflict. Repeated for several slots.

    DATABASE_URL=postgres://postgres@127.0.0.1:5439/metropole_services_bench \\
        .venv/bin/python bench/services_slots.py [--repeat 30] [--clients 100] [--rounds 5]

The database is created and migrated if needed (its data is replaced by this run's).
"""

import argparse
import os
import random
import statistics
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "metropole.settings")
os.environ.setdefault("METROPOLE_TESTING", "1")
os.environ.setdefault("METROPOLE_TASKS_BACKEND", "django.tasks.backends.immediate.ImmediateBackend")
os.environ.setdefault(
    "METROPOLE_EXTRA_APPS",
    "metropole.catalogue,metropole.reports,metropole.notifications,metropole.appointments",
)
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5439/metropole_services_bench")
os.environ.setdefault("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")

from _common import fmt_ms, percentile, table  # noqa: E402


def ensure_database():
    """Create the PostgreSQL database named by DATABASE_URL if it does not exist."""
    from urllib.parse import urlsplit

    import psycopg

    url = urlsplit(os.environ["DATABASE_URL"])
    if not url.scheme.startswith("postgres"):
        return
    name = url.path.lstrip("/")
    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def setup():
    ensure_database()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("migrate", verbosity=0)
    from metropole.core.models import Territory
    from metropole.core.services import load_metropole

    if not Territory.objects.filter(code="200093201").exists():
        load_metropole("200093201")


HOURS = [
    ["lundi", "vendredi", [["08:30:00", "12:00:00"], ["13:30:00", "17:30:00"]]],
    ["samedi", "samedi", [["09:00:00", "12:00:00"]]],
]


def build_agenda(agents: int, seed: int):
    from metropole.appointments import slots
    from metropole.appointments.models import (
        Absence,
        Agenda,
        Agent,
        Appointment,
        AppointmentType,
        Hold,
    )
    from metropole.core.models import Territory

    Appointment.objects.filter(agenda__name__startswith="bench ").delete()
    Agenda.objects.filter(name__startswith="bench ").delete()
    lille = Territory.objects.get(code="59350")
    agenda = Agenda.objects.create(territory=lille, name="bench month", opening_hours=HOURS)
    staff = [Agent.objects.create(agenda=agenda, name=f"Agent {n}") for n in range(agents)]
    kind = AppointmentType.objects.create(
        agenda=agenda, name="Dossier", duration_minutes=30, min_delay_hours=0, max_delay_days=90
    )
    now = datetime(2027, 3, 1, 7, 0, tzinfo=slots.LOCAL)  # a Monday, no school holiday check
    first, last = now.date(), now.date() + timedelta(days=30)
    rng = random.Random(seed)
    offered = slots.free_slots(agenda, kind, first, last, now=now)
    appointments, holds = [], []
    step = timedelta(minutes=agenda.slot_minutes)
    busy = set()
    for slot in offered:
        for agent in staff:
            if rng.random() < 0.33:
                keys = {(agent.pk, slot.start), (agent.pk, slot.start + step)}
                if keys & busy:
                    continue
                busy |= keys
                appointments.append(
                    Appointment(
                        agenda=agenda,
                        type=kind,
                        agent=agent,
                        start=slot.start,
                        end=slot.end,
                        name="Bench",
                        email="bench@example.org",
                    )
                )
    Appointment.objects.bulk_create(appointments, batch_size=2000)
    for a in Appointment.objects.filter(agenda=agenda):
        holds += [
            Hold(appointment=a, agent_id=a.agent_id, start=a.start),
            Hold(appointment=a, agent_id=a.agent_id, start=a.start + step),
        ]
    Hold.objects.bulk_create(holds, batch_size=5000)
    for agent in staff[:5]:
        day = first + timedelta(days=rng.randrange(25))
        start = datetime.combine(day, datetime.min.time(), tzinfo=slots.LOCAL).replace(hour=8)
        Absence.objects.create(agent=agent, start=start, end=start + timedelta(days=2))
    return agenda, kind, now, first, last, len(appointments)


def bench_slots(repeat: int, agents: int = 20, seed: int = 2026) -> dict:
    from metropole.appointments import slots

    agenda, kind, now, first, last, booked = build_agenda(agents, seed)
    fast_times, naive_times = [], []
    fast = naive = None
    for _ in range(repeat):
        start = time.perf_counter()
        fast = slots.free_slots(agenda, kind, first, last, now=now)
        fast_times.append((time.perf_counter() - start) * 1000)
    for _ in range(max(3, repeat // 10)):
        start = time.perf_counter()
        naive = slots.naive_free_slots(agenda, kind, first, last, now=now)
        naive_times.append((time.perf_counter() - start) * 1000)
    assert fast == naive, "the slot engine and its reference disagree"
    return {
        "agents": agents,
        "booked": booked,
        "slots": len(fast),
        "free_agent_slots": sum(s.free for s in fast),
        "fast_p50": statistics.median(fast_times),
        "fast_p95": percentile(fast_times, 0.95),
        "naive_p50": statistics.median(naive_times),
        "naive_p95": percentile(naive_times, 0.95),
        "runs": (len(fast_times), len(naive_times)),
    }


def bench_race(clients: int, rounds: int) -> dict:
    from django.db import connection, connections

    from metropole.appointments import services, slots
    from metropole.appointments.models import Agenda, Agent, Appointment, AppointmentType
    from metropole.core.exceptions import Conflict
    from metropole.core.models import Territory

    if connection.vendor != "postgresql":
        return {"skipped": "needs PostgreSQL"}
    Appointment.objects.filter(agenda__name="bench race").delete()
    Agenda.objects.filter(name="bench race").delete()
    agenda = Agenda.objects.create(
        territory=Territory.objects.get(code="59350"), name="bench race", opening_hours=HOURS
    )
    Agent.objects.create(agenda=agenda, name="Seul agent")
    kind = AppointmentType.objects.create(agenda=agenda, name="Dossier", duration_minutes=30)
    from django.utils import timezone

    today = timezone.localdate()
    targets = slots.free_slots(agenda, kind, today, today + timedelta(days=30))[::7][:rounds]
    results = []
    for slot in targets:
        barrier = threading.Barrier(clients)
        outcomes, errors, lock = [], [], threading.Lock()

        def attempt(
            n, start=slot.start, barrier=barrier, outcomes=outcomes, errors=errors, lock=lock
        ):
            try:
                connection.ensure_connection()  # connect before the barrier
                barrier.wait()
                services.book(None, kind, start, name=f"Client {n}", email=f"c{n}@example.org")
                result = "ok"
            except Conflict:
                result = "conflict"
            except Exception as error:  # noqa: BLE001 - reported below
                result = "error"
                with lock:
                    errors.append(repr(error))
            finally:
                connections.close_all()
            with lock:
                outcomes.append(result)

        threads = [threading.Thread(target=attempt, args=(n,)) for n in range(clients)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = (time.perf_counter() - started) * 1000
        stored = Appointment.objects.filter(agenda=agenda, start=slot.start).count()
        results.append(
            {
                "slot": slot.start.isoformat(timespec="minutes"),
                "ok": outcomes.count("ok"),
                "conflict": outcomes.count("conflict"),
                "error": outcomes.count("error"),
                "stored": stored,
                "ms": elapsed,
                "errors": errors[:3],
            }
        )
    return {"clients": clients, "rounds": results}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    setup()
    from django.db import connection

    s = bench_slots(args.repeat)
    print(f"## Slot computation — one month, {s['agents']} agents ({connection.vendor})\n")
    print(
        f"{s['booked']} appointments already booked; {s['slots']} free start times "
        f"({s['free_agent_slots']} agent-slots). Same result from both; "
        f"runs: {s['runs'][0]} / {s['runs'][1]}.\n"
    )
    print(
        table(
            ["", "p50 (ms)", "p95 (ms)"],
            [
                ["free_slots (engine)", fmt_ms(s["fast_p50"]), fmt_ms(s["fast_p95"])],
                ["naive_free_slots (reference)", fmt_ms(s["naive_p50"]), fmt_ms(s["naive_p95"])],
                ["speed-up (p50)", f"{s['naive_p50'] / s['fast_p50']:.0f}×", ""],
            ],
        )
    )
    race = bench_race(args.clients, args.rounds)
    print(f"\n## {args.clients} clients booking the same slot at once ({connection.vendor})\n")
    if "skipped" in race:
        print(race["skipped"])
        return
    print(
        table(
            ["slot", "succeeded", "refused (409)", "errors", "stored", "wall time (ms)"],
            [
                [r["slot"], r["ok"], r["conflict"], r["error"], r["stored"], fmt_ms(r["ms"])]
                for r in race["rounds"]
            ],
        )
    )
    for r in race["rounds"]:
        if r["errors"]:
            print("errors:", r["errors"])
    ok = all(r["ok"] == 1 and r["stored"] == 1 for r in race["rounds"])
    print("\nExactly one booking per slot:", "yes" if ok else "NO")


if __name__ == "__main__":
    main()
