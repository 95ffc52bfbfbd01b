"""The one-pass write (ingest.pipeline.Speculation): rows are written while the file is
read, with the types seen so far; when a later value changes a column's type the table
is remade (rewind) or the classic second pass takes over. Either way the stored table
must be exactly what the two-pass load stores: each case is loaded both ways and
compared."""

import pytest

from metropole.datahub import services, storage
from metropole.datahub.ingest import pipeline, readers
from metropole.datahub.models import VersionStatus


@pytest.fixture(autouse=True)
def _small_batches(monkeypatch):
    # A few rows per batch, so that "later in the file" means later batches; no guess
    # from lines sampled across the file but where a test says so.
    monkeypatch.setattr(readers, "CSV_BLOCK_BYTES", 256)
    monkeypatch.setattr(readers.CsvReader, "SAMPLES", 0)


def _rows(head: str, lines: list[str]) -> bytes:
    return ("\n".join([head, *lines]) + "\n").encode()


STABLE = _rows(
    "code_insee;nom;population;surface",
    [f"59{n:03d};Commune {n};{1000 + n};{n},5" for n in range(1, 120)],
)
INTEGER_THEN_DECIMAL = _rows(
    "id_site;mesure",
    [*(f"S{n};{n}" for n in range(1, 100)), "S100;12.5", *(f"S{n};{n}" for n in range(101, 120))],
)
NUMBER_THEN_TEXT = _rows(
    "station;valeur",
    [*(f"A{n};{n}.0" for n in range(1, 90)), "A90;n/a", *(f"A{n};{n}.5" for n in range(91, 120))],
)
EMPTY_THEN_VALUES = _rows(
    "nom;vitesse;date_mesure",
    [
        *(f"Rue {n};;" for n in range(1, 100)),
        *(f"Rue {n};{30 + n % 3 * 20};0{1 + n % 9}/03/2024" for n in range(100, 130)),
    ],
)
COORDINATES_LATE = _rows(
    "nom;lat;lon",
    [
        *(f"Lieu {n};;" for n in range(1, 80)),
        *(f"Lieu {n};50.6{n};3.0{n}" for n in range(80, 120)),
    ],
)
BAD_DATE_THEN_TEXT = _rows(
    "nom;jour",
    [
        "Lieu 1;31/02/2024",
        *(f"Lieu {n};0{1 + n % 9}/03/2024" for n in range(2, 100)),
        "Lieu 100;bientôt",
        *(f"Lieu {n};12/03/2024" for n in range(101, 110)),
    ],
)

CASES = {
    "stable": STABLE,
    "integer-then-decimal": INTEGER_THEN_DECIMAL,
    "number-then-text": NUMBER_THEN_TEXT,
    "empty-then-values": EMPTY_THEN_VALUES,
    "coordinates-late": COORDINATES_LATE,
    "bad-date-then-text": BAD_DATE_THEN_TEXT,
}


def _load_both(make_dataset, publisher, load, settings, content, **options):
    versions = []
    for single in (True, False):
        settings.DATAHUB_SINGLE_PASS = single
        dataset = make_dataset(title=f"Cas {single}", invalid_rows="skip")
        resource = services.add_resource(publisher, dataset, title="Fichier")
        version = load(resource, content, **options)
        assert version.status == VersionStatus.READY, version.error_detail
        versions.append(version)
    return versions


def _stored(version):
    return {
        "columns": [(c["name"], c["type"], c["sql_name"]) for c in version.columns],
        "geolocated": version.geolocated,
        "rows": storage.read_rows(version, limit=1000),
        "row_count": version.row_count,
        "invalid": version.invalid_row_count,
        "errors": sorted((e["row"], e["column"], e["code"]) for e in version.report["errors"]),
    }


@pytest.mark.parametrize("case", CASES)
def test_one_pass_stores_what_two_passes_store(case, make_dataset, publisher, load, settings):
    one, two = _load_both(make_dataset, publisher, load, settings, CASES[case])
    assert one.timings["passes"] == 1
    assert two.timings["passes"] == 2
    assert _stored(one) == _stored(two)


def test_types_follow_the_later_values(make_dataset, publisher, load, settings):
    one, _two = _load_both(make_dataset, publisher, load, settings, NUMBER_THEN_TEXT)
    assert {c["name"]: c["type"] for c in one.columns} == {"station": "string", "valeur": "string"}
    rows = storage.read_rows(one, limit=1000)
    assert rows[0]["valeur"] == "1.0"  # the file's text, not a number written back
    assert rows[89]["valeur"] == "n/a"
    late, _ = _load_both(make_dataset, publisher, load, settings, COORDINATES_LATE)
    assert late.geolocated
    with_point = [r for r in storage.read_rows(late, limit=1000) if r["lat"] is not None]
    assert len(with_point) == 40


