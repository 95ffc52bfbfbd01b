"""Agent queue of online procedures: list page time and SQL queries per page, with 1,000 and
100,000 requests side by side in the same database, and the keyset pagination against the
OFFSET + COUNT paginator it replaces (reference, same rows, same run).

    .venv/bin/python bench/services_queue.py                 # SQLite in a temporary directory
    .venv/bin/python bench/services_queue.py --database-url postgres://postgres@127.0.0.1:5439/metropole_procedures

Two communes of Lille get 1,000 and 100,000 submitted requests (bulk insert, then ANALYZE);
an agent of each opens its queue page (Django test client, in-process: template rendering
included, no network) and the same queue through the API. Prints a Markdown table and writes
bench/results/services_queue-<engine>.json. The rows are deleted at the end.
"""

import argparse
import json
import os
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import queries_of, setup_django_in_process, timed  # noqa: E402

SMALL, LARGE = 1_000, 100_000
ROUNDS = 60

timed = partial(timed, rounds=ROUNDS)


def setup_django(database_url: str | None):
    """The benchmark's Django: only the modules the request queue needs."""
    os.environ["METROPOLE_EXTRA_APPS"] = ",".join(
        [
            "metropole.notifications",
            "metropole.catalogue",
            "metropole.connectors",
            "metropole.procedures",
        ]
    )
    setup_django_in_process(database_url, "queue")


def populate(territory, form, team, count, prefix):
    from datetime import timedelta

    from django.utils import timezone

    from metropole.procedures.models import Request

    now = timezone.now()
    statuses = ["new", "open", "done"]
    batch = []
    for i in range(count):
        status = statuses[i % 3]
        sent = now - timedelta(minutes=i * 7)
        batch.append(
            Request(
                form=form,
                metropole=form.metropole,
                territory=territory,
                commune=territory,
                code=f"{prefix}{i // 10000:03d}-{i % 10000:04d}",
                status=status,
                data={"name": f"Demande de test {i}"},
                summary=f"Demande de test {i}",
                submitted_at=sent,
                created_at=sent,
                due_at=sent + timedelta(days=15),
                closed_at=sent + timedelta(days=3) if status == "done" else None,
                team=team if i % 2 else None,
            )
        )
        if len(batch) == 5000:
            Request.objects.bulk_create(batch)
            batch = []
    Request.objects.bulk_create(batch)


