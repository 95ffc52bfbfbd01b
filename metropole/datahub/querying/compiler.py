"""Compile a query AST against a TableSpec to parameterised SQL (PostgreSQL or SQLite).

The only text that reaches SQL is written here: keywords, functions, and identifiers taken from
the spec's ``sql_name`` (checked by ``sqlnames.ident``). Every value of the caller — filter
values, search words, coordinates, cursor positions, limits — is a parameter (``%s``).
Column names given by the caller are only looked up in the spec.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..ingest.types import convert_value
from .ast import DATE_PARTS, Aggregate, BoolGroup, Condition, GroupKey, Query, SortKey
from .parse import DEFAULT_LIMIT, MAX_LIMIT, bad
from .spec import Column, TableSpec
from .sqlnames import fts_table, ident, pg_tsvector_expr, table_ref

EARTH_RADIUS_M = 6_371_008.8
METERS_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
MAX_SEARCH_WORDS = 16
CURSOR_SALT = "metropole.datahub.cursor"

ORDERED_TYPES = ("integer", "number", "date", "datetime", "string")
_INTEGER = re.compile(r"^\s*[+-]?\d{1,19}\s*$")
_TRUE, _FALSE = ("true", "1", "yes", "oui"), ("false", "0", "no", "non")

ID = Column("_id", "_id", "integer", aggregatable=False)
LON = Column("_lon", "_lon", "number", aggregatable=False)
LAT = Column("_lat", "_lat", "number", aggregatable=False)


@dataclass
class Sql:
    text: str
    params: list = field(default_factory=list)


@dataclass
class RecordsPlan:
    sql: Sql
    columns: list[Column]  # output columns, in order (after _id and the sort keys)
    sort: list[tuple[Column, bool]]  # keyset keys, _id last
    limit: int


@dataclass
class AggregatePlan:
    sql: Sql
    labels: list[str]
    kinds: list[tuple[str, Column | None]]  # how to convert each output value
    limit: int


def resolve(spec: TableSpec, name: str, where: str) -> Column:
    col = spec.column(name)
    if col is not None:
        return col
    if name == "_id":
        return ID
    if spec.geolocated and name in ("_lon", "_lat"):
        return LON if name == "_lon" else LAT
    known = ", ".join(repr(c.name) for c in spec.columns[:30])
    head, sep, tail = name.rpartition("__")
    if sep and spec.column(head) is not None:
        raise bad(
            _("Unknown operator"),
            _("Unknown operator %(op)r on column %(col)r.") % {"op": tail, "col": head},
            where,
        )
    raise bad(
        _("Unknown column"),
        _("This resource has no column %(name)r; its columns: %(known)s.")
        % {"name": name, "known": known},
        where,
    )


def _text_value(value, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise bad(_("Invalid value"), _("A text was expected."), where)
    text = str(value)
    if "\x00" in text:
        raise bad(_("Invalid value"), _("Text cannot contain the NUL character."), where)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise bad(_("Invalid value"), _("The text is not valid Unicode."), where) from None
    return text


# What each type's refusal says, with the forms it takes (those of the ingestion: a filter
# value is written the way the uploaded file was).
WRONG = {
    "integer": gettext_lazy(
        "%(v)r is not a whole number (column %(c)r). Write it like 1500 or 1 500."
    ),
    "number": gettext_lazy(
        "%(v)r is not a number (column %(c)r). Write it like 1500.5, 1500,5 or 1 500,5."
    ),
    "boolean": gettext_lazy("%(v)r is not true or false (column %(c)r)."),
    "date": gettext_lazy(
        "%(v)r is not a date (column %(c)r). Write it like 2025-06-01 or 01/06/2025."
    ),
    "datetime": gettext_lazy(
        "%(v)r is not a date and time (column %(c)r). "
        "Write it like 2025-06-01T14:30 or 01/06/2025 14:30."
    ),
}


def _as_ingested(value: str, kind: str):
    """A filter value written as the data hub's files are (French numbers "50 000", "1 500,5";
    dates 01/06/2025, 01-06-2025, 01.06.2025; date-times 01/06/2025 14:30), converted by the
    ingestion's own rules (`ingest.types.convert_value`); None when it is not one."""
    try:
        return convert_value(value.strip(), kind)
    except (ValueError, OverflowError, IndexError):
        return None


