"""Lines sampled across a large CSV file (CsvReader.samples), from which the one-pass load
starts its guess of the types: whole lines from all through the file, and none where a line
end found after a seek may not end a record."""

import pytest

from metropole.datahub.ingest.readers import CsvReader, open_reader


@pytest.fixture(autouse=True)
def _small_blocks(monkeypatch):
    monkeypatch.setattr("metropole.datahub.ingest.readers.CSV_BLOCK_BYTES", 1 << 10)
    monkeypatch.setattr(CsvReader, "SAMPLE_SPAN", 200)  # a few lines at each place


def _sampled_values(path, column=0) -> list[str]:
    reader = open_reader(str(path), "csv")
    return [value for columns in reader.samples() for value in columns[column].to_pylist()]


def _lines(count: int, town="Lille") -> str:
    return "".join(f"{n};{town}\n" for n in range(1, count + 1))


@pytest.mark.parametrize("encoding,town", [("utf-8", "Liège"), ("cp1252", "Liège")])
def test_whole_lines_from_all_through_the_file(tmp_path, encoding, town):
    path = tmp_path / "rows.csv"
    path.write_bytes(("n;ville\n" + _lines(20_000, town)).encode(encoding))
    numbers = [int(n) for n in _sampled_values(path)]
    assert len(set(numbers)) == len(numbers) > 16  # whole lines, none twice
    assert numbers[0] > 1_000 and numbers[-1] > 18_000  # from the middle to the end
    assert set(_sampled_values(path, column=1)) == {town}  # never a line cut in two


def test_none_from_a_small_file(tmp_path):
    path = tmp_path / "small.csv"
    path.write_text("n;ville\n" + _lines(100))
    assert _sampled_values(path) == []


def test_none_when_a_quoted_value_spans_lines(tmp_path):
    """After a seek, a line end may be inside a quoted value: no sample (careful mode)."""
    path = tmp_path / "notes.csv"
    path.write_text('n;note\n1;"deux\nlignes"\n' + _lines(20_000))
    assert _sampled_values(path) == []


def test_none_in_an_encoding_where_a_newline_byte_is_part_of_a_character(tmp_path):
    """In UTF-16 the byte 0x0A is half of many characters (and of the newline itself)."""
    path = tmp_path / "utf16.csv"
    path.write_bytes(("n;ville\n" + _lines(20_000)).encode("utf-16"))
    assert open_reader(str(path), "csv").encoding.startswith("utf")  # read all the same
    assert _sampled_values(path) == []
