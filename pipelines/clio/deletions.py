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

from pipelines.clio.column_types import STORAGE
from pipelines.clio.destinations import DUCKDB, SqlConnection, connect
from pipelines.clio.endpoints import ENDPOINTS, ColumnType, Endpoint
from pipelines.clio.rows import child_table

DATASET = "clio"  # the dataset (DuckDB schema) of the raw tables
TOMBSTONES = f"{DATASET}._tombstones"
RecordId = int | str
# Ids that are strings (calendar entries) have a ledger of their own, so the first one
# keeps its BIGINT ids, and the queries and the ad-hoc SQL written against it still work.
_LEDGER_NAMES: dict[ColumnType, str] = {"bigint": "_tombstones", "text": "_text_tombstones"}


def tombstones_table(dataset: str = DATASET, id_kind: ColumnType = "bigint") -> str:
    """The ledger of a dataset for ids of a kind: `clio._tombstones`, `grow._tombstones`,
    `clio._text_tombstones`."""
    return f"{dataset}.{_LEDGER_NAMES[id_kind]}"


def tombstones_ddl(dataset: str = DATASET) -> str:
    return "".join(_ledger_ddl(dataset, kind) for kind in _LEDGER_NAMES)


def _ledger_ddl(dataset: str, id_kind: ColumnType) -> str:
    ledger = tombstones_table(dataset, id_kind)
    return f"""
CREATE SCHEMA IF NOT EXISTS {dataset};
CREATE TABLE IF NOT EXISTS {ledger} (
    table_name VARCHAR NOT NULL,
    id {STORAGE[id_kind].duckdb} NOT NULL,
    etag VARCHAR,
    deleted_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (table_name, id)
);
ALTER TABLE {ledger} ADD COLUMN IF NOT EXISTS source VARCHAR;
"""


TOMBSTONES_DDL = tombstones_ddl()


@dataclass(frozen=True)
class Tombstone:
    """One record deleted at Clio: its id, the etag it had (if known), when and who saw it."""

    id: RecordId
    deleted_at: datetime
    source: str  # "webhook" | "reconcile"
    etag: str | None = None


LEDGER_COLUMNS = {"table_name", "id", "etag", "deleted_at", "source"}


def ensure_tombstones(con: SqlConnection, dataset: str = DATASET) -> None:
    """Create the ledgers (and add columns newer versions need) if missing. Only then: DDL
    takes an exclusive lock, which a reader's open transaction on a server would hold up."""
    present = table_columns(con, dataset)
    if any(not present.get(name, set()) >= LEDGER_COLUMNS for name in _LEDGER_NAMES.values()):
        con.execute(tombstones_ddl(dataset))


def table_columns(con: SqlConnection, dataset: str = DATASET) -> dict[str, set[str]]:
    """{table: its column names} of schema `dataset`."""
    found: dict[str, set[str]] = {}
    for table, column in con.execute(
        "select table_name, column_name from information_schema.columns where table_schema = ?",
        [dataset],
    ).fetchall():
        found.setdefault(table, set()).add(column)
    return found


def existing_tables(con: SqlConnection, dataset: str = DATASET) -> set[str]:
    """Tables of schema `dataset` (`clio` by default) in the open warehouse."""
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = ?", [dataset]
    ).fetchall()
    return {name for (name,) in rows}


def record_tombstones(con: SqlConnection, table: str,
                      tombstones: Iterable[Tombstone], dataset: str = DATASET,
                      id_kind: ColumnType = "bigint") -> None:
    """Add to the ledger of `id_kind` ids; a record already in it keeps its first
    tombstone (idempotent)."""
    stones = list(tombstones)
    if not stones:
        return
    ledger = tombstones_table(dataset, id_kind)
    if not isinstance(con, duckdb.DuckDBPyConnection):
        _insert_tombstones(con, ledger, table, stones)
        return
    frame = pa.table({
        "table_name": pa.array([table] * len(stones), pa.string()),
        "id": pa.array([t.id for t in stones], STORAGE[id_kind].arrow),
        "etag": pa.array([t.etag for t in stones], pa.string()),
        "deleted_at": pa.array([t.deleted_at for t in stones], pa.timestamp("us", tz="UTC")),
        "source": pa.array([t.source for t in stones], pa.string()),
    })
    con.register("_new_tombstones", frame)
    try:
        con.execute(
            f"insert or ignore into {ledger} "
            "(table_name, id, etag, deleted_at, source) "
            "select table_name, id, etag, deleted_at, source from _new_tombstones"
        )
    finally:
        con.unregister("_new_tombstones")


