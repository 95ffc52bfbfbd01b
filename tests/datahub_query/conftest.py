"""A real resource-version table, laid out as the storage contract says, on SQLite and PostgreSQL.

The rows are generated from a fixed seed (so failures reproduce) and kept as Python values:
tests compare the API's answers with a Python reference computed from them.
"""

import datetime as dt
import json
import random

import pytest
from django.db import connection

from metropole.datahub.querying.indexes import drop_statements, index_statements
from metropole.datahub.querying.spec import Column, TableSpec

COLUMNS = (
    Column("name", "c1", "string", "Name"),
    Column("count", "c2", "integer"),
    Column("amount", "c3", "number"),
    Column("active", "c4", "boolean"),
    Column("day", "c5", "date"),
    Column("at", "c6", "datetime"),
    Column("geom", "c7", "geometry"),
    Column("city", "c9", "string"),
)
# c8 is a personal column a reviewer removed: it is stored but never in the spec.
HIDDEN = Column("email", "c8", "string")
NAMES = [
    "Lille",
    "Roubaix",
    "Tourcoing",
    "Villeneuve-d'Ascq",
    "Marcq-en-Barœul",
    "=SUM(A1:A9)",
    "+33 3 20",
    "-minus",
    "@at",
    'quote "double"',
    "comma, inside",
    "100% sûr",
    "under_score",
    "back\\slash",
    "Électricité générale",
    "line\nbreak",
]
CITIES = ["Lille", "Roubaix", "Tourcoing", "Wattrelos", None]


def make_rows(n: int = 160, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(1, n + 1):
        lon = None if rng.random() < 0.08 else round(rng.uniform(2.9, 3.3), 6)
        lat = None if lon is None else round(rng.uniform(50.5, 50.8), 6)
        moment = dt.datetime(2019, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
            minutes=rng.randrange(0, 2 * 365 * 24 * 60)
        )
        rows.append(
            {
                "_id": i,
                "name": None if rng.random() < 0.07 else rng.choice(NAMES),
                "count": None if rng.random() < 0.1 else rng.randrange(-5, 25),
                "amount": None if rng.random() < 0.1 else round(rng.uniform(-100, 1000), 3),
                "active": None if rng.random() < 0.1 else rng.random() < 0.5,
                "day": None if rng.random() < 0.1 else moment.date(),
                "at": None if rng.random() < 0.1 else moment.replace(second=0),
                "geom": None
                if lon is None
                else json.dumps({"type": "Point", "coordinates": [lon, lat]}),
                "city": rng.choice(CITIES),
                "email": f"person{i}@example.org",
                "_lon": lon,
                "_lat": lat,
            }
        )
    return rows


SQL_TYPES = {
    "postgresql": {
        "string": "TEXT",
        "integer": "BIGINT",
        "number": "DOUBLE PRECISION",
        "boolean": "BOOLEAN",
        "date": "DATE",
        "datetime": "TIMESTAMP WITH TIME ZONE",
        "geometry": "TEXT",
    },
    "sqlite": {
        "string": "TEXT",
        "integer": "BIGINT",
        "number": "REAL",
        "boolean": "INTEGER",
        "date": "TEXT",
        "datetime": "TEXT",
        "geometry": "TEXT",
    },
}


def db_value(col: Column, value, vendor: str):
    if value is None or vendor == "postgresql":
        return value
    if col.type == "boolean":
        return int(value)
    if col.type in ("date", "datetime"):
        return value.isoformat()
    return value


def create_table(
    rows, *, table_id: int = 900001, indexes: bool = True, columns=COLUMNS, geolocated=True
) -> TableSpec:
    """Create and fill a version table with the contract's layout; return its TableSpec."""
    vendor = connection.vendor
    stored = (*columns, HIDDEN)
    if vendor == "postgresql":
        spec = TableSpec(
            f"rv_{table_id}", "datahub_data", columns, len(rows), geolocated, f"rv{table_id}"
        )
        ref = f'"datahub_data"."rv_{table_id}"'
    else:
        spec = TableSpec(
            f"datahub_rv_{table_id}", None, columns, len(rows), geolocated, f"rv{table_id}"
        )
        ref = f'"datahub_rv_{table_id}"'
    types = SQL_TYPES[vendor]
    defs = ['"_id" BIGINT PRIMARY KEY'] + [f'"{c.sql_name}" {types[c.type]}' for c in stored]
    if geolocated:
        defs += [f'"_lon" {types["number"]}', f'"_lat" {types["number"]}']
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute('CREATE SCHEMA IF NOT EXISTS "datahub_data"')
        for stmt in drop_statements(spec, vendor):
            cursor.execute(stmt)
        cursor.execute(f"DROP TABLE IF EXISTS {ref}")
        cursor.execute(f"CREATE TABLE {ref} ({', '.join(defs)})")
        names = ["_id"] + [c.sql_name for c in stored] + (["_lon", "_lat"] if geolocated else [])
        placeholders = ", ".join(["%s"] * len(names))
        insert = f"INSERT INTO {ref} ({', '.join(chr(34) + n + chr(34) for n in names)}) "
        insert += f"VALUES ({placeholders})"
        cursor.executemany(
            insert,
            [
                [row["_id"]]
                + [db_value(c, row[c.name], vendor) for c in stored]
                + ([row["_lon"], row["_lat"]] if geolocated else [])
                for row in rows
            ],
        )
        if indexes:
            for stmt in index_statements(spec, vendor):
                cursor.execute(stmt)
    return spec


@pytest.fixture
def rows():
    return make_rows()


@pytest.fixture
def table(db, rows) -> TableSpec:
    return create_table(rows)


RESOURCE = "3f1c2a4e-0000-4000-8000-000000000001"


@pytest.fixture
def served(table, monkeypatch, settings):
    """The fixture table served as resource RESOURCE through table_spec_for.

    datahub-core's `queries.table_spec_for` holds the access rules; here it is replaced
    by one that knows only this table (and refuses any other resource with NotFound)."""
    import sys
    import types

    from metropole.core.exceptions import NotFound

    def table_spec_for(user, resource_id, version=None):
        if resource_id != RESOURCE:
            raise NotFound("Unknown resource", f"No resource {resource_id!r}.")
        return table

    try:
        from metropole.datahub import queries
    except ImportError:
        queries = types.ModuleType("metropole.datahub.queries")
        monkeypatch.setitem(sys.modules, "metropole.datahub.queries", queries)
        import metropole.datahub

        monkeypatch.setattr(metropole.datahub, "queries", queries, raising=False)
    monkeypatch.setattr(queries, "table_spec_for", table_spec_for, raising=False)
    settings.DATAHUB_QUERY_RATE_PER_MINUTE = 100_000
    settings.DATAHUB_EXPORTS_DIR = None
    return table


@pytest.fixture(autouse=True)
def fresh_process_state(monkeypatch):
    """The query API keeps per-process state: the rate limit's counts (the shared counters
    in the database cache are rolled back with each test) and how long storing an answer
    in the response cache took lately. Each test starts without them."""
    from metropole.datahub.api_records import _LIMIT
    from metropole.datahub.querying import execute

    _LIMIT.forget()
    # the middle of a window: a test's requests never straddle two windows
    monkeypatch.setattr(_LIMIT, "clock", lambda: 1_800_000_030.0)
    monkeypatch.setattr(execute, "_store_ms", 0.0)
    yield
    _LIMIT.forget()
