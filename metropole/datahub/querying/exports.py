"""Streamed exports (CSV, JSON, JSONL, GeoJSON, Parquet) that never hold the table in memory.

Rows come from ``execute.stream_rows`` (a server-side cursor on PostgreSQL) and are written in
chunks of about ``CHUNK_BYTES``; Parquet is written one row group at a time into a sink that is
drained after every group. Large exports run in the background (``tasks.run_export``) and
end with a signed download link; the file is kept under METROPOLE_VAR_DIR until it expires.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import time
from dataclasses import replace
from pathlib import Path

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext as _

from metropole.core.conf import setting
from metropole.core.exceptions import NotFound
from metropole.core.open_data import spreadsheet_safe

from .ast import Query
from .execute import json_converters, stream_batches
from .spec import Column, TableSpec

FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "json": ("application/json", "json"),
    "jsonl": ("application/x-ndjson", "jsonl"),
    "geojson": ("application/geo+json", "geojson"),
    "parquet": ("application/vnd.apache.parquet", "parquet"),
}
CHUNK_BYTES = 64 * 1024
PARQUET_ROW_GROUP = 20_000
DOWNLOAD_SALT = "metropole.datahub.export"


def exports_dir() -> Path:
    path = Path(setting("DATAHUB_EXPORTS_DIR", "") or settings.VAR_DIR / "datahub-exports")
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_ttl() -> int:
    return int(setting("DATAHUB_EXPORT_TTL_SECONDS", 24 * 3600))


def background_threshold() -> int:
    """Exports of more rows than this run in the background."""
    return int(setting("DATAHUB_EXPORT_SYNC_MAX_ROWS", 200_000))


class _Buffer:
    """Text written by batches, taken out as UTF-8 chunks of about CHUNK_BYTES."""

    def __init__(self):
        self.io = io.StringIO()

    def full(self) -> bool:
        return self.io.tell() >= CHUNK_BYTES

    def take(self) -> bytes:
        data = self.io.getvalue().encode("utf-8")
        self.io.seek(0)
        self.io.truncate()
        return data


# The first characters that make spreadsheet_safe (the core's rule) prefix a cell, derived
# from the function itself so that the fast path below can never disagree with it.
_FORMULA_FIRST = frozenset(c for c in map(chr, range(128)) if spreadsheet_safe(c + "x") != c + "x")


def _csv_converter(col: Column, vendor: str):
    """How a stored value becomes a CSV cell (None: as the database gives it; the csv module
    writes None as an empty cell, numbers with repr and dates in ISO form)."""
    if col.type in ("string", "geometry"):
        return "text"  # formula injection neutralised (a leading apostrophe)
    if col.type == "boolean":
        return lambda v: None if v is None else ("true" if v else "false")
    if col.type == "datetime" and vendor == "postgresql":
        return lambda v: v if v is None or isinstance(v, str) else v.isoformat()
    return None


def csv_chunks(columns, batches, vendor):
    buffer = _Buffer()
    writer = csv.writer(buffer.io)
    writer.writerow(["_id", *(c.name for c in columns)])
    converters = [
        (i, conv)
        for i, col in enumerate(columns, start=1)
        if (conv := _csv_converter(col, vendor)) is not None
    ]
    texts = [i for i, conv in converters if conv == "text"]
    others = [(i, conv) for i, conv in converters if conv != "text"]
    first = _FORMULA_FIRST
    for batch in batches:
        if converters:
            out = []
            for row in batch:
                row = list(row)
                for i in texts:
                    value = row[i]
                    if value and value[0] in first:
                        row[i] = spreadsheet_safe(value)
                for i, conv in others:
                    row[i] = conv(row[i])
                out.append(row)
            writer.writerows(out)
        else:
            writer.writerows(batch)
        if buffer.full():
            yield buffer.take()
    yield buffer.take()


def _records(columns, batches, vendor):
    """Batches of dicts (``_id`` and the columns by public name)."""
    names = ["_id", *(c.name for c in columns)]
    converters = [
        (i, conv)
        for i, conv in enumerate(json_converters(columns, vendor), start=1)
        if conv is not None
    ]
    for batch in batches:
        out = []
        for row in batch:
            item = dict(zip(names, row, strict=True))
            for i, conv in converters:
                if row[i] is not None:
                    item[names[i]] = conv(row[i])
            out.append(item)
        yield out


def json_chunks(columns, batches, vendor):
    buffer = _Buffer()
    buffer.io.write("[")
    separator = "\n"
    for records in _records(columns, batches, vendor):
        for record in records:
            buffer.io.write(separator)
            buffer.io.write(json.dumps(record, ensure_ascii=False))
            separator = ",\n"
        if buffer.full():
            yield buffer.take()
    buffer.io.write("\n]\n")
    yield buffer.take()


def jsonl_chunks(columns, batches, vendor):
    buffer = _Buffer()
    for records in _records(columns, batches, vendor):
        for record in records:
            buffer.io.write(json.dumps(record, ensure_ascii=False))
            buffer.io.write("\n")
        if buffer.full():
            yield buffer.take()
    yield buffer.take()


def geojson_chunks(columns, batches, vendor):
    names = [c.name for c in columns]
    geometry_name = next((c.name for c in columns if c.type == "geometry"), None)
    has_point = "_lon" in names and "_lat" in names
    skip = {geometry_name, "_lon", "_lat"}
    buffer = _Buffer()
    buffer.io.write('{"type": "FeatureCollection", "features": [')
    separator = "\n"
    for records in _records(columns, batches, vendor):
        for record in records:
            geometry = record.get(geometry_name) if geometry_name else None
            if not isinstance(geometry, dict):
                geometry = None
            if geometry is None and has_point and record["_lon"] is not None:
                geometry = {"type": "Point", "coordinates": [record["_lon"], record["_lat"]]}
            properties = {k: v for k, v in record.items() if k not in skip}
            feature = {
                "type": "Feature",
                "id": record["_id"],
                "geometry": geometry,
                "properties": properties,
            }
            buffer.io.write(separator)
            buffer.io.write(json.dumps(feature, ensure_ascii=False))
            separator = ",\n"
        if buffer.full():
            yield buffer.take()
    buffer.io.write("\n]}\n")
    yield buffer.take()


# -- Parquet -------------------------------------------------------------------------------
class _Sink(io.RawIOBase):
    """A write-only stream whose bytes are taken out after each row group."""

    def __init__(self):
        self.parts: list[bytes] = []
        self.position = 0

    def writable(self):
        return True

    def write(self, data):
        data = bytes(data)
        self.parts.append(data)
        self.position += len(data)
        return len(data)

    def tell(self):
        return self.position

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts = []
        return data


def _arrow_type(col: Column):
    import pyarrow as pa

    return {
        "integer": pa.int64(),
        "number": pa.float64(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
        "datetime": pa.timestamp("us", tz="UTC"),
    }.get(col.type, pa.string())


def _arrow_value(col: Column, value):
    if value is None:
        return None
    if col.type == "boolean":
        return bool(value)
    if col.type == "date" and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if col.type == "datetime" and isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    return value


def parquet_chunks(columns, batches, vendor):
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [pa.field("_id", pa.int64(), nullable=False)]
        + [pa.field(c.name, _arrow_type(c)) for c in columns]
    )
    sink = _Sink()
    writer = pq.ParquetWriter(pa.PythonFile(sink, mode="w"), schema, compression="zstd")

    def flush(rows):
        arrays = [pa.array([r[0] for r in rows], pa.int64())]
        for i, col in enumerate(columns, start=1):
            arrays.append(pa.array([_arrow_value(col, r[i]) for r in rows], _arrow_type(col)))
        writer.write_table(pa.Table.from_arrays(arrays, schema=schema))

    pending = []
    for batch in batches:
        pending.extend(batch)
        while len(pending) >= PARQUET_ROW_GROUP:
            flush(pending[:PARQUET_ROW_GROUP])
            del pending[:PARQUET_ROW_GROUP]
            yield sink.take()
    if pending:
        flush(pending)
    writer.close()
    yield sink.take()


def export_query(spec: TableSpec, query: Query, fmt: str) -> Query:
    """GeoJSON needs the coordinates even when the caller selected other columns."""
    if fmt == "geojson" and query.select and spec.geolocated:
        has_geometry = any(
            (c := spec.column(n)) is not None and c.type == "geometry" for n in query.select
        )
        if not has_geometry:
            return replace(query, select=(*query.select, "_lon", "_lat"))
    return replace(query, cursor="", limit=None)


def stream(spec: TableSpec, query: Query, fmt: str, using: str = "default"):
    """An iterator of bytes of the whole export (filters and sort of ``query`` applied)."""
    from django.db import connections

    vendor = connections[using].vendor
    columns, batches = stream_batches(
        spec, export_query(spec, query, fmt), using, dates_as_text=fmt != "parquet"
    )
    writer = {
        "csv": csv_chunks,
        "json": json_chunks,
        "jsonl": jsonl_chunks,
        "geojson": geojson_chunks,
        "parquet": parquet_chunks,
    }[fmt]
    return (chunk for chunk in writer(columns, batches, vendor) if chunk)


# -- background exports --------------------------------------------------------------------
def status_path(token: str) -> Path:
    return exports_dir() / f"{token}.status.json"


def write_status(token: str, **status) -> None:
    path = status_path(token)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(status))
    os.replace(tmp, path)


def read_status(token: str) -> dict | None:
    if not token.replace("-", "").replace("_", "").isalnum():
        return None
    try:
        return json.loads(status_path(token).read_text())
    except (OSError, ValueError):
        return None


def export_status(resource_id: str, token: str) -> dict:
    """The state of background export `token` of `resource_id` (state, fmt, error, size) and,
    once done, its signed download token (`signed`); NotFound if unknown or expired. The
    one reader of an export's state for the API and the portal's page."""
    status = read_status(token)
    if status is None or status.get("resource") != resource_id:
        raise NotFound(_("Unknown export"), _("No export has this number, or it has expired."))
    out = {
        "state": status["state"],
        "fmt": status.get("fmt"),
        "error": status.get("error"),
        "size": status.get("size"),
    }
    if status["state"] == "done":
        out["signed"] = download_token(token, status["fmt"])
    return out


def file_path(token: str, fmt: str) -> Path:
    return exports_dir() / f"{token}.{FORMATS[fmt][1]}"


def write_file(spec: TableSpec, query: Query, fmt: str, token: str) -> int:
    """Write the export to its file (via a .part file); returns its size in bytes."""
    target = file_path(token, fmt)
    part = target.with_name(target.name + ".part")
    size = 0
    with open(part, "wb") as out:
        for chunk in stream(spec, query, fmt):
            out.write(chunk)
            size += len(chunk)
    os.replace(part, target)
    return size


def download_token(token: str, fmt: str) -> str:
    return signing.TimestampSigner(salt=DOWNLOAD_SALT).sign_object({"t": token, "f": fmt})


def open_download(signed: str):
    """(path, fmt) of a finished export from its signed download token, or None if invalid,
    expired or gone."""
    try:
        payload = signing.TimestampSigner(salt=DOWNLOAD_SALT).unsign_object(
            signed, max_age=export_ttl()
        )
        token, fmt = payload["t"], payload["f"]
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    if fmt not in FORMATS:
        return None
    path = file_path(token, fmt)
    return (path, fmt) if path.exists() else None


def remove_expired(now: float | None = None) -> int:
    """Delete export files older than their time to live; returns how many were removed."""
    now = time.time() if now is None else now
    removed = 0
    for path in exports_dir().iterdir():
        try:
            if now - path.stat().st_mtime > export_ttl():
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed
