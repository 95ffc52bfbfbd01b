"""Running compiled queries: statement timeout, counts, keyset pages, aggregates, cache."""

from __future__ import annotations

import hashlib
import json
import time
from contextlib import contextmanager

from django.core.cache import cache
from django.db import DataError, OperationalError, connections, transaction
from django.utils.translation import gettext as _

from metropole.core.conf import setting
from metropole.core.exceptions import BadRequest

from .ast import Query
from .compiler import Compiler, encode_cursor, to_python
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
def time_limited(using: str = "default", ms: int | None = None):
    """Abort any statement run inside after ``ms`` milliseconds (a 400 saying so)."""
    ms = timeout_ms() if ms is None else ms
    connection = connections[using]
    try:
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


def cached(spec: TableSpec, kind: str, query: Query, compute, using: str = "default"):
    if int(setting("DATAHUB_QUERY_CACHE_SECONDS", 300)) <= 0:
        return compute()
    key = cache_key(spec, kind, query, using)
    hit = cache.get(key)
    if hit is not None:
        return hit
    start = time.monotonic()
    result = compute()
    # Only answers that cost something are stored: storing one in the database cache costs
    # several statements, more than a cheap indexed query.
    if (time.monotonic() - start) * 1000 >= int(setting("DATAHUB_QUERY_CACHE_MIN_MS", 20)):
        cache.set(key, result, int(setting("DATAHUB_QUERY_CACHE_SECONDS", 300)))
    return result


def json_value(col, value, vendor: str):
    value = to_python(col, value, vendor)
    if col.type == "geometry" and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _count(cursor, spec: TableSpec, query: Query, compiler: Compiler) -> tuple[int, bool]:
    """(total, is_estimate), run on ``cursor`` inside a time-limited block."""
    if not _has_filters(query):
        return spec.row_count, False
    sql = compiler.count(query)
    if spec.row_count > exact_count_max_rows() and compiler.pg:
        inner = sql.text.replace("SELECT COUNT(*) FROM", "SELECT 1 FROM", 1)
        cursor.execute("EXPLAIN (FORMAT JSON) " + inner, sql.params)
        plan = cursor.fetchone()[0]
        if isinstance(plan, str):
            plan = json.loads(plan)
        return int(plan[0]["Plan"]["Plan Rows"]), True
    cursor.execute(sql.text, sql.params)
    return int(cursor.fetchone()[0]), False


def count(spec: TableSpec, query: Query, using: str = "default") -> tuple[int | None, bool]:
    """(total, is_estimate) of the rows matching the query's filters: exact for tables of
    at most DATAHUB_EXACT_COUNT_MAX_ROWS rows, the planner's estimate above (PostgreSQL)."""
    if not _has_filters(query):
        return spec.row_count, False
    compiler = compiler_for(spec, query, using)
    try:
        with time_limited(using), connections[using].cursor() as cursor:
            return _count(cursor, spec, query, compiler)
    except QueryTimeout:
        return None, True


def records(spec: TableSpec, query: Query, using: str = "default", *, with_count=True) -> dict:
    """One page of rows: ``results``, ``next_cursor``, ``total`` and ``total_is_estimate``.

    The page and its count run in one time-limited transaction (one round trip fewer)."""

    def compute():
        connection = connections[using]
        vendor = connection.vendor
        compiler = compiler_for(spec, query, using)
        plan = compiler.records(query)
        with time_limited(using), connection.cursor() as cursor:
            cursor.execute(plan.sql.text, plan.sql.params)
            rows = cursor.fetchall()
            if with_count and not query.cursor and len(rows) <= plan.limit:
                total, estimate = len(rows), False  # the first page holds every match
            elif with_count:
                total, estimate = _count(cursor, spec, query, compiler)
        nkeys = len(plan.sort)
        id_index = next(i for i, (c, _d) in enumerate(plan.sort) if c.sql_name == "_id")
        results = []
        for row in rows[: plan.limit]:
            item = {"_id": row[id_index]}
            for col, value in zip(plan.columns, row[nkeys:], strict=True):
                item[col.name] = json_value(col, value, vendor)
            results.append(item)
        next_cursor = None
        if len(rows) > plan.limit:
            last = rows[plan.limit - 1]
            next_cursor = encode_cursor(plan.sort, list(last[:nkeys]))
        page = {"results": results, "next_cursor": next_cursor}
        if with_count:
            page["total"], page["total_is_estimate"] = total, estimate
        return page

    return cached(spec, "records" if with_count else "records-nocount", query, compute, using)


def aggregate(spec: TableSpec, query: Query, using: str = "default") -> dict:
    """Grouped aggregates: ``groups`` (one object per group, labels as keys), ``truncated``."""

    def compute():
        connection = connections[using]
        vendor = connection.vendor
        plan = compiler_for(spec, query, using).aggregate(query)
        with time_limited(using), connection.cursor() as cursor:
            cursor.execute(plan.sql.text, plan.sql.params)
            rows = cursor.fetchall()
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

    return cached(spec, "aggregate", query, compute, using)


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
