"""Readers: a source file as a stream of batches of text columns, never whole in memory.

Every reader gives `headers` (unique public names), `batches()` (an iterator of
`Batch`: one Arrow string array per header, the rows' positions in the file, and, for
GeoJSON, each row's point), `structural_errors` (rows that cannot be read as rows:
ragged CSV lines, a JSON item that is not an object, an invalid geometry) and
`warnings` (formulas in a spreadsheet, keys that appear late in a JSON file, ...).

Positions (`row`) count the file's records from 1 with the header as record 1: a CSV
line number (when no value spans lines), a spreadsheet row number, or the position of
an object in a JSON array plus one.
"""

import codecs
import csv
import json
import os
import queue
import re
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from xml.etree.ElementTree import ParseError

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from charset_normalizer import from_bytes
from defusedxml.ElementTree import iterparse
from django.utils import translation
from django.utils.translation import gettext as _

from metropole.core.conf import setting

from .errors import IngestError

BATCH_ROWS = 65_536
CSV_BLOCK_BYTES = 4 << 20  # a CSV batch: what Arrow parses at once
SAMPLE_BYTES = 1 << 20
MAX_REPORTED = 1000  # structural errors kept in the report (all are counted)

GIB = 1024**3


def max_source_bytes() -> int:
    return int(setting("DATAHUB_MAX_SOURCE_BYTES", 2 * GIB))


def max_uncompressed_bytes() -> int:
    return int(setting("DATAHUB_MAX_UNCOMPRESSED_BYTES", 2 * GIB))


def max_compression_ratio() -> int:
    return int(setting("DATAHUB_MAX_COMPRESSION_RATIO", 100))


def human_size(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return str(size)


def check_size(size: int) -> None:
    """Refuse an empty file or one above DATAHUB_MAX_SOURCE_BYTES, before reading it."""
    if size == 0:
        raise IngestError(
            _("Empty file"), _("The file is empty: there is nothing to load."), code="empty-file"
        )
    limit = max_source_bytes()
    if size > limit:
        raise IngestError(
            _("File too large"),
            _(
                "The file weighs %(size)s; files above %(limit)s are refused. Split it, or "
                "compress repeated values, and send the parts as separate resources."
            )
            % {"size": human_size(size), "limit": human_size(limit)},
            code="file-too-large",
        )


@dataclass
class Batch:
    columns: list[pa.Array]
    rows: pa.Array  # int64 positions in the file
    lon: pa.Array | None = None
    lat: pa.Array | None = None

    def __len__(self):
        return len(self.rows)


def unique_headers(raw: list) -> list[str]:
    """Headers as public names: trimmed, never empty, never twice the same."""
    names, seen = [], set()
    for index, value in enumerate(raw, start=1):
        name = re.sub(r"\s+", " ", str(value if value is not None else "")).strip()[:200]
        name = name or _("column %(n)d") % {"n": index}
        candidate, n = name, 2
        while candidate.lower() in seen:
            candidate, n = f"{name} ({n})", n + 1
        seen.add(candidate.lower())
        names.append(candidate)
    return names


class Reader:
    format = ""

    def __init__(self, path: str):
        self.path = path
        self.headers: list[str] = []
        self.encoding = ""
        self.delimiter = ""
        self.warnings: list[dict] = []
        self.structural_errors: list[dict] = []
        self.structural_error_count = 0
        self.geometry_column: str | None = None
        self.sheets: list[str] = []  # a workbook's sheets (spreadsheets only)
        self.sheet_name: str | None = None

    def error(self, row, code, message, column=None):
        self.structural_error_count += 1
        if len(self.structural_errors) < MAX_REPORTED:
            self.structural_errors.append(
                {"row": row, "column": column, "code": code, "message": message}
            )

    def batches(self) -> Iterator[Batch]:
        raise NotImplementedError

    def samples(self) -> Iterator[list[pa.Array]]:
        """Text columns of a few rows from across the file, not only from its start (to
        guess types early); none for formats that cannot be read from the middle."""
        return iter(())

    @property
    def estimated_rows(self) -> int | None:
        return None


def read_ahead(batches: Iterator[Batch], depth: int = 2) -> Iterator[Batch]:
    """The same batches, read by a thread up to `depth` batches ahead of their use: Arrow
    parses without holding the GIL, so the next batch is parsed while this one is worked
    on. A reader's exception comes out where its batch would have; leaving the loop early
    stops the thread. The thread speaks the caller's language (messages of errors)."""
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    language = translation.get_language()
    end = object()

    def hand(item) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        with translation.override(language):
            try:
                for batch in batches:
                    if not hand(batch):
                        return
                hand(end)
            except BaseException as error:  # noqa: BLE001 - handed to the caller's thread
                hand(error)
            finally:
                if hasattr(batches, "close"):  # a generator: its own clean-up runs here
                    batches.close()

    thread = threading.Thread(target=produce, name="datahub-read-ahead", daemon=True)
    thread.start()
    try:
        while (item := handoff.get()) is not end:
            if isinstance(item, BaseException):
                try:
                    raise item
                finally:
                    item = None  # no cycle frame -> exception -> frame: the batch is freed
            yield item
    finally:
        stop.set()
        thread.join()


# --- format detection ----------------------------------------------------------------


EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".ods": "ods",
    ".json": "json",
    ".geojson": "geojson",
}


