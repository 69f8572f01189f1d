"""The applier's tables in the warehouse, and the stored versions it compares against.

    clio._tombstones       (table_name, id, etag, deleted_at)   one row per deleted record
    clio._webhook_applies  (seq, webhook_id, model, record_id, event, outcome,
                            received_at, applied_at, lag_seconds)   one row per applied event

`lag_seconds` is the time from the delivery reaching the receiver to its batch being
committed in DuckDB (visible to readers).
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import pyarrow as pa

from pipelines.webhooks.changes import Change
from pipelines.webhooks.planner import Key, Version

DDL = """
CREATE SCHEMA IF NOT EXISTS clio;
CREATE TABLE IF NOT EXISTS clio._tombstones (
    table_name VARCHAR NOT NULL,
    id BIGINT NOT NULL,
    etag VARCHAR,
    deleted_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (table_name, id)
);
CREATE TABLE IF NOT EXISTS clio._webhook_applies (
    seq BIGINT PRIMARY KEY,
    webhook_id BIGINT,
    model VARCHAR,
    record_id BIGINT,
    event VARCHAR,
    outcome VARCHAR,
    received_at TIMESTAMPTZ,
    applied_at TIMESTAMPTZ,
    lag_seconds DOUBLE
);
"""


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'clio'"
        " AND table_name = ?", [table],
    ).fetchone()[0])


def stored_versions(con: duckdb.DuckDBPyConnection, table: str,
                    ids: Iterable[int]) -> dict[Key, Version]:
    """`updated_at` (epoch µs) and `etag` of the stored rows among `ids`."""
    if not table_exists(con, table):
        return {}
    rows = con.execute(
        f'SELECT id, epoch_us(updated_at), etag FROM clio."{table}"'
        " WHERE id IN (SELECT unnest(?::BIGINT[]))", [list(ids)],
    ).fetchall()
    return {(table, rid): Version(stamp, etag) for rid, stamp, etag in rows}


def tombstoned(con: duckdb.DuckDBPyConnection, table: str, ids: Iterable[int]) -> set[Key]:
    rows = con.execute(
        "SELECT id FROM clio._tombstones WHERE table_name = ?"
        " AND id IN (SELECT unnest(?::BIGINT[]))", [table, list(ids)],
    ).fetchall()
    return {(table, rid) for (rid,) in rows}


def add_tombstones(con: duckdb.DuckDBPyConnection, table: str,
                   deletes: dict[int, Change]) -> None:
    """Record deletions (idempotent: a replayed delete keeps the first tombstone)."""
    frame = pa.table({
        "table_name": [table] * len(deletes),
        "id": pa.array(list(deletes), pa.int64()),
        "etag": [c.etag for c in deletes.values()],
        "deleted_at": pa.array([c.received_at for c in deletes.values()], pa.float64()),
    })
    con.register("new_tombstones", frame)
    con.execute(
        "INSERT OR IGNORE INTO clio._tombstones SELECT table_name, id, etag,"
        " to_timestamp(deleted_at) FROM new_tombstones"
    )
    con.unregister("new_tombstones")


def record_applies(con: duckdb.DuckDBPyConnection, changes: list[Change],
                   outcomes: dict[int, str], applied_at: float) -> None:
    """One row per event with its outcome and lag (a re-applied event replaces its row)."""
    frame = pa.table({
        "seq": pa.array([c.seq for c in changes], pa.int64()),
        "webhook_id": pa.array([c.webhook_id for c in changes], pa.int64()),
        "model": [c.model for c in changes],
        "record_id": pa.array([c.record_id for c in changes], pa.int64()),
        "event": [c.event for c in changes],
        "outcome": [outcomes[c.seq] for c in changes],
        "received_at": pa.array([c.received_at for c in changes], pa.float64()),
    })
    con.register("new_applies", frame)
    con.execute(
        "INSERT OR REPLACE INTO clio._webhook_applies SELECT seq, webhook_id, model, record_id,"
        " event, outcome, to_timestamp(received_at), to_timestamp($1), $1 - received_at"
        " FROM new_applies", [applied_at],
    )
    con.unregister("new_applies")
