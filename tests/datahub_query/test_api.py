"""The records API over HTTP: pages, JSON queries, aggregates, schema, errors, rate limit."""

import json

import pytest

from .conftest import RESOURCE
from .reference import matches

BASE = f"/api/datahub/resources/{RESOURCE}"


def test_records_page_and_next_link_walk_every_row(client, served, rows):
    url = f"{BASE}/records?city=Lille&sort=-amount&limit=4"
    seen = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        seen += [r["_id"] for r in body["results"]]
        url = body["next"]
    expected = [r for r in rows if r["city"] == "Lille"]
    assert sorted(seen) == sorted(r["_id"] for r in expected)
    assert len(seen) == len(set(seen)) == body["total"]


def test_json_query_with_or_groups(client, served, rows):
    body = {
        "where": {
            "or": [
                {"column": "count", "op": "lt", "value": 0},
                {"column": "name", "op": "starts_with", "value": "rou"},
            ]
        },
        "select": ["name", "count"],
        "limit": 1000,
    }
    response = client.post(f"{BASE}/records/query", body, content_type="application/json")
    assert response.status_code == 200, response.content
    tree = {
        "or": [
            {"column": "count", "op": "lt", "ref": 0},
            {"column": "name", "op": "starts_with", "ref": "rou"},
        ]
    }
    assert [r["_id"] for r in response.json()["results"]] == [
        r["_id"] for r in rows if matches(r, tree)
    ]
    assert set(response.json()["results"][0]) == {"_id", "name", "count"}


def test_aggregate_endpoint(client, served, rows):
    response = client.get(f"{BASE}/aggregate?group_by=city&aggregate=count&sort=-count")
    assert response.status_code == 200, response.content
    groups = response.json()["groups"]
    assert sum(g["count"] for g in groups) == len(rows)
    assert [g["count"] for g in groups] == sorted((g["count"] for g in groups), reverse=True)


@pytest.mark.parametrize(
    ("url", "field"),
    [
        (f"{BASE}/records?nope=1", "nope"),
        (f"{BASE}/records?count__near=1", "count__near"),
        (f"{BASE}/records?day=yesterday", "day"),
        (f"{BASE}/records?limit=100000", "limit"),
        (f"{BASE}/aggregate?aggregate=sum(name)", "aggregate[0]"),
        (f"{BASE}/export.csv?amount__gt=abc", "amount__gt"),
    ],
)
def test_bad_queries_are_problem_400_naming_the_parameter(client, served, url, field):
    response = client.get(url)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["field"] == field
    assert response.json()["detail"]


def test_bad_json_body_is_a_400(client, served):
    response = client.post(f"{BASE}/records/query", "{nope", content_type="application/json")
    assert response.status_code == 400 and response.json()["field"] == "body"
    response = client.post(
        f"{BASE}/records/query", {"where": {"xor": []}}, content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["field"] == "where"


def test_unknown_resource_is_a_404(client, served):
    response = client.get("/api/datahub/resources/nope/records")
    assert response.status_code == 404
    assert client.get("/api/datahub/resources/nope/export.csv").status_code == 404
    assert client.get(f"{BASE}/export.xls").status_code == 404


def test_schema_lists_visible_columns_and_what_they_allow(client, served):
    body = client.get(f"{BASE}/schema").json()
    names = [c["name"] for c in body["columns"]]
    assert names == ["name", "count", "amount", "active", "day", "at", "geom", "city"]
    assert "email" not in json.dumps(body)
    by_name = {c["name"]: c for c in body["columns"]}
    assert "sum" in by_name["amount"]["aggregates"]
    assert by_name["at"]["date_parts"] == ["year", "month", "day", "weekday", "hour"]
    assert by_name["geom"]["operators"] == ["is_null"]
    assert body["examples"]["near"].startswith("http")
    assert client.get(body["examples"]["grouped"]).status_code == 200


def test_rate_limit_per_client(client, served, settings):
    settings.DATAHUB_QUERY_RATE_PER_MINUTE = 3
    answers = [client.get(f"{BASE}/records?limit=1") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["detail"].endswith(f"try again in {refused['Retry-After']} seconds.")


def test_openapi_documents_the_endpoints(client, served):
    from metropole.api import api

    spec = api.get_openapi_schema()
    paths = spec["paths"]
    assert "/api/datahub/resources/{resource_id}/records" in paths
    assert "/api/datahub/resources/{resource_id}/export.{fmt}" in paths
    post = paths["/api/datahub/resources/{resource_id}/records/query"]["post"]
    assert post["requestBody"]["content"]["application/json"]["example"]["where"]


def test_rate_limit_zero_means_no_limit(client, served, settings):
    settings.DATAHUB_QUERY_RATE_PER_MINUTE = 0
    assert {client.get(f"{BASE}/records?limit=1").status_code for _ in range(5)} == {200}
