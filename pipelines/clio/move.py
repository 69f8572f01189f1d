"""`clio-sync move --to NAME`: the DuckDB warehouse's raw tables, watermarks and tombstones
copied into a server destination, without reading Clio again.

The raw tables go through the sync's own load path (the same dlt source name, hints and
keys, `load.endpoint_resource`), read from the DuckDB file in Arrow batches, so the server's
tables are the ones a sync there would have made, and the next `run --destination NAME` is
incremental. The run history (`clio._sync_runs`) comes along. The watermarks and the
tombstone ledgers are copied last, in one transaction that also purges tombstoned rows: a
move that fails part way leaves no watermark on the server, so its first run there reads
everything in full (a gap is impossible; only time is lost). The warehouse file is only
read, under the writer lock, so no run changes it meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dlt
import duckdb
import pyarrow as pa
from dlt.extract.resource import DltResource

from pipelines import warehouse
from pipelines.clio import destinations, watermarks
from pipelines.clio.column_types import STORAGE
from pipelines.clio.deletions import (
    DATASET,
    LEDGER_COLUMNS,
    Tombstone,
    ensure_tombstones,
    existing_tables,
    record_tombstones,
)
from pipelines.clio.endpoints import ENDPOINTS, Endpoint
from pipelines.clio.hints import mark_child, mark_root
from pipelines.clio.load import (
    endpoint_resource,
    make_pipeline,
    run_pipeline,
    settle,
    with_dlt_columns,
)
from pipelines.clio.rows import child_columns, child_table
from pipelines.clio.summary import RUNS_COLUMNS, RUNS_TABLE
from pipelines.errors import ClioSyncError

BATCH_ROWS = 50_000  # rows per Arrow batch read from the file: bounded memory
LEDGERS = {"_tombstones": "bigint", "_text_tombstones": "text"}

log = logging.getLogger(__name__)


class MoveRefused(ClioSyncError):
    """The destination already holds a warehouse, or there is nothing to move."""


@dataclass(frozen=True)
class Moved:
    """What a move copied."""

    rows: dict[str, int]  # raw table -> rows
    watermarks: int
    tombstones: int


def move(db: Path, to: str) -> Moved:
    """Copy warehouse `db` into destination `to`. The caller holds the writer lock of `db`.

    Raises:
        MoveRefused: `to` is not a server destination, `db` has no synced tables, or `to`
            already holds raw tables (nothing there is overwritten).
    """
    if not destinations.is_server(destinations.check_destination(to)):
        raise MoveRefused(
            f"--to {to!r}: move copies the DuckDB warehouse into a server destination (e.g. "
            "postgres, configured with DESTINATION__POSTGRES__CREDENTIALS). For Parquet "
            "files use `clio-sync export parquet`.")
    pipeline = make_pipeline(db, to)
    with destinations.connect_pipeline(pipeline, db) as server:
        taken = sorted(existing_tables(server) & ({e.table for e in ENDPOINTS}
                                                   | {watermarks.TABLE}))
    if taken:
        raise MoveRefused(
            f"The {to} destination already has a warehouse in schema {DATASET} "
            f"({', '.join(taken[:5])}...), and a move overwrites nothing. Move into an empty "
            f"database, or drop schema {DATASET} there first if it is a stale copy.")
    con = warehouse.connect(db, read_only=True)
    try:
        local = existing_tables(con)
        endpoints = [e for e in ENDPOINTS if e.table in local]
        if not endpoints:
            raise MoveRefused(
                f"{db} holds no synced tables; there is nothing to move. Sync straight into "
                f"the server instead: clio-sync run --destination {to}")
        counts = {e.table: _count(con, e.table) for e in endpoints}
        for endpoint in endpoints:
            counts.update({name: _count(con, name) for name in _children(endpoint, local)})
        run_pipeline(pipeline, _warehouse_source(con, endpoints, local))
        marks = _rows(con, watermarks.TABLE, sorted(watermarks.COLUMNS), local)
        stones = {name: _rows(con, name, sorted(LEDGER_COLUMNS), local) for name in LEDGERS}
    finally:
        con.close()
    settle(pipeline, db, then=lambda server: _copy_bookkeeping(server, marks, stones),
           endpoints=endpoints)
    moved = Moved(counts, len(marks), sum(len(rows) for rows in stones.values()))
    log.info("moved %d rows of %d tables, %d watermarks and %d tombstones into %s",
             sum(counts.values()), len(counts), moved.watermarks, moved.tombstones, to)
    return moved


@dlt.source(name=DATASET, max_table_nesting=0)
def _warehouse_source(con: duckdb.DuckDBPyConnection, endpoints: Sequence[Endpoint],
                      local: set[str]) -> Iterator[DltResource]:
    """The sync's source shape, its rows read from the warehouse instead of Clio."""
    for endpoint in endpoints:
        yield endpoint_resource(endpoint, _endpoint_items(con, endpoint, local))
    if RUNS_TABLE in local:
        hints: Any = RUNS_COLUMNS  # dlt's TColumnSchema, as `run_record.record_run` loads them
        yield dlt.resource(_batches(con, RUNS_TABLE, {name: None for name in RUNS_COLUMNS}),
                           name=RUNS_TABLE, write_disposition="append", columns=hints)


