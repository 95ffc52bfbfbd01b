"""Identifiers in generated SQL: they only ever come from a TableSpec and are checked."""

from __future__ import annotations

import re

from .spec import TableSpec

_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def ident(name: str) -> str:
    """Quote an identifier that comes from a TableSpec (``c12``, ``_id``, ``rv_42``...).

    Anything else than lower-case ASCII letters, digits and underscores is refused outright:
    identifiers are never built from user text, and this is the second line of defence.
    """
    if not _IDENT.match(name):
        raise ValueError(f"refused SQL identifier {name!r}")
    return f'"{name}"'


def table_ref(spec: TableSpec) -> str:
    if spec.schema:
        return f"{ident(spec.schema)}.{ident(spec.table)}"
    return ident(spec.table)


def fts_table(spec: TableSpec) -> str:
    """Name of the SQLite FTS5 external-content table of a resource version."""
    return f"{spec.table}_fts"


def pg_tsvector_expr(spec: TableSpec) -> str:
    """The exact expression indexed by the GIN index and searched by ``q`` on PostgreSQL.

    It must be identical in both places for the planner to use the index; it only ever covers
    the text columns present in the spec (the caller's visible columns), so a search never
    matches on hidden data.
    """
    parts = " || ' ' || ".join(f"coalesce({ident(c.sql_name)}, '')" for c in spec.text_columns)
    return f"to_tsvector('simple'::regconfig, {parts})"
