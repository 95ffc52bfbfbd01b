"""A load, from source file to the swap of the resource's current version.

1. Read: the reader streams batches of text columns; each batch feeds type inference
   and is spooled to a temporary Arrow IPC file (so the source is parsed once, whatever
   its format).
2. Decide: column types (declared by the Table Schema, else inferred), personal data
   (scanned on the first values of the spool), which columns are stored (a column a
   reviewer removed never is), whether rows are geolocated.
3. Write: the spool is read back batch by batch, converted to typed arrays, checked
   against the schema; valid rows are written to the version's new table (COPY on
   PostgreSQL), invalid rows are reported — and, when the publisher chose "reject",
   nothing is kept.
4. Finish: primary key and indexes, then one transaction makes the version current.

Until step 4 commits, readers keep seeing the previous version; on any failure the new
table is dropped and the version is marked failed with its report.
"""

import logging
import os
import tempfile
import time
from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from metropole.core.conf import setting

from .. import storage
from ..models import (
    InvalidRows,
    Resource,
    ResourceVersion,
    VersionStatus,
    _files_dir,
)
from . import schema as table_schema
from .errors import IngestError
from .personal import SAMPLE_VALUES, PersonalScan
from .readers import (
    MAX_REPORTED,
    RestartCarefully,
    check_size,
    detect_format,
    open_reader,
    read_ahead,
)
from .types import LAT_HEADER, LON_HEADER, ColumnInference, clean_strings, convert, normalise_header

log = logging.getLogger(__name__)

TYPE_LABELS = {
    "string": gettext_noop("text"),
    "integer": gettext_noop("whole number"),
    "number": gettext_noop("number"),
    "boolean": gettext_noop("yes/no value"),
    "date": gettext_noop("date"),
    "datetime": gettext_noop("date and time"),
    "geometry": gettext_noop("geometry"),
}
# A value that does not convert, said for its column's type (French needs the article's
# gender: "n'est pas un nombre", "n'est pas une date").
TYPE_ERRORS = {
    "integer": gettext_noop("“%(value)s” is not a whole number"),
    "number": gettext_noop("“%(value)s” is not a number"),
    "boolean": gettext_noop("“%(value)s” is not a yes/no value"),
    "date": gettext_noop("“%(value)s” is not a date"),
    "datetime": gettext_noop("“%(value)s” is not a date and time"),
}


class Report:
    """Errors by row and column (the first MAX_REPORTED kept, all counted)."""

    def __init__(self):
        self.errors: list[dict] = []
        self.error_count = 0
        self.by_column: Counter = Counter()
        self.by_code: Counter = Counter()
        self.invalid_rows: set[int] = set()
        self.warnings: list[dict] = []

    def add(self, row, column, code, message):
        self.error_count += 1
        self.by_code[code] += 1
        if column:
            self.by_column[column] += 1
        if row is not None:
            self.invalid_rows.add(row)
        if len(self.errors) < MAX_REPORTED:
            self.errors.append({"row": row, "column": column, "code": code, "message": message})

    def extend(self, other: "Report") -> None:
        self.error_count += other.error_count
        self.by_column.update(other.by_column)
        self.by_code.update(other.by_code)
        self.invalid_rows |= other.invalid_rows
        self.errors.extend(other.errors[: max(0, MAX_REPORTED - len(self.errors))])

    def as_dict(self, **extra) -> dict:
        return {
            "errors": sorted(self.errors, key=lambda e: (e["row"] or 0, e["column"] or "")),
            "error_count": self.error_count,
            "errors_by_column": dict(self.by_column),
            "errors_by_code": dict(self.by_code),
            "invalid_rows": len(self.invalid_rows),
            "warnings": self.warnings,
            **extra,
        }


# How long freed memory stays in Arrow's pool before it goes back to the system. With the
# default pool the process kept pages in proportion to the file's size; with 0 every batch
# gave its pages back and took them again, and the kernel's work for it was 30 % of a load
# (300,000 rows: 5.6 s, of which 2.2 s in the kernel; 3.9 s and 0.7 s with 100 ms, for a peak
# RSS of 417 MB instead of 388 MB).
MEMORY_DECAY_MS = 100


