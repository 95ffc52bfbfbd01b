"""CSV ingestion: delimiters, encodings, types, bad input."""

from datetime import UTC, date, datetime

import pytest
from django.utils import translation

from metropole.core.exceptions import BadRequest
from metropole.datahub import storage
from metropole.datahub.models import VersionStatus


@pytest.fixture(autouse=True)
def _english():
    """The messages are checked in the source language (the site's default is French)."""
    with translation.override("en"):
        yield


def types_of(version):
    return {c["name"]: c["type"] for c in version.columns}


def test_semicolon_cp1252_french_numbers_and_dates(resource, load):
    text = (
        "Code INSEE;Commune;Population;Surface (km²);Créée le;Mise à jour;Ouverte\n"
        "59350;Lille;236 234;34,8;01/01/1790;2024-03-01 10:30;oui\n"
        "59009;Villeneuve-d'Ascq;62 067;27,46;25/02/1970;2024-03-02T08:00:00Z;non\n"
        "59043;Bondues;10 088;13;01/01/1790;2024-03-03 00:00;oui\n"
    )
    version = load(resource, text.encode("cp1252"))
    assert version.status == VersionStatus.READY, version.error_detail
    assert version.encoding in ("cp1252", "windows-1252")
    assert version.delimiter == ";"
    assert types_of(version) == {
        "Code INSEE": "string",
        "Commune": "string",
        "Population": "integer",
        "Surface (km²)": "number",
        "Créée le": "date",
        "Mise à jour": "datetime",
        "Ouverte": "boolean",
    }
    rows = storage.read_rows(version)
    assert rows[0]["Population"] == 236234
    assert rows[0]["Surface (km²)"] == 34.8
    assert rows[1]["Créée le"] in (date(1970, 2, 25), "1970-02-25")
    moment = rows[1]["Mise à jour"]
    if isinstance(moment, str):
        assert moment == "2024-03-02T08:00:00+00:00"
    else:
        assert moment == datetime(2024, 3, 2, 8, tzinfo=UTC)
    assert rows[2]["Ouverte"] in (True, 1)
    assert version.row_count == 3
    assert resource.__class__.objects.get(pk=resource.pk).current_version_id == version.pk


def test_leading_zero_codes_stay_text(resource, load):
    text = "code_postal,dep,valeur\n01000,01,1\n59000,59,2\n"
    version = load(resource, text.encode())
    assert types_of(version) == {"code_postal": "string", "dep": "string", "valeur": "integer"}
    assert storage.read_rows(version)[0]["code_postal"] == "01000"


def test_utf8_bom_and_tabs(resource, load):
    version = load(resource, "\ufeffnom\tâge\nÉlodie\t3\n".encode())
    assert version.status == VersionStatus.READY
    assert [c["name"] for c in version.columns] == ["nom", "âge"]


def test_ragged_rows_are_reported_with_their_line(resource, load):
    text = "a,b,c\n1,2,3\n4,5\n6,7,8\n9,10,11,12\n"
    version = load(resource, text.encode())
    assert version.status == VersionStatus.FAILED
    rows = {e["row"] for e in version.report["errors"]}
    assert rows == {3, 5}
    assert all(e["code"] == "ragged-row" for e in version.report["errors"])


def test_ragged_rows_skipped_when_the_publisher_says_so(resource, load):
    text = "a,b,c\n1,2,3\n4,5\n6,7,8\n"
    version = load(resource, text.encode(), invalid_rows="skip")
    assert version.status == VersionStatus.READY
    assert version.row_count == 2
    assert [r["a"] for r in storage.read_rows(version)] == [1, 6]
    assert version.report["errors"][0]["row"] == 3


def test_empty_file_is_refused_at_once(resource, load):
    with pytest.raises(BadRequest) as error:
        load(resource, b"")
    assert "empty" in str(error.value.detail).lower()
    assert resource.versions.count() == 0


def test_header_only_is_refused(resource, load):
    version = load(resource, b"a,b\n")
    assert version.status == VersionStatus.FAILED
    assert version.error_title == "No rows"


def test_mixed_encoding_is_reported_with_its_line(resource, load):
    head = "nom,ville\n" + "".join(f"n{i},Lille\n" for i in range(100_000))
    content = head.encode() + "Zoé,Lomme\n".encode("latin-1")
    version = load(resource, content)
    assert version.status == VersionStatus.FAILED
    assert version.error_title == "Wrong encoding"
    assert "100002" in version.error_detail


def test_oversized_file_is_refused_before_reading(resource, load, settings):
    settings.DATAHUB_MAX_SOURCE_BYTES = 100
    with pytest.raises(BadRequest) as error:
        load(resource, b"a,b\n" + b"1,2\n" * 100)
    assert "too large" in str(error.value.title).lower()
    assert resource.versions.count() == 0


def test_bad_input_leaves_the_current_version(resource, load):
    good = load(resource, b"a,b\n1,2\n")
    bad = load(resource, b"a,b\n1,2\n3\n")
    assert bad.status == VersionStatus.FAILED
    resource.refresh_from_db()
    assert resource.current_version_id == good.pk
    assert storage.read_rows(good) == [{"a": 1, "b": 2}]
    assert not storage.table_exists(bad)


def test_a_quoted_value_spanning_lines_after_the_sample(resource, load):
    """The fast parse stops at the first value spanning lines and reads again carefully."""
    rows = "".join(f"{i},ligne {i}\n" for i in range(1, 3000))
    text = "rang,texte\n" + rows + '3000,"sur\ndeux lignes"\n3001,fin\n'
    version = load(resource, text.encode())
    assert version.status == VersionStatus.READY, version.error_detail
    assert version.row_count == 3001
    last = storage.read_rows(version, limit=3001)[-2]
    assert last == {"rang": 3000, "texte": "sur\ndeux lignes"}
