"""Physical storage of loaded versions: one table per version (docs/datahub.md).

PostgreSQL: `datahub_data.rv_<id>`, filled with `COPY ... FROM STDIN (FORMAT binary)`
whose rows are built from Arrow columns (`pg_binary_rows`; CSV with
DATAHUB_COPY_FORMAT=csv), primary key and indexes built after the load. SQLite:
`datahub_rv_<id>` in the main database, filled with `executemany` in one transaction.
Identifiers are only ever `rv_<integer>`, `c<integer>`, `_id`, `_lon`, `_lat`.
"""

import io
import logging
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from django.db import connection, transaction

from metropole.core.conf import setting

log = logging.getLogger(__name__)

PG_TYPES = {
    "string": "TEXT",
    "geometry": "TEXT",
    "integer": "BIGINT",
    "number": "DOUBLE PRECISION",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "datetime": "TIMESTAMP WITH TIME ZONE",
}
SQLITE_TYPES = {
    "string": "TEXT",
    "geometry": "TEXT",
    "integer": "INTEGER",
    "number": "REAL",
    "boolean": "INTEGER",
    "date": "TEXT",
    "datetime": "TEXT",
}


# PostgreSQL's binary COPY format (https://www.postgresql.org/docs/current/sql-copy.html):
# a signature, then rows of (field count, then each field as its length and its bytes in
# the type's binary form, or length -1 for NULL), then a trailer. The server stores the
# values without parsing any text: a third less of its time than CSV for the same rows.
PG_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
PG_COPY_TRAILER = b"\xff\xff"
_PG_NULL = pa.scalar(b"\xff\xff\xff\xff", pa.binary())
_PG_EPOCH_DAYS = 10_957  # 2000-01-01, PostgreSQL's epoch, in days after 1970-01-01
_PG_EPOCH_US = _PG_EPOCH_DAYS * 86_400 * 1_000_000


def _pg_fixed(values, width: int, valid) -> pa.Array:
    """Fields of a fixed-width type: big-endian length then big-endian value."""
    records = np.empty(len(values), dtype=[("len", ">i4"), ("v", values.dtype.newbyteorder(">"))])
    records["len"] = width
    records["v"] = values
    fields = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(4 + width), len(values), [None, pa.py_buffer(records.tobytes())]
    ).cast(pa.binary())
    return fields if valid is None else pc.if_else(valid, fields, _PG_NULL)


def _pg_field(column) -> pa.Array:
    """One Arrow column as binary COPY fields (one binary value per row)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    type_ = column.type
    valid = pc.is_valid(column) if column.null_count else None

    def numbers(array, dtype, fill=0):
        return pc.fill_null(array, fill).to_numpy(zero_copy_only=False).astype(dtype)

    if pa.types.is_string(type_) or pa.types.is_large_string(type_):
        data = column.cast(pa.binary())
        lengths = numbers(pc.binary_length(data), ">i4")
        prefix = pa.FixedSizeBinaryArray.from_buffers(
            pa.binary(4), len(data), [None, pa.py_buffer(lengths.tobytes())]
        ).cast(pa.binary())
        fields = pc.binary_join_element_wise(prefix, data, pa.scalar(b"", pa.binary()))
        return fields if valid is None else pc.fill_null(fields, _PG_NULL)
    if pa.types.is_integer(type_):
        return _pg_fixed(numbers(column, np.int64), 8, valid)
    if pa.types.is_floating(type_):
        return _pg_fixed(numbers(column, np.float64), 8, valid)
    if pa.types.is_boolean(type_):
        return _pg_fixed(numbers(column, np.uint8, False), 1, valid)
    if pa.types.is_date32(type_):
        days = numbers(pc.cast(column, pa.int32()), np.int32) - _PG_EPOCH_DAYS
        return _pg_fixed(days, 4, valid)
    if pa.types.is_timestamp(type_):
        micro = pc.cast(pc.cast(column, pa.timestamp("us", tz=type_.tz)), pa.int64())
        return _pg_fixed(numbers(micro, np.int64) - _PG_EPOCH_US, 8, valid)
    if pa.types.is_null(type_):
        return pa.array([b"\xff\xff\xff\xff"] * len(column), pa.binary())
    raise TypeError(f"no binary COPY form for {type_}")


def pg_binary_rows(table: pa.Table) -> bytes:
    """The rows of an Arrow table in PostgreSQL's binary COPY format (without the
    signature and trailer), built column by column in Arrow, never row by row."""
    count = pa.scalar(len(table.columns).to_bytes(2, "big"), pa.binary())
    rows = pc.binary_join_element_wise(
        count, *(_pg_field(c) for c in table.columns), pa.scalar(b"", pa.binary())
    )
    if isinstance(rows, pa.ChunkedArray):
        rows = rows.combine_chunks()
    offsets = np.frombuffer(
        rows.buffers()[1], dtype=np.int32, count=len(rows) + 1, offset=rows.offset * 4
    )
    return rows.buffers()[2][int(offsets[0]) : int(offsets[-1])].to_pybytes()


def copy_format() -> str:
    """binary (default) or csv: how rows travel to PostgreSQL's COPY."""
    return "csv" if setting("DATAHUB_COPY_FORMAT", "binary") == "csv" else "binary"