def _release_memory_promptly():
    """Arrow's jemalloc pool with a short decay: a load frees one batch after the other,
    and the memory goes back to the system soon after."""
    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
        pa.jemalloc_set_decay_ms(MEMORY_DECAY_MS)
    except (NotImplementedError, pa.ArrowNotImplementedError):  # built without jemalloc
        pass


def _progress(version, **fields):
    ResourceVersion.objects.filter(pk=version.pk).update(**fields)


class _RowsDone:
    """Records rows_done while a COPY holds Django's connection: through a second session
    on PostgreSQL outside a transaction (the COPY goes on), else by ending the COPY for a
    moment (`pause`, a callable) and using Django's connection.

    At most every EVERY_SECONDS: a progress bar needs no more, and each record is a commit
    (one per batch, waiting for the disk each time, took 4 of the 30 seconds of a
    million-row load). The second session does not wait for the disk at all: a progress
    figure lost in a crash is harmless."""

    EVERY_SECONDS = 0.5

    def __init__(self, version):
        from django.db import connection

        self.version = version
        self.own = None
        self.last = time.monotonic()
        if storage.is_postgresql() and not connection.in_atomic_block:
            self.own = connection.get_new_connection(connection.get_connection_params())
            self.own.autocommit = True
            self.own.execute("SET synchronous_commit = off")
        table = ResourceVersion._meta.db_table
        self.sql = f'UPDATE "{table}" SET rows_done = %s WHERE id = %s'

    def record(self, rows_done: int, pause, last: bool = False) -> None:
        """Record `rows_done` if it is time to (always when it is the `last` one)."""
        now = time.monotonic()
        if now - self.last < self.EVERY_SECONDS and not last:
            return
        self.last = now
        if self.own is not None:
            self.own.execute(self.sql, [rows_done, self.version.pk])
        else:
            pause()
            _progress(self.version, rows_done=rows_done)

    def close(self):
        if self.own is not None:
            self.own.close()
            self.own = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def load_version(version_id: int) -> ResourceVersion:
    """Run a queued load to its end (ready or failed). Idempotent for a finished one."""
    _release_memory_promptly()
    # Claimed atomically: a worker and a direct call never load the same version twice.
    claimed = ResourceVersion.objects.filter(pk=version_id, status=VersionStatus.QUEUED).update(
        status=VersionStatus.LOADING, started_at=timezone.now()
    )
    version = ResourceVersion.objects.select_related("resource__dataset").get(pk=version_id)
    if not claimed:
        return version
    created_table = False
    try:
        created_table = True
        _load(version)
    except IngestError as error:
        _fail(version, error.title, error.detail, error.report or {"errors": [error.as_dict()]})
    except Exception as error:  # noqa: BLE001 - a load must end, and say so
        log.exception("load of version %s failed", version.pk)
        _fail(
            version,
            _("Load failed"),
            _(
                "An unexpected error stopped the load (%(error)s). The previous version is "
                "still served."
            )
            % {"error": type(error).__name__},
            {},
        )
    finally:
        if version.status == VersionStatus.FAILED and created_table:
            try:
                storage.drop_table(version)
            except Exception:  # noqa: BLE001
                log.exception("could not drop the table of failed version %s", version.pk)
    return version


def _fail(version, title, detail, report):
    version.status = VersionStatus.FAILED
    version.error_title = str(title)[:200]
    version.error_detail = str(detail)
    version.report = {**(version.report or {}), **report}
    version.finished_at = timezone.now()
    version.save(update_fields=["status", "error_title", "error_detail", "report", "finished_at"])


