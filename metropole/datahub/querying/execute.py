"""Running compiled queries: statement timeout, counts, keyset pages, aggregates, cache."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from contextlib import contextmanager, nullcontext
from decimal import Decimal

from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.db import DatabaseCache

try:
    import orjson
except ImportError:  # optional: the standard library's json is used instead
    orjson = None
from django.db import DataError, OperationalError, connections, router, transaction
from django.utils.translation import gettext as _

from metropole.core.conf import setting
from metropole.core.exceptions import BadRequest

from .ast import Query
from .compiler import Compiler, Sql, encode_cursor, to_python
from .spec import TableSpec
from .sqlnames import fts_table

STREAM_BATCH = 2000


def timeout_ms() -> int:
    return int(setting("DATAHUB_QUERY_TIMEOUT_MS", 5000))


def exact_count_max_rows() -> int:
    """Tables up to this many rows get exact counts; larger ones planner estimates."""
    return int(setting("DATAHUB_EXACT_COUNT_MAX_ROWS", 200_000))


class QueryTimeout(BadRequest):
    pass


@contextmanager
def _query_errors(ms: int):
    """A statement stopped by the timeout is a 400 saying so; a value the database refuses
    (out of its range) is a 400 too."""
    try:
        yield
    except OperationalError as exc:
        text = str(exc).lower()
        if "statement timeout" in text or "interrupted" in text or "canceling" in text:
            raise QueryTimeout(
                _("Query too slow"),
                _(
                    "The query took more than %(s).1f seconds and was stopped; narrow it "
                    "with filters, or use an export."
                )
                % {"s": ms / 1000},
                field="query",
            ) from None
        raise
    except DataError as exc:
        raise BadRequest(
            _("Invalid value"), _("The database refused a value: %(e)s") % {"e": exc}
        ) from None


@contextmanager
def time_limited(using: str = "default", ms: int | None = None):
    """Abort any statement run inside after ``ms`` milliseconds (a 400 saying so)."""
    ms = timeout_ms() if ms is None else ms
    connection = connections[using]
    with _query_errors(ms):
        if connection.vendor == "postgresql":
            nested = connection.in_atomic_block
            with transaction.atomic(using=using):
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT current_setting('statement_timeout'), "
                        "set_config('statement_timeout', %s, true)",
                        [str(ms)],
                    )
                    previous = cursor.fetchone()[0]
                yield
                if nested:  # the caller's transaction goes on: give it its own timeout back
                    with connection.cursor() as cursor:
                        cursor.execute(
                            "SELECT set_config('statement_timeout', %s, true)", [previous]
                        )
        else:
            connection.ensure_connection()
            raw = connection.connection
            deadline = time.monotonic() + ms / 1000
            raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 20_000)
            try:
                yield
            finally:
                raw.set_progress_handler(None, 0)


# PostgreSQL: the timeout is set for the current transaction only (set_config's is_local),
# the caller's value kept in a custom setting so that it can be given back.
_PG_TIMEOUT_ON = (
    "SELECT set_config('metropole.outer_statement_timeout', "
    "current_setting('statement_timeout'), true), set_config('statement_timeout', %s, true)"
)
_PG_TIMEOUT_OFF = (
    "SELECT set_config('statement_timeout', "
    "current_setting('metropole.outer_statement_timeout'), true)"
)


def run_batch(statements: list[Sql], using: str = "default", ms: int | None = None) -> list:
    """The rows of each statement, all run under the statement timeout.

    PostgreSQL: the timeout and the statements go in ONE message (one round trip): outside
    a transaction the server runs such a message as one implicit transaction, which ends
    with it and takes the timeout with it; inside the caller's transaction they run in a
    savepoint and the caller's timeout is given back by the message's last statement.
    SQLite: one statement after the other under the progress handler."""
    ms = timeout_ms() if ms is None else ms
    connection = connections[using]
    if connection.vendor != "postgresql":
        with time_limited(using, ms), connection.cursor() as cursor:
            results = []
            for sql in statements:
                cursor.execute(sql.text, sql.params)
                results.append(cursor.fetchall())
            return results
    connection.ensure_connection()
    inside = connection.in_atomic_block or not connection.get_autocommit()
    texts = [_PG_TIMEOUT_ON, *(sql.text for sql in statements)]
    if inside:
        texts.append(_PG_TIMEOUT_OFF)
    params = [str(ms)]
    for sql in statements:
        params.extend(sql.params)
    with (
        _query_errors(ms),
        transaction.atomic(using=using) if inside else nullcontext(),
        connection.cursor() as cursor,
    ):
        cursor.execute(";\n".join(texts), params)
        results = []
        for _sql in statements:
            cursor.nextset()
            results.append(cursor.fetchall())
        return results


def compiler_for(spec: TableSpec, query: Query, using: str = "default") -> Compiler:
    connection = connections[using]
    fts = False
    if connection.vendor == "sqlite" and query.q and spec.text_columns:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [fts_table(spec)]
            )
            fts = cursor.fetchone() is not None
    return Compiler(spec, connection.vendor, fts=fts)


def _has_filters(query: Query) -> bool:
    return bool(query.where or query.q or query.bbox or query.near)


def cache_key(spec: TableSpec, kind: str, query: Query, using: str = "default") -> str:
    visible = ",".join(f"{c.sql_name}:{c.name}:{c.type}" for c in spec.columns)
    text = "\x1f".join((spec.cache_key, visible, kind, query.normalised(), using))
    return "datahub:q:" + hashlib.sha256(text.encode()).hexdigest()


_store_ms = 0.0  # how long storing an answer took lately in this process (moving average)


def _store(key: str, value, seconds: int) -> None:
    """Store an answer in the cache. With the database cache on PostgreSQL, outside a
    transaction, the write is committed without waiting for the disk flush
    (``synchronous_commit`` off for that transaction only): an answer lost in a crash is
    only a cache miss, and the flush was most of the cost of a store on a busy server."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(backend, DatabaseCache):
        using = router.db_for_write(backend.cache_model_class)
        connection = connections[using]
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            with transaction.atomic(using=using):
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
                backend.set(key, value, seconds)
            return
    backend.set(key, value, seconds)