def _endpoint_items(con: duckdb.DuckDBPyConnection, endpoint: Endpoint,
                    local: set[str]) -> Iterator[Any]:
    load_id = dlt.current.load_package_state()["load_id"]
    types = {name: STORAGE[kind].arrow for name, kind in endpoint.columns.items()}
    for batch in _batches(con, endpoint.table, types):
        yield mark_root(endpoint, with_dlt_columns(batch, load_id, ("id",)))
    for child in endpoint.children:
        name = child_table(endpoint, child)
        if name not in local:
            continue
        types = {col: STORAGE[kind].arrow for col, kind in child_columns(child).items()}
        for batch in _batches(con, name, types):
            keyed = with_dlt_columns(batch, load_id, (child.parent_key, "id"))
            yield mark_child(endpoint, child, keyed)


def _batches(con: duckdb.DuckDBPyConnection, table: str,
             types: dict[str, pa.DataType | None]) -> Iterator[pa.Table]:
    """`table`'s columns in `types` (those stored), typed so, in bounded batches."""
    stored = {name for (name,) in con.execute(
        "select column_name from information_schema.columns where table_schema = ? "
        "and table_name = ?", [DATASET, table]).fetchall()}
    names = [name for name in types if name in stored]
    quoted = ", ".join(f'"{name}"' for name in names)
    cursor = con.cursor()  # dlt takes turns between resources: one open result each
    try:
        reader = cursor.execute(f'select {quoted} from {DATASET}."{table}"') \
            .to_arrow_reader(BATCH_ROWS)
        assert reader is not None  # a select always has a result (the stubs allow None)
        for batch in reader:
            if batch.num_rows:
                frame = pa.Table.from_batches([batch])
                yield frame.cast(pa.schema([
                    pa.field(name, wanted or frame.schema.field(name).type)
                    for name, wanted in ((n, types[n]) for n in names)]))
    finally:
        cursor.close()


def _children(endpoint: Endpoint, local: set[str]) -> list[str]:
    return [name for name in (child_table(endpoint, c) for c in endpoint.children)
            if name in local]


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    (count,) = con.execute(f'select count(*) from {DATASET}."{table}"').fetchone() or (0,)
    return int(count)


def _rows(con: duckdb.DuckDBPyConnection, table: str, columns: list[str],
          local: set[str]) -> list[dict[str, Any]]:
    if table not in local:
        return []
    quoted = ", ".join(f'"{c}"' for c in columns)
    return [dict(zip(columns, row, strict=True))
            for row in con.execute(f'select {quoted} from {DATASET}."{table}"').fetchall()]


def _copy_bookkeeping(server: destinations.SqlConnection, marks: list[dict[str, Any]],
                      stones: dict[str, list[dict[str, Any]]]) -> None:
    """The watermarks and ledgers, as they were (in `settle`'s transaction)."""
    if any(stones.values()):
        ensure_tombstones(server)
    for ledger, kind in LEDGERS.items():
        by_table: dict[str, list[Tombstone]] = {}
        for row in stones[ledger]:
            by_table.setdefault(row["table_name"], []).append(
                Tombstone(row["id"], row["deleted_at"], row["source"] or "moved", row["etag"]))
        for table, found in by_table.items():
            record_tombstones(server, table, found, id_kind=kind)  # type: ignore[arg-type]
    if not marks:
        return
    watermarks.ensure_table(server)
    for mark in marks:
        server.execute(
            f"insert into {DATASET}.{watermarks.TABLE} ({', '.join(sorted(mark))}) "
            f"values ({', '.join('?' for _ in mark)})", [mark[k] for k in sorted(mark)])
