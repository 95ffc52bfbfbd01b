"""The query AST. Both input syntaxes (URL parameters and the JSON body) parse to it.

Column references are public names (as the caller knows them); the compiler resolves them
against a TableSpec and never lets them reach SQL text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FILTER_OPERATORS = (
    "eq",
    "ne",
    "lt",
    "lte",
    "gt",
    "gte",
    "in",
    "contains",
    "starts_with",
    "is_null",
)
AGGREGATE_FUNCTIONS = ("count", "sum", "avg", "min", "max")
DATE_PARTS = ("year", "month", "day", "weekday", "hour")
PSEUDO_COLUMNS = ("_id", "_lon", "_lat")


@dataclass(frozen=True)
class Condition:
    column: str
    op: str
    value: Any
    where: str  # where the condition came from, for error messages ("where.and[2]", "col__gte")


@dataclass(frozen=True)
class BoolGroup:
    op: str  # "and" | "or"
    items: tuple[Condition | BoolGroup, ...]
    where: str = "where"


@dataclass(frozen=True)
class SortKey:
    column: str  # a column, a pseudo-column, or (aggregates) a group/aggregate label
    desc: bool = False


@dataclass(frozen=True)
class Bbox:
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


@dataclass(frozen=True)
class Near:
    lat: float
    lon: float
    meters: float


@dataclass(frozen=True)
class GroupKey:
    column: str
    part: str | None = None  # a DATE_PARTS member

    @property
    def label(self) -> str:
        return f"{self.part}({self.column})" if self.part else self.column


@dataclass(frozen=True)
class Aggregate:
    func: str
    column: str | None = None  # None: count(*)

    @property
    def label(self) -> str:
        return f"{self.func}({self.column})" if self.column is not None else self.func


@dataclass(frozen=True)
class Query:
    where: BoolGroup | None = None
    q: str = ""
    select: tuple[str, ...] = ()
    sort: tuple[SortKey, ...] = ()
    bbox: Bbox | None = None
    near: Near | None = None
    limit: int | None = None
    cursor: str = ""
    group_by: tuple[GroupKey, ...] = ()
    aggregates: tuple[Aggregate, ...] = field(default=())

    def normalised(self) -> str:
        """A stable text of the query (cache keys); the cursor is included."""
        return repr(self)