def coerce(col: Column, value, vendor: str, where: str):
    """The caller's value as a parameter for a comparison with ``col``, or a BadRequest.

    Accepted: the API's plain forms (1500.5, 2025-06-01, ISO 8601) and every form the
    ingestion reads in a file (see `_as_ingested`)."""

    given = value  # as the caller wrote it, for the message

    def wrong(kind: str):
        message = WRONG.get(kind) or gettext_lazy("%(v)r is not a valid value for column %(c)r.")
        return bad(_("Invalid value"), str(message) % {"v": given, "c": col.name}, where)

    kind = col.type
    if kind == "integer":
        if isinstance(value, bool):
            raise wrong(kind)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str):
            value = int(value) if _INTEGER.match(value) else _as_ingested(value, kind)
        if not isinstance(value, int) or not INT_MIN <= value <= INT_MAX:
            raise wrong(kind)
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise wrong(kind)
        try:
            number = float(value)
        except (ValueError, OverflowError):
            number = _as_ingested(value, kind) if isinstance(value, str) else None
            if number is None:
                raise wrong(kind) from None
        if not math.isfinite(number):
            raise wrong(kind)
        return number
    if kind == "boolean":
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            value = value.strip().lower() in _TRUE
        elif isinstance(value, int) and value in (0, 1):
            value = bool(value)
        if not isinstance(value, bool):
            raise wrong(kind)
        return value if vendor == "postgresql" else int(value)
    if kind == "date":
        if isinstance(value, str):
            try:
                day = dt.date.fromisoformat(value.strip())
            except ValueError:
                day = _as_ingested(value, kind)
                if day is None:
                    raise wrong(kind) from None
            return day if vendor == "postgresql" else day.isoformat()
        raise wrong(kind)
    if kind == "datetime":
        if isinstance(value, str):
            try:
                moment = dt.datetime.fromisoformat(value.strip())
            except ValueError:
                moment = _as_ingested(value, kind)
                if moment is None:
                    raise wrong(kind) from None
            if moment.tzinfo is None:
                from zoneinfo import ZoneInfo

                moment = moment.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))
            try:
                moment = moment.astimezone(dt.UTC)
            except (OverflowError, ValueError):
                raise wrong(kind) from None
            return moment if vendor == "postgresql" else moment.isoformat()
        raise wrong(kind)
    if kind == "string":
        return _text_value(value, where)
    raise wrong(kind)