def detect_format(path: str, name: str = "", declared: str = "") -> str:
    """The file's format from its first bytes, its name, or what the publisher said."""
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
                if "mimetype" in names:
                    mimetype = archive.read("mimetype")[:100]
                    if b"opendocument.spreadsheet" in mimetype:
                        return "ods"
                if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names):
                    return "xlsx"
        except zipfile.BadZipFile:
            pass
        raise IngestError(
            _("Unknown file type"),
            _("This file is a ZIP archive but neither an XLSX nor an ODS spreadsheet."),
            code="unknown-format",
        )
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise IngestError(
            _("Old Excel format"),
            _("XLS files (Excel 97-2003) are not read: save the file as XLSX or CSV."),
            code="unknown-format",
        )
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    extension = os.path.splitext(name or path)[1].lower()
    if stripped[:1] in (b"{", b"["):
        if extension == ".geojson" or declared == "geojson" or b'"FeatureCollection"' in head:
            return "geojson"
        if extension in (".json", ".geojson") or declared in ("json", "geojson"):
            return "json"
        if stripped[:1] == b"[":
            return "json"
    if declared:
        return declared
    return EXTENSIONS.get(extension, "csv")


def open_reader(path: str, format_: str, sheet: str | None = None) -> Reader:
    readers = {
        "csv": CsvReader,
        "xlsx": SpreadsheetReader,
        "ods": SpreadsheetReader,
        "json": JsonReader,
        "geojson": GeoJsonReader,
    }
    if format_ not in readers:
        raise IngestError(
            _("Unknown file type"),
            _("Formats read: CSV, XLSX, ODS, JSON and GeoJSON."),
            code="unknown-format",
        )
    reader = readers[format_](path, sheet) if format_ in ("xlsx", "ods") else readers[format_](path)
    reader.format = format_
    reader.open()
    return reader


# --- text ----------------------------------------------------------------------------


