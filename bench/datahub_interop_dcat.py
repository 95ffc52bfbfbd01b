"""DCAT-AP export and DCAT harvest of a catalogue of 1000 datasets.

    METROPOLE_EXTRA_APPS=metropole.datahub,metropole.harvest \\
        .venv/bin/python bench/datahub_interop_dcat.py             # SQLite in a temporary dir
    DATABASE_URL=postgres://postgres@127.0.0.1:5439/metropole_interop_bench ... (PostgreSQL)

1000 public published datasets of Lille (2 themes, 3 keywords, 2 communes of spatial
coverage, a contact, one remote file each) are bulk-inserted. Measured, median of 3:

- export: one page of 1000 datasets at /catalog.ttl, .rdf and .jsonld through Django's
  test client (query + graph + serialisation). Reference, same run: the same datasets,
  with the same prefetches, as plain JSON (json.dumps of the same fields) — the cost of
  the catalogue without RDF. The export's server-side cache is cleared before each
  measure; the time of a cached page is given too.
- harvest: a DCAT source (Roubaix) harvesting those pages (10 pages of 100, served by a
  local HTTP server from the export): first run (1000 datasets created through the data
  hub's services) and second run (1000 unchanged). Reference, same run: rdflib parsing
  the same 10 pages alone, the floor of any RDF harvester.
"""

import json
import os
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
VAR = Path(tempfile.mkdtemp(prefix="interop-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "metropole.settings")
os.environ.setdefault("METROPOLE_TESTING", "1")
os.environ["METROPOLE_VAR_DIR"] = str(VAR)
os.environ.setdefault("METROPOLE_TASKS_BACKEND", "django.tasks.backends.immediate.ImmediateBackend")
apps_env = os.environ.get("METROPOLE_EXTRA_APPS", "")
for app in ("metropole.datahub", "metropole.harvest"):
    if app not in apps_env:
        apps_env = ",".join(filter(None, [apps_env, app]))
os.environ["METROPOLE_EXTRA_APPS"] = apps_env


def ensure_postgres_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'DROP DATABASE "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


if os.environ.get("DATABASE_URL", "").startswith("postgres"):
    ensure_postgres_database(os.environ["DATABASE_URL"])

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from rdflib import Graph  # noqa: E402

N = int(os.environ.get("BENCH_DATASETS", "1000"))


def median_time(function, rounds=3):
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def setup():
    from metropole.core import services as core
    from metropole.core.models import Membership, Role, Territory, User
    from metropole.datahub.models import (
        Dataset,
        DatasetStatus,
        DatasetTheme,
        Resource,
        ResourceKind,
    )

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    lille = core.load_metropole("200093201")
    communes = list(Territory.objects.filter(metropole=lille, kind="commune")[:2])
    now = timezone.now()
    datasets = Dataset.objects.bulk_create(
        Dataset(
            territory=lille,
            title=f"Jeu de données {i:04d}",
            slug=f"jeu-{i:04d}",
            description=f"Description du jeu de données numéro {i}, publié par la métropole.",
            keywords=["mobilité", "environnement", f"série {i % 10}"],
            frequency="MONTHLY",
            contact_name="Service données",
            contact_email="donnees@example.org",
            access="public",
            status=DatasetStatus.PUBLISHED,
            published_at=now,
        )
        for i in range(N)
    )
    DatasetTheme.objects.bulk_create(
        DatasetTheme(dataset=d, theme=t) for d in datasets for t in ("TRAN", "ENVI")
    )
    Spatial = Dataset.spatial.through
    Spatial.objects.bulk_create(
        Spatial(dataset_id=d.pk, territory_id=c.pk) for d in datasets for c in communes
    )
    Resource.objects.bulk_create(
        Resource(
            dataset=d,
            title=f"Fichier {d.slug}",
            kind=ResourceKind.REMOTE,
            format="csv",
            remote_url=f"https://files.example.org/{d.slug}.csv",
        )
        for d in datasets
    )
    roubaix = Territory.objects.get(code="59512")
    admin = User.objects.create_user(email="bench@example.org", password="x" * 20)
    Membership.objects.create(user=admin, territory=roubaix, role=Role.ADMIN)
    return lille, roubaix, admin


def reference_json(lille):
    from metropole.datahub.dcat.export import exportable_datasets

    rows = []
    for d in exportable_datasets(lille)[:N]:
        rows.append(
            {
                "identifier": str(d.uid),
                "title": d.title,
                "description": d.description,
                "keywords": d.keywords,
                "themes": [t.theme for t in d.themes.all()],
                "spatial": [t.code for t in d.spatial.all()],
                "licence": d.licence,
                "frequency": d.frequency,
                "contact": d.contact_email,
                "publisher": d.publisher_name,
                "files": [r.remote_url for r in d.resources.all()],
            }
        )
    return json.dumps(rows, ensure_ascii=False)


def serve(pages: dict[str, bytes]):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = pages.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/turtle")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def main():
    from metropole.harvest import services

    lille, roubaix, admin = setup()
    client = Client(HTTP_HOST="127.0.0.1")
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    print(f"# DCAT-AP export and harvest, {N} datasets, {connection.vendor}, load {load}\n")
    ref_time, ref_body = median_time(lambda: reference_json(lille))
    print(f"reference (plain JSON, same query): {ref_time * 1000:.0f} ms, {len(ref_body):,} bytes")
    from django.core.cache import cache

    def uncached(path):
        cache.clear()
        return client.get(path)

    for ext in ("ttl", "rdf", "jsonld"):
        path = f"/catalog.{ext}?page_size={N}"
        elapsed, response = median_time(lambda path=path: uncached(path))
        assert response.status_code == 200
        hit, _ = median_time(lambda path=path: client.get(path))
        print(
            f"export {ext:6}: {elapsed * 1000:.0f} ms ({elapsed / ref_time:.1f}x the reference), "
            f"{len(response.content):,} bytes, {N / elapsed:,.0f} datasets/s; "
            f"cached: {hit * 1000:.0f} ms"
        )

    # Harvest: pages of 100 served from the export, links rewritten to the local server.
    pages: dict[str, bytes] = {}
    server, base = serve(pages)
    for page in range(1, N // 100 + 1):
        # 100 is the default page size: the Hydra links carry only the page number.
        body = client.get(f"/catalog.ttl?page={page}").content
        pages[f"/catalog.ttl?page={page}"] = body.replace(b"http://127.0.0.1/", f"{base}/".encode())

    def parse_only():
        for body in pages.values():
            Graph().parse(data=body.decode(), format="turtle")

    parse_time, _ = median_time(parse_only)
    print(f"\nreference (rdflib parse of the {len(pages)} pages alone): {parse_time * 1000:.0f} ms")
    source = services.create_source(
        admin, roubaix, name="Bench", kind="dcat", url=f"{base}/catalog.ttl?page=1"
    )
    started = time.perf_counter()
    first = services.run_source(source)
    first_time = time.perf_counter() - started
    started = time.perf_counter()
    second = services.run_source(source)
    second_time = time.perf_counter() - started
    print(
        f"harvest, first run : {first.created} created in {first_time:.1f} s "
        f"({first.created / first_time:,.0f} datasets/s; {first_time / parse_time:.0f}x the parse)"
    )
    print(
        f"harvest, second run: {second.unchanged} unchanged in {second_time:.1f} s "
        f"({second.unchanged / second_time:,.0f} datasets/s; "
        f"{second_time / parse_time:.1f}x the parse)"
    )
    server.shutdown()
    server.server_close()


if __name__ == "__main__":
    main()
