"""Hard deletes in the warehouse, and the ledger that makes them final.

Clio has no tombstone feed, so the ids of records deleted outright come from webhooks
(the applier) or from an ids-only scan (`reconcile`). Both paths record each deletion in
one ledger, `clio._tombstones`, in the same transaction that deletes the rows:

    clio._tombstones        (table_name, id, etag, deleted_at, source)   one row per deleted record
    clio._text_tombstones   the same, for endpoints whose ids are strings (calendar entries)

Clio never reuses an id and a record deleted outright never comes back, so a tombstone
is final: after every load (`purge_tombstoned`), rows whose id is in the ledger are
deleted again. That is what stops an older copy of a deleted record (a late webhook, a
replay, a load package left by a killed run, a page read just before the delete) from
bringing it back. The caller holds the writer lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines import warehouse
from pipelines.clio.column_types import STORAGE
from pipelines.clio.endpoints import BY_TABLE, ENDPOINTS, Endpoint
from pipelines.clio.rows import child_table

DATASET = "clio"  # the dataset (DuckDB schema) of the raw tables
TOMBSTONES = f"{DATASET}._tombstones"
# Ids that are strings (calendar entries) have a ledger of their own, so the first one
# keeps its BIGINT ids, and the queries and the ad-hoc SQL written against it still work.
TEXT_TOMBSTONES = f"{DATASET}._text_tombstones"
LEDGERS: dict[str, str] = {"bigint": TOMBSTONES, "text": TEXT_TOMBSTONES}

RecordId = int | str


def _ledger_ddl(ledger: str, id_type: str) -> str:
    return f"""
CREATE SCHEMA IF NOT EXISTS {DATASET};
CREATE TABLE IF NOT EXISTS {ledger} (
    table_name VARCHAR NOT NULL,
    id {id_type} NOT NULL,
    etag VARCHAR,
    deleted_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (table_name, id)
);
ALTER TABLE {ledger} ADD COLUMN IF NOT EXISTS source VARCHAR;
"""


TOMBSTONES_DDL = _ledger_ddl(TOMBSTONES, "BIGINT") + _ledger_ddl(TEXT_TOMBSTONES, "VARCHAR")


@dataclass(frozen=True)
class Tombstone:
    """One record deleted at Clio: its id, the etag it had (if known), when and who saw it."""

    id: RecordId
    deleted_at: datetime
    source: str  # "webhook" | "reconcile"
    etag: str | None = None


def ensure_tombstones(con: duckdb.DuckDBPyConnection) -> None:
    """Create the ledgers (and add columns newer versions need) if missing."""
    con.execute(TOMBSTONES_DDL)


def ledger_of(endpoint: Endpoint) -> str:
    """The ledger holding `endpoint`'s tombstones (by the type of its ids)."""
    return LEDGERS[endpoint.id_kind]


def _id_sql(endpoint: Endpoint) -> str:
    return STORAGE[endpoint.id_kind].duckdb


def existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Tables of schema `clio` in the open warehouse."""
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = ?", [DATASET]
    ).fetchall()
    return {name for (name,) in rows}


def record_tombstones(con: duckdb.DuckDBPyConnection, table: str,
                      tombstones: Iterable[Tombstone]) -> None:
    """Add to the ledger; a record already in it keeps its first tombstone (idempotent)."""
    stones = list(tombstones)
    if not stones:
        return
    endpoint = BY_TABLE[table]
    frame = pa.table({
        "table_name": pa.array([table] * len(stones), pa.string()),
        "id": pa.array([t.id for t in stones], STORAGE[endpoint.id_kind].arrow),
        "etag": pa.array([t.etag for t in stones], pa.string()),
        "deleted_at": pa.array([t.deleted_at for t in stones], pa.timestamp("us", tz="UTC")),
        "source": pa.array([t.source for t in stones], pa.string()),
    })
    con.register("_new_tombstones", frame)
    try:
        con.execute(
            f"insert or ignore into {ledger_of(endpoint)} (table_name, id, etag, deleted_at, source) "
            "select table_name, id, etag, deleted_at, source from _new_tombstones"
        )
    finally:
        con.unregister("_new_tombstones")


def tombstoned_ids(con: duckdb.DuckDBPyConnection, table: str,
                   ids: Iterable[RecordId]) -> set[RecordId]:
    """The ids among `ids` that the ledger holds for `table`."""
    endpoint = BY_TABLE[table]
    rows = con.execute(
        f"select id from {ledger_of(endpoint)} where table_name = ? "
        f"and id in (select unnest(?::{_id_sql(endpoint)}[]))", [table, list(ids)],
    ).fetchall()
    return {rid for (rid,) in rows}


def delete_rows(db: Path, endpoint: Endpoint, ids: Sequence[RecordId], source: str,
                etags: Mapping[RecordId, str | None] | None = None) -> int:
    """Tombstone `ids` of `endpoint` and delete their rows and child rows, in one transaction.

    Returns:
        The number of root rows deleted.
    """
    if not ids:
        return 0
    now = datetime.now(UTC)
    stones = [Tombstone(i, now, source, (etags or {}).get(i)) for i in ids]
    con = warehouse.connect(db)
    try:
        con.execute("begin")
        ensure_tombstones(con)
        record_tombstones(con, endpoint.table, stones)
        count = _delete_tombstoned(con, endpoint, existing_tables(con), only=ids)
        con.execute("commit")
        return count
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.close()


def purge_tombstoned(con: duckdb.DuckDBPyConnection,
                     endpoints: Sequence[Endpoint] = ENDPOINTS) -> dict[str, int]:
    """Delete every row whose id the ledger holds; run after each load, in its transaction.

    Returns:
        Root rows deleted per table (only tables where something was deleted).
    """
    tables = existing_tables(con)
    purged = {}
    for endpoint in endpoints:
        if ledger_of(endpoint).removeprefix(f"{DATASET}.") not in tables:
            continue
        count = _delete_tombstoned(con, endpoint, tables)
        if count:
            purged[endpoint.table] = count
    return purged


def _delete_tombstoned(con: duckdb.DuckDBPyConnection, endpoint: Endpoint, tables: set[str],
                       only: Sequence[RecordId] | None = None) -> int:
    """Delete the tombstoned rows (among `only`, if given) of `endpoint` and its children."""
    if endpoint.table not in tables:
        return 0
    gone = f"(select id from {ledger_of(endpoint)} where table_name = $table"
    gone += f" and id in (select unnest($ids::{_id_sql(endpoint)}[])))" if only is not None else ")"
    params: dict[str, object] = {"table": endpoint.table}
    if only is not None:
        params["ids"] = list(only)
    for child in endpoint.children:
        name = child_table(endpoint, child)
        if name in tables:
            con.execute(f'delete from {DATASET}."{name}" where "{child.parent_key}" in {gone}',
                        params)
    (count,) = con.execute(
        f'delete from {DATASET}."{endpoint.table}" where id in {gone}', params
    ).fetchone() or (0,)
    return int(count)
