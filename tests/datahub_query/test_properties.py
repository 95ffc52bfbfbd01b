"""Property-based tests: any query gives a valid answer or a 400 (never a 500), and no text
of the caller ever reaches the SQL text."""

import datetime as dt
import json
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metropole.core.exceptions import BadRequest
from metropole.datahub.querying.ast import AGGREGATE_FUNCTIONS, DATE_PARTS, FILTER_OPERATORS
from metropole.datahub.querying.compiler import Compiler
from metropole.datahub.querying.parse import from_json, from_params

from .conftest import COLUMNS, RESOURCE

BASE = f"/api/datahub/resources/{RESOURCE}"
PROPERTY = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

names = st.sampled_from([c.name for c in COLUMNS] + ["_id", "_lon", "_lat", "email", "nope"])
ops = st.sampled_from([*FILTER_OPERATORS, "like", "", "EQ"])
texts = st.text(max_size=20)
typed_texts = st.one_of(
    texts,
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.dates().map(str),
    st.datetimes().map(lambda d: d.isoformat()),
    st.sampled_from(["true", "false", "1", "0", "", ",", "a,b", "3,4", "null"]),
)
json_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    typed_texts,
    st.lists(typed_texts, max_size=4),
    st.dictionaries(texts, texts, max_size=2),
)


def conditions(values=json_values):
    return st.fixed_dictionaries(
        {"column": st.one_of(names, st.integers()), "op": ops, "value": values}
    )


def trees(values=json_values):
    return st.recursive(
        st.one_of(conditions(values), st.just({}), st.integers(), st.just({"and": []})),
        lambda children: st.one_of(
            st.dictionaries(
                st.sampled_from(["and", "or"]),
                st.lists(children, max_size=4),
                min_size=1,
                max_size=1,
            ),
            st.lists(children, max_size=2),
        ),
        max_leaves=8,
    )


param_keys = st.one_of(
    names,
    st.builds(lambda n, o: f"{n}__{o}", names, ops),
    st.sampled_from(["q", "select", "sort", "limit", "cursor", "bbox", "near", "where"]),
    texts,
)
param_values = st.one_of(
    typed_texts,
    st.builds(lambda a, b: f"{a},{b}", names, names),
    st.builds(lambda n: f"-{n}", names),
    st.lists(st.floats(-200, 200), min_size=3, max_size=4).map(lambda xs: ",".join(map(str, xs))),
    trees().map(json.dumps),
)
params = st.dictionaries(param_keys, param_values, max_size=5)


@PROPERTY
@given(params)
def test_any_url_query_answers_200_or_400(client, served, query):
    response = client.get(f"{BASE}/records?{urlencode(query)}")
    assert response.status_code in (200, 400), (query, response.content)
    body = response.json()
    if response.status_code == 200:
        assert isinstance(body["results"], list) and len(body["results"]) <= 1000
    else:
        assert body["detail"] and body["status"] == 400


@PROPERTY
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "where": trees(),
            "q": st.one_of(texts, st.integers()),
            "select": st.one_of(st.lists(names, max_size=3), texts),
            "sort": st.one_of(
                st.lists(st.one_of(names, names.map(lambda n: "-" + n)), max_size=3), texts
            ),
            "limit": st.one_of(st.integers(-5, 2000), texts, st.none()),
            "bbox": st.one_of(st.lists(st.floats(-200, 200), max_size=5), texts),
            "near": st.one_of(
                st.fixed_dictionaries(
                    {
                        "lat": st.floats(-100, 100),
                        "lon": st.floats(-200, 200),
                        "meters": st.floats(-10, 2e6),
                    }
                ),
                texts,
            ),
            "cursor": texts,
            "extra": texts,
        },
    )
)
def test_any_json_query_answers_200_or_400(client, served, body):
    response = client.post(f"{BASE}/records/query", body, content_type="application/json")
    assert response.status_code in (200, 400), (body, response.content)


group_items = st.one_of(
    names, st.builds(lambda p, n: f"{p}({n})", st.sampled_from([*DATE_PARTS, "week"]), names)
)
agg_items = st.one_of(
    st.just("count"),
    st.builds(lambda f, n: f"{f}({n})", st.sampled_from([*AGGREGATE_FUNCTIONS, "median"]), names),
    texts,
)


