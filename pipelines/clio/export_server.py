"""`export parquet --destination NAME`: a PostgreSQL destination's tables and report views
as Parquet files, with exactly the types they have on the server.

Every file is read in one READ ONLY REPEATABLE READ transaction, so the export is one
consistent state of the server however long it takes and whatever a run commits meanwhile.
Rows stream through a server-side cursor in batches into `pyarrow.parquet.ParquetWriter`,
so memory stays bounded by one batch, whatever the table's size.

Each file's Arrow schema is built from `information_schema.columns`, never guessed from the
values: numeric(p,s) is decimal(p,s), and a numeric without a declared scale (a view's
computed column) is decimal(38, s) with s the largest scale present in it, so money stays
exact; timestamptz is a UTC timestamp in microseconds, as DuckDB's export writes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.errors import ExportError
from pipelines.private_files import PRIVATE_DIR, make_private

BATCH_ROWS = 10_000  # rows fetched and written at a time: the export's memory bound
UNSCALED_PRECISION = 38  # decimal128's largest; a numeric without a declared precision

_FIXED: dict[str, pa.DataType] = {
    "bigint": pa.int64(),
    "integer": pa.int32(),
    "smallint": pa.int16(),
    "boolean": pa.bool_(),
    "double precision": pa.float64(),
    "real": pa.float32(),
    "date": pa.date32(),
    "timestamp with time zone": pa.timestamp("us", tz="UTC"),
    "timestamp without time zone": pa.timestamp("us"),
    "text": pa.string(),
    "character varying": pa.string(),
    "character": pa.string(),
    "json": pa.string(),
    "jsonb": pa.string(),
}
_AS_TEXT = {"json", "jsonb"}  # psycopg2 would parse them into Python objects


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    precision: int | None
    scale: int | None

    @property
    def quoted(self) -> str:
        return '"' + self.name.replace('"', '""') + '"'


def quote(schema: str, name: str) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in (schema, name))


def exportable(cursor: Any, schemas: tuple[str, ...], reports: str) -> list[tuple[str, str]]:
    """(schema, name) of every raw table of `schemas` (not dlt's own) and every relation of
    `reports`, in a stable order."""
    cursor.execute(
        "select table_schema, table_name from information_schema.tables "
        "where (table_schema = any(%s) and table_name not like '\\_dlt\\_%%') "
        "or table_schema = %s order by 1, 2",
        (list(schemas), reports),
    )
    return [(schema, name) for schema, name in cursor.fetchall()]


def arrow_schema(cursor: Any, schema: str, name: str) -> tuple[list[Column], pa.Schema]:
    """The columns of `schema.name` and the Arrow schema they are written with."""
    cursor.execute(
        "select column_name, data_type, numeric_precision, numeric_scale "
        "from information_schema.columns where table_schema = %s and table_name = %s "
        "order by ordinal_position",
        (schema, name),
    )
    columns = [Column(*row) for row in cursor.fetchall()]
    unscaled = [c for c in columns if c.data_type == "numeric" and c.scale is None]
    scales: dict[str, int] = {}
    if unscaled:  # a view's computed numeric: as many decimals as its values have
        cursor.execute("select " + ", ".join(f"coalesce(max(scale({c.quoted})), 0)"
                                             for c in unscaled) + f" from {quote(schema, name)}")
        scales = {c.name: int(s) for c, s in zip(unscaled, cursor.fetchone(), strict=True)}
    fields = [pa.field(c.name, _arrow_type(c, scales.get(c.name), f"{schema}.{name}"))
              for c in columns]
    return columns, pa.schema(fields)


def _arrow_type(column: Column, found_scale: int | None, relation: str) -> pa.DataType:
    if column.data_type == "numeric":
        if column.scale is None:
            return pa.decimal128(UNSCALED_PRECISION, found_scale or 0)
        precision = column.precision or UNSCALED_PRECISION
        if precision > UNSCALED_PRECISION:
            return pa.decimal256(precision, column.scale)
        return pa.decimal128(precision, column.scale)
    kind = _FIXED.get(column.data_type)
    if kind is None:
        raise ExportError(
            f"Column {column.name} of {relation} is of PostgreSQL type {column.data_type}, "
            "which the Parquet export does not map to an exact Arrow type. Cast it in the "
            "model to a numeric, text, date, timestamp, integer or boolean column, then "
            "export again."
        )
    return kind


def write_relation(connection: Any, schema: str, name: str, target: Path) -> None:
    """Stream `schema.name` into the Parquet file `target` (owner-only), batch by batch."""
    with connection.cursor() as cursor:
        columns, arrow = arrow_schema(cursor, schema, name)
    select = ", ".join(f"{c.quoted}::text" if c.data_type in _AS_TEXT else c.quoted
                       for c in columns)
    target.parent.mkdir(mode=PRIVATE_DIR, exist_ok=True)
    # named: a server-side cursor, so only one batch is ever held here
    with connection.cursor(name="clio_sync_export") as rows, \
            pq.ParquetWriter(target, arrow) as writer:
        rows.itersize = BATCH_ROWS
        rows.execute(f"select {select} from {quote(schema, name)}")
        while batch := rows.fetchmany(BATCH_ROWS):
            writer.write_batch(pa.RecordBatch.from_arrays(
                [pa.array([row[i] for row in batch], type=field.type)
                 for i, field in enumerate(arrow)], schema=arrow))
    make_private(target)


def write_files(connection: Any, staging: Path, schemas: tuple[str, ...], reports: str,
                prepare: Callable[[], None]) -> list[str]:
    """Write every exportable relation as `<schema>/<name>.parquet` under `staging`, all in
    one READ ONLY REPEATABLE READ transaction; `prepare` runs first in it (report settings).
    """
    import psycopg2  # type: ignore[import-untyped]

    connection.set_session(isolation_level="REPEATABLE READ", readonly=True)
    written = []
    relation = "the destination"
    try:
        prepare()
        with connection.cursor() as cursor:
            relations = exportable(cursor, schemas, reports)
        for schema, name in relations:
            relation = f"{schema}.{name}"
            write_relation(connection, schema, name, staging / schema / f"{name}.parquet")
            written.append(f"{schema}/{name}.parquet")
    except psycopg2.Error as exc:
        raise ExportError(
            f"PostgreSQL refused to export {relation}: {' '.join(str(exc).split())} Check "
            "that the destination's role may read the schemas clio and reports (e.g. GRANT "
            "pg_read_all_data), and export again; nothing was replaced."
        ) from None
    except pa.ArrowException as exc:  # a value its column's type cannot hold (numeric NaN)
        raise ExportError(
            f"A value of {relation} does not fit its exact Parquet type: "
            f"{' '.join(str(exc).split())[:300]}. Correct the value (or cast the column in "
            "the model), and export again; nothing was replaced."
        ) from None
    except OSError as exc:
        raise ExportError(
            f"Could not write {relation} of the export beside {staging.parent}: "
            f"{exc.strerror or exc}. Free some space, or choose another --out."
        ) from None
    finally:
        connection.rollback()  # read only: nothing to keep, and the snapshot is let go
    return written
