"""Workflow editor of online procedures: the cost of its pages and of a change when the
workflow has 1,000 or 100,000 requests (each page and each save checks which statuses are in
use), against the JSON page it replaces (reference, same run); and the server-drawn diagram
for workflows of 5 to 50 statuses against serialising the same definition as JSON.

    .venv/bin/python bench/procedures_workflow_editor.py                # SQLite, temporary
    .venv/bin/python bench/procedures_workflow_editor.py --database-url postgres://postgres@127.0.0.1:5439/metropole_procedures

In-process (Django test client: middleware, permission checks, templates; no network).
Prints Markdown tables and writes bench/results/procedures_workflow_editor-<engine>.json.
The rows it creates are deleted at the end.
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services_queue import populate, queries_of, setup_django, timed  # noqa: E402

SIZES = (1_000, 100_000)
ROUNDS = 30


def synthetic(statuses: int) -> dict:
    """A chain of statuses with a way back every third one, a time limit on every fifth, and
    the last two final: the shape of real workflows, longer."""
    codes = [f"s{i}" for i in range(statuses)]
    definition = {"statuses": [], "transitions": []}
    for i, code in enumerate(codes):
        status = {"code": code, "label": f"Étape {i} du traitement", "actions": []}
        if i >= statuses - 2:
            status["final"] = True
        elif i % 5 == 4:
            status["actions"].append({"type": "timeout", "days": 10, "to": codes[-1]})
        definition["statuses"].append(status)
    for i in range(statuses - 2):
        definition["transitions"].append({"from": codes[i], "to": codes[i + 1], "label": "Suite"})
        if i % 3 == 2:
            definition["transitions"].append(
                {"from": codes[i], "to": codes[i - 2], "label": "Retour"}
            )
    definition["transitions"].append({"from": "*", "to": codes[-1], "label": "Abandon"})
    return definition


def diagram_rows() -> list[dict]:
    from metropole.procedures import diagram
    from metropole.procedures.workflow import problems, validate_definition

    rows = []
    for size in (5, 20, 50):
        definition = validate_definition(synthetic(size))
        rows.append(
            {
                "statuses": size,
                "svg_bytes": len(diagram.render(definition)),
                "diagram": timed(lambda d=definition: diagram.render(d), rounds=200),
                "validate": timed(lambda d=definition: validate_definition(d), rounds=200),
                "reference_json": timed(
                    lambda d=definition: json.dumps(d, indent=2, ensure_ascii=False), rounds=200
                ),
            }
        )
    # problems() reads teams and connectors: measured on the pages below.
    assert problems
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    setup_django(args.database_url)

    from django.db import connection
    from django.test import Client

    from metropole.core import services as core
    from metropole.core.models import Territory, User
    from metropole.procedures import services
    from metropole.procedures.models import Form, Request, Team, Workflow

    lille = Territory.objects.filter(code="200093201").first() or core.load_metropole("200093201")
    commune = Territory.objects.get(code="59350")
    admin, _ = User.objects.get_or_create(email="bench-editor@example.org")
    admin.is_superuser = True
    admin.save()
    team, _ = Team.objects.get_or_create(territory=commune, slug="bench", defaults={"name": "B"})
    definition = {
        "statuses": [
            {"code": "new", "label": "New", "colour": "info"},
            {"code": "open", "label": "Open", "colour": "warning"},
            {"code": "done", "label": "Done", "final": True, "colour": "success"},
        ],
        "transitions": [
            {"from": "new", "to": "open", "label": "Take"},
            {"from": "open", "to": "done", "label": "Close"},
        ],
    }
    results = {"engine": connection.vendor, "pages": [], "diagram": diagram_rows()}
    made = []
    try:
        for size in SIZES:
            slug = f"bench-editor-{size}"
            Workflow.objects.filter(territory=lille, slug=slug).delete()
            workflow = services.save_workflow(
                admin, lille, name=slug, slug=slug, definition=definition
            )
            form = services.save_form(
                admin, lille, slug=slug, title=slug, workflow=workflow, published=True
            )
            made.append((form, workflow))
            start = time.perf_counter()
            populate(commune, form, team, size, "E" if size == SIZES[0] else "F")
            load_s = time.perf_counter() - start
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            client = Client()
            client.force_login(admin)
            base = f"/demarches/gestion/{lille.slug}/circuits/{workflow.pk}/"
            status_page = f"{base}etats/open/"

            def save(workflow=workflow, n=[0]):  # noqa: B006 — a counter across calls
                n[0] += 1
                changed = json.loads(json.dumps(workflow.definition))
                changed["statuses"][1]["label"] = f"Open {n[0]}"
                return services.save_workflow(
                    admin, lille, name=workflow.name, definition=changed, workflow=workflow
                )

            results["pages"].append(
                {
                    "requests": size,
                    "load_s": round(load_s, 1),
                    "queries_overview": queries_of(lambda c=client, u=base: c.get(u)),
                    "queries_status": queries_of(lambda c=client, u=status_page: c.get(u)),
                    "queries_json": queries_of(lambda c=client, u=f"{base}json/": c.get(u)),
                    "overview": timed(lambda c=client, u=base: c.get(u), rounds=ROUNDS),
                    "status": timed(lambda c=client, u=status_page: c.get(u), rounds=ROUNDS),
                    "save": timed(save, rounds=ROUNDS),
                    "reference_json_page": timed(
                        lambda c=client, u=f"{base}json/": c.get(u), rounds=ROUNDS
                    ),
                }
            )
    finally:
        for form, workflow in made:
            Request.objects.filter(form=form).delete()
            Form.objects.filter(pk=form.pk).delete()
            Workflow.objects.filter(pk=workflow.pk).delete()

    engine = results["engine"]
    print(f"Workflow editor — {engine}, {ROUNDS} rounds per page\n")
    rows = results["pages"]
    out = [
        "| | " + " | ".join(f"{r['requests']:,} requests".replace(",", " ") for r in rows) + " |",
        "|:---|" + "---:|" * len(rows),
    ]
    for label, key in [
        ("SQL queries: workflow page", "queries_overview"),
        ("SQL queries: a status' page", "queries_status"),
        ("SQL queries: reference JSON page", "queries_json"),
    ]:
        out.append(f"| {label} | " + " | ".join(str(r[key]) for r in rows) + " |")
    for label, key in [
        ("workflow page (diagram, problems, in use): p50 / p95 ms", "overview"),
        ("a status' page: p50 / p95 ms", "status"),
        ("a change saved (service, checks in use): p50 / p95 ms", "save"),
        ("reference: the JSON page: p50 / p95 ms", "reference_json_page"),
    ]:
        out.append(
            f"| {label} | "
            + " | ".join(f"{r[key]['p50_ms']} / {r[key]['p95_ms']}" for r in rows)
            + " |"
        )
    print("\n".join(out))
    print("\nDiagram (pure Python, 200 rounds)\n")
    out = [
        "| statuses | SVG bytes | diagram p50 / p95 ms | validation p50 / p95 ms "
        "| reference: JSON dump p50 / p95 ms |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in results["diagram"]:
        out.append(
            f"| {r['statuses']} | {r['svg_bytes']} | {r['diagram']['p50_ms']} / "
            f"{r['diagram']['p95_ms']} | {r['validate']['p50_ms']} / {r['validate']['p95_ms']} "
            f"| {r['reference_json']['p50_ms']} / {r['reference_json']['p95_ms']} |"
        )
    print("\n".join(out))
    target = (
        Path(__file__).resolve().parent / "results" / f"procedures_workflow_editor-{engine}.json"
    )
    target.parent.mkdir(exist_ok=True)
    target.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