def _load(version: ResourceVersion) -> None:
    resource = version.resource
    dataset = resource.dataset
    timings = {}
    started = time.perf_counter()
    path = version.file.path
    check_size(os.path.getsize(path))
    version.format = detect_format(path, version.original_name, version.format or resource.format)
    reader = _open(path, version)
    version.encoding = reader.encoding
    version.delimiter = reader.delimiter
    headers = reader.headers
    declared = {}
    if dataset.table_schema:
        declared = {f.name: f for f in table_schema.parse_table_schema(dataset.table_schema)}
    previous = resource.current_version if version.report.get("append") else None
    fixed_types = {c["name"]: c["type"] for c in previous.columns} if previous else {}

    report = Report()
    report.warnings.extend(reader.warnings)
    missing = [f for f in declared.values() if f.name not in headers]
    for item in missing:
        if item.required:
            raise IngestError(
                _("Missing column"),
                _("The Table Schema requires the column “%(name)s”, which the file lacks.")
                % {"name": item.name},
                column=item.name,
                code="missing-label",
            )
        report.warnings.append(
            {
                "code": "missing-label",
                "column": item.name,
                "message": _("The schema's column “%(name)s” is not in the file.")
                % {"name": item.name},
            }
        )
    if declared:
        for name in headers:
            if name not in declared and name != reader.geometry_column:
                report.warnings.append(
                    {
                        "code": "extra-label",
                        "column": name,
                        "message": _(
                            "The column “%(name)s” is not in the Table Schema; it is "
                            "loaded with the type found in its values."
                        )
                        % {"name": name},
                    }
                )

    # 1. read and spool
    inferences = [ColumnInference(h) for h in headers]
    spool_dir = _files_dir() / "tmp"
    spool_dir.mkdir(parents=True, exist_ok=True)
    spool_fd, spool_path = tempfile.mkstemp(suffix=".arrow", dir=spool_dir)
    os.close(spool_fd)
    try:
        fields = [pa.field(f"c{i}", pa.string()) for i in range(1, len(headers) + 1)]
        fields += [
            pa.field("_row", pa.int64()),
            pa.field("_lon", pa.float64()),
            pa.field("_lat", pa.float64()),
        ]
        spool_schema = pa.schema(fields)
        speculation = None
        decisions = {h: resource.decision(h) for h in headers}
        if previous is None and single_pass():
            speculation = Speculation(version, reader, headers, declared, decisions, spool_path)
        for _attempt in range(2):
            try:
                total = _spool(version, reader, inferences, spool_path, spool_schema, speculation)
                break
            except RestartCarefully:
                inferences = [ColumnInference(h) for h in headers]
                if speculation is not None:
                    speculation.abandon()
                    speculation = Speculation(
                        version, reader, headers, declared, decisions, spool_path
                    )
                for field in declared.values():
                    field.seen = set()
        timings["read"] = round(time.perf_counter() - started, 3)
        decide_started = time.perf_counter()
        for error in reader.structural_errors:
            report.add(error["row"], error.get("column"), error["code"], error["message"])
        report.error_count += reader.structural_error_count - len(reader.structural_errors)
        if total == 0:
            raise IngestError(
                _("No rows"),
                _("The file has column names but no rows of data.")
                if not reader.structural_error_count
                else _("No row of the file could be read: see the report."),
                code="empty-file",
            ).with_report(report.as_dict())

        # 2. decide the columns
        columns = []
        for index, (name, inference) in enumerate(zip(headers, inferences, strict=True), start=1):
            decision = decisions[name]
            columns.append(
                {
                    "name": name,
                    "sql_name": f"c{index}",
                    "type": _column_type(name, inference, reader, declared, fixed_types),
                    "title": "",
                    "inferred_type": inference.result(),
                    "declared_type": declared[name].schema_type if name in declared else "",
                    "stored": decision != "removed",
                    "personal": {"flagged": False},
                }
            )
        _scan_personal_data(columns, spool_path)
        lat = _coordinate_column(columns, LAT_HEADER)
        lon = _coordinate_column(columns, LON_HEADER)
        geolocated = bool(reader.geometry_column) or (lat is not None and lon is not None)
        stored = [c for c in columns if c["stored"]]
        if not stored:
            raise IngestError(
                _("No column left"), _("Every column was removed."), code="no-columns"
            )

        # 3. convert, check and write — already done during the read when the guess
        # lasted to the end (PostgreSQL's COPY then overlapped the read): its types after
        # the last batch are the ones just decided (the same rule, `_column_type`, on the
        # same values); else from the spool, as a second pass.
        write_started = time.perf_counter()
        timings["decide"] = round(write_started - decide_started, 3)
        if speculation is not None and speculation.active and speculation.holds(stored):
            written, next_id = speculation.finish(stored)
            report.extend(speculation.report)
            timings["passes"] = 1
        else:
            if speculation is not None:
                speculation.abandon()
            for field in declared.values():
                field.seen = set()  # the unique check starts again
            written, next_id = _second_pass(
                version,
                spool_path,
                columns,
                stored,
                inferences,
                declared,
                report,
                geolocated,
                lat,
                lon,
                reader.geometry_column,
                previous,
            )
            timings["passes"] = 2
        timings["write"] = round(time.perf_counter() - write_started, 3)
        if version.invalid_rows == InvalidRows.REJECT and report.error_count:
            raise IngestError(
                _("Load rejected"),
                _(
                    "%(count)d errors in %(rows)d rows: nothing was loaded, as chosen for this "
                    "dataset (see the report for each row and column)."
                )
                % {"count": report.error_count, "rows": max(1, len(report.invalid_rows))},
                code="rejected",
            ).with_report(report.as_dict(phase="done"))
        row_count = next_id - 1
        if row_count == 0:
            raise IngestError(
                _("No valid rows"),
                _("No row of the file is valid: see the report."),
                code="rejected",
            ).with_report(report.as_dict(phase="done"))
    except BaseException:
        # The one-pass write may be midway (a reader's error past the first rows): its COPY
        # is ended before the version is marked failed on the same connection.
        if speculation is not None:
            try:
                speculation.abandon()
            except Exception:  # noqa: BLE001 - the load's own error is the one to report
                log.exception("could not end the one-pass write of version %s", version.pk)
        raise
    finally:
        os.unlink(spool_path)

    # 4. indexes, then the swap
    version.columns = columns
    version.geolocated = geolocated
    version.row_count = row_count
    version.invalid_row_count = len(report.invalid_rows)
    timings.update(storage.finish_table(version, version.table_spec()))
    timings["total"] = round(time.perf_counter() - started, 3)
    version.timings = timings
    sheets = {"sheet": reader.sheet_name, "sheets": reader.sheets} if reader.sheets else {}
    version.report = report.as_dict(phase="done", append=bool(previous), **sheets)
    make_current(version, rows_done=written)
    if storage.search_index_deferred(version):
        storage.queue_search_index(version)