def _q(name: str) -> str:
    """Quote one of our own identifiers (never user text)."""
    if not name.replace("_", "").isalnum() or not name.isascii():
        raise ValueError(f"refused identifier {name!r}")
    return f'"{name}"'


def table_ref(version) -> str:
    schema = version.table_schema_name
    return f"{_q(schema)}.{_q(version.table_name)}" if schema else _q(version.table_name)


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def create_table(version, columns: list[dict], geolocated: bool) -> None:
    """(Re)create the version's empty table. On PostgreSQL the primary key comes after
    the load (`finish_table`): COPY into a table without indexes is fastest."""
    types = PG_TYPES if is_postgresql() else SQLITE_TYPES
    parts = ["_id BIGINT NOT NULL" if is_postgresql() else "_id INTEGER PRIMARY KEY"]
    parts += [f"{_q(c['sql_name'])} {types[c['type']]}" for c in columns]
    if geolocated:
        real = "DOUBLE PRECISION" if is_postgresql() else "REAL"
        parts += [f"_lon {real}", f"_lat {real}"]
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table_ref(version)}")
        cursor.execute(f"CREATE TABLE {table_ref(version)} ({', '.join(parts)})")


def add_column(version, sql_name: str, type_: str) -> None:
    """A nullable column added to the version's table (no rewrite: the rows already
    there hold NULL)."""
    types = PG_TYPES if is_postgresql() else SQLITE_TYPES
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table_ref(version)} ADD COLUMN {_q(sql_name)} {types[type_]}")


def column_names(columns: list[dict], geolocated: bool) -> list[str]:
    return ["_id", *(c["sql_name"] for c in columns), *(("_lon", "_lat") if geolocated else ())]


class Writer:
    """Appends Arrow tables (physical column names) to a version's table.

    PostgreSQL: `COPY ... FROM STDIN` (binary, see `pg_binary_rows`). A batch is encoded in
    the writer's own thread and handed to psycopg's sending thread, so the caller prepares
    the next batch meanwhile (Arrow and numpy compute without holding the GIL): on two cores
    this took the encoding, a quarter of a load, off the loading thread. With
    `connections=2` (a load outside any transaction: the table is visible to another
    session) the batches alternate between Django's connection and a second one, so two
    server processes parse and store rows at the same time. SQLite: `executemany`, one
    transaction per batch."""

    IN_FLIGHT = 2  # batches handed over and not yet encoded: bounds the memory held

    def __init__(self, version, names: list[str], connections: int = 1):
        self.version = version
        self.names = names
        self.connections = connections
        self._copies: list = []  # (copy, copy context, cursor context, own connection)
        self.format = "csv"
        self._turn = 0
        self._encoder: ThreadPoolExecutor | None = None
        self._pending: deque = deque()

    def __enter__(self):
        return self

    def _open(self):
        from psycopg.copy import QueuedLibpqWriter

        listed = ", ".join(_q(n) for n in self.names)
        self.format = copy_format()
        sql = f"COPY {table_ref(self.version)} ({listed}) FROM STDIN (FORMAT {self.format})"
        count = self.connections if not connection.in_atomic_block else 1
        for index in range(count):
            own = None
            if index == 0:
                cursor_context = connection.cursor()
                cursor = cursor_context.__enter__().cursor
            else:
                own = connection.get_new_connection(connection.get_connection_params())
                own.autocommit = True
                cursor_context = own.cursor()
                cursor = cursor_context.__enter__()
            copy_context = cursor.copy(sql, writer=QueuedLibpqWriter(cursor))
            copy = copy_context.__enter__()
            if self.format == "binary":
                copy.write(PG_COPY_SIGNATURE)
            self._copies.append((copy, copy_context, cursor_context, own))
        self._encoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="datahub-copy")

    @property
    def _copy(self):  # kept for callers that test whether a COPY runs
        return self._copies[0][0] if self._copies else None

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        if table.column_names != self.names:
            table = table.select(self.names)
        if is_postgresql():
            if not self._copies:
                self._open()
            copy = self._copies[self._turn % len(self._copies)][0]
            self._turn += 1
            while len(self._pending) >= self.IN_FLIGHT:
                self._pending.popleft().result()  # an encoding error surfaces here
            self._pending.append(self._encoder.submit(self._encode_and_send, copy, table))
            return
        arrays = [_sqlite_values(column) for column in table.columns]
        placeholders = ", ".join("?" for _ in arrays)
        listed = ", ".join(_q(n) for n in self.names)
        with transaction.atomic(), connection.cursor() as cursor:  # one commit per batch
            cursor.executemany(
                f"INSERT INTO {table_ref(self.version)} ({listed}) VALUES ({placeholders})",
                zip(*arrays, strict=True),
            )

    def _encode_and_send(self, copy, table: pa.Table) -> None:
        if self.format == "binary":
            data = pg_binary_rows(table)
        else:
            buffer = io.BytesIO()
            options = pacsv.WriteOptions(include_header=False)
            pacsv.write_csv(table, buffer, write_options=options)
            data = buffer.getvalue()
        copy.write(data)

    def _drain(self) -> BaseException | None:
        """Wait for the batches handed over; the first error of their encoding, if any."""
        failure = None
        while self._pending:
            try:
                self._pending.popleft().result()
            except Exception as error:  # noqa: BLE001 - every batch is waited for
                failure = failure or error
        if self._encoder is not None:
            self._encoder.shutdown()
            self._encoder = None
        return failure

    def pause(self, *exc) -> None:
        """End the running COPYs (the connection is needed for something else). With `exc`
        (an exception on its way, as `__exit__` gets it) they are cancelled, and an error
        met while ending them is logged, not raised over it."""
        given = exc or (None, None, None)
        failure = self._drain()
        copies, self._copies = self._copies, []
        ending = given
        if failure is not None and given[0] is None:
            ending = (type(failure), failure, failure.__traceback__)  # the COPYs are cancelled
        for copy, copy_context, cursor_context, own in copies:
            try:
                try:
                    if self.format == "binary" and ending[0] is None:
                        copy.write(PG_COPY_TRAILER)
                    copy_context.__exit__(*ending)
                finally:
                    cursor_context.__exit__(*ending)
            except Exception as error:  # noqa: BLE001 - every COPY is ended, the first error raised
                failure = failure or error
            finally:
                if own is not None:
                    own.close()
        if failure is not None and given[0] is None:
            raise failure
        if failure is not None:
            log.warning("ending a COPY after %r also failed: %r", given[1], failure)

    def __exit__(self, *exc):
        self.pause(*exc)
        return False


