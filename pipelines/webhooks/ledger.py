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

from pipelines.clio.column_types import STORAGE
from pipelines.clio.deletions import (
    RecordId,
    Tombstone,
    ensure_tombstones,
    record_tombstones,
    tombstoned_ids,
)
from pipelines.clio.endpoints import BY_TABLE, Endpoint
from pipelines.clio.rows import child_table
from pipelines.webhooks import planner
from pipelines.webhooks.changes import Change
from pipelines.webhooks.planner import Key, Version

DDL = """
CREATE SCHEMA IF NOT EXISTS clio;
CREATE TABLE IF NOT EXISTS clio._webhook_applies (
    seq BIGINT PRIMARY KEY,
    webhook_id BIGINT,
    model VARCHAR,
    record_id VARCHAR,
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
    # Record ids are text since calendar entries (string ids at Clio) have webhooks.
    (kind,) = con.execute(
        "SELECT data_type FROM information_schema.columns WHERE table_schema = 'clio'"
        " AND table_name = '_webhook_applies' AND column_name = 'record_id'").fetchone()
    if kind != "VARCHAR":
        con.execute("ALTER TABLE clio._webhook_applies ALTER record_id TYPE VARCHAR")


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'clio'"
        " AND table_name = ?", [table],
    ).fetchone()[0])


def stored_versions(con: duckdb.DuckDBPyConnection, table: str,
                    ids: Iterable[RecordId]) -> dict[Key, Version]:
    """`updated_at` (epoch µs) and `etag` of the stored rows among `ids`; for endpoints
    whose children may change without moving `updated_at`, their child rows too."""
    if not table_exists(con, table):
        return {}
    endpoint = BY_TABLE[table]
    id_type = STORAGE[endpoint.id_kind].duckdb
    wanted = list(ids)
    rows = con.execute(
        f'SELECT id, epoch_us(updated_at), etag FROM clio."{table}"'
        f" WHERE id IN (SELECT unnest(?::{id_type}[]))", [wanted],
    ).fetchall()
    children = _stored_children(con, endpoint, wanted) if endpoint.reread else {}
    return {(table, rid): Version(stamp, etag, children.get(rid, planner.NO_CHILDREN))
            for rid, stamp, etag in rows}


def _stored_children(con: duckdb.DuckDBPyConnection, endpoint: Endpoint,
                     ids: list[RecordId]) -> dict[RecordId, planner.Children]:
    """The stored child rows of each parent among `ids`, as `planner.children_of` gives them."""
    found: dict[RecordId, dict[str, set[tuple]]] = {}
    for child in endpoint.children:
        name = child_table(endpoint, child)
        if not table_exists(con, name):
            continue
        columns = ", ".join(f'"{c}"' for c in child.columns)
        rows = con.execute(
            f'SELECT "{child.parent_key}", {columns} FROM clio."{name}"'
            f' WHERE "{child.parent_key}" IN (SELECT unnest(?::BIGINT[]))', [ids],
        ).fetchall()
        for parent, *values in rows:
            found.setdefault(parent, {}).setdefault(name, set()).add(tuple(values))
    return {parent: tuple(sorted((name, frozenset(rows)) for name, rows in tables.items()))
            for parent, tables in found.items()}


def tombstoned(con: duckdb.DuckDBPyConnection, table: str, ids: Iterable[RecordId]) -> set[Key]:
    return {(table, rid) for rid in tombstoned_ids(con, table, ids)}


def add_tombstones(con: duckdb.DuckDBPyConnection, table: str,
                   deletes: dict[RecordId, Change]) -> None:
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
        "record_id": pa.array([str(c.record_id) for c in changes], pa.string()),
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