def _open(path, version):
    """The reader of the version's file. Spreadsheets: the sheet chosen for this version
    (report["sheet"], see ingest/sheets.py), else the sheet the resource's current
    version holds when the new workbook has it, else the first."""
    chosen = (version.report or {}).get("sheet")
    if chosen or version.format not in ("xlsx", "ods"):
        return open_reader(path, version.format, chosen)
    current = version.resource.current_version
    previous = (current.report or {}).get("sheet") if current else None
    if previous:
        try:
            return open_reader(path, version.format, previous)
        except IngestError as error:
            if error.code != "unknown-sheet":
                raise
    return open_reader(path, version.format)


def _spool(version, reader, inferences, spool_path, spool_schema, speculation=None) -> int:
    """Pass 1: every batch feeds type inference and goes to the spool file (and, while
    the types guessed so far hold, to the table: see Speculation); returns the number of
    rows read."""
    total = 0
    _progress(version, rows_total=reader.estimated_rows, rows_done=0, report={"phase": "reading"})
    pause = speculation.pause if speculation is not None else _no_copy_running
    with (
        _RowsDone(version) as rows_done,
        pa.OSFile(spool_path, "wb") as sink,
        pa.ipc.new_stream(sink, spool_schema) as spool,
    ):
        for batch in read_ahead(reader.batches()):
            cleaned = [clean_strings(column) for column in batch.columns]
            for inference, column in zip(inferences, cleaned, strict=True):
                inference.feed(column)
            count = len(batch)
            nulls = pa.nulls(count, pa.float64())
            spool.write_batch(
                pa.RecordBatch.from_arrays(
                    [
                        *cleaned,
                        batch.rows,
                        batch.lon if batch.lon is not None else nulls,
                        batch.lat if batch.lat is not None else nulls,
                    ],
                    schema=spool_schema,
                )
            )
            total += count
            if speculation is not None:
                speculation.write(cleaned, batch, inferences)
            rows_done.record(total, pause)
        rows_done.record(total, pause, last=True)
    pause()
    return total


