"""The description of one loaded resource version, as the query engine sees it.

This is the contract between storage/ingestion (datahub-core builds it from a
``ResourceVersion``) and querying (this package reads it). Identifiers in generated SQL only ever
come from ``table``, ``schema`` and ``Column.sql_name``; public names (``Column.name``) are only
ever compared, never put in SQL text.
"""

from __future__ import annotations

from dataclasses import dataclass

COLUMN_TYPES = ("string", "integer", "number", "boolean", "date", "datetime", "geometry")


@dataclass(frozen=True)
class Column:
    name: str  # public name (the source header, unique within the resource)
    sql_name: str  # "c1", "c2", ... — the physical column
    type: str  # "string" | "integer" | "number" | "boolean" | "date" | "datetime" | "geometry"
    title: str = ""  # optional label
    aggregatable: bool = (
        True  # sum/avg allowed (numbers); grouping allowed on any non-geometry column
    )


@dataclass(frozen=True)
class TableSpec:
    table: str  # physical table name, e.g. "rv_42" or "datahub_rv_42"
    schema: str | None  # "datahub_data" on PostgreSQL, None on SQLite
    columns: tuple[
        Column, ...
    ]  # ONLY the columns the caller may see (removed personal columns are absent)
    row_count: int
    geolocated: bool  # has _lon/_lat
    cache_key: str  # changes with every version (e.g. f"rv{version_id}")

    def column(self, name: str) -> Column | None:
        """The visible column with this public name, or None."""
        for col in self.columns:
            if col.name == name:
                return col
        return None

    @property
    def text_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.type == "string")
