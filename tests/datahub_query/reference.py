"""A Python reference of the query semantics, computed on the fixture's rows."""

import math

R = 6_371_008.8


def _cmp(value, op, target):
    if op == "is_null":
        return (value is None) == target
    if op == "ne":
        return value is None or value != target
    if value is None:
        return False
    if op == "eq":
        return value == target
    if op == "in":
        return value in target
    if op == "contains":
        return target.lower() in value.lower()
    if op == "starts_with":
        return value.lower().startswith(target.lower())
    return {
        "lt": value < target,
        "lte": value <= target,
        "gt": value > target,
        "gte": value >= target,
    }[op]


def matches(row, node) -> bool:
    if "and" in node:
        return all(matches(row, n) for n in node["and"])
    if "or" in node:
        return any(matches(row, n) for n in node["or"])
    return _cmp(row[node["column"]], node["op"], node["ref"])


def haversine(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin(math.radians(lat2 - lat1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * R * math.asin(min(1.0, math.sqrt(a)))


def sort_rows(rows, keys):
    """keys: [(column, desc)], NULLs last in both directions, _id breaks ties."""
    result = sorted(rows, key=lambda r: r["_id"])
    for column, desc in reversed(keys):
        present = [r for r in result if r[column] is not None]
        missing = [r for r in result if r[column] is None]
        present.sort(key=lambda r: r[column], reverse=desc)
        result = present + missing
    return result
