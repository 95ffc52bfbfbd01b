"""The two input syntaxes of the query API, parsed to the same AST (``ast.Query``).

URL parameters (GET)::

    ?<column>=<value>                 equality (shorthand of <column>__eq)
    ?<column>__<op>=<value>           op: eq ne lt lte gt gte in contains starts_with is_null
                                      (in: comma-separated values; is_null: true or false)
    ?where=<JSON node>                AND/OR groups, same JSON as the body's "where"
    ?q=<words>                        full-text search (every word must appear)
    ?select=a,b                       columns returned (default: all; _id always)
    ?sort=-a,b                        sort keys, "-" for descending; _id breaks ties
    ?limit=100&cursor=<opaque>        keyset pagination
    ?bbox=min_lon,min_lat,max_lon,max_lat
    ?near=lat,lon,meters
    ?group_by=a,year(d)&aggregate=count,sum(x)   (aggregate endpoint)

Every parameter filter is ANDed. Parameter names other than the reserved ones are filters,
so an unknown parameter is reported as an unknown column rather than silently ignored.

JSON body (POST .../records/query)::

    {"where": {"and": [{"column": "age", "op": "gte", "value": 18},
                       {"or": [{"column": "city", "op": "eq", "value": "Lille"},
                               {"column": "city", "op": "starts_with", "value": "Roubaix"}]}]},
     "q": "...", "select": ["a"], "sort": ["-a"], "limit": 50, "cursor": "...",
     "bbox": [2.9, 50.5, 3.2, 50.8], "near": {"lat": 50.63, "lon": 3.06, "meters": 500},
     "group_by": ["a", "year(d)"], "aggregate": ["count", "sum(x)"]}
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping

from django.utils.translation import gettext as _

from metropole.core.exceptions import BadRequest

from .ast import (
    AGGREGATE_FUNCTIONS,
    DATE_PARTS,
    FILTER_OPERATORS,
    Aggregate,
    Bbox,
    BoolGroup,
    Condition,
    GroupKey,
    Near,
    Query,
    SortKey,
)

RESERVED = (
    "where",
    "q",
    "select",
    "sort",
    "limit",
    "cursor",
    "bbox",
    "near",
    "group_by",
    "aggregate",
    "version",  # read by the endpoints (which version of the resource), not part of a query
)
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_CONDITIONS = 100
MAX_DEPTH = 8
MAX_TEXT = 1000
MAX_NEAR_METERS = 1_000_000
_CALL = re.compile(r"^([a-z_]+)\((.*)\)$", re.S)


def bad(title: str, detail: str, where: str | None = None) -> BadRequest:
    return BadRequest(title, detail, field=where)


def _text(value, where: str) -> str:
    if not isinstance(value, str):
        raise bad(_("Invalid value"), _("A text was expected."), where)
    if len(value) > MAX_TEXT:
        raise bad(
            _("Invalid value"), _("At most %(n)d characters are allowed.") % {"n": MAX_TEXT}, where
        )
    return value


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",")] if value.strip() else []


def _number(text, where: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise bad(_("Invalid value"), _("%(v)r is not a number.") % {"v": text}, where) from None
    if not math.isfinite(value):
        raise bad(_("Invalid value"), _("%(v)r is not a finite number.") % {"v": text}, where)
    return value


def parse_limit(value, where: str = "limit") -> int:
    if isinstance(value, bool):
        value = None
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise bad(_("Invalid limit"), _("The limit must be a whole number."), where) from None
    if not 1 <= limit <= MAX_LIMIT:
        raise bad(
            _("Invalid limit"),
            _("The limit must be between 1 and %(max)d.") % {"max": MAX_LIMIT},
            where,
        )
    return limit


def parse_bbox(value, where: str = "bbox") -> Bbox:
    parts = _split(value) if isinstance(value, str) else value
    if not isinstance(parts, list | tuple) or len(parts) != 4:
        raise bad(
            _("Invalid bounding box"),
            _("A bounding box is four numbers: min_lon,min_lat,max_lon,max_lat."),
            where,
        )
    min_lon, min_lat, max_lon, max_lat = (_number(p, where) for p in parts)
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise bad(
            _("Invalid bounding box"),
            _(
                "Longitudes must be within -180..180 and latitudes within -90..90, "
                "each minimum not above its maximum."
            ),
            where,
        )
    return Bbox(min_lon, min_lat, max_lon, max_lat)


def parse_near(value, where: str = "near") -> Near:
    if isinstance(value, dict):
        parts = [value.get("lat"), value.get("lon"), value.get("meters")]
    elif isinstance(value, str):
        parts = _split(value)
    else:
        parts = value
    if not isinstance(parts, list | tuple) or len(parts) != 3:
        raise bad(
            _("Invalid distance filter"),
            _("A distance filter is three numbers: latitude,longitude,meters."),
            where,
        )
    lat, lon, meters = (_number(p, where) for p in parts)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180 and 0 < meters <= MAX_NEAR_METERS):
        raise bad(
            _("Invalid distance filter"),
            _(
                "The latitude must be within -90..90, the longitude within -180..180 and "
                "the distance between 0 and %(max)d meters."
            )
            % {"max": MAX_NEAR_METERS},
            where,
        )
    return Near(lat, lon, meters)


def parse_sort(items, where: str = "sort") -> tuple[SortKey, ...]:
    keys = []
    for i, item in enumerate(items):
        here = f"{where}[{i}]"
        if isinstance(item, dict):
            column = _text(item.get("column"), here)
            desc = item.get("desc", False)
            if not isinstance(desc, bool):
                raise bad(_("Invalid sort"), _("'desc' must be true or false."), here)
        else:
            text = _text(item, here)
            desc = text.startswith("-")
            column = text[1:] if desc or text.startswith("+") else text
        if not column:
            raise bad(_("Invalid sort"), _("A sort key names a column."), here)
        keys.append(SortKey(column, desc))
    if len(keys) > 8:
        raise bad(_("Invalid sort"), _("At most 8 sort keys are allowed."), where)
    return tuple(keys)


def parse_group_key(item, where: str) -> GroupKey:
    if isinstance(item, dict):
        column = _text(item.get("column"), where)
        part = item.get("part")
        if part is not None and part not in DATE_PARTS:
            raise bad(
                _("Invalid grouping"),
                _("Unknown date part %(p)r; known: %(known)s.")
                % {"p": part, "known": ", ".join(DATE_PARTS)},
                where,
            )
        return GroupKey(column, part)
    text = _text(item, where)
    match = _CALL.match(text)
    if match and match.group(1) in DATE_PARTS:
        return GroupKey(match.group(2), match.group(1))
    return GroupKey(text)


def parse_aggregate(item, where: str) -> Aggregate:
    if isinstance(item, dict):
        func = item.get("func")
        column = item.get("column")
        if column is not None:
            column = _text(column, where)
    else:
        text = _text(item, where).strip()
        match = _CALL.match(text)
        if match:
            func, column = match.group(1), match.group(2)
            column = None if column in ("", "*") and func == "count" else column
        else:
            func, column = text, None
    if func not in AGGREGATE_FUNCTIONS:
        raise bad(
            _("Invalid aggregate"),
            _("Unknown aggregate function %(f)r; known: %(known)s.")
            % {"f": func, "known": ", ".join(AGGREGATE_FUNCTIONS)},
            where,
        )
    if column is None and func != "count":
        raise bad(
            _("Invalid aggregate"),
            _("%(f)s needs a column, e.g. %(f)s(column).") % {"f": func},
            where,
        )
    return Aggregate(func, column)


class _Counter:
    def __init__(self):
        self.n = 0


def parse_node(node, where: str, counter: _Counter, depth: int = 0):
    if depth > MAX_DEPTH:
        raise bad(
            _("Query too complex"),
            _("Groups may be nested at most %(n)d deep.") % {"n": MAX_DEPTH},
            where,
        )
    if not isinstance(node, dict):
        raise bad(
            _("Invalid filter"),
            _(
                'A filter is an object: {"and": [...]}, {"or": [...]} or '
                '{"column": ..., "op": ..., "value": ...}.'
            ),
            where,
        )
    groups = [k for k in ("and", "or") if k in node]
    if groups:
        if len(node) != 1:
            raise bad(_("Invalid filter"), _("A group has exactly one key, and or or."), where)
        op = groups[0]
        items = node[op]
        if not isinstance(items, list) or not items:
            raise bad(_("Invalid filter"), _("A group holds a non-empty list."), f"{where}.{op}")
        return BoolGroup(
            op,
            tuple(
                parse_node(item, f"{where}.{op}[{i}]", counter, depth + 1)
                for i, item in enumerate(items)
            ),
            where,
        )
    unknown = set(node) - {"column", "op", "value"}
    if unknown or "column" not in node:
        raise bad(
            _("Invalid filter"),
            _('A condition has the keys "column", "op" and "value" (got %(keys)s).')
            % {"keys": ", ".join(sorted(map(str, node)))},
            where,
        )
    counter.n += 1
    if counter.n > MAX_CONDITIONS:
        raise bad(
            _("Query too complex"),
            _("At most %(n)d conditions are allowed.") % {"n": MAX_CONDITIONS},
            where,
        )
    op = node.get("op", "eq")
    if op not in FILTER_OPERATORS:
        raise bad(
            _("Unknown operator"),
            _("Unknown operator %(op)r; known: %(known)s.")
            % {"op": op, "known": ", ".join(FILTER_OPERATORS)},
            where,
        )
    value = node.get("value")
    if op == "in" and not isinstance(value, list):
        raise bad(_("Invalid value"), _("The operator in takes a list of values."), where)
    return Condition(_text(node["column"], where), op, value, where)


def _json(text: str, where: str):
    try:
        return json.loads(text)
    except ValueError as exc:
        raise bad(_("Invalid JSON"), str(exc), where) from None


def from_params(params: Mapping[str, list[str]]) -> Query:
    """A Query from URL parameters (a QueryDict's ``lists()`` or a dict of lists)."""
    conditions: list = []
    extra: dict = {}
    counter = _Counter()
    for key, values in params.items():
        if key in RESERVED:
            if len(values) != 1:
                raise bad(_("Repeated parameter"), _("Give this parameter only once."), key)
            extra[key] = _text(values[0], key)
            continue
        if "\x00" in key:
            raise bad(_("Invalid parameter"), _("Parameter names cannot hold NUL."), "query")
        column, sep, op = key.rpartition("__")
        if not sep or op not in FILTER_OPERATORS:
            column, op = key, "eq"
        for value in values:
            _text(value, key)
            counter.n += 1
            if counter.n > MAX_CONDITIONS:
                raise bad(
                    _("Query too complex"),
                    _("At most %(n)d conditions are allowed.") % {"n": MAX_CONDITIONS},
                    key,
                )
            if op == "in":
                value = _split(value)
            conditions.append(Condition(column, op, value, key))
    if "where" in extra:
        conditions.append(parse_node(_json(extra["where"], "where"), "where", counter))
    kwargs = _common(extra)
    where = BoolGroup("and", tuple(conditions), "query") if conditions else None
    return Query(where=where, **kwargs)


def _common(values: Mapping) -> dict:
    kwargs: dict = {}
    if values.get("q") is not None:
        kwargs["q"] = _text(values["q"], "q").strip()
    if values.get("select") is not None:
        select = values["select"]
        items = _split(select) if isinstance(select, str) else select
        if not isinstance(items, list):
            raise bad(_("Invalid selection"), _("select is a list of column names."), "select")
        kwargs["select"] = tuple(_text(c, f"select[{i}]") for i, c in enumerate(items))
    if values.get("sort") is not None:
        sort = values["sort"]
        items = _split(sort) if isinstance(sort, str) else sort
        if not isinstance(items, list):
            raise bad(_("Invalid sort"), _("sort is a list of column names."), "sort")
        kwargs["sort"] = parse_sort(items)
    if values.get("limit") is not None:
        kwargs["limit"] = parse_limit(values["limit"])
    if values.get("cursor"):
        kwargs["cursor"] = _text(values["cursor"], "cursor")
    if values.get("bbox") is not None:
        kwargs["bbox"] = parse_bbox(values["bbox"])
    if values.get("near") is not None:
        kwargs["near"] = parse_near(values["near"])
    for key, parser in (("group_by", parse_group_key), ("aggregate", parse_aggregate)):
        if values.get(key) is None:
            continue
        raw = values[key]
        if isinstance(raw, str):
            items = _split(raw)
        elif isinstance(raw, list):
            items = raw
        else:
            raise bad(_("Invalid value"), _("A list was expected."), key)
        if len(items) > 8:
            raise bad(_("Query too complex"), _("At most 8 items are allowed."), key)
        parsed = tuple(parser(item, f"{key}[{i}]") for i, item in enumerate(items))
        kwargs["group_by" if key == "group_by" else "aggregates"] = parsed
    return kwargs


def from_json(body) -> Query:
    """A Query from the JSON body of POST .../records/query."""
    if not isinstance(body, dict):
        raise bad(_("Invalid query"), _("The body is a JSON object."), "body")
    known = [key for key in RESERVED if key != "version"]
    unknown = set(body) - set(known)
    if unknown:
        raise bad(
            _("Invalid query"),
            _("Unknown keys %(keys)s; known: %(known)s.")
            % {"keys": ", ".join(sorted(map(str, unknown))), "known": ", ".join(known)},
            "body",
        )
    where = None
    if body.get("where") is not None:
        node = parse_node(body["where"], "where", _Counter())
        where = node if isinstance(node, BoolGroup) else BoolGroup("and", (node,), "where")
    return Query(where=where, **_common(body))