class Compiler:
    def __init__(self, spec: TableSpec, vendor: str, *, fts: bool = False):
        if vendor not in ("postgresql", "sqlite"):
            raise ValueError(f"unsupported database vendor {vendor!r}")
        self.spec, self.vendor, self.fts = spec, vendor, fts
        self.pg = vendor == "postgresql"
        self.table = table_ref(spec)

    # -- filters ----------------------------------------------------------------------------
    def condition(self, cond: Condition, params: list) -> str:
        col = resolve(self.spec, cond.column, cond.where)
        name = ident(col.sql_name)
        op, value = cond.op, cond.value
        if op == "is_null":
            flag = value
            if isinstance(flag, str) and flag.strip().lower() in _TRUE + _FALSE:
                flag = flag.strip().lower() in _TRUE
            if not isinstance(flag, bool):
                raise bad(_("Invalid value"), _("is_null takes true or false."), cond.where)
            return f"{name} IS NULL" if flag else f"{name} IS NOT NULL"
        if col.type == "geometry":
            raise bad(
                _("Invalid filter"),
                _("Column %(c)r is a geometry: only is_null applies; use bbox or near.")
                % {"c": col.name},
                cond.where,
            )
        if op in ("contains", "starts_with"):
            if col.type != "string":
                raise bad(
                    _("Invalid filter"),
                    _("%(op)s applies to text columns; %(c)r is not one.")
                    % {"op": op, "c": col.name},
                    cond.where,
                )
            text = _text_value(value, cond.where)
            escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params.append(("%" if op == "contains" else "") + escaped + "%")
            like = "ILIKE" if self.pg else "LIKE"
            return f"{name} {like} %s ESCAPE '\\'"
        if op == "in":
            values = value if isinstance(value, list | tuple) else [value]
            if not values or len(values) > 500:
                raise bad(_("Invalid value"), _("in takes between 1 and 500 values."), cond.where)
            params.extend(coerce(col, v, self.vendor, cond.where) for v in values)
            return f"{name} IN ({', '.join(['%s'] * len(values))})"
        if op in ("lt", "lte", "gt", "gte") and col.type not in ORDERED_TYPES:
            raise bad(
                _("Invalid filter"),
                _("%(op)s does not apply to the %(t)s column %(c)r.")
                % {"op": op, "t": col.type, "c": col.name},
                cond.where,
            )
        params.append(coerce(col, value, self.vendor, cond.where))
        if op == "ne":
            return f"({name} <> %s OR {name} IS NULL)"
        sign = {"eq": "=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}[op]
        return f"{name} {sign} %s"

    def group(self, node, params: list) -> str:
        if isinstance(node, Condition):
            return self.condition(node, params)
        assert isinstance(node, BoolGroup)
        parts = [self.group(item, params) for item in node.items]
        if not parts:
            return "1 = 1"
        joiner = " AND " if node.op == "and" else " OR "
        return "(" + joiner.join(parts) + ")"

    def search(self, q: str, params: list) -> str | None:
        words = re.findall(r"\w+", q)[:MAX_SEARCH_WORDS]
        if not words:
            return None
        text_cols = self.spec.text_columns
        if not text_cols:
            raise bad(
                _("No text to search"),
                _("This resource has no text column; q cannot be used."),
                "q",
            )
        if self.pg:
            params.append(" ".join(words))
            return f"{pg_tsvector_expr(self.spec)} @@ plainto_tsquery('simple'::regconfig, %s)"
        if self.fts:
            fts = ident(fts_table(self.spec))
            columns = " ".join(c.sql_name for c in text_cols)
            params.append("{" + columns + "} : (" + " AND ".join(f'"{w}"' for w in words) + ")")
            return f'"_id" IN (SELECT rowid FROM {fts} WHERE {fts} MATCH %s)'
        clauses = []
        for word in words:
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            ors = []
            for col in text_cols:
                params.append(f"%{escaped}%")
                ors.append(f"{ident(col.sql_name)} LIKE %s ESCAPE '\\'")
            clauses.append("(" + " OR ".join(ors) + ")")
        return " AND ".join(clauses)

    def geo(self, query: Query, params: list) -> list[str]:
        if (query.bbox or query.near) and not self.spec.geolocated:
            raise bad(
                _("Not geolocated"),
                _("This resource has no coordinates; bbox and near cannot be used."),
                "bbox" if query.bbox else "near",
            )
        clauses = []
        boxes = []
        if query.bbox:
            b = query.bbox
            boxes.append((b.min_lon, b.min_lat, b.max_lon, b.max_lat))
        if query.near:
            n = query.near
            dlat = n.meters / METERS_PER_DEGREE * 1.001 + 1e-9
            cos = math.cos(math.radians(n.lat))
            min_lat, max_lat = max(-90.0, n.lat - dlat), min(90.0, n.lat + dlat)
            if cos > 1e-6 and dlat / cos < 179 and abs(n.lat) + dlat < 90:
                dlon = dlat / cos
                if n.lon - dlon >= -180 and n.lon + dlon <= 180:
                    boxes.append((n.lon - dlon, min_lat, n.lon + dlon, max_lat))
                else:
                    boxes.append((-180.0, min_lat, 180.0, max_lat))
            else:
                boxes.append((-180.0, min_lat, 180.0, max_lat))
        for box in boxes:
            if self.pg:
                params.extend(box)
                clauses.append(
                    '"_lon" IS NOT NULL AND "_lat" IS NOT NULL AND '
                    'point("_lon", "_lat") <@ box(point(%s, %s), point(%s, %s))'
                )
            else:
                params.extend((box[0], box[2], box[1], box[3]))
                clauses.append('"_lon" BETWEEN %s AND %s AND "_lat" BETWEEN %s AND %s')
        if query.near:
            n = query.near
            least = "LEAST" if self.pg else "min"
            params.extend((n.lat, n.lat, n.lon, 2 * EARTH_RADIUS_M, n.meters))
            clauses.append(
                f'asin({least}(1.0, sqrt(power(sin(radians("_lat" - %s) / 2), 2) + '
                'cos(radians(%s)) * cos(radians("_lat")) * '
                'power(sin(radians("_lon" - %s) / 2), 2)))) * %s <= %s'
            )
        return clauses

    def where(self, query: Query, params: list) -> list[str]:
        clauses = []
        if query.where is not None:
            clauses.append(self.group(query.where, params))
        if query.q:
            clause = self.search(query.q, params)
            if clause:
                clauses.append(clause)
        clauses += self.geo(query, params)
        return clauses

    # -- records ----------------------------------------------------------------------------
    def output_columns(self, query: Query) -> list[Column]:
        if query.select:
            seen, cols = set(), []
            for i, name in enumerate(query.select):
                col = resolve(self.spec, name, f"select[{i}]")
                if col.sql_name not in seen and col is not ID:
                    seen.add(col.sql_name)
                    cols.append(col)
            return cols
        cols = list(self.spec.columns)
        if self.spec.geolocated:
            cols += [LON, LAT]
        return cols

    def sort_keys(self, query: Query) -> list[tuple[Column, bool]]:
        keys: list[tuple[Column, bool]] = []
        for i, key in enumerate(query.sort):
            col = resolve(self.spec, key.column, f"sort[{i}]")
            if col.type not in ORDERED_TYPES and col.type != "boolean":
                raise bad(
                    _("Invalid sort"),
                    _("Column %(c)r cannot be sorted.") % {"c": col.name},
                    f"sort[{i}]",
                )
            if any(c.sql_name == col.sql_name for c, _d in keys):
                continue
            keys.append((col, key.desc))
            if col is ID:
                return keys
        keys.append((ID, False))
        return keys

    def order_by(self, keys) -> str:
        return ", ".join(
            f"{ident(c.sql_name)} {'DESC' if desc else 'ASC'}" + ("" if c is ID else " NULLS LAST")
            for c, desc in keys
        )

    def keyset(self, keys, position: list, params: list) -> str:
        """Rows strictly after ``position`` in the order of ``keys`` (NULLs last)."""
        ors = []
        for i, (col, desc) in enumerate(keys):
            value = position[i]
            if value is None:
                continue  # nothing sorts after NULL on this key
            ands, local = [], []
            for prev, prev_value in zip(keys[:i], position[:i], strict=True):
                name = ident(prev[0].sql_name)
                if prev_value is None:
                    ands.append(f"{name} IS NULL")
                else:
                    local.append(prev_value)
                    ands.append(f"{name} = %s")
            name = ident(col.sql_name)
            local.append(value)
            after = f"{name} {'<' if desc else '>'} %s"
            ands.append(after if col is ID else f"({after} OR {name} IS NULL)")
            ors.append("(" + " AND ".join(ands) + ")")
            params.extend(local)
        return "(" + " OR ".join(ors) + ")" if ors else "1 = 0"

    def records(self, query: Query) -> RecordsPlan:
        if query.group_by or query.aggregates:
            raise bad(
                _("Invalid query"),
                _("group_by and aggregate belong to the aggregate endpoint."),
                "group_by" if query.group_by else "aggregate",
            )
        params: list = []
        columns = self.output_columns(query)
        keys = self.sort_keys(query)
        clauses = self.where(query, params)
        if query.cursor:
            position = decode_cursor(query.cursor, keys, self.vendor)
            clauses.append(self.keyset(keys, position, params))
        limit = query.limit or DEFAULT_LIMIT
        select = ", ".join(ident(c.sql_name) for c, _d in keys) + "".join(
            f", {ident(c.sql_name)}" for c in columns
        )
        text = f"SELECT {select} FROM {self.table}"
        if clauses:
            text += " WHERE " + " AND ".join(clauses)
        text += f" ORDER BY {self.order_by(keys)} LIMIT %s"
        params.append(limit + 1)
        return RecordsPlan(Sql(text, params), columns, keys, limit)

    def text_expr(self, col: Column) -> str:
        """PostgreSQL: dates and date-times as the ISO text the other outputs use, written by
        the database (exports skip Python's date objects: 3x faster CSV)."""
        name = ident(col.sql_name)
        if not self.pg:
            return name
        if col.type == "date":
            return f"to_char({name}, 'YYYY-MM-DD')"
        if col.type == "datetime":
            utc = f"{name} AT TIME ZONE 'UTC'"
            return (
                f"replace(to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') "
                "|| '+00:00'"
            )
        return name

    def export(self, query: Query, *, dates_as_text: bool = False) -> RecordsPlan:
        """All matching rows as (``_id``, *columns), in the query's order."""
        params: list = []
        columns = self.output_columns(query)
        keys = self.sort_keys(query)
        clauses = self.where(query, params)
        if dates_as_text:
            select = '"_id"' + "".join(f", {self.text_expr(c)}" for c in columns)
        else:
            select = '"_id"' + "".join(f", {ident(c.sql_name)}" for c in columns)
        text = f"SELECT {select} FROM {self.table}"
        if clauses:
            text += " WHERE " + " AND ".join(clauses)
        text += f" ORDER BY {self.order_by(keys)}"
        return RecordsPlan(Sql(text, params), columns, keys, 0)

    def count(self, query: Query, cap: int | None = None) -> Sql:
        params: list = []
        clauses = self.where(query, params)
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        if cap is None:
            return Sql(f"SELECT COUNT(*) FROM {self.table}{where}", params)
        params.append(cap)
        return Sql(
            f"SELECT COUNT(*) FROM (SELECT 1 FROM {self.table}{where} LIMIT %s) AS t", params
        )

    # -- aggregates -------------------------------------------------------------------------
    def date_part(self, col: Column, part: str, where: str) -> str:
        allowed = {"date": ("year", "month", "day", "weekday"), "datetime": DATE_PARTS}
        if part not in allowed.get(col.type, ()):
            raise bad(
                _("Invalid grouping"),
                _("%(part)s cannot be taken from the %(t)s column %(c)r.")
                % {"part": part, "t": col.type, "c": col.name},
                where,
            )
        name = ident(col.sql_name)
        if self.pg:
            value = name if col.type == "date" else f"({name} AT TIME ZONE 'UTC')"
            field = "ISODOW" if part == "weekday" else part.upper()
            return f"CAST(EXTRACT({field} FROM {value}) AS INTEGER)"
        if part == "weekday":
            return f"((CAST(strftime('%%w', {name}) AS INTEGER) + 6) %% 7 + 1)"
        code = {"year": "%%Y", "month": "%%m", "day": "%%d", "hour": "%%H"}[part]
        return f"CAST(strftime('{code}', {name}) AS INTEGER)"

    def group_expr(self, key: GroupKey, where: str) -> tuple[str, Column]:
        col = resolve(self.spec, key.column, where)
        if col.type == "geometry":
            raise bad(
                _("Invalid grouping"),
                _("Column %(c)r is a geometry and cannot be grouped by.") % {"c": col.name},
                where,
            )
        if key.part:
            return self.date_part(col, key.part, where), col
        return ident(col.sql_name), col

    def aggregate_expr(self, agg: Aggregate, where: str) -> tuple[str, Column | None]:
        if agg.column is None:
            return "COUNT(*)", None
        col = resolve(self.spec, agg.column, where)
        name = ident(col.sql_name)
        if agg.func == "count":
            return f"COUNT({name})", col
        if agg.func in ("sum", "avg"):
            if col.type not in ("integer", "number") or not col.aggregatable:
                raise bad(
                    _("Invalid aggregate"),
                    _("%(f)s applies to numeric columns that allow it; %(c)r does not.")
                    % {"f": agg.func, "c": col.name},
                    where,
                )
            if agg.func == "avg":
                return f"CAST(AVG({name}) AS DOUBLE PRECISION)" if self.pg else f"AVG({name})", col
            if self.pg:
                return f"SUM({name})", col
            return f"CASE WHEN COUNT({name}) = 0 THEN NULL ELSE TOTAL({name}) END", col
        if col.type not in ORDERED_TYPES:
            raise bad(
                _("Invalid aggregate"),
                _("%(f)s does not apply to the %(t)s column %(c)r.")
                % {"f": agg.func, "t": col.type, "c": col.name},
                where,
            )
        return f"{agg.func.upper()}({name})", col

    def aggregate(self, query: Query) -> AggregatePlan:
        if query.cursor or query.select:
            raise bad(
                _("Invalid query"),
                _("cursor and select do not apply to aggregates."),
                "cursor" if query.cursor else "select",
            )
        params: list = []
        labels, exprs, kinds = [], [], []
        group_sql = []
        for i, key in enumerate(query.group_by):
            expr, col = self.group_expr(key, f"group_by[{i}]")
            labels.append(key.label)
            exprs.append(expr)
            group_sql.append(expr)
            kinds.append(("part" if key.part else "value", col))
        aggregates = query.aggregates or (Aggregate("count"),)
        for i, agg in enumerate(aggregates):
            expr, col = self.aggregate_expr(agg, f"aggregate[{i}]")
            labels.append(agg.label)
            exprs.append(expr)
            kinds.append((agg.func, col))
        if len(set(labels)) != len(labels):
            raise bad(_("Invalid aggregate"), _("An item is repeated."), "aggregate")
        order = []
        for i, key in enumerate(query.sort):
            if key.column not in labels:
                raise bad(
                    _("Invalid sort"),
                    _("Aggregates sort by one of %(labels)s.")
                    % {"labels": ", ".join(repr(label) for label in labels)},
                    f"sort[{i}]",
                )
            position = labels.index(key.column) + 1
            order.append(f"{position} {'DESC' if key.desc else 'ASC'} NULLS LAST")
        order += [f"{i + 1} ASC NULLS LAST" for i in range(len(group_sql))]
        clauses = self.where(query, params)
        text = "SELECT " + ", ".join(exprs) + f" FROM {self.table}"
        if clauses:
            text += " WHERE " + " AND ".join(clauses)
        if group_sql:
            text += " GROUP BY " + ", ".join(group_sql)
        if order:
            text += " ORDER BY " + ", ".join(order)
        limit = query.limit or MAX_LIMIT
        text += " LIMIT %s"
        params.append(limit + 1)
        return AggregatePlan(Sql(text, params), labels, kinds, limit)


# -- values out ------------------------------------------------------------------------------
def to_python(col: Column, value, vendor: str):
    """A database value as a JSON-able Python value (dates as ISO text, booleans as bool)."""
    if value is None:
        return None
    kind = col.type
    if kind == "boolean":
        return bool(value)
    if kind in ("date", "datetime"):
        return value.isoformat() if hasattr(value, "isoformat") else value
    if kind == "integer" and isinstance(value, float | Decimal):
        return int(value)
    if kind == "number" and isinstance(value, Decimal):
        return float(value)
    return value


# -- cursors -------------------------------------------------------------------------------
def _signer() -> signing.Signer:
    return signing.Signer(salt=CURSOR_SALT)


def encode_cursor(keys, row_keys: list) -> str:
    payload = {
        "s": [[c.sql_name, desc] for c, desc in keys],
        "v": [to_python(c, v, "") for (c, _d), v in zip(keys, row_keys, strict=True)],
    }
    return _signer().sign_object(payload, compress=True)


def decode_cursor(cursor: str, keys, vendor: str) -> list:
    try:
        payload = _signer().unsign_object(cursor)
    except (signing.BadSignature, ValueError, TypeError):
        raise bad(
            _("Invalid cursor"),
            _("The cursor is damaged or was not made by this server; start from the first page."),
            "cursor",
        ) from None
    if payload.get("s") != [[c.sql_name, desc] for c, desc in keys]:
        raise bad(
            _("Invalid cursor"),
            _("This cursor belongs to another sort order; start from the first page."),
            "cursor",
        )
    position = []
    for (col, _d), value in zip(keys, payload["v"], strict=True):
        if value is None or (vendor == "sqlite" and col.type in ("date", "datetime")):
            position.append(value)  # SQLite stores these as text: compare the stored text
        else:
            position.append(coerce(col, value, vendor, "cursor"))
    return position


__all__ = ["Compiler", "SortKey", "encode_cursor", "decode_cursor", "to_python"]