def test_a_late_surprise_falls_back_to_the_second_pass(
    make_dataset, publisher, load, settings, monkeypatch
):
    monkeypatch.setattr(pipeline.Speculation, "REWIND_ROWS", 10)
    monkeypatch.setattr(pipeline.Speculation, "REWIND_SHARE", 0.0)
    one, two = _load_both(make_dataset, publisher, load, settings, INTEGER_THEN_DECIMAL)
    assert one.timings["passes"] == 2  # the guess was given up
    assert _stored(one) == _stored(two)
    assert {c["name"]: c["type"] for c in one.columns}["mesure"] == "number"


def test_reject_mode_stores_nothing_in_one_pass(make_dataset, publisher, load, settings):
    settings.DATAHUB_SINGLE_PASS = True
    dataset = make_dataset(
        invalid_rows="reject",
        table_schema={
            "fields": [{"name": "population", "type": "integer", "constraints": {"maximum": 1050}}]
        },
    )
    resource = services.add_resource(publisher, dataset, title="Fichier")
    version = load(resource, STABLE)
    assert version.status == VersionStatus.FAILED
    assert version.report["error_count"] == 69  # populations 1051 … 1119
    assert not storage.table_exists(version)


# Hours written 1655 for two thirds of the file, then 16:55 (as the accident file does).
HOURS_CHANGE_LATE = _rows(
    "num_acc;hrmn;commune",
    [f"{n};{1000 + n};Lille" for n in range(1, 400)]
    + [f"{n};{10 + n % 12}:{n % 60:02d};Roubaix" for n in range(400, 600)],
)


def test_a_sample_across_the_file_keeps_a_late_change_in_one_pass(
    make_dataset, publisher, load, settings, monkeypatch
):
    """The lines sampled across the file show the later hours: the guess is text from
    the first row, so no rewind and no second pass, however late the change."""
    monkeypatch.setattr(pipeline.Speculation, "REWIND_ROWS", 10)
    monkeypatch.setattr(pipeline.Speculation, "REWIND_SHARE", 0.0)
    one, two = _load_both(make_dataset, publisher, load, settings, HOURS_CHANGE_LATE)
    assert one.timings["passes"] == 2  # no sample: the change came too late

    monkeypatch.setattr(readers.CsvReader, "SAMPLES", 16)
    monkeypatch.setattr(readers.CsvReader, "SAMPLE_SPAN", 200)  # a few lines at each place
    sampled, _two = _load_both(make_dataset, publisher, load, settings, HOURS_CHANGE_LATE)
    assert sampled.timings["passes"] == 1
    assert _stored(sampled) == _stored(two)
    assert {c["name"]: c["type"] for c in sampled.columns}["hrmn"] == "string"
    assert storage.read_rows(sampled, limit=1)[0]["hrmn"] == "1001"


def test_a_misleading_sample_falls_back_to_the_second_pass(
    make_dataset, publisher, load, settings, monkeypatch
):
    """A sampled line misread (here: made up) widens the guess beyond what the values
    need; the guess does not hold at the end and the second pass writes the table."""
    import pyarrow as pa

    def misread(reader):  # code_insee;nom;population;surface: "x" as a population
        yield [pa.array(["59001"]), pa.array(["Lille"]), pa.array(["x"]), pa.array(["1,5"])]

    monkeypatch.setattr(readers.CsvReader, "samples", misread)
    one, two = _load_both(make_dataset, publisher, load, settings, STABLE)
    assert one.timings["passes"] == 2
    assert _stored(one) == _stored(two)
    assert {c["name"]: c["type"] for c in one.columns}["population"] == "integer"


@pytest.mark.parametrize("single", [True, False])
def test_a_reader_error_after_rows_were_written_fails_the_load_cleanly(
    single, make_dataset, publisher, load, settings, monkeypatch
):
    """A byte that is not UTF-8 past the first megabyte (the encoding is detected on it):
    the one-pass write has already sent rows. The COPY is cancelled, the version fails with
    the reader's message and its table is dropped."""
    monkeypatch.setattr(readers, "CSV_BLOCK_BYTES", 64 << 10)
    settings.DATAHUB_SINGLE_PASS = single
    dataset = make_dataset(invalid_rows="skip")
    resource = services.add_resource(publisher, dataset, title="Fichier")
    lines = [f"59{n % 1000:03d};Commune {n};{1000 + n};{n},5" for n in range(50_000)]
    content = _rows("code_insee;nom;population;surface", lines) + b"59999;Li\xe8ge;1;1,5\n"
    assert len(content) > readers.SAMPLE_BYTES
    version = load(resource, content)
    assert version.status == VersionStatus.FAILED
    assert version.report["errors"][0]["code"] == "encoding-error"
    assert not storage.table_exists(version)
