"""Streamed exports parse back to the same rows; formulas are neutralised; large exports run
in the background and end with a signed download link."""

import csv
import io
import json

import pyarrow.parquet as pq
from django.test import override_settings

from .conftest import RESOURCE

BASE = f"/api/datahub/resources/{RESOURCE}"
IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def content(response) -> bytes:
    assert response.status_code == 200, response.content
    assert response.streaming
    return b"".join(response.streaming_content)


def selected(rows):
    return [r for r in rows if r["count"] is not None and r["count"] >= 2]


def test_csv_export_has_the_filtered_rows_and_neutralised_formulas(client, served, rows):
    text = content(client.get(f"{BASE}/export.csv?count__gte=2")).decode()
    parsed = list(csv.DictReader(io.StringIO(text)))
    expected = selected(rows)
    assert [int(r["_id"]) for r in parsed] == [r["_id"] for r in expected]
    for got, want in zip(parsed, expected, strict=True):
        name = want["name"] or ""
        if name[:1] in ("=", "+", "-", "@"):
            assert got["name"] == "'" + name
        else:
            assert got["name"] == name
        assert got["count"] == str(want["count"])
        assert got["amount"] == ("" if want["amount"] is None else str(want["amount"]))
        assert got["day"] == (want["day"].isoformat() if want["day"] else "")
        assert got["at"] == (want["at"].isoformat() if want["at"] else "")
        assert got["active"] == ("" if want["active"] is None else str(want["active"]).lower())
        assert "email" not in got
    assert any(r["name"] == "'=SUM(A1:A9)" for r in parsed)
    assert any(r["amount"].startswith("-") for r in parsed)  # numbers are not altered


def test_json_and_jsonl_exports(client, served, rows):
    expected = selected(rows)
    data = json.loads(content(client.get(f"{BASE}/export.json?count__gte=2")))
    lines = content(client.get(f"{BASE}/export.jsonl?count__gte=2")).decode().splitlines()
    assert [json.loads(line) for line in lines] == data
    assert [r["_id"] for r in data] == [r["_id"] for r in expected]
    page = client.get(f"{BASE}/records?count__gte=2&limit=1000").json()["results"]
    assert data == page  # every output writes values the same way (dates, booleans, geometry)
    for got, want in zip(data, expected, strict=True):
        assert got["day"] == (want["day"].isoformat() if want["day"] else None)
        assert got["at"] == (want["at"].isoformat() if want["at"] else None)
        assert got["name"] == want["name"] and got["amount"] == want["amount"]
        assert got["active"] == want["active"]
        assert got["geom"] == (json.loads(want["geom"]) if want["geom"] else None)


def test_geojson_export_builds_features_from_the_geometry_or_coordinates(client, served, rows):
    data = json.loads(content(client.get(f"{BASE}/export.geojson?select=name,city&sort=-_id")))
    assert data["type"] == "FeatureCollection"
    features = data["features"]
    assert [f["id"] for f in features] == [r["_id"] for r in reversed(rows)]
    for feature, row in zip(features, reversed(rows), strict=True):
        if row["_lon"] is None:
            assert feature["geometry"] is None
        else:
            assert feature["geometry"] == {
                "type": "Point",
                "coordinates": [row["_lon"], row["_lat"]],
            }
        assert feature["properties"] == {
            "_id": row["_id"],
            "name": row["name"],
            "city": row["city"],
        }


def test_parquet_export_reads_back_with_pyarrow(client, served, rows):
    table = pq.read_table(io.BytesIO(content(client.get(f"{BASE}/export.parquet?count__gte=2"))))
    expected = selected(rows)
    assert table.num_rows == len(expected)
    assert str(table.schema.field("count").type) == "int64"
    assert str(table.schema.field("day").type) == "date32[day]"
    assert str(table.schema.field("at").type) == "timestamp[us, tz=UTC]"
    got = table.to_pylist()
    for g, w in zip(got, expected, strict=True):
        assert g["_id"] == w["_id"] and g["count"] == w["count"] and g["amount"] == w["amount"]
        assert g["day"] == w["day"] and g["at"] == w["at"] and g["active"] == w["active"]


def test_parquet_is_written_in_row_groups(served, monkeypatch):
    from metropole.datahub.querying import exports
    from metropole.datahub.querying.parse import from_params

    monkeypatch.setattr(exports, "PARQUET_ROW_GROUP", 25)
    chunks = list(exports.stream(served, from_params({}), "parquet"))
    assert len(chunks) >= 6  # one chunk per row group, drained as it is written
    meta = pq.ParquetFile(io.BytesIO(b"".join(chunks))).metadata
    assert meta.num_row_groups == -(-served.row_count // 25)


def test_large_exports_run_in_the_background_and_end_with_a_signed_link(
    client, served, rows, settings, tmp_path
):
    settings.DATAHUB_EXPORTS_DIR = tmp_path
    settings.DATAHUB_EXPORT_SYNC_MAX_ROWS = 10
    with override_settings(TASKS=IMMEDIATE):
        response = client.get(f"{BASE}/export.csv?city=Lille")
    assert response.status_code == 202, response.content
    status = client.get(response.json()["status_url"]).json()
    assert status["state"] == "done", status
    download = client.get(status["download_url"])
    assert download.status_code == 200
    parsed = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert [int(r["_id"]) for r in parsed] == [r["_id"] for r in rows if r["city"] == "Lille"]
    # a tampered link is refused
    assert client.get(status["download_url"][:-3] + "abc/").status_code == 404
    assert client.get(status["download_url"].rstrip("/")[:-3] + "abc").status_code == 404


def test_expired_download_links_and_files(client, served, settings, tmp_path):
    from metropole.datahub.querying import exports

    settings.DATAHUB_EXPORTS_DIR = tmp_path
    settings.DATAHUB_EXPORT_SYNC_MAX_ROWS = 10
    with override_settings(TASKS=IMMEDIATE):
        status_url = client.get(f"{BASE}/export.json").json()["status_url"]
    download_url = client.get(status_url).json()["download_url"]
    settings.DATAHUB_EXPORT_TTL_SECONDS = -1
    assert client.get(download_url).status_code == 404
    assert exports.remove_expired() >= 2  # the file and its status
    assert list(tmp_path.iterdir()) == []
