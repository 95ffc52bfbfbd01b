"""The rows sent to PostgreSQL's COPY in its binary format (storage.pg_binary_rows) are
stored exactly as the CSV path stores them: every type, NULLs, empty strings, accents,
extreme dates, batches sliced from larger arrays."""

from datetime import UTC, date, datetime

import pyarrow as pa
import pytest
from django.db import connection, transaction

from metropole.datahub import services, storage

pytestmark = pytest.mark.skipif("connection.vendor != 'postgresql'")

COLUMNS = [
    {"sql_name": "c1", "type": "string"},
    {"sql_name": "c2", "type": "integer"},
    {"sql_name": "c3", "type": "number"},
    {"sql_name": "c4", "type": "boolean"},
    {"sql_name": "c5", "type": "date"},
    {"sql_name": "c6", "type": "datetime"},
]


def _table(first_id):
    table = pa.table(
        {
            "_id": pa.array(range(first_id, first_id + 5), pa.int64()),
            "c1": ["Villeneuve-d'Ascq", None, "", "Œuvre « à » 😀", 'a,b;"c"\nd'],
            "c2": pa.array([0, None, -(2**63), 2**63 - 1, 59350], pa.int64()),
            "c3": pa.array([1234.5, None, -0.0, 1e300, 3.0635]),
            "c4": pa.array([True, None, False, True, False]),
            "c5": pa.array(
                [date(2020, 2, 29), None, date(1, 1, 1), date(9999, 12, 31), date(2000, 1, 1)]
            ),
            "c6": pa.array(
                [
                    datetime(2024, 3, 31, 1, 30, tzinfo=UTC),
                    None,
                    datetime(1970, 1, 1, tzinfo=UTC),
                    datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
                    datetime(2000, 1, 1, tzinfo=UTC),
                ],
                pa.timestamp("us", tz="UTC"),
            ),
            "_lon": pa.array([3.06, None, 0.0, -180.0, 180.0]),
            "_lat": pa.array([50.63, None, 0.0, -90.0, 90.0]),
        }
    )
    return table.slice(1).slice(0, 4)  # offsets into the buffers, as batches have


def _stored(resource, publisher, settings, fmt):
    settings.DATAHUB_COPY_FORMAT = fmt
    version = services._new_version(publisher, resource, __import__("io").BytesIO(b"x"), "x.csv")
    storage.create_table(version, COLUMNS, geolocated=True)
    names = storage.column_names(COLUMNS, True)
    with storage.Writer(version, names) as writer:
        writer.write(_table(1))
        writer.write(_table(10))
    assert writer.format == fmt
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {storage.table_ref(version)} ORDER BY _id")
        return cursor.fetchall()


def test_binary_copy_stores_what_csv_stores(resource, publisher, settings):
    binary = _stored(resource, publisher, settings, "binary")
    csv = _stored(resource, publisher, settings, "csv")
    assert len(binary) == 8
    assert binary == csv
    assert binary[0][1:3] == (None, None)
    assert binary[1][1] == "" and binary[1][2] == -(2**63)
    assert binary[2][1] == "Œuvre « à » 😀" and binary[2][5] == date(9999, 12, 31)
    assert binary[3][1] == 'a,b;"c"\nd' and binary[3][6] == datetime(2000, 1, 1, tzinfo=UTC)


def test_an_encoding_error_in_the_writer_thread_cancels_the_copy(resource, publisher, settings):
    """Batches are encoded in the writer's thread: an error there reaches the caller and
    the COPY is cancelled, so the batch written before it is not kept either."""
    settings.DATAHUB_COPY_FORMAT = "binary"
    version = services._new_version(publisher, resource, __import__("io").BytesIO(b"x"), "x.csv")
    storage.create_table(version, COLUMNS, geolocated=True)
    names = storage.column_names(COLUMNS, True)
    unencodable = _table(20).set_column(1, "c1", pa.array([[1]] * 4, pa.list_(pa.int64())))
    with (
        pytest.raises(TypeError, match="no binary COPY form"),
        transaction.atomic(),
        storage.Writer(version, names) as writer,
    ):
        writer.write(_table(1))
        writer.write(unencodable)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {storage.table_ref(version)}")
        assert cursor.fetchone()[0] == 0
