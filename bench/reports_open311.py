"""Open311 GeoReport v2 with service attributes: time and SQL queries of the endpoints, each
side by side with a reference measured in the same run on the same rows.

    .venv/bin/python bench/reports_open311.py                 # SQLite in a temporary directory
    .venv/bin/python bench/reports_open311.py --database-url postgres://postgres@127.0.0.1:5439/metropole_reports

The demo's ten report categories (two with questions) get five more questions each on three
of them, and 5,000 reports are bulk-inserted in the metropole's communes. Then (Django test
client, in-process: no network):
- `services.json`: queries must not grow with the categories that have questions (prefetch);
- `requests.json` (1,000 results, the endpoint's cap) against the reference: the same 1,000
  rows read with `values()` and dumped with `json.dumps`;
- POST `requests.json` with four answers to check against the definition, against the same
  POST to a category without questions (the attribute check's own cost);
- the public map's overlay `/api/reports/map.geojson` (2,000 points) against `values()` +
  `json.dumps` of the same points.
Prints a Markdown table and writes bench/results/reports_open311-<engine>.json. The bench
rows are deleted at the end.
"""

import argparse
import json
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import queries_of, setup_django_in_process, timed  # noqa: E402

REPORTS = 5_000
ROUNDS = 40

timed = partial(timed, rounds=ROUNDS)


def populate(metropole, categories, count):
    """`count` reports spread over the communes' town halls (bulk insert)."""
    from metropole.catalogue.queries import holder_territory
    from metropole.core.models import Territory
    from metropole.reports.models import Report

    communes = [
        c
        for c in Territory.objects.communes().filter(metropole=metropole)
        if (c.town_hall or {}).get("lat") is not None
    ]
    holders = {}
    batch = []
    for i in range(count):
        commune = communes[i % len(communes)]
        category = categories[i % len(categories)]
        key = (category.pk, commune.pk)
        if key not in holders:
            holders[key] = holder_territory(category.competence, commune)
        batch.append(
            Report(
                metropole=metropole,
                territory=holders[key],
                commune=commune,
                category=category,
                lat=float(commune.town_hall["lat"]) + (i % 7) * 1e-4,
                lon=float(commune.town_hall["lon"]) + (i % 5) * 1e-4,
                description=f"Signalement de mesure {i}",
                address="bench",
                is_demo=True,
            )
        )
        if len(batch) == 2000:
            Report.objects.bulk_create(batch)
            batch = []
    Report.objects.bulk_create(batch)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    setup_django_in_process(args.database_url, "open311")

    from django.db import connection
    from django.test import Client

    from metropole.core import services as core
    from metropole.core.models import Territory, User
    from metropole.core.services import create_api_token
    from metropole.reports import services
    from metropole.reports.demo import install_categories
    from metropole.reports.models import Report, ReportAttribute, ReportCategory

    lille = Territory.objects.filter(code="200093201").first() or core.load_metropole("200093201")
    install_categories(lille)
    admin, _ = User.objects.get_or_create(email="bench-open311@example.org")
    admin.is_superuser = True
    admin.save()
    _, key = create_api_token(admin, "bench")
    categories = list(ReportCategory.objects.filter(metropole=lille))
    with_questions = ["nid-de-poule", "signalisation", "fuite-eau"]
    added = []
    for slug in with_questions:
        category = ReportCategory.objects.get(metropole=lille, slug=slug)
        for n in range(5):
            added.append(
                services.save_attribute(
                    admin,
                    category,
                    label=f"Question de mesure {n}",
                    code=f"bench-{n}",
                    datatype=["number", "singlevaluelist", "string", "multivaluelist", "text"][n],
                    choices="a\nb\nc" if n in (1, 3) else "",
                    required=n < 2,
                )
            )
    results = {"engine": connection.vendor, "reports": REPORTS}
    client = Client()
    roubaix = Territory.objects.get(code="59512").town_hall
    post = {
        "api_key": key,
        "lat": roubaix["lat"],
        "long": roubaix["lon"],
        "description": "Mesure",
        "address_string": "bench",
    }
    answers = {
        "attribute[bench-0]": "3",
        "attribute[bench-1]": "b",
        "attribute[bench-2]": "texte",
        "attribute[bench-3][]": ["a", "c"],
    }
    try:
        start = time.perf_counter()
        populate(lille, categories, REPORTS)
        results["load_s"] = round(time.perf_counter() - start, 2)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        services_url = "/open311/v2/services.json"
        requests_url = "/open311/v2/requests.json"
        geojson_url = "/api/reports/map.geojson?status=all"
        results["queries_services"] = queries_of(lambda: client.get(services_url))
        results["queries_requests"] = queries_of(lambda: client.get(requests_url))
        results["queries_post_with_attributes"] = queries_of(
            lambda: client.post(requests_url, {**post, "service_code": "nid-de-poule", **answers}),
            201,
        )
        results["queries_post_without"] = queries_of(
            lambda: client.post(requests_url, {**post, "service_code": "eclairage"}), 201
        )
        results["services"] = timed(lambda: client.get(services_url))
        results["requests_1000"] = timed(lambda: client.get(requests_url))
        fields = ("pk", "category__slug", "status", "lat", "lon", "address", "description")

        def reference_rows(limit):
            rows = list(
                Report.objects.filter(metropole=lille)
                .order_by("-created_at")
                .values(*fields)[:limit]
            )
            return json.dumps(rows, default=str)

        results["reference_values_1000"] = timed(lambda: reference_rows(1000))
        results["post_with_attributes"] = timed(
            lambda: client.post(requests_url, {**post, "service_code": "nid-de-poule", **answers})
        )
        results["post_without_attributes"] = timed(
            lambda: client.post(requests_url, {**post, "service_code": "eclairage"})
        )
        results["geojson_2000"] = timed(lambda: client.get(geojson_url))
        results["reference_values_2000"] = timed(lambda: reference_rows(2000))
    finally:
        Report.objects.filter(metropole=lille, address="bench").delete()
        ReportAttribute.objects.filter(pk__in=[a.pk for a in added]).delete()
        admin.delete()

    print(
        f"Open311 and the reports map — {results['engine']}, {REPORTS:,} reports, "
        f"{ROUNDS} rounds\n".replace(",", " ")
    )
    out = ["| measure | p50 ms | p95 ms | SQL queries |", "|:---|---:|---:|---:|"]
    for label, key, q in [
        ("`services.json` (10 services, 5 with questions)", "services", "queries_services"),
        ("`requests.json` (1,000 requests)", "requests_1000", "queries_requests"),
        ("reference: same 1,000 rows, values() + json.dumps", "reference_values_1000", None),
        (
            "POST with 4 answers checked (5 questions)",
            "post_with_attributes",
            "queries_post_with_attributes",
        ),
        (
            "reference: POST, category without questions",
            "post_without_attributes",
            "queries_post_without",
        ),
        ("`map.geojson` (2,000 points, the map overlay)", "geojson_2000", None),
        ("reference: same 2,000 rows, values() + json.dumps", "reference_values_2000", None),
    ]:
        r = results[key]
        out.append(f"| {label} | {r['p50_ms']} | {r['p95_ms']} | {results[q] if q else '—'} |")
    print("\n".join(out))
    target = (
        Path(__file__).resolve().parent / "results" / f"reports_open311-{results['engine']}.json"
    )
    target.parent.mkdir(exist_ok=True)
    target.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