def _no_copy_running() -> None:
    pass


def single_pass() -> bool:
    return bool(setting("DATAHUB_SINGLE_PASS", True))


def write_connections() -> int:
    """PostgreSQL sessions a second pass writes through, outside a transaction (two server
    processes storing rows at once while Python waits for them; 1 on a one-core database
    server). A one-pass load writes through one: there Python's parsing is the bottleneck,
    and a second server process took CPU from it (docs/datahub.md, Benchmarks)."""
    return max(1, int(setting("DATAHUB_WRITE_CONNECTIONS", 2)))


def _column_type(name, inference, reader, declared, fixed_types) -> str:
    """A column's type: the geometry's, the appended table's, the Table Schema's, else the
    one its values allow (``string`` while it has had none)."""
    if name == reader.geometry_column:
        return "geometry"
    if name in fixed_types:
        return fixed_types[name]
    if name in declared:
        return declared[name].type
    return inference.result()


def _typed_batch(raw_columns, rows, columns, declared, plain, report, geo) -> tuple[dict, set]:
    """Convert one batch's text columns (sql name -> cleaned strings) to typed arrays and
    check them against the declared schema; (arrays by sql name, invalid positions).
    `geo`: None, or ("geometry", lon, lat) / ("columns", lon sql name, lat sql name)."""
    invalid = set()
    arrays = {}
    for column in columns:
        raw = raw_columns[column["sql_name"]]
        field = declared.get(column["name"])
        converted = convert(
            raw,
            column["type"],
            true_values=field.true_values if field else None,
            false_values=field.false_values if field else None,
            plain=plain[column["sql_name"]],
        )
        for position in converted.bad:
            invalid.add(position)
            report.add(
                rows[position].as_py(),
                column["name"],
                "type-error",
                _(TYPE_ERRORS.get(column["type"], "“%(value)s” is not a valid %(type)s"))
                % {
                    "value": str(raw[position].as_py())[:100],
                    "type": _(TYPE_LABELS[column["type"]]),
                },
            )
        if field is not None:
            for position, code, message in table_schema.check(field, converted.values, raw):
                invalid.add(position)
                report.add(
                    rows[position].as_py(),
                    column["name"],
                    code,
                    _("“%(value)s”: %(problem)s")
                    % {"value": str(raw[position].as_py())[:100], "problem": message},
                )
        arrays[column["sql_name"]] = converted.values
    if geo is not None:
        kind, lon, lat = geo
        if kind == "geometry":
            arrays["_lon"], arrays["_lat"] = lon, lat
        else:
            arrays["_lon"] = _in_range(arrays.get(lon), 180)
            arrays["_lat"] = _in_range(arrays.get(lat), 90)
    return arrays, invalid


def _valid_table(arrays: dict, invalid: set, count: int, next_id: int) -> pa.Table:
    """The batch's valid rows, numbered from `next_id`."""
    if not arrays:  # no column has had a value yet: the rows still count
        return pa.table({"_id": pa.array(range(next_id, next_id + count), pa.int64())})
    table = pa.table(arrays)
    if invalid:
        table = table.filter(pa.array([i not in invalid for i in range(count)]))
    ids = pa.array(range(next_id, next_id + table.num_rows), pa.int64())
    return table.add_column(0, "_id", ids)


