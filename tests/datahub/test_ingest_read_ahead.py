"""The reader's batches are parsed by a thread ahead of their use (readers.read_ahead): the
same batches in the same order, the reader's errors where they would have come, in the
caller's language, and no thread left behind."""

import threading

import pytest
from django.utils import translation

from metropole.datahub.ingest.errors import IngestError
from metropole.datahub.ingest.readers import open_reader, read_ahead


def _threads():
    return [t for t in threading.enumerate() if t.name == "datahub-read-ahead"]


def test_the_same_batches_in_the_same_order(tmp_path, monkeypatch):
    monkeypatch.setattr("metropole.datahub.ingest.readers.CSV_BLOCK_BYTES", 1 << 10)
    path = tmp_path / "rows.csv"
    path.write_text("n;text\n" + "".join(f"{i};ligne {i}\n" for i in range(5000)))
    reader = open_reader(str(path), "csv")
    direct = [(b.rows.to_pylist(), [c.to_pylist() for c in b.columns]) for b in reader.batches()]
    ahead = [
        (b.rows.to_pylist(), [c.to_pylist() for c in b.columns])
        for b in read_ahead(reader.batches())
    ]
    assert len(direct) > 10
    assert ahead == direct
    assert not _threads()


def test_a_reader_error_reaches_the_caller_in_its_language(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"nom;ville\n" + b"a;Lille\n" * 200_000 + b"b;Li\xe8ge\n")
    reader = open_reader(str(path), "csv")
    with translation.override("fr"), pytest.raises(IngestError) as raised:
        for _batch in read_ahead(reader.batches()):
            pass
    assert raised.value.title == "Mauvais encodage"
    assert "n'est pas en UTF-8" in raised.value.detail
    assert not _threads()


def test_leaving_early_stops_the_thread():
    closed = []

    def endless():
        try:
            number = 0
            while True:
                number += 1
                yield number
        finally:
            closed.append(True)

    for number in read_ahead(endless()):
        if number == 3:
            break
    assert closed == [True]
    assert not _threads()