def cached(spec: TableSpec, kind: str, query: Query, compute, using: str = "default"):
    """The cached answer of the query, else ``compute()``, stored when it was worth it.

    Only answers that took at least DATAHUB_QUERY_CACHE_MIN_MS to compute, and longer than
    storing an answer has lately taken in this process, are stored: storing one in the
    database cache costs several statements, more than a cheap indexed query (on a busy
    server both grow, so the fixed threshold alone stores answers that were cheap)."""
    global _store_ms
    seconds = int(setting("DATAHUB_QUERY_CACHE_SECONDS", 300))
    if seconds <= 0:
        return compute()
    key = cache_key(spec, kind, query, using)
    hit = cache.get(key)
    if hit is not None:
        return hit
    start = time.monotonic()
    result = compute()
    elapsed = (time.monotonic() - start) * 1000
    if elapsed >= max(int(setting("DATAHUB_QUERY_CACHE_MIN_MS", 20)), _store_ms):
        start = time.monotonic()
        _store(key, result, seconds)
        _store_ms = 0.8 * _store_ms + 0.2 * (time.monotonic() - start) * 1000
    return result


def json_value(col, value, vendor: str):
    value = to_python(col, value, vendor)
    return _geometry(value) if col.type == "geometry" else value


def _geometry(value):
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _isoformat(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def json_converters(columns, vendor: str, *, iso_dates: bool = True) -> list:
    """For each output column of a records plan (or of an export), the function that makes
    the JSON value of a database value, or None where the database already gives it (texts
    and numbers; on PostgreSQL booleans too; on SQLite dates and date-times, stored as ISO
    text). The callers skip NULLs.

    Dates are not written as text by PostgreSQL here (as exports do): an expression in the
    select list is computed for every matching row before the sort and the limit, which
    made a bounding-box page 2.5 times slower. Without ``iso_dates`` dates and date-times
    stay Python objects, for ``dumps`` (orjson writes them as ISO 8601 itself)."""
    out = []
    for col in columns:
        if col.type == "geometry":
            out.append(_geometry)
        elif col.type in ("date", "datetime"):
            out.append(_isoformat if vendor == "postgresql" and iso_dates else None)
        elif col.type == "string" or vendor == "postgresql":
            out.append(None)
        else:
            out.append(lambda value, col=col: to_python(col, value, vendor))
    return out


def _json_default(value):
    """Values the database may give that JSON has no type for (never from the contract's
    column types, but a table of another layout must not make a 500)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", "replace")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value) -> bytes:
    """Compact JSON (UTF-8) of an API answer: orjson when installed (ten times faster on a
    page of rows), else the standard library."""
    if orjson is not None:
        return orjson.dumps(value, default=_json_default)
    return json.dumps(value, separators=(",", ":"), default=_json_default).encode()


def _estimated(spec: TableSpec, compiler: Compiler) -> bool:
    """Whether counts of this table are the planner's estimates (large tables, PostgreSQL)."""
    return compiler.pg and spec.row_count > exact_count_max_rows()


def _estimate_sql(compiler: Compiler, query: Query) -> Sql:
    sql = compiler.count(query)
    inner = sql.text.replace("SELECT COUNT(*) FROM", "SELECT 1 FROM", 1)
    return Sql("EXPLAIN (FORMAT JSON) " + inner, sql.params)


def _plan_rows(rows) -> int:
    plan = rows[0][0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def count(spec: TableSpec, query: Query, using: str = "default") -> tuple[int | None, bool]:
    """(total, is_estimate) of the rows matching the query's filters: exact for tables of
    at most DATAHUB_EXACT_COUNT_MAX_ROWS rows, the planner's estimate above (PostgreSQL)."""
    if not _has_filters(query):
        return spec.row_count, False
    compiler = compiler_for(spec, query, using)
    try:
        if _estimated(spec, compiler):
            (rows,) = run_batch([_estimate_sql(compiler, query)], using)
            return _plan_rows(rows), True
        (rows,) = run_batch([compiler.count(query)], using)
        return int(rows[0][0]), False
    except QueryTimeout:
        return None, True


def _page(
    spec: TableSpec, query: Query, using: str, with_count: bool, *, iso_dates: bool = True
) -> dict:
    """One page of rows (see ``records``), computed.

    One round trip on PostgreSQL: the timeout, the page and, for large tables, the planner's
    estimate of the total go in one message. An exact count (small tables) is asked only
    when the first page does not hold every match."""
    vendor = connections[using].vendor
    compiler = compiler_for(spec, query, using)
    plan = compiler.records(query)
    filtered = _has_filters(query)
    estimate = with_count and filtered and _estimated(spec, compiler)
    statements = [plan.sql, _estimate_sql(compiler, query)] if estimate else [plan.sql]
    batch = run_batch(statements, using)
    rows = batch[0]
    page: dict = {}
    nkeys = len(plan.sort)
    id_index = next(i for i, (c, _d) in enumerate(plan.sort) if c.sql_name == "_id")
    names = ["_id", *(c.name for c in plan.columns)]
    # (position in the output row, converter) of the columns that need one: a page has a
    # few dates among many texts and numbers, so convert by column, not value by value.
    converters = [
        (i, convert)
        for i, convert in enumerate(json_converters(plan.columns, vendor, iso_dates=iso_dates), 1)
        if convert is not None
    ]
    results = []
    for row in rows[: plan.limit]:
        values = list(row) if nkeys == 1 else [row[id_index], *row[nkeys:]]
        for i, convert in converters:
            if values[i] is not None:
                values[i] = convert(values[i])
        results.append(dict(zip(names, values, strict=True)))
    page["results"] = results
    if with_count:
        if not query.cursor and len(rows) <= plan.limit:
            page["total"], page["total_is_estimate"] = len(rows), False  # all on this page
        elif not filtered:
            page["total"], page["total_is_estimate"] = spec.row_count, False
        elif estimate:
            page["total"], page["total_is_estimate"] = _plan_rows(batch[1]), True
        else:
            (counted,) = run_batch([compiler.count(query)], using)
            page["total"], page["total_is_estimate"] = int(counted[0][0]), False
    page["next_cursor"] = None
    if len(rows) > plan.limit:
        page["next_cursor"] = encode_cursor(plan.sort, list(rows[plan.limit - 1][:nkeys]))
    return page


def records(spec: TableSpec, query: Query, using: str = "default", *, with_count=True) -> dict:
    """One page of rows: ``results``, ``next_cursor``, ``total`` and ``total_is_estimate``."""
    kind = "records" if with_count else "records-nocount"
    return cached(spec, kind, query, lambda: _page(spec, query, using, with_count), using)


def records_json(spec: TableSpec, query: Query, using: str = "default") -> tuple[bytes, str | None]:
    """``records`` as the API's JSON body (bytes, cached as such: a cached answer is sent
    without being decoded and encoded again), and the page's ``next_cursor``."""

    def compute():
        page = _page(spec, query, using, True, iso_dates=False)
        return dumps(page), page["next_cursor"]

    return cached(spec, "records-json", query, compute, using)


def _aggregate(spec: TableSpec, query: Query, using: str) -> dict:
    vendor = connections[using].vendor
    plan = compiler_for(spec, query, using).aggregate(query)
    (rows,) = run_batch([plan.sql], using)
    groups = []
    for row in rows[: plan.limit]:
        item = {}
        for label, (kind, col), value in zip(plan.labels, plan.kinds, row, strict=True):
            if value is None:
                item[label] = None
            elif kind == "part" or kind == "count":
                item[label] = int(value)
            elif kind == "avg":
                item[label] = float(value)
            elif kind == "sum":
                item[label] = int(value) if col.type == "integer" else float(value)
            else:
                item[label] = json_value(col, value, vendor)
        groups.append(item)
    return {"groups": groups, "truncated": len(rows) > plan.limit}


def aggregate(spec: TableSpec, query: Query, using: str = "default") -> dict:
    """Grouped aggregates: ``groups`` (one object per group, labels as keys), ``truncated``."""
    return cached(spec, "aggregate", query, lambda: _aggregate(spec, query, using), using)


def aggregate_json(spec: TableSpec, query: Query, using: str = "default") -> bytes:
    """``aggregate`` as the API's JSON body (bytes, cached as such)."""
    return cached(
        spec, "aggregate-json", query, lambda: dumps(_aggregate(spec, query, using)), using
    )


def stream_batches(
    spec: TableSpec,
    query: Query,
    using: str = "default",
    batch=STREAM_BATCH,
    *,
    dates_as_text: bool = False,
):
    """(columns, iterator of lists of (``_id``, *values) tuples) for the whole query, never
    all in memory.

    PostgreSQL: a server-side cursor inside a transaction held while the iterator runs;
    SQLite: the cursor steps through the result as rows are fetched.
    """
    connection = connections[using]
    plan = compiler_for(spec, query, using).export(query, dates_as_text=dates_as_text)

    def batches():
        if connection.vendor == "postgresql":
            with transaction.atomic(using=using):
                cursor = connection.chunked_cursor()
                try:
                    cursor.execute(plan.sql.text, plan.sql.params)
                    while chunk := cursor.fetchmany(batch):
                        yield chunk
                finally:
                    cursor.close()
        else:
            with connection.cursor() as cursor:
                cursor.execute(plan.sql.text, plan.sql.params)
                while chunk := cursor.fetchmany(batch):
                    yield chunk

    return plan.columns, batches()


def stream_rows(spec: TableSpec, query: Query, using: str = "default", batch=STREAM_BATCH):
    """(columns, iterator of (``_id``, *values) tuples)."""
    columns, batches = stream_batches(spec, query, using, batch)
    return columns, (row for chunk in batches for row in chunk)
