"""The applier's tables in the warehouse, and the stored versions it compares against.

    clio._webhook_applies  (seq, webhook_id, model, record_id, event, outcome,
                            received_at, applied_at, lag_seconds)   one row per applied event

Deletions go to the warehouse's tombstone ledger (`pipelines.clio.deletions`), shared with
`reconcile`, so a record deleted at Clio stays deleted whichever path saw it go.

`lag_seconds` is the time from the delivery reaching the receiver to its batch being
committed in DuckDB (visible to readers).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from pipelines.clio.deletions import (
    Tombstone,
    ensure_tombstones,
    record_tombstones,
    tombstoned_ids,
)
from pipelines.webhooks.changes import Change
from pipelines.webhooks.planner import Key, Version

DDL = """
CREATE SCHEMA IF NOT EXISTS clio;
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
    ensure_tombstones(con)
    con.execute(DDL)


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    (count,) = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'clio'"
        " AND table_name = ?", [table],
    ).fetchone() or (0,)
    return bool(count)


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
    return {(table, rid) for rid in tombstoned_ids(con, table, ids)}


def add_tombstones(con: duckdb.DuckDBPyConnection, table: str,
                   deletes: dict[int, Change]) -> None:
    """Record deletions (idempotent: a replayed delete keeps the first tombstone)."""
    record_tombstones(con, table, (
        Tombstone(rid, datetime.fromtimestamp(c.received_at, UTC), "webhook", c.etag)
        for rid, c in deletes.items()
    ))


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