def measure(size, territory, agent, team, load_s) -> dict:
    """Times and query counts of one queue."""
    from django.core.paginator import Paginator
    from django.test import Client

    from metropole.procedures import queries

    client = Client()
    client.force_login(agent)
    page = f"/demarches/gestion/{territory.slug}/"
    first = client.get(page)
    assert first.status_code == 200 and first.content.count(b'name="codes"') == 50
    qs = queries.queue(territory, status="all")
    # the middle of the queue: the cursor of the row at mid-depth
    middle = qs[size // 2]
    deep_cursor = queries._cursor(middle)
    deep = f"{page}?status=all&apres={deep_cursor}"
    filtered = f"{page}?status=open&team={team.pk}&late=1"
    api = f"/api/procedures/queue/{territory.code}?status=all&after={deep_cursor}"
    offset_page = size // 50 // 2 or 1

    def offset_reference(number=offset_page):
        paginator = Paginator(queries.queue(territory, status="all"), 50)
        return list(paginator.page(number).object_list), paginator.count

    row = {
        "requests": size,
        "load_s": round(load_s, 1),
        "queries_first_page": queries_of(lambda: client.get(page)),
        "queries_deep_page": queries_of(lambda: client.get(deep)),
        "queries_filtered": queries_of(lambda: client.get(filtered)),
        "page_first": timed(lambda: client.get(page)),
        "page_deep": timed(lambda: client.get(deep)),
        "page_filtered": timed(lambda: client.get(filtered)),
        "api_deep": timed(lambda: client.get(api)),
        "keyset_deep_sql": timed(
            lambda: queries.keyset_page(queries.queue(territory, status="all"), deep_cursor, 50)
        ),
        "offset_count_reference_sql": timed(offset_reference),
    }
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    setup_django(args.database_url)

    from django.db import connection

    from metropole.core import services as core
    from metropole.core.models import Membership, Role, Territory, User
    from metropole.procedures import services
    from metropole.procedures.models import Form, Request, Team, Workflow

    lille = Territory.objects.filter(code="200093201").first() or core.load_metropole("200093201")
    admin, _ = User.objects.get_or_create(email="bench-admin@example.org")
    admin.is_superuser = True
    admin.save()
    workflow = Workflow.objects.filter(
        territory=lille, slug="bench"
    ).first() or services.save_workflow(
        admin,
        lille,
        name="bench",
        slug="bench",
        definition={
            "statuses": [
                {"code": "new", "label": "New"},
                {"code": "open", "label": "Open"},
                {"code": "done", "label": "Done", "final": True},
            ],
            "transitions": [
                {"from": "new", "to": "open", "label": "Take"},
                {"from": "open", "to": "done", "label": "Close"},
            ],
        },
    )
    form = Form.objects.filter(metropole=lille, slug="bench-queue").first() or services.save_form(
        admin, lille, slug="bench-queue", title="Bench queue", workflow=workflow, published=True
    )
    sizes = {SMALL: "59009", LARGE: "59350"}  # Villeneuve-d'Ascq, Lille
    results = {"engine": connection.vendor, "rows": []}
    try:
        Request.objects.filter(form=form).delete()
        agents = {}
        for size, insee in sizes.items():
            territory = Territory.objects.get(code=insee)
            team, _ = Team.objects.get_or_create(
                territory=territory, slug="bench", defaults={"name": "Bench"}
            )
            start = time.perf_counter()
            populate(territory, form, team, size, "S" if size == SMALL else "L")
            load_s = time.perf_counter() - start
            agent, _ = User.objects.get_or_create(email=f"bench-agent-{insee}@example.org")
            Membership.objects.get_or_create(user=agent, territory=territory, role=Role.AGENT)
            agents[size] = (territory, agent, team, load_s)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        for size, (territory, agent, team, load_s) in agents.items():
            row = measure(size, territory, agent, team, load_s)
            results["rows"].append(row)
    finally:
        Request.objects.filter(form=form).delete()

    print(f"Agent queue — {results['engine']}, {ROUNDS} rounds, 50 rows per page\n")
    headers = ["", *(f"{r['requests']:,} requests".replace(",", " ") for r in results["rows"])]
    lines = [
        ("queries: first page", "queries_first_page"),
        ("queries: page in the middle", "queries_deep_page"),
        ("queries: filtered (open, team, late)", "queries_filtered"),
    ]
    out = ["| " + " | ".join(headers) + " |", "|:---|" + "---:|" * len(results["rows"])]
    for label, key in lines:
        out.append(f"| {label} | " + " | ".join(str(r[key]) for r in results["rows"]) + " |")
    for label, key in [
        ("page, first: p50 / p95 ms", "page_first"),
        ("page, middle of the queue: p50 / p95 ms", "page_deep"),
        ("page, filtered: p50 / p95 ms", "page_filtered"),
        ("API, middle of the queue: p50 / p95 ms", "api_deep"),
        ("SQL only, keyset, middle: p50 / p95 ms", "keyset_deep_sql"),
        ("reference: OFFSET + COUNT, middle: p50 / p95 ms", "offset_count_reference_sql"),
    ]:
        out.append(
            f"| {label} | "
            + " | ".join(f"{r[key]['p50_ms']} / {r[key]['p95_ms']}" for r in results["rows"])
            + " |"
        )
    print("\n".join(out))
    target = (
        Path(__file__).resolve().parent / "results" / f"services_queue-{results['engine']}.json"
    )
    target.parent.mkdir(exist_ok=True)
    target.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