def _second_pass(
    version,
    spool_path,
    columns,
    stored,
    inferences,
    declared,
    report,
    geolocated,
    lat,
    lon,
    geometry_column,
    previous,
) -> tuple[int, int]:
    """Pass 2 (when the one-pass write did not hold): the spool, read back batch by batch,
    converted with the final types, checked and written; (rows written, next _id)."""
    _progress(version, rows_done=0, report={"phase": "writing"})
    storage.create_table(version, stored, geolocated)
    next_id = 1
    if previous is not None:
        same = [c["sql_name"] for c in previous.stored_columns]
        if [c["sql_name"] for c in stored] != same or previous.geolocated != geolocated:
            raise IngestError(
                _("Columns differ"),
                _("Rows appended to a table must have the same columns as the table."),
                code="schema-mismatch",
            )
        next_id = storage.copy_rows(previous, version, same, geolocated) + 1
    reject = version.invalid_rows == InvalidRows.REJECT
    plain = {
        c["sql_name"]: inference.plain(c["type"])
        for c, inference in zip(columns, inferences, strict=True)
    }
    geo = None
    if geolocated:
        geo = ("columns", lon["sql_name"], lat["sql_name"]) if not geometry_column else None
    written = 0
    with _RowsDone(version) as rows_done, pa.OSFile(spool_path, "rb") as source:
        atomic = transaction.atomic() if not storage.is_postgresql() else _nullcontext()
        names = storage.column_names(stored, geolocated)
        with atomic, storage.Writer(version, names, connections=write_connections()) as writer:
            for batch in pa.ipc.open_stream(source):
                if geometry_column:
                    geo = ("geometry", batch.column("_lon"), batch.column("_lat"))
                raw = {c["sql_name"]: batch.column(c["sql_name"]) for c in stored}
                arrays, invalid = _typed_batch(
                    raw, batch.column("_row"), stored, declared, plain, report, geo
                )
                if reject and (invalid or report.error_count):
                    continue  # keep checking, to report every error; write nothing
                table = _valid_table(arrays, invalid, len(batch), next_id)
                writer.write(table)
                next_id += table.num_rows
                written += table.num_rows
                rows_done.record(written, writer.pause)
    return written, next_id