def write(version, table: pa.Table) -> None:
    """Append one Arrow table (physical column names) to the version's table."""
    with Writer(version, table.column_names) as writer:
        writer.write(table)


def _sqlite_values(column) -> list:
    if pa.types.is_timestamp(column.type):
        column = pc.strftime(
            pc.cast(column, pa.timestamp("s", tz="UTC")), format="%Y-%m-%dT%H:%M:%S+00:00"
        )
    elif pa.types.is_date(column.type):
        column = pc.strftime(column, format="%Y-%m-%d")
    elif pa.types.is_boolean(column.type):
        column = pc.cast(column, pa.int8())
    return column.to_pylist()


def copy_rows(source, target, sql_names: list[str], geolocated: bool) -> int:
    """Copy every row of `source`'s table into `target`'s (tables fed through the API
    grow by appending: the new version starts with the previous one's rows)."""
    names = ["_id", *sql_names, *(("_lon", "_lat") if geolocated else ())]
    listed = ", ".join(_q(n) for n in names)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table_ref(target)} ({listed}) SELECT {listed} FROM {table_ref(source)}"
        )
        return cursor.rowcount


def finish_table(version, spec) -> dict[str, float]:
    """Primary key (PostgreSQL; SQLite's is the rowid) then the query engine's indexes;
    returns the seconds each took."""
    import time

    timings = {}
    started = time.perf_counter()
    with connection.cursor() as cursor:
        if is_postgresql():
            cursor.execute(
                f"ALTER TABLE {table_ref(version)} "
                f"ADD CONSTRAINT {_q(version.table_name + '_pk')} PRIMARY KEY (_id)"
            )
        timings["primary_key"] = round(time.perf_counter() - started, 3)
        started = time.perf_counter()
        for statement in index_statements(spec, search=not search_index_deferred(version)):
            cursor.execute(statement)
        timings["index"] = round(time.perf_counter() - started, 3)
    return timings


def search_index_deferred(version) -> bool:
    """Whether PostgreSQL's full-text index of this version is built after the swap, in
    the background: tables above DATAHUB_SEARCH_INDEX_DEFER_ROWS rows (a GIN index over
    long text takes minutes on a million rows; the data is served meanwhile, and a
    search scans the table until the index exists)."""
    limit = int(setting("DATAHUB_SEARCH_INDEX_DEFER_ROWS", 200_000))
    return is_postgresql() and (version.row_count or 0) > limit