def detect_encoding(path: str) -> str:
    """UTF-8 (with or without BOM) when the file is UTF-8, else what charset-normalizer
    finds (cp1252, latin-1, ...) on the first megabyte."""
    with open(path, "rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in sample:
        raise IngestError(
            _("Not a text file"),
            _("The file contains binary data (NUL bytes): it is not a CSV or JSON text file."),
            code="encoding-error",
        )
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(sample, cp_isolation=["cp1252", "latin_1", "iso8859_15", "mac_roman"])
    match = best.best()
    if match is None:
        raise IngestError(
            _("Unknown encoding"),
            _(
                "The file's characters could not be read as UTF-8, Windows-1252 or Latin-1. "
                "Save it as CSV UTF-8 and send it again."
            ),
            code="encoding-error",
        )
    return match.encoding


def first_bad_utf8_line(path: str) -> tuple[int, int]:
    """(line, byte offset) of the first byte sequence that is not UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line, offset = 1, 0
    with open(path, "rb") as handle:
        while chunk := handle.read(SAMPLE_BYTES):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                return line + chunk[: error.start].count(b"\n"), offset + error.start
            line += chunk.count(b"\n")
            offset += len(chunk)
    return line, offset


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter giving the same number (>1) of fields on the most lines."""
    best, best_score = ",", (0.0, 0)
    for delimiter in (";", ",", "\t", "|"):
        counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        if not counts or counts[0] < 2:
            continue
        same = sum(1 for c in counts if c == counts[0]) / len(counts)
        score = (same, counts[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


class RestartCarefully(Exception):  # noqa: N818 - a signal, not an error
    """A CSV row did not fit in fast mode (maybe a quoted value spanning lines): the
    reader switched to the careful mode and the read must start again."""


class CsvReader(Reader):
    def open(self):
        self.encoding = detect_encoding(self.path)
        with open(self.path, encoding=self.encoding, errors="replace", newline="") as handle:
            text = handle.read(SAMPLE_BYTES // 4)
        lines = text.splitlines(keepends=True)
        if len(text) == SAMPLE_BYTES // 4 and len(lines) > 1:
            lines = lines[:-1]  # probably cut
        lines = lines[:200]
        if not "".join(lines).strip():
            raise IngestError(_("Empty file"), _("The file holds no text."), code="empty-file")
        self.delimiter = sniff_delimiter(lines)
        header = next(csv.reader(lines, delimiter=self.delimiter))
        self.headers = unique_headers(header)
        self._size = os.path.getsize(self.path)
        self._sample_rows = max(1, len(lines) - 1)
        self._sample_chars = sum(len(line) for line in lines)
        # Parsing is faster when no quoted value spans lines; if one shows up later, the
        # read restarts in the careful mode (see RestartCarefully).
        sample_rows = list(csv.reader(lines, delimiter=self.delimiter))
        self.careful = any("\n" in v or "\r" in v for row in sample_rows for v in row)

    @property
    def estimated_rows(self):
        if self._sample_chars == 0:
            return None
        return int(self._size / (self._sample_chars / self._sample_rows))

    SAMPLES = 16  # places read across a large file
    SAMPLE_SPAN = 256 << 10  # bytes read at each
    # Encodings (codecs' names) in which a newline byte is always a newline, never a part of
    # another character: a read that starts in the middle of the file finds line ends.
    NEWLINE_SAFE = {"utf-8", "utf-8-sig", "ascii", "cp1252", "iso8859-1", "iso8859-15", "mac-roman"}

    def _arrow_options(self, **read_options) -> dict:
        """Arrow's options to read this file's columns as text, named c1, c2, ..."""
        names = [f"c{i}" for i in range(1, len(self.headers) + 1)]
        encoding = "utf8" if self.encoding in ("utf-8", "utf-8-sig") else self.encoding
        return {
            "read_options": pacsv.ReadOptions(
                column_names=names, encoding=encoding, **read_options
            ),
            "convert_options": pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        }

    def samples(self):
        """The whole lines of SAMPLES spans spread evenly across a file larger than a few
        batches. Only where a line end is a line end: not when a quoted value spans lines
        (careful mode) nor in an encoding where a newline byte can be part of a character.
        A line cut or misread here misleads nothing but a guess (Speculation checks its
        types against the final ones)."""
        newline_safe = codecs.lookup(self.encoding).name in self.NEWLINE_SAFE
        if self.careful or not newline_safe or self._size < 4 * CSV_BLOCK_BYTES:
            return
        options = self._arrow_options(use_threads=False) | {
            "parse_options": pacsv.ParseOptions(
                delimiter=self.delimiter, invalid_row_handler=lambda row: "skip"
            )
        }
        with open(self.path, "rb") as handle:
            for place in range(1, self.SAMPLES + 1):
                handle.seek(self._size * place // (self.SAMPLES + 1))
                span = handle.read(self.SAMPLE_SPAN)
                start, end = span.find(b"\n") + 1, span.rfind(b"\n") + 1
                if not 0 < start < end:
                    continue
                try:
                    table = pacsv.read_csv(pa.BufferReader(span[start:end]), **options)
                except pa.ArrowInvalid:  # a span that does not parse teaches nothing
                    continue
                yield [column.combine_chunks() for column in table.columns]

    def batches(self):
        self.structural_errors, self.structural_error_count = [], 0
        ragged: list[int] = []
        expected = len(self.headers)

        restart = []

        def on_invalid_row(row):
            if not self.careful:
                restart.append(row.number)
                return "error"
            number = row.number if row.number and row.number > 0 else None
            if number:
                ragged.append(number)
            self.error(
                number,
                "ragged-row",
                _("Row %(row)s has %(actual)d values where the header has %(expected)d.")
                % {"row": number or "?", "actual": row.actual_columns, "expected": expected},
            )
            return "skip"

        try:
            reader = pacsv.open_csv(
                self.path,
                parse_options=pacsv.ParseOptions(
                    delimiter=self.delimiter,
                    newlines_in_values=self.careful,
                    invalid_row_handler=on_invalid_row,
                ),
                **self._arrow_options(
                    use_threads=not self.careful,  # row numbers need one thread
                    block_size=CSV_BLOCK_BYTES,
                    skip_rows=1,
                ),
            )
            done = 0
            for record_batch in reader:
                count = record_batch.num_rows
                if count == 0:
                    continue
                positions = np.arange(done + 2, done + 2 + count, dtype=np.int64)
                for number in ragged:  # few; in increasing order
                    positions[positions >= number] += 1
                done += count
                yield Batch(list(record_batch.columns), pa.array(positions))
        except pa.ArrowInvalid as error:
            if restart:
                self.careful = True
                raise RestartCarefully from None
            message = str(error)
            if "UTF8" in message or "utf8" in message.lower():
                line, offset = first_bad_utf8_line(self.path)
                raise IngestError(
                    _("Wrong encoding"),
                    _(
                        "Line %(line)d (byte %(offset)d) is not UTF-8 although the start of the "
                        "file is: the file mixes encodings. Save it again as CSV UTF-8."
                    )
                    % {"line": line, "offset": offset},
                    row=line,
                    code="encoding-error",
                ) from None
            raise IngestError(_("Unreadable CSV"), message, code="source-error") from None


# --- spreadsheets --------------------------------------------------------------------


def cell_text(value) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ") if value.time() != time(0) else value.date().isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class SpreadsheetReader(Reader):
    """XLSX and ODS through python-calamine, after guarding against zip bombs and macros.

    One sheet is read: the one named `sheet`, else the first. `sheets` lists every sheet
    of the workbook (the others can be loaded as resources of their own:
    ingest/sheets.py)."""

    def __init__(self, path: str, sheet: str | None = None):
        super().__init__(path)
        self.sheet_name = sheet or None
        self.sheets: list[str] = []

    def open(self):
        self._guard_archive()
        from python_calamine import CalamineWorkbook

        try:
            self._workbook = CalamineWorkbook.from_path(self.path)
            self.sheets = list(self._workbook.sheet_names)
            if self.sheet_name is not None and self.sheet_name not in self.sheets:
                raise IngestError(
                    _("Unknown sheet"),
                    _("The workbook has no sheet named “%(name)s”; its sheets: %(sheets)s.")
                    % {"name": self.sheet_name, "sheets": ", ".join(self.sheets)},
                    code="unknown-sheet",
                )
            if self.sheet_name is None:
                sheet = self._workbook.get_sheet_by_index(0)
            else:
                sheet = self._workbook.get_sheet_by_name(self.sheet_name)
        except IngestError:
            raise
        except Exception as error:  # calamine raises its own error types
            raise IngestError(
                _("Unreadable spreadsheet"),
                _(
                    "The spreadsheet could not be read (%(error)s). Is it password-protected "
                    "or damaged?"
                )
                % {"error": str(error)[:200]},
                code="source-error",
            ) from None
        self._sheet = sheet
        self.sheet_name = sheet.name
        self._report_formulas()
        if len(self.sheets) > 1:
            others = [name for name in self.sheets if name != sheet.name]
            self.warnings.append(
                {
                    "code": "other-sheets",
                    "sheets": self.sheets,
                    "message": _(
                        "The workbook has %(count)d sheets. This table holds the sheet "
                        "“%(name)s”; the others (%(others)s) can each be loaded as a resource "
                        "of their own."
                    )
                    % {"count": len(self.sheets), "name": sheet.name, "others": ", ".join(others)},
                }
            )
        self._rows = None
        for number, row in enumerate(sheet.iter_rows(), start=1):
            if any(cell_text(v) is not None for v in row):
                self._header_row = number
                break
        else:
            raise IngestError(
                _("Empty file"),
                _("The sheet “%(name)s” is empty.") % {"name": sheet.name},
                code="empty-file",
            )
        while row and cell_text(row[-1]) is None:
            row = row[:-1]
        self.headers = unique_headers(row)

    @property
    def estimated_rows(self):
        return max(0, self._sheet.height - self._header_row)

    def _guard_archive(self):
        try:
            archive = zipfile.ZipFile(self.path)
        except zipfile.BadZipFile:
            raise IngestError(
                _("Damaged spreadsheet"),
                _("The file is not a valid XLSX or ODS archive."),
                code="source-error",
            ) from None
        with archive:
            infos = archive.infolist()
            names = [i.filename for i in infos]
            total = sum(i.file_size for i in infos)
            packed = sum(i.compress_size for i in infos) or 1
            limit = max_uncompressed_bytes()
            if total > limit or total / packed > max_compression_ratio():
                raise IngestError(
                    _("Suspicious archive"),
                    _(
                        "Once uncompressed this spreadsheet would weigh %(total)s (%(ratio)d "
                        "times its size; the limits are %(limit)s and %(max_ratio)d times). "
                        "It looks like a zip bomb and is refused."
                    )
                    % {
                        "total": human_size(total),
                        "ratio": total // packed,
                        "limit": human_size(limit),
                        "max_ratio": max_compression_ratio(),
                    },
                    code="zip-bomb",
                )
            macro = [
                n
                for n in names
                if n.lower().endswith("vbaproject.bin")
                or n.startswith(("Basic/", "Scripts/"))
                or n.lower().endswith(".bin")
                and "activex" in n.lower()
            ]
            if not macro and "[Content_Types].xml" in names:
                types = archive.read("[Content_Types].xml")
                if b"macroEnabled" in types:
                    macro = ["[Content_Types].xml"]
            if macro:
                raise IngestError(
                    _("Spreadsheet with macros"),
                    _(
                        "This spreadsheet contains macros (%(parts)s). Files with macros are "
                        "refused: save it without macros (as .xlsx, .ods or CSV)."
                    )
                    % {"parts": ", ".join(macro[:3])},
                    code="macros",
                )
            self._archive_names = names

    def _report_formulas(self):
        """Cells computed by a formula: their last computed values are loaded, and the
        report lists where they are (the formulas themselves are not kept)."""
        cells, count = [], 0
        position = self.sheets.index(self._sheet.name) if self._sheet.name in self.sheets else 0
        try:
            with zipfile.ZipFile(self.path) as archive:
                if self.format == "ods" or "content.xml" in self._archive_names:
                    count, cells = _ods_formulas(archive, position)
                else:
                    part = _xlsx_sheet_part(archive, self._sheet.name, self._archive_names)
                    if part:
                        count, cells = _xlsx_formulas(archive, part)
        except ParseError:
            raise IngestError(
                _("Damaged spreadsheet"), _("The sheet's XML is not valid."), code="source-error"
            ) from None
        if count:
            self.warnings.append(
                {
                    "code": "formulas",
                    "count": count,
                    "cells": cells,
                    "message": _(
                        "%(count)d cells hold formulas (%(cells)s%(more)s): their last "
                        "computed values are loaded, the formulas are not."
                    )
                    % {
                        "count": count,
                        "cells": ", ".join(cells),
                        "more": "…" if count > 20 else "",
                    },
                }
            )

    def batches(self):
        self.structural_errors, self.structural_error_count = [], 0
        width = len(self.headers)
        buffer: list[list] = [[] for _ in range(width)]
        positions: list[int] = []
        for number, row in enumerate(self._sheet.iter_rows(), start=1):
            if number <= self._header_row:
                continue
            texts = [cell_text(v) for v in row]
            if all(t is None for t in texts):
                continue  # blank rows are skipped
            if len(texts) > width and any(t is not None for t in texts[width:]):
                self.error(
                    number,
                    "extra-cell",
                    _("Row %(row)d has values beyond the last named column (%(col)s).")
                    % {"row": number, "col": column_letter(width)},
                )
                continue
            for index in range(width):
                buffer[index].append(texts[index] if index < len(texts) else None)
            positions.append(number)
            if len(positions) >= BATCH_ROWS:
                yield Batch([pa.array(c, pa.string()) for c in buffer], pa.array(positions))
                buffer, positions = [[] for _ in range(width)], []
        if positions:
            yield Batch([pa.array(c, pa.string()) for c in buffer], pa.array(positions))


def _xlsx_sheet_part(archive, sheet_name, names) -> str | None:
    """The archive part (xl/worksheets/sheetN.xml) holding the sheet named `sheet_name`:
    xl/workbook.xml names the sheets, its relationships give their parts."""
    ns_main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    ns_rel = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    relation = None
    if "xl/workbook.xml" in names:
        with archive.open("xl/workbook.xml") as stream:
            for _event, element in iterparse(stream, events=("end",)):
                if element.tag == f"{ns_main}sheet" and element.get("name") == sheet_name:
                    relation = element.get(f"{ns_rel}id")
                    break
    if relation and "xl/_rels/workbook.xml.rels" in names:
        with archive.open("xl/_rels/workbook.xml.rels") as stream:
            for _event, element in iterparse(stream, events=("end",)):
                if (
                    element.tag.rsplit("}", 1)[-1] == "Relationship"
                    and element.get("Id") == relation
                ):
                    target = element.get("Target", "").lstrip("/")
                    part = target if target.startswith("xl/") else f"xl/{target}"
                    if part in names:
                        return part
    sheets = sorted(n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml"))
    return sheets[0] if sheets else None


def _xlsx_formulas(archive, name):
    cells, count = [], 0
    with archive.open(name) as stream:
        for _event, element in iterparse(stream, events=("end",)):
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "c":
                if any(child.tag.rsplit("}", 1)[-1] == "f" for child in element):
                    count += 1
                    if len(cells) < 20:
                        cells.append(element.get("r", "?"))
                element.clear()
    return count, cells


def _ods_formulas(archive, position=0):
    """Formula cells of the `position`-th table (sheet) of an ODS file."""
    cells, count = [], 0
    ns_table = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
    row = 0
    column = 0
    table = -1
    with archive.open("content.xml") as stream:
        for event, element in iterparse(stream, events=("start", "end")):
            tag = element.tag
            if tag == f"{{{ns_table}}}table" and event == "start":
                table += 1
            if table != position:
                if event == "end":
                    element.clear()
                continue
            if tag == f"{{{ns_table}}}table-row" and event == "start":
                column = 0
            elif tag == f"{{{ns_table}}}table-row" and event == "end":
                row += int(element.get(f"{{{ns_table}}}number-rows-repeated", "1"))
                element.clear()
            elif tag in (f"{{{ns_table}}}table-cell", f"{{{ns_table}}}covered-table-cell"):
                if event == "start":
                    if element.get(f"{{{ns_table}}}formula"):
                        count += 1
                        if len(cells) < 20:
                            cells.append(f"{column_letter(column)}{row + 1}")
                else:
                    column += int(element.get(f"{{{ns_table}}}number-columns-repeated", "1"))
    return count, cells


# --- JSON ----------------------------------------------------------------------------


MAX_ITEM_CHARS = 64 << 20


class JsonStream:
    """An incremental JSON reader: values of a top-level array (or of an array under a
    top-level key) decoded one at a time from a text stream."""

    def __init__(self, handle, chunk=SAMPLE_BYTES):
        self.handle = handle
        self.chunk = chunk
        self.buffer = ""
        self.pos = 0
        self.eof = False
        self.lines_before = 0
        self.decoder = json.JSONDecoder()

    def _fill(self) -> bool:
        if self.eof:
            return False
        data = self.handle.read(self.chunk)
        if not data:
            self.eof = True
            return False
        if self.pos > self.chunk:
            self.lines_before += self.buffer.count("\n", 0, self.pos)
            self.buffer = self.buffer[self.pos :]
            self.pos = 0
        self.buffer += data
        return True

    @property
    def line(self) -> int:
        return self.lines_before + self.buffer.count("\n", 0, self.pos) + 1

    def peek(self) -> str:
        while True:
            while self.pos < len(self.buffer) and self.buffer[self.pos] in " \t\r\n\ufeff":
                self.pos += 1
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self._fill():
                return ""

    def expect(self, chars: str) -> str:
        char = self.peek()
        if char == "" or char not in chars:
            raise IngestError(
                _("Invalid JSON"),
                _("Line %(line)d: expected %(expected)s, found %(found)s.")
                % {
                    "line": self.line,
                    "expected": " or ".join(repr(c) for c in chars),
                    "found": repr(char) if char else _("the end of the file"),
                },
                row=self.line,
                code="invalid-json",
            )
        self.pos += 1
        return char

    def value(self):
        self.peek()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as error:
                # An item cut by the end of the buffer: read on (at most MAX_ITEM_CHARS).
                if len(self.buffer) - self.pos < MAX_ITEM_CHARS and self._fill():
                    continue
                raise IngestError(
                    _("Invalid JSON"),
                    _("Line %(line)d: %(error)s.")
                    % {
                        "line": self.lines_before + self.buffer.count("\n", 0, error.pos) + 1,
                        "error": error.msg,
                    },
                    row=self.lines_before + self.buffer.count("\n", 0, error.pos) + 1,
                    code="invalid-json",
                ) from None
            if end >= len(self.buffer) and not self.eof and self._fill():
                # a number may continue in the next chunk: decode it again
                continue
            self.pos = end
            return value

    def items(self):
        """Each value of the array the stream is positioned on."""
        self.expect("[")
        if self.peek() == "]":
            self.pos += 1
            return
        while True:
            yield self.value()
            if self.expect(",]") == "]":
                return

    def key(self) -> str:
        key = self.value()
        self.expect(":")
        return key


def _json_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return repr(value)
    return str(value)


class JsonReader(Reader):
    """A JSON array of objects (or an object with such an array under one key, as many
    portals answer: {"results": [...]}). Columns are the keys of the first objects."""

    array_key_names = None  # any key

    def open(self):
        self.encoding = detect_encoding(self.path)
        first = list(self._objects(limit=1000))
        keys: dict[str, None] = {}
        for _row, item in first:
            if isinstance(item, dict):
                keys.update(dict.fromkeys(self._keys(item)))
        if not first:
            raise IngestError(_("Empty file"), _("The JSON array is empty."), code="empty-file")
        if not keys:
            raise IngestError(
                _("Not a table"),
                _('The JSON file must be an array of objects, e.g. [{"name": "…"}, …].'),
                code="invalid-json",
            )
        self._keys_order = self._order_keys(list(keys))
        self.headers = unique_headers(self._keys_order)

    def _order_keys(self, keys):
        return keys

    def _keys(self, item):
        return item.keys()

    def _values(self, item):
        return item

    def _array(self, stream: JsonStream):
        start = stream.peek()
        if start == "[":
            return stream.items()
        if start == "{":
            stream.expect("{")
            while stream.peek() != "}":
                key = stream.key()
                if stream.peek() == "[" and (
                    self.array_key_names is None or key in self.array_key_names
                ):
                    return stream.items()
                stream.value()
                if stream.expect(",}") == "}":
                    break
        raise IngestError(
            _("Not a table"),
            _('The JSON file must be an array of objects, e.g. [{"name": "…"}, …].'),
            code="invalid-json",
        )

    def _objects(self, limit=None):
        with open(self.path, encoding=self.encoding) as handle:
            stream = JsonStream(handle)
            try:
                for index, item in enumerate(self._array(stream), start=2):
                    yield index, item
                    if limit and index > limit:
                        return
            except UnicodeDecodeError as error:
                raise IngestError(
                    _("Wrong encoding"),
                    _("The file is not %(encoding)s: %(error)s. JSON files must be UTF-8.")
                    % {"encoding": self.encoding, "error": error.reason},
                    code="encoding-error",
                ) from None

    def batches(self):
        self.structural_errors, self.structural_error_count = [], 0
        known = set(self._keys_order)
        warned: set[str] = set()
        width = len(self._keys_order)
        buffer = [[] for _ in range(width)]
        positions, lons, lats = [], [], []
        for row, item in self._objects():
            converted = self._row(row, item)
            if converted is None:
                continue
            values, point = converted
            extra = [k for k in values if k not in known and k not in warned]
            for key in extra:
                warned.add(key)
                self.warnings.append(
                    {
                        "code": "late-key",
                        "row": row,
                        "message": _(
                            "The key “%(key)s” first appears in item %(row)d and is not "
                            "loaded (columns are the keys of the first 1,000 items)."
                        )
                        % {"key": key, "row": row - 1},
                    }
                )
            for index, key in enumerate(self._keys_order):
                buffer[index].append(_json_text(values.get(key)))
            positions.append(row)
            lons.append(point[0] if point else None)
            lats.append(point[1] if point else None)
            if len(positions) >= BATCH_ROWS:
                yield self._batch(buffer, positions, lons, lats)
                buffer, positions, lons, lats = [[] for _ in range(width)], [], [], []
        if positions:
            yield self._batch(buffer, positions, lons, lats)

    def _batch(self, buffer, positions, lons, lats):
        return Batch([pa.array(c, pa.string()) for c in buffer], pa.array(positions))

    def _row(self, row, item):
        if not isinstance(item, dict):
            self.error(row, "not-an-object", _("Item %(n)d is not an object.") % {"n": row - 1})
            return None
        return item, None


class GeoJsonReader(JsonReader):
    """A GeoJSON FeatureCollection: one row per feature, its properties as columns, its
    geometry as a `geometry` column and its point (or centroid) as _lon/_lat."""

    array_key_names = ("features",)

    def open(self):
        super().open()
        name = "geometry"
        while name.lower() in {h.lower() for h in self.headers[:-1]}:
            name = "_" + name
        self.headers[-1] = name
        self.geometry_column = name

    def _order_keys(self, keys):
        return [k for k in keys if k != "\x00geometry"] + ["\x00geometry"]

    def _keys(self, item):
        properties = item.get("properties") if isinstance(item, dict) else None
        return [*(properties or {}).keys(), "\x00geometry"]

    def _batch(self, buffer, positions, lons, lats):
        return Batch(
            [pa.array(c, pa.string()) for c in buffer],
            pa.array(positions),
            pa.array(lons, pa.float64()),
            pa.array(lats, pa.float64()),
        )

    def _row(self, row, item):
        n = row - 1
        if not isinstance(item, dict) or item.get("type") != "Feature":
            self.error(
                row, "invalid-feature", _("Feature %(n)d is not a GeoJSON Feature.") % {"n": n}
            )
            return None
        properties = item.get("properties") or {}
        if not isinstance(properties, dict):
            self.error(
                row,
                "invalid-feature",
                _("The properties of feature %(n)d are not an object.") % {"n": n},
            )
            return None
        geometry = item.get("geometry")
        point = None
        if geometry is not None:
            problem, point = check_geometry(geometry)
            if problem:
                self.error(
                    row,
                    "invalid-geometry",
                    _("Feature %(n)d: invalid geometry (%(problem)s).")
                    % {"n": n, "problem": problem},
                    column=self.geometry_column,
                )
                return None
        values = dict(properties)
        values["\x00geometry"] = geometry
        return values, point


def check_geometry(geometry) -> tuple[str | None, tuple[float, float] | None]:
    """(problem, (lon, lat)) of a GeoJSON geometry: its point, or its centroid."""
    import shapely
    from shapely.geometry import shape

    if not isinstance(geometry, dict) or "type" not in geometry:
        return _("not a GeoJSON geometry"), None
    try:
        geom = shape(geometry)
    except (
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        KeyError,
        shapely.errors.GEOSException,
    ) as error:
        return str(error)[:200] or _("unreadable coordinates"), None
    if geom.is_empty:
        return None, None
    min_x, min_y, max_x, max_y = geom.bounds
    if not (-180 <= min_x <= max_x <= 180 and -90 <= min_y <= max_y <= 90):
        return _("coordinates outside longitude −180…180 / latitude −90…90 (WGS84)"), None
    if not geom.is_valid:
        return shapely.is_valid_reason(geom)[:200], None
    centre = geom if geom.geom_type == "Point" else geom.centroid
    return None, (centre.x, centre.y)
