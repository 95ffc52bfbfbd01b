"""The query API's fast paths: JSON written by the engine, one message per page on
PostgreSQL, the batched rate limit, and the response cache's store policy."""

import json

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from metropole.datahub.querying import execute, throttle
from metropole.datahub.querying.parse import from_params

from .conftest import RESOURCE, create_table, make_rows

BASE = f"/api/datahub/resources/{RESOURCE}"


def _expected(row: dict, name: str):
    value = row[name]
    if value is None:
        return None
    if name in ("day", "at"):
        return value.isoformat()
    if name == "geom":
        return json.loads(value)
    return value


@pytest.mark.parametrize(
    "query",
    [
        "limit=1000",
        "sort=-at,name&limit=1000",
        "select=day,at,active,geom&sort=day&limit=1000",
        "active=true&sort=-amount&limit=7",
        "bbox=2.9,50.5,3.1,50.7&limit=1000",
    ],
)
def test_api_rows_are_the_stored_values_in_json(client, served, rows, query):
    response = client.get(f"{BASE}/records?{query}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    by_id = {r["_id"]: r for r in rows}
    assert body["results"]
    for result in body["results"]:
        row = by_id[result["_id"]]
        for name, value in result.items():
            if name != "_id":
                assert value == _expected(row, name), (name, value, row[name])
    # the engine's dict answer (the portal's) is the same as the API's JSON
    params = {k: [v] for k, v in (p.split("=") for p in query.split("&"))}
    page = execute.records(served, from_params(params))
    assert page["results"] == body["results"]
    assert (page["total"], page["next_cursor"]) == (body["total"], body["next_cursor"])


def test_api_answers_are_cached_as_json_per_version(client, served, settings):
    settings.DATAHUB_QUERY_CACHE_MIN_MS = 0
    settings.ALLOWED_HOSTS = ["testserver", "other.example"]
    first = client.get(f"{BASE}/records?city=Roubaix&limit=3")
    with connection.cursor() as cursor:
        ref = f'"{served.schema}"."{served.table}"' if served.schema else f'"{served.table}"'
        cursor.execute(f"DELETE FROM {ref}", [])
    again = client.get(f"{BASE}/records?city=Roubaix&limit=3", HTTP_HOST="other.example")
    assert again.json()["results"] == first.json()["results"] != []
    # the next link is the request's own, not the one of the request that filled the cache
    assert again.json()["next"].startswith("http://other.example/")
    aggregate = client.get(f"{BASE}/aggregate?group_by=city")  # computed on the empty table
    assert aggregate.json() == {"groups": [], "truncated": False}


def test_a_cheap_answer_is_not_stored_when_storing_costs_more(table, settings, monkeypatch):
    settings.DATAHUB_QUERY_CACHE_MIN_MS = 0
    monkeypatch.setattr(execute, "_store_ms", 10_000.0)  # storing took 10 s lately
    query = from_params({"city": ["Tourcoing"]})
    assert execute.records(table, query)["results"]
    with connection.cursor() as cursor:
        ref = f'"{table.schema}"."{table.table}"' if table.schema else f'"{table.table}"'
        cursor.execute(f"DELETE FROM {ref}", [])
    assert execute.records(table, query)["results"] == []


# -- one message per page (PostgreSQL, outside a transaction, as in a web request) -------


@pytest.fixture
def autocommit_table(transactional_db):
    spec = create_table(make_rows(), table_id=900077)
    yield spec
    ref = f'"{spec.schema}"."{spec.table}"' if spec.schema else f'"{spec.table}"'
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {ref}")


def test_a_page_is_one_statement_and_the_timeout_ends_with_it(autocommit_table, settings):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs the statements one by one under its progress handler")
    settings.DATAHUB_QUERY_CACHE_SECONDS = 0
    assert not connection.in_atomic_block
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        before = cursor.fetchone()[0]
    query = from_params({"count__gte": ["3"], "limit": ["5"]})
    with (
        override_settings(DATAHUB_EXACT_COUNT_MAX_ROWS=10),  # a "large" table: an estimate
        CaptureQueriesContext(connection) as ctx,
    ):
        page = execute.records(autocommit_table, query)
    assert len(ctx.captured_queries) == 1
    sent = ctx.captured_queries[0]["sql"]
    assert "set_config('statement_timeout'" in sent and "EXPLAIN" in sent
    assert page["total_is_estimate"] is True and page["total"] > 0
    with CaptureQueriesContext(connection) as ctx:  # exact count: asked once the page is full
        page = execute.records(autocommit_table, query)
    assert len(ctx.captured_queries) == 2 and page["total_is_estimate"] is False
    with CaptureQueriesContext(connection) as ctx:
        execute.aggregate(autocommit_table, from_params({"group_by": ["city"]}))
    assert len(ctx.captured_queries) == 1
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == before


def test_a_slow_statement_in_a_message_is_stopped(autocommit_table):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL message path")
    slow = execute.Sql("SELECT pg_sleep(2)", [])
    with pytest.raises(execute.QueryTimeout):
        execute.run_batch([execute.Sql("SELECT 1", []), slow], ms=200)
    assert execute.run_batch([execute.Sql("SELECT %s::int", [7])]) == [[(7,)]]


def test_a_stored_answer_outside_a_transaction_is_read_back(autocommit_table, settings):
    settings.DATAHUB_QUERY_CACHE_MIN_MS = 0
    query = from_params({"city": ["Wattrelos"]})
    first = execute.records(autocommit_table, query)
    assert cache.get(execute.cache_key(autocommit_table, "records", query)) == first


# -- the batched rate limit -----------------------------------------------------------------


def _limit(scope: str) -> throttle.BatchedRateLimit:
    limit = throttle.BatchedRateLimit(scope)
    limit.clock = lambda: 1_800_000_030.0  # the middle of a window
    return limit


def test_small_limits_are_exact(db):
    limit = _limit("test-small")
    assert throttle.batch_size(5) == 1
    assert [limit.allow("ip:1", 5) for _ in range(7)] == [True] * 5 + [False] * 2
    assert limit.allow("ip:2", 5)  # per client


def test_one_process_never_lets_more_than_the_limit_through(db):
    limit = _limit("test-one")
    assert throttle.batch_size(300) == throttle.BATCH_MAX
    allowed = sum(limit.allow("ip:1", 300) for _ in range(400))
    assert allowed == 300


def test_processes_share_the_counter_within_the_documented_bound(db):
    processes = [_limit("test-shared") for _ in range(3)]
    allowed = sum(processes[i % 3].allow("ip:1", 300) for i in range(600))
    size = throttle.batch_size(300)
    assert 300 <= allowed <= 300 + len(processes) * (size - 1)
    # a process that has not seen the others yet learns the total at its first batch
    late = _limit("test-shared")
    answers = [late.allow("ip:1", 300) for _ in range(2 * size)]
    assert answers == [True] * (size - 1) + [False] * (size + 1)


def test_a_refusal_is_confirmed_by_the_shared_counter(db):
    limit = _limit("test-reset")
    assert all(limit.allow("ip:1", 3) for _ in range(3))
    assert not limit.allow("ip:1", 3)
    cache.clear()  # the shared counter is gone (expired, or a cache restart)
    assert limit.allow("ip:1", 3)


def test_the_api_answers_429_past_the_limit_with_batches(client, served, settings):
    settings.DATAHUB_QUERY_RATE_PER_MINUTE = 40  # batches of one hit: exact
    codes = [client.get(f"{BASE}/records?limit=1").status_code for _ in range(41)]
    assert codes == [200] * 40 + [429]
    assert client.get(f"{BASE}/records?limit=1").json()["status"] == 429