class Speculation:
    """The one-pass write: each batch is converted with the types its values and the
    previous ones allow, and written at once (on PostgreSQL the server's COPY runs while
    the next batch is parsed), so the file is read once and the write overlaps the read.

    The guess starts from what a sample of lines from across the file says of each column
    (`Reader.samples`: for a large CSV, 16 spans spread through it), so a file whose later
    rows are written differently — the accident file's 2019–2020 hours "16:55" after
    "1655" two thirds in — is still written in one pass. The sample can only widen a
    guess (integer to number, anything to text), and `holds` checks the guess against
    the types decided on every value at the end.

    A column with no value yet is left out of the table until its first value (PostgreSQL
    and SQLite add a nullable column without rewriting the table; the rows before hold
    NULL, as they would have). When a column's type changes later in the file (an
    integer column meets "1.5", a number column meets "n/a") or the rows' geolocation
    changes, the table is made again with the new types and the batches already read are
    written again from the spool ("rewind"), when they are few (at most REWIND_ROWS, or
    REWIND_SHARE of the file's estimated rows). A later surprise, or more than
    MAX_REWINDS, and the guess is given up: the table is dropped and the classic second
    pass writes from the spool — the same result, as late as without a guess."""

    MAX_REWINDS = 4
    REWIND_ROWS = 100_000
    REWIND_SHARE = 0.125

    def __init__(self, version, reader, headers, declared, decisions, spool_path):
        self.version = version
        self.reader = reader
        self.declared = declared
        self.spool_path = spool_path
        self.columns = [
            {"name": name, "sql_name": f"c{index}"}
            for index, name in enumerate(headers, start=1)
            if decisions.get(name) != "removed"
        ]
        self.types: dict[str, str] = {}  # sql name -> type in the table
        self.hints = self._sample(reader, headers)
        self.geo = None  # (lon sql name, lat sql name), "geometry" or None
        self.report = Report()
        self.writer = None
        self.active = bool(self.columns)
        self.created = False
        self.next_id = 1
        self.written = 0
        self.batches = 0  # batches read so far (spooled)
        self.rewinds = 0
        self.rows_read = 0
        self.rewind_limit = max(
            self.REWIND_ROWS, int(self.REWIND_SHARE * (reader.estimated_rows or 0))
        )
        self.reject = version.invalid_rows == InvalidRows.REJECT

    @staticmethod
    def _sample(reader, headers) -> list[ColumnInference]:
        """What the lines sampled across the file allow each column to be."""
        hints = [ColumnInference(h) for h in headers]
        for columns in reader.samples():
            for hint, column in zip(hints, columns, strict=True):
                hint.feed(clean_strings(column))
        return hints

    def _type_now(self, column, inference) -> str | None:
        """The column's type so far, given the sample; None while nothing gives it one
        (no value yet)."""
        name = column["name"]
        unset = name not in self.declared and name != self.reader.geometry_column
        if unset and not inference.non_empty:
            return None
        hint = self.hints[int(column["sql_name"][1:]) - 1]
        if unset and hint.non_empty:
            inference = inference.combined(hint)
        return _column_type(name, inference, self.reader, self.declared, {})

    def holds(self, stored) -> bool:
        """Whether the table's types are the final ones (decided on every value): a
        sample can make the guess wider than the values need (a line misread)."""
        return all(self.types.get(c["sql_name"], c["type"]) == c["type"] for c in stored)

    def _layout(self, inferences):
        """The columns with a type so far (others have had no value), and the rows'
        geolocation those types give."""
        typed = []
        for column in self.columns:
            type_ = self._type_now(column, inferences[int(column["sql_name"][1:]) - 1])
            if type_ is not None:
                typed.append({**column, "type": type_, "stored": True})
        if self.reader.geometry_column:
            return typed, "geometry"
        lat = _coordinate_column(typed, LAT_HEADER)
        lon = _coordinate_column(typed, LON_HEADER)
        return typed, ((lon["sql_name"], lat["sql_name"]) if lat and lon else None)

    def write(self, cleaned, batch, inferences) -> None:
        """One batch just read (its values already fed to `inferences` and spooled)."""
        if not self.active:
            return
        self.batches += 1
        before, self.rows_read = self.rows_read, self.rows_read + len(batch)
        typed, geo = self._layout(inferences)
        changed = geo != self.geo or any(
            self.types.get(c["sql_name"], c["type"]) != c["type"] for c in typed
        )
        plain = {
            c["sql_name"]: inferences[int(c["sql_name"][1:]) - 1].plain(c["type"]) for c in typed
        }
        if not self.created or changed:
            if self.created and (self.rewinds >= self.MAX_REWINDS or before > self.rewind_limit):
                return self.abandon()
            self._remake(typed, geo, plain, self.batches - 1 if self.created else 0)
        else:
            added = [c for c in typed if c["sql_name"] not in self.types]
            if added:
                self.pause()
                for column in added:
                    storage.add_column(self.version, column["sql_name"], column["type"])
                    self.types[column["sql_name"]] = column["type"]
        raw = {c["sql_name"]: cleaned[int(c["sql_name"][1:]) - 1] for c in typed}
        self._write(raw, batch.rows, batch.lon, batch.lat, typed, plain)

    def _remake(self, typed, geo, plain, replay: int) -> None:
        """(Re)create the table with these columns, and write the first `replay` batches
        of the spool again with them."""
        self.pause()
        if self.created:
            self.rewinds += 1
            storage.drop_table(self.version)
        storage.create_table(self.version, typed, geo is not None)
        self.created = True
        self.types = {c["sql_name"]: c["type"] for c in typed}
        self.geo = geo
        self.report = Report()
        self.next_id, self.written = 1, 0
        for field in self.declared.values():
            field.seen = set()  # the unique check starts again
        if not replay:
            return
        with pa.OSFile(self.spool_path, "rb") as source:
            spool = pa.ipc.open_stream(source)
            for _index in range(replay):
                batch = spool.read_next_batch()
                raw = {c["sql_name"]: batch.column(c["sql_name"]) for c in typed}
                self._write(
                    raw,
                    batch.column("_row"),
                    batch.column("_lon"),
                    batch.column("_lat"),
                    typed,
                    plain,
                )

    def _write(self, raw, rows, lon, lat, typed, plain) -> None:
        count = len(rows)
        geo = None
        if self.geo == "geometry":
            nulls = pa.nulls(count, pa.float64())
            geo = ("geometry", lon if lon is not None else nulls, lat if lat is not None else nulls)
        elif self.geo is not None:
            geo = ("columns", *self.geo)
        arrays, invalid = _typed_batch(raw, rows, typed, self.declared, plain, self.report, geo)
        if self.reject and self.report.error_count:
            return  # the load will be rejected: keep checking, write nothing more
        table = _valid_table(arrays, invalid, count, self.next_id)
        if self.writer is None:
            names = ["_id", *(c["sql_name"] for c in typed)]
            if self.geo is not None:
                names += ["_lon", "_lat"]
            self.writer = storage.Writer(self.version, names)
        self.writer.write(table)
        self.next_id += table.num_rows
        self.written += table.num_rows

    def pause(self) -> None:
        """End the running COPY (the connection is needed for something else)."""
        if self.writer is not None:
            self.writer.pause()
            self.writer = None

    def abandon(self) -> None:
        """Give the guess up: stop writing and drop what was written."""
        self.active = False
        self.pause()
        if self.created:
            storage.drop_table(self.version)
            self.created = False

    def finish(self, stored) -> tuple[int, int]:
        """The columns that never had a value are added; (rows written, next _id)."""
        self.pause()
        if not self.created:
            storage.create_table(self.version, [], self.geo is not None)
            self.created = True
        for column in stored:
            if column["sql_name"] not in self.types:
                storage.add_column(self.version, column["sql_name"], column["type"])
        return self.written, self.next_id