def _insert_tombstones(con: SqlConnection, ledger: str, table: str,
                       stones: Sequence[Tombstone], chunk: int = 500) -> None:
    """A server's ledger: plain multi-row inserts (DuckDB's are scanned from Arrow)."""
    for start in range(0, len(stones), chunk):
        part = stones[start:start + chunk]
        rows = ", ".join("(?, ?, ?, ?, ?)" for _ in part)
        con.execute(
            f"insert into {ledger} (table_name, id, etag, deleted_at, source) values {rows} "
            "on conflict (table_name, id) do nothing",
            [v for t in part for v in (table, t.id, t.etag, t.deleted_at, t.source)],
        )


def tombstoned_ids(con: SqlConnection, table: str, ids: Iterable[RecordId],
                   dataset: str = DATASET, id_kind: ColumnType = "bigint") -> set[RecordId]:
    """The ids among `ids` that the ledger of `id_kind` ids holds for `table`."""
    rows = con.execute(
        f"select id from {tombstones_table(dataset, id_kind)} where table_name = ? "
        f"and id in (select unnest(?::{STORAGE[id_kind].duckdb}[]))", [table, list(ids)],
    ).fetchall()
    return {rid for (rid,) in rows}


def delete_rows(db: Path, endpoint: Endpoint, ids: Sequence[RecordId], source: str,
                etags: Mapping[RecordId, str | None] | None = None,
                dataset: str = DATASET, destination: str = DUCKDB) -> int:
    """Tombstone `ids` of `endpoint` and delete their rows and child rows, in one transaction
    (in the warehouse `db`, or in the server `destination`).

    Returns:
        The number of root rows deleted.
    """
    if not ids:
        return 0
    now = datetime.now(UTC)
    stones = [Tombstone(i, now, source, (etags or {}).get(i)) for i in ids]
    with connect(db, destination) as con:
        con.execute("begin")
        try:
            ensure_tombstones(con, dataset)
            record_tombstones(con, endpoint.table, stones, dataset, endpoint.id_kind)
            count = _delete_tombstoned(con, endpoint, existing_tables(con, dataset), only=ids,
                                       dataset=dataset)
            con.execute("commit")
            return count
        except BaseException:
            con.execute("rollback")
            raise


def purge_tombstoned(con: SqlConnection, endpoints: Sequence[Endpoint] = ENDPOINTS,
                     dataset: str = DATASET) -> dict[str, int]:
    """Delete every row whose id the ledger holds; run after each load, in its transaction.

    Returns:
        Root rows deleted per table (only tables where something was deleted).
    """
    tables = existing_tables(con, dataset)
    purged = {}
    for endpoint in endpoints:
        if _LEDGER_NAMES[endpoint.id_kind] not in tables:
            continue
        count = _delete_tombstoned(con, endpoint, tables, dataset=dataset)
        if count:
            purged[endpoint.table] = count
    return purged


def _delete_tombstoned(con: SqlConnection, endpoint: Endpoint, tables: set[str],
                       only: Sequence[RecordId] | None = None, dataset: str = DATASET) -> int:
    """Delete the tombstoned rows (among `only`, if given) of `endpoint` and its children."""
    if endpoint.table not in tables:
        return 0
    id_type = STORAGE[endpoint.id_kind].duckdb
    gone = f"(select id from {tombstones_table(dataset, endpoint.id_kind)} where table_name = $table"
    gone += f" and id in (select unnest($ids::{id_type}[])))" if only is not None else ")"
    params: dict[str, object] = {"table": endpoint.table}
    if only is not None:
        params["ids"] = list(only)
    for child in endpoint.children:
        name = child_table(endpoint, child)
        if name in tables:
            con.execute(f'delete from {dataset}."{name}" where "{child.parent_key}" in {gone}',
                        params)
    (count,) = con.execute(
        f'delete from {dataset}."{endpoint.table}" where id in {gone}', params
    ).fetchone() or (0,)
    return int(count)
