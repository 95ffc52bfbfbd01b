"""DDL run by datahub-core after loading a resource version (before the atomic swap).

Which indexes and full-text structures exist is the query engine's business:

* btree indexes on the filterable/sortable columns (integer, number, date, datetime, string),
  at most ``MAX_BTREE_INDEXES`` of them, dates and numbers first (the usual filters and sort
  keys); booleans and geometries get none.
* geography: PostgreSQL a GiST index on the built-in ``point(_lon, _lat)`` (no PostGIS needed;
  bounding-box and distance prefilters use ``<@ box``); SQLite a btree on ``(_lat, _lon)``.
* full text: PostgreSQL a GIN index on ``to_tsvector('simple', c1 || ' ' || c2 ...)`` over the
  text columns (an expression index, not a generated column: the table layout stays
  datahub-core's, and the expression is rebuilt from the caller's visible columns at query
  time, so hidden columns are never searched); SQLite an FTS5 external-content table
  ``<table>_fts`` over the text columns (unicode61, diacritics removed), filled with
  ``'rebuild'`` and kept in sync by triggers (tables fed through the API grow).
  ADR 0021 explains the choice.
* ``ANALYZE``, so the PostgreSQL planner's row estimate (used for counts of large tables) is
  right at once.

When the PostgreSQL full-text index is built is datahub-core's policy (docs/datahub.md,
ADR 0011): with the other indexes, before the swap, for tables up to
``DATAHUB_SEARCH_INDEX_DEFER_ROWS`` rows; for larger ones after the swap, by a background
task, with ``CREATE INDEX CONCURRENTLY`` (``search_index_statements``), so the data is
served at once and search answers (by scanning) until the index exists.
"""

from __future__ import annotations

from .spec import TableSpec
from .sqlnames import fts_table, ident, pg_tsvector_expr, table_ref

MAX_BTREE_INDEXES = 12
_INDEXED_TYPES = ("date", "datetime", "integer", "number", "string")


def indexed_columns(spec: TableSpec):
    ordered = sorted(
        (c for c in spec.columns if c.type in _INDEXED_TYPES),
        key=lambda c: _INDEXED_TYPES.index(c.type),
    )
    return ordered[:MAX_BTREE_INDEXES]


def index_statements(spec: TableSpec, vendor: str, *, search: bool = True) -> list[str]:
    """Every index of a version's table; ``search=False`` leaves PostgreSQL's full-text
    index out (built later by ``search_index_statements``)."""
    if vendor not in ("postgresql", "sqlite"):
        raise ValueError(f"unsupported database vendor {vendor!r}")
    table = table_ref(spec)
    name = spec.table

    def create_index(suffix: str, rest: str) -> str:
        return f"CREATE INDEX IF NOT EXISTS {ident(f'{name}_{suffix}')} ON {table} {rest}"

    stmts = [
        create_index(f"{col.sql_name}_idx", f"({ident(col.sql_name)})")
        for col in indexed_columns(spec)
    ]
    if spec.geolocated:
        if vendor == "postgresql":
            stmts.append(
                create_index(
                    "geo_idx",
                    'USING gist (point("_lon", "_lat")) '
                    'WHERE "_lon" IS NOT NULL AND "_lat" IS NOT NULL',
                )
            )
        else:
            stmts.append(create_index("geo_idx", '("_lat", "_lon")'))
    text_cols = spec.text_columns
    if text_cols and vendor == "postgresql":
        if search:
            stmts += search_index_statements(spec, vendor)
    elif text_cols:
        fts = ident(fts_table(spec))
        cols = ", ".join(ident(c.sql_name) for c in text_cols)
        new = ", ".join(f"new.{ident(c.sql_name)}" for c in text_cols)
        old = ", ".join(f"old.{ident(c.sql_name)}" for c in text_cols)
        insert_new = f'INSERT INTO {fts}(rowid, {cols}) VALUES (new."_id", {new});'
        delete_old = (
            f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.\"_id\", {old});"
        )

        def trigger(suffix: str, event: str, actions: str) -> str:
            return (
                f"CREATE TRIGGER IF NOT EXISTS {ident(f'{name}_fts_{suffix}')} "
                f"AFTER {event} ON {table} BEGIN {actions} END"
            )

        stmts += [
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5({cols}, "
            f"content={ident(name)}, content_rowid='_id', "
            "tokenize='unicode61 remove_diacritics 2')",
            f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
            trigger("ai", "INSERT", insert_new),
            trigger("ad", "DELETE", delete_old),
            trigger("au", "UPDATE", f"{delete_old} {insert_new}"),
        ]
    stmts.append(f"ANALYZE {table}")
    return stmts


def search_index_statements(
    spec: TableSpec, vendor: str, *, concurrently: bool = False
) -> list[str]:
    """PostgreSQL's full-text (GIN) index alone; ``concurrently``: built while the table
    is read (outside a transaction). Nothing when the table has no text column, or on
    SQLite (its FTS table is built with the other indexes)."""
    if vendor != "postgresql" or not spec.text_columns:
        return []
    name = ident(f"{spec.table}_fts_idx")
    how = "CONCURRENTLY " if concurrently else ""
    return [
        f"CREATE INDEX {how}IF NOT EXISTS {name} ON {table_ref(spec)} "
        f"USING gin ({pg_tsvector_expr(spec)})"
    ]


def search_index_exists(spec: TableSpec, cursor) -> bool:
    """Whether PostgreSQL's full-text index of the table exists and is valid."""
    cursor.execute(
        "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = %s AND n.nspname = %s",
        [f"{spec.table}_fts_idx", spec.schema or "public"],
    )
    row = cursor.fetchone()
    return bool(row and row[0])


def drop_statements(spec: TableSpec, vendor: str) -> list[str]:
    """DDL to run when a version's table is dropped (SQLite's FTS table is a separate table)."""
    if vendor == "sqlite":
        return [f"DROP TABLE IF EXISTS {ident(fts_table(spec))}"]
    return []
