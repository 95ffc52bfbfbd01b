"""Every bad input the issue lists, sent as a new version of a resource already serving
data: a report that says what is wrong and where, and the served version untouched
(its table still there, still current), the failed version's table gone."""

import json

import pytest
from django.utils import translation

from metropole.datahub import storage
from metropole.datahub.models import VersionStatus

from .spreadsheets import ods, xlsx, xlsx_workbook

GOOD = b"commune;habitants\nLille;236234\nRoubaix;98089\n"
ROWS = [["Commune", "Habitants"], ["Lille", 236234]]
SCHEMA = {
    "fields": [
        {"name": "commune", "type": "string", "constraints": {"required": True}},
        {"name": "habitants", "type": "integer", "constraints": {"minimum": 0}},
    ]
}


def _ods_with_macros():
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(ods(ROWS))) as source, zipfile.ZipFile(buffer, "w") as out:
        for item in source.infolist():
            out.writestr(item, source.read(item.filename))
        out.writestr("Basic/Standard/Module1.xml", "<script:module/>")
    return buffer.getvalue()


# name, file name, content, upload options, (title, words the detail or report must hold)
CASES = [
    (
        "mixed-encoding",
        "data.csv",
        ("commune;habitants\n" + "Lille;1\n" * 150_000).encode()
        + "Wattrelos;2\nZoé;3\n".encode("cp1252"),
        {},
        ("Wrong encoding", ["150003", "UTF-8"]),
    ),
    (
        "binary",
        "data.csv",
        b"commune;habitants\n\x00\x01\x02\x00",
        {},
        ("Not a text file", ["NUL"]),
    ),
    (
        "ragged",
        "data.csv",
        b"commune;habitants\nLille;1\nRoubaix\nTourcoing;3;4\n",
        {},
        ("Load rejected", ["row 3", "row 4"]),
    ),
    ("header-only", "data.csv", b"commune;habitants\n", {}, ("No rows", ["no rows"])),
    ("blank", "data.csv", b" \n\n  \n", {}, ("Empty file", ["no text"])),
    (
        "zip-bomb",
        "bomb.xlsx",
        xlsx(ROWS, extra_parts={"xl/media/padding.bin": b"\x00" * 20_000_000}),
        {},
        ("Suspicious archive", ["zip bomb"]),
    ),
    (
        "xlsx-macros",
        "macro.xlsm",
        xlsx(ROWS, extra_parts={"xl/vbaProject.bin": b"\x00" * 100}),
        {},
        ("Spreadsheet with macros", ["vbaProject.bin"]),
    ),
    ("ods-macros", "macro.ods", _ods_with_macros(), {}, ("Spreadsheet with macros", ["Basic/"])),
    (
        "xls",
        "old.xls",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,
        {},
        ("Old Excel format", ["XLSX"]),
    ),
    (
        "zip-not-spreadsheet",
        "data.xlsx",
        xlsx([]).replace(b"xl/", b"zz/"),
        {},
        ("Unknown file type", ["ZIP"]),
    ),
    (
        "empty-sheet",
        "empty.xlsx",
        xlsx_workbook({"Vide": [], "Données": ROWS}),
        {},
        ("Empty file", ["Vide"]),
    ),
    (
        "invalid-json",
        "data.json",
        b'[{"commune": "Lille"},\n{"commune": }]',
        {},
        ("Invalid JSON", ["Line 2"]),
    ),
    (
        "invalid-geojson",
        "data.geojson",
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"nom": "Lille"},
                        "geometry": {"type": "Point", "coordinates": [3.06, 50.63]},
                    },
                    {
                        "type": "Feature",
                        "properties": {"nom": "hors limites"},
                        "geometry": {"type": "Point", "coordinates": [300, 50]},
                    },
                ],
            }
        ).encode(),
        {},
        ("Load rejected", ["Feature 2", "WGS84", "row 3"]),
    ),
    (
        "schema-break",
        "data.csv",
        b"commune;habitants\nLille;236234\n;12\nRoubaix;-5\nTourcoing;beaucoup\n",
        {"schema": SCHEMA},
        ("Load rejected", ["row 3", "row 4", "row 5"]),
    ),
]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_reported_and_the_served_version_kept(case, resource, load, publisher):
    _name, filename, content, options, (title, words) = case
    if "schema" in options:
        from metropole.datahub import services

        services.update_dataset(publisher, resource.dataset, table_schema=options["schema"])
    good = load(resource, GOOD)
    assert good.status == VersionStatus.READY, good.error_detail

    bad = load(resource, content, name=filename)

    assert bad.status == VersionStatus.FAILED
    assert bad.error_title == title
    said = bad.error_detail + " " + json.dumps(bad.report, ensure_ascii=False)
    said = said.replace("Row ", "row ").replace('"row": ', "row ")
    for word in words:
        assert word.lower() in said.lower(), (word, said[:1000])
    resource.refresh_from_db()
    assert resource.current_version_id == good.pk
    assert storage.read_rows(good) == [
        {"commune": "Lille", "habitants": 236234},
        {"commune": "Roubaix", "habitants": 98089},
    ]
    assert not storage.table_exists(bad)