@PROPERTY
@given(
    st.lists(group_items, max_size=3),
    st.lists(agg_items, max_size=3),
    st.lists(st.one_of(group_items, agg_items).map(lambda s: "-" + s), max_size=2),
    params,
)
def test_any_aggregate_answers_200_or_400(client, served, group_by, aggregates, sort, filters):
    query = {**filters, "group_by": ",".join(group_by), "aggregate": ",".join(aggregates)}
    if sort:
        query["sort"] = ",".join(sort)
    response = client.get(f"{BASE}/aggregate?{urlencode(query)}")
    assert response.status_code in (200, 400), (query, response.content)


MARKER = "Qz7MARK"
marked_texts = texts.map(lambda t: MARKER + t)
marked_values = st.one_of(marked_texts, st.lists(marked_texts, min_size=1, max_size=3))


@PROPERTY
@given(trees(marked_values), marked_texts, st.lists(names, max_size=3))
def test_caller_text_only_ever_reaches_sql_as_a_parameter(served, tree, q, sort):
    try:
        query = from_json({"where": tree, "q": q, "sort": sort, "select": sort})
    except BadRequest:
        return
    for vendor in ("postgresql", "sqlite"):
        for fts in (False, True):
            compiler = Compiler(served, vendor, fts=fts)
            for plan in ("records", "count", "export"):
                try:
                    compiled = getattr(compiler, plan)(query)
                except BadRequest:
                    continue
                text = compiled.text if hasattr(compiled, "text") else compiled.sql.text
                assert MARKER not in text


@PROPERTY
@given(st.dictionaries(param_keys, marked_texts, max_size=4))
def test_url_filter_values_never_reach_sql(served, query):
    try:
        parsed = from_params({k: [v] for k, v in query.items()})
        compiled = Compiler(served, "postgresql").records(parsed)
    except BadRequest:
        return
    assert MARKER not in compiled.sql.text


# -- valid queries: always a 200, with exactly the rows of the Python reference ------------
ascii_texts = st.text(alphabet="abcdeilortuxLRT%_\\' -=", max_size=5)
_BY_TYPE = {
    "string": (
        ["eq", "ne", "in", "contains", "starts_with"],
        st.one_of(st.sampled_from(["Lille", "Roubaix", "Tourcoing", "=SUM(A1:A9)"]), ascii_texts),
    ),
    "integer": (["eq", "ne", "lt", "lte", "gt", "gte", "in"], st.integers(-6, 26)),
    "number": (["lt", "lte", "gt", "gte", "ne"], st.floats(-120, 1100).map(lambda x: round(x, 2))),
    "boolean": (["eq", "ne"], st.booleans()),
    "date": (
        ["eq", "lt", "lte", "gt", "gte"],
        st.dates(min_value=dt.date(2018, 12, 1), max_value=dt.date(2021, 2, 1)),
    ),
}


@st.composite
def valid_conditions(draw):
    col = draw(st.sampled_from([c for c in COLUMNS if c.type in _BY_TYPE]))
    if draw(st.integers(0, 9)) == 0:
        flag = draw(st.booleans())
        return {"column": col.name, "op": "is_null", "value": flag, "ref": flag}
    operators, values = _BY_TYPE[col.type]
    op = draw(st.sampled_from(operators))
    if op == "in":
        ref = draw(st.lists(values, min_size=1, max_size=3))
        value = [v.isoformat() if isinstance(v, dt.date) else v for v in ref]
    else:
        ref = draw(values)
        value = ref.isoformat() if isinstance(ref, dt.date) else ref
    return {"column": col.name, "op": op, "value": value, "ref": ref}


valid_trees = st.recursive(
    valid_conditions(),
    lambda children: st.dictionaries(
        st.sampled_from(["and", "or"]),
        st.lists(children, min_size=1, max_size=3),
        min_size=1,
        max_size=1,
    ),
    max_leaves=6,
)


@PROPERTY
@given(
    valid_trees,
    st.lists(st.sampled_from(["count", "-amount", "day", "-active"]), max_size=2, unique=True),
)
def test_valid_queries_match_the_python_reference(client, served, rows, tree, sort):
    from .reference import matches, sort_rows
    from .test_engine import strip_ref

    body = {"where": strip_ref(tree), "limit": 1000, "sort": sort}
    response = client.post(f"{BASE}/records/query", body, content_type="application/json")
    assert response.status_code == 200, (body, response.content)
    keys = [(k.lstrip("-"), k.startswith("-")) for k in sort]
    expected = [r["_id"] for r in sort_rows([r for r in rows if matches(r, tree)], keys)]
    assert [r["_id"] for r in response.json()["results"]] == expected
    assert response.json()["total"] == len(expected)
