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

from metropole.core.open_data import spreadsheet_safe

from .ast import Query
from .compiler import to_python
from .execute import stream_rows
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
    path = Path(
        getattr(settings, "DATAHUB_EXPORTS_DIR", None) or settings.VAR_DIR / "datahub-exports"
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_ttl() -> int:
    return int(getattr(settings, "DATAHUB_EXPORT_TTL_SECONDS", 24 * 3600))


def background_threshold() -> int:
    """Exports of more rows than this run in the background."""
    return int(getattr(settings, "DATAHUB_EXPORT_SYNC_MAX_ROWS", 200_000))


def _chunked(pieces):
    """Join small text pieces into ~CHUNK_BYTES byte chunks."""
    buffer, size = [], 0
    for piece in pieces:
        data = piece.encode("utf-8")
        buffer.append(data)
        size += len(data)
        if size >= CHUNK_BYTES:
            yield b"".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield b"".join(buffer)


class _Echo:
    def write(self, value):
        return value


def _cell(col: Column, value, vendor: str):
    value = to_python(col, value, vendor)
    if value is None:
        return ""
    if col.type in ("string", "geometry"):
        return spreadsheet_safe(value)
    if col.type == "boolean":
        return "true" if value else "false"
    return value


def csv_pieces(columns, rows, vendor):
    writer = csv.writer(_Echo())
    yield writer.writerow(["_id", *(c.name for c in columns)])
    for row in rows:
        yield writer.writerow(
            [row[0], *(_cell(c, v, vendor) for c, v in zip(columns, row[1:], strict=True))]
        )


def _json_value(col: Column, value, vendor: str):
    value = to_python(col, value, vendor)
    if col.type == "geometry" and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _record(columns, row, vendor) -> dict:
    item = {"_id": row[0]}
    for col, value in zip(columns, row[1:], strict=True):
        item[col.name] = _json_value(col, value, vendor)
    return item


def json_pieces(columns, rows, vendor):
    yield "["
    first = True
    for row in rows:
        yield ("\n" if first else ",\n") + json.dumps(
            _record(columns, row, vendor), ensure_ascii=False
        )
        first = False
    yield "\n]\n"


def jsonl_pieces(columns, rows, vendor):
    for row in rows:
        yield json.dumps(_record(columns, row, vendor), ensure_ascii=False) + "\n"


def geojson_pieces(columns, rows, vendor):
    geometry_index = next((i for i, c in enumerate(columns) if c.type == "geometry"), None)
    names = [c.name for c in columns]
    lon_index = names.index("_lon") if "_lon" in names else None
    lat_index = names.index("_lat") if "_lat" in names else None
    yield '{"type": "FeatureCollection", "features": ['
    first = True
    for row in rows:
        values = row[1:]
        geometry = None
        if geometry_index is not None and isinstance(values[geometry_index], str):
            try:
                geometry = json.loads(values[geometry_index])
            except ValueError:
                geometry = None
        if geometry is None and lon_index is not None and values[lon_index] is not None:
            geometry = {"type": "Point", "coordinates": [values[lon_index], values[lat_index]]}
        properties = {"_id": row[0]}
        for i, (col, value) in enumerate(zip(columns, values, strict=True)):
            if i not in (geometry_index, lon_index, lat_index):
                properties[col.name] = _json_value(col, value, vendor)
        feature = {"type": "Feature", "id": row[0], "geometry": geometry, "properties": properties}
        yield ("\n" if first else ",\n") + json.dumps(feature, ensure_ascii=False)
        first = False
    yield "\n]}\n"


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


def parquet_chunks(columns, rows, vendor):
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [pa.field("_id", pa.int64(), nullable=False)]
        + [pa.field(c.name, _arrow_type(c)) for c in columns]
    )
    sink = _Sink()
    writer = pq.ParquetWriter(pa.PythonFile(sink, mode="w"), schema, compression="zstd")

    def flush(batch):
        arrays = [pa.array([r[0] for r in batch], pa.int64())]
        for i, col in enumerate(columns, start=1):
            arrays.append(pa.array([_arrow_value(col, r[i]) for r in batch], _arrow_type(col)))
        writer.write_table(pa.Table.from_arrays(arrays, schema=schema))

    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= PARQUET_ROW_GROUP:
            flush(batch)
            batch = []
            yield sink.take()
    if batch:
        flush(batch)
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
    columns, rows = stream_rows(spec, export_query(spec, query, fmt), using)
    if fmt == "parquet":
        return parquet_chunks(columns, rows, vendor)
    pieces = {
        "csv": csv_pieces,
        "json": json_pieces,
        "jsonl": jsonl_pieces,
        "geojson": geojson_pieces,
    }[fmt](columns, rows, vendor)
    return _chunked(pieces)


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