def _scan_personal_data(columns, spool_path) -> None:
    """The personal-data guard, on the first values of the text and integer columns
    (numbers, dates and booleans are not personal on their own; an integer may be a NIR
    or a phone number written without spaces)."""
    scans = {
        c["sql_name"]: PersonalScan(c["name"])
        for c in columns
        if c["type"] in ("string", "integer")
    }
    with pa.OSFile(spool_path, "rb") as source:
        seen = 0
        for batch in pa.ipc.open_stream(source):
            for sql_name, scan in scans.items():
                scan.feed(batch.column(sql_name))
            seen += batch.num_rows
            if seen >= SAMPLE_VALUES:
                break
    for column in columns:
        if column["sql_name"] in scans:
            column["personal"] = scans[column["sql_name"]].verdict()


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _coordinate_column(columns, pattern):
    for column in columns:
        if (
            column["stored"]
            and column["type"] in ("integer", "number")
            and pattern.match(normalise_header(column["name"]))
        ):
            return column
    return None


def _in_range(values, bound):
    if values is None:
        return None
    values = pc.cast(values, pa.float64())
    ok = pc.and_(pc.greater_equal(values, -bound), pc.less_equal(values, bound))
    return pc.if_else(pc.fill_null(ok, False), values, pa.scalar(None, pa.float64()))


@transaction.atomic
def make_current(version: ResourceVersion, **extra) -> None:
    """The swap: in one transaction the version becomes the resource's current one and
    the previous one is superseded (its table stays until the retention expires)."""
    resource = Resource.objects.select_for_update().get(pk=version.resource_id)
    now = timezone.now()
    previous_id = resource.current_version_id
    if previous_id and previous_id != version.pk:
        ResourceVersion.objects.filter(pk=previous_id).update(
            status=VersionStatus.SUPERSEDED, superseded_at=now
        )
    version.status = VersionStatus.READY
    version.finished_at = version.finished_at or now
    version.superseded_at = None
    for name, value in extra.items():
        setattr(version, name, value)
    version.save()
    resource.current_version = version
    resource.format = version.format or resource.format
    resource.save(update_fields=["current_version", "format", "updated_at"])
    type(resource.dataset).objects.filter(pk=resource.dataset_id).update(
        data_updated_at=now, updated_at=now
    )
    version.resource = resource
