"""XLSX, ODS, JSON and GeoJSON ingestion, and their bad inputs."""

import json

import pytest
from django.utils import translation

from metropole.datahub import storage
from metropole.datahub.models import VersionStatus

from .spreadsheets import ods, xlsx


@pytest.fixture(autouse=True)
def _english():
    """The messages are checked in the source language (the site's default is French)."""
    with translation.override("en"):
        yield


ROWS = [
    ["Commune", "Code INSEE", "Habitants"],
    ["Lille", "59350", 236234],
    ["Lomme", "59350", 28000],
]


def test_xlsx_is_read_with_types(resource, load):
    version = load(resource, xlsx(ROWS), name="communes.xlsx")
    assert version.status == VersionStatus.READY, version.error_detail
    assert version.format == "xlsx"
    assert {c["name"]: c["type"] for c in version.columns} == {
        "Commune": "string",
        "Code INSEE": "string",
        "Habitants": "integer",
    }
    assert storage.read_rows(version)[0] == {
        "Commune": "Lille",
        "Code INSEE": "59350",
        "Habitants": 236234,
    }


def test_ods_is_read(resource, load):
    version = load(resource, ods(ROWS), name="communes.ods")
    assert version.status == VersionStatus.READY, version.error_detail
    assert version.format == "ods"
    assert [r["Habitants"] for r in storage.read_rows(version)] == [236234, 28000]


def test_formulas_are_reported_and_their_values_loaded(resource, load):
    rows = [["a", "b", "somme"], [1, 2, 3], [4, 5, 9]]
    version = load(
        resource, xlsx(rows, formulas={"C2": ("A2+B2", 3), "C3": ("A3+B3", 9)}), name="f.xlsx"
    )
    assert version.status == VersionStatus.READY
    warning = next(w for w in version.report["warnings"] if w["code"] == "formulas")
    assert warning["count"] == 2 and warning["cells"] == ["C2", "C3"]
    assert [r["somme"] for r in storage.read_rows(version)] == [3, 9]


def test_ods_formulas_are_reported(resource, load):
    rows = [["a", "b", "somme"], [1, 2, 3]]
    version = load(resource, ods(rows, formulas={"C2": "[.A2]+[.B2]"}), name="f.ods")
    warning = next(w for w in version.report["warnings"] if w["code"] == "formulas")
    assert warning["cells"] == ["C2"]


def test_xlsx_with_macros_is_refused(resource, load):
    content = xlsx(ROWS, extra_parts={"xl/vbaProject.bin": b"\x00" * 100})
    version = load(resource, content, name="macro.xlsm")
    assert version.status == VersionStatus.FAILED
    assert version.error_title == "Spreadsheet with macros"
    resource.refresh_from_db()
    assert resource.current_version_id is None


def test_zip_bomb_is_refused(resource, load, settings):
    # 20 MB of zeros compress to a few kilobytes: a ratio far above the limit.
    content = xlsx(ROWS, extra_parts={"xl/media/padding.bin": b"\x00" * 20_000_000})
    version = load(resource, content, name="bomb.xlsx")
    assert version.status == VersionStatus.FAILED
    assert version.error_title == "Suspicious archive"
    assert "zip bomb" in version.error_detail


def test_uncompressed_size_limit(resource, load, settings):
    settings.DATAHUB_MAX_UNCOMPRESSED_BYTES = 1000
    version = load(resource, xlsx(ROWS), name="small.xlsx")
    assert version.status == VersionStatus.FAILED and version.error_title == "Suspicious archive"


def test_json_array_of_objects(resource, load):
    rows = [
        {"nom": "Parc Barbieux", "surface_ha": 33.5, "ouvert": True, "tags": ["parc"]},
        {"nom": "Citadelle", "surface_ha": 110, "ouvert": False, "tags": []},
    ]
    version = load(resource, json.dumps(rows).encode(), name="parcs.json")
    assert version.status == VersionStatus.READY, version.error_detail
    types = {c["name"]: c["type"] for c in version.columns}
    assert types == {"nom": "string", "surface_ha": "number", "ouvert": "boolean", "tags": "string"}
    assert storage.read_rows(version)[1]["surface_ha"] == 110


def test_json_under_a_key_and_streamed_in_small_chunks(resource, load, monkeypatch):
    from metropole.datahub.ingest import readers

    monkeypatch.setattr(readers, "SAMPLE_BYTES", 64)  # forces many buffer refills
    rows = [{"id": i, "label": f"élément {i}" * 3} for i in range(500)]
    body = json.dumps({"total": 500, "results": rows}, indent=2).encode()
    version = load(resource, body, name="api.json")
    assert version.status == VersionStatus.READY, version.error_detail
    assert version.row_count == 500


def test_invalid_json_says_where(resource, load):
    version = load(resource, b'[{"a": 1},\n{"a": 2,,}]', name="bad.json")
    assert version.status == VersionStatus.FAILED
    assert version.error_title == "Invalid JSON"
    assert "Line 2" in version.error_detail


def _feature(geometry, **properties):
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def test_geojson_points_and_polygons(resource, load):
    collection = {
        "type": "FeatureCollection",
        "features": [
            _feature({"type": "Point", "coordinates": [3.0635, 50.6366]}, nom="Mairie de Lille"),
            _feature(
                {
                    "type": "Polygon",
                    "coordinates": [
                        [[3.0, 50.6], [3.1, 50.6], [3.1, 50.7], [3.0, 50.7], [3.0, 50.6]]
                    ],
                },
                nom="Zone",
            ),
        ],
    }
    version = load(resource, json.dumps(collection).encode(), name="lieux.geojson")
    assert version.status == VersionStatus.READY, version.error_detail
    assert version.geolocated
    assert {c["name"]: c["type"] for c in version.columns} == {
        "nom": "string",
        "geometry": "geometry",
    }
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT _lon, _lat FROM {storage.table_ref(version)} ORDER BY _id")
        points = cursor.fetchall()
    assert points[0] == (3.0635, 50.6366)
    assert round(points[1][0], 6) == 3.05 and round(points[1][1], 6) == 50.65


def test_invalid_geometry_is_reported_by_feature(resource, load):
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    collection = {
        "type": "FeatureCollection",
        "features": [
            _feature({"type": "Point", "coordinates": [3.06, 50.63]}, nom="ok"),
            _feature(bowtie, nom="nœud papillon"),
            _feature({"type": "Point", "coordinates": [300, 50]}, nom="hors limites"),
        ],
    }
    version = load(resource, json.dumps(collection).encode(), name="x.geojson")
    assert version.status == VersionStatus.FAILED
    errors = version.report["errors"]
    assert [(e["row"], e["code"]) for e in errors] == [
        (3, "invalid-geometry"),
        (4, "invalid-geometry"),
    ]
    assert "Self-intersection" in errors[0]["message"]
    kept = load(resource, json.dumps(collection).encode(), name="x.geojson", invalid_rows="skip")
    assert kept.status == VersionStatus.READY and kept.row_count == 1


def test_not_a_feature_collection(resource, load):
    version = load(resource, b'{"type": "Point", "coordinates": [1, 2]}', name="p.geojson")
    assert version.status == VersionStatus.FAILED
    assert version.error_title == "Not a table"