def finish_table_indexes(version) -> None:
    """(Re)build the query engine's indexes after a column was dropped (PostgreSQL drops
    the indexes that named it); a deferred full-text index is queued again."""
    deferred = search_index_deferred(version)
    with connection.cursor() as cursor:
        for statement in index_statements(version.table_spec(), search=not deferred):
            cursor.execute(statement)
    if deferred:
        queue_search_index(version)


def queue_search_index(version) -> None:
    """Build the version's full-text index in the background, once the transaction that
    made the version current has committed."""
    from .tasks import build_search_index

    transaction.on_commit(lambda: build_search_index.enqueue(version.pk))


def search_index_missing(version) -> bool:
    """Whether a version whose full-text index is deferred has none: no valid index and no
    build in progress (a background build that failed, or a worker stopped during it)."""
    if not search_index_deferred(version):
        return False
    try:
        from .querying.indexes import search_index_exists
    except ImportError:
        return False
    with connection.cursor() as cursor:
        if search_index_exists(version.table_spec(), cursor):
            return False
        cursor.execute(
            "SELECT 1 FROM pg_stat_progress_create_index p JOIN pg_class c ON c.oid = p.relid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = %s AND n.nspname = %s",
            [version.table_name, version.table_schema_name],
        )
        return cursor.fetchone() is None


def build_search_index(version) -> float | None:
    """Build PostgreSQL's full-text index of a version (CONCURRENTLY outside a
    transaction, so the table stays readable and writable); the seconds it took, None
    when there is nothing to build."""
    import time

    try:
        from .querying.indexes import search_index_exists, search_index_statements
    except ImportError:
        return None
    spec = version.table_spec()
    concurrently = not connection.in_atomic_block
    statements = search_index_statements(spec, connection.vendor, concurrently=concurrently)
    if not statements:
        return None
    started = time.perf_counter()
    with connection.cursor() as cursor:
        if search_index_exists(spec, cursor):
            return 0.0
        # an interrupted concurrent build leaves an invalid index behind: start afresh
        name = _q(f"{version.table_name}_fts_idx")
        schema = _q(version.table_schema_name)
        how = "CONCURRENTLY " if concurrently else ""
        cursor.execute(f"DROP INDEX {how}IF EXISTS {schema}.{name}")
        for statement in statements:
            cursor.execute(statement)
    return round(time.perf_counter() - started, 3)


def index_statements(spec, search: bool = True) -> list[str]:
    try:
        from .querying.indexes import index_statements as build
    except ImportError:  # the query engine is not installed: no secondary indexes
        log.warning("metropole.datahub.querying.indexes is missing: tables get no index")
        return []
    return build(spec, connection.vendor, search=search)


def drop_table(version) -> None:
    statements = []
    try:
        from .querying.indexes import drop_statements

        statements = drop_statements(version.table_spec(), connection.vendor)
    except ImportError:
        pass
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
        cursor.execute(f"DROP TABLE IF EXISTS {table_ref(version)}")


def drop_column(version, sql_name: str) -> None:
    """Remove a column for good (a reviewer removed it as personal data). SQLite's FTS
    triggers name the column: they are rebuilt without it."""
    spec_before = version.table_spec()
    with transaction.atomic(), connection.cursor() as cursor:
        if not is_postgresql():
            try:
                from .querying.indexes import drop_statements

                for statement in drop_statements(spec_before, "sqlite"):
                    cursor.execute(statement)
            except ImportError:
                pass
            cursor.execute(
                "SELECT type, name FROM sqlite_master WHERE type IN ('trigger', 'index') "
                "AND tbl_name = %s AND name NOT LIKE 'sqlite_autoindex%%'",
                [version.table_name],
            )
            for kind, name in cursor.fetchall():
                cursor.execute(f"DROP {kind.upper()} IF EXISTS {_q(name)}")
        cursor.execute(f"ALTER TABLE {table_ref(version)} DROP COLUMN {_q(sql_name)}")


def table_exists(version) -> bool:
    with connection.cursor() as cursor:
        if is_postgresql():
            cursor.execute(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = %s "
                "AND table_name = %s",
                [version.table_schema_name, version.table_name],
            )
        else:
            cursor.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s",
                [version.table_name],
            )
        return cursor.fetchone() is not None


def read_rows(version, limit: int = 100) -> list[dict]:
    """The first rows of a version by public column name (tests, previews, pulls)."""
    columns = version.stored_columns
    names = ", ".join(_q(c["sql_name"]) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {names} FROM {table_ref(version)} ORDER BY _id LIMIT %s", [limit])
        return [
            {c["name"]: value for c, value in zip(columns, row, strict=True)}
            for row in cursor.fetchall()
        ]
