"""Write an applier batch straight into DuckDB, in one transaction, as dlt's merge would.

A dlt load costs about 0.6 s whatever the batch size (extract, normalize, a merge through
staging tables), which held the applier under 500 events/s. Here the rows are typed by
the sync's own code (`rows.arrow_batch` and `load.with_dlt_columns`: the Arrow tables a
sync's `typed_items` yields) and merged the way dlt's `delete-insert` merges them
(`hints.py`):

    root table    the stored rows of the batch's ids are deleted, the batch's inserted
    child table   the stored rows of the batch's parents are deleted, the batch's rows
                  inserted but the `_tombstone` ones (they only empty a parent's list)

With them, in the same transaction: the tombstones of the batch's deletions, the rows of
every tombstoned record deleted again (`deletions.purge_tombstoned`, as after any load),
the batch registered as a dlt load in `_dlt_loads` (its rows' `_dlt_load_id`), and the
caller's bookkeeping (the apply ledger). A kill at any point leaves all of it or none.

Only tables and columns the warehouse already has are written here. A batch that needs a
table or column it lacks (a warehouse never synced, or synced by an older version) goes
through a dlt load instead (`loader.py`), which evolves the schema the sync's way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from pipelines.clio import write_paths
from pipelines.clio.deletions import DATASET, RecordId, purge_tombstoned
from pipelines.clio.dlt_loads import LOADS, new_load_id, register_load
from pipelines.clio.endpoints import BY_TABLE
from pipelines.clio.load import with_dlt_columns
from pipelines.clio.rows import TOMBSTONE, arrow_batch, child_table
from pipelines.clio.write_paths import WritePath
from pipelines.webhooks import ledger
from pipelines.webhooks.changes import Change

WRITE_PATH_KEY = "webhooks.write_path"  # WEBHOOKS__WRITE_PATH
_ROWS = "_webhook_rows"  # the name a batch's Arrow table is registered under


def write_path() -> WritePath:
    """How the applier writes (`WEBHOOKS__WRITE_PATH`): `direct` (default) or `dlt`,
    a dlt load per batch (the slower path, kept for comparison and as a way out)."""
    return write_paths.write_path(
        WRITE_PATH_KEY, "each batch of webhook events merged into the warehouse in one "
        "transaction", "a dlt load per batch, slower")


@dataclass(frozen=True)
class Part:
    """One warehouse table's share of a batch: typed rows, and the key they replace by."""

    table: str
    key: str  # `id` for a record's table, its parent's id column for a child table
    rows: pa.Table


@dataclass(frozen=True)
class Batch:
    """A batch's rows as the sync would load them, ready to merge."""

    load_id: str
    parts: tuple[Part, ...]
    tables: tuple[str, ...]  # the endpoints' tables the batch writes or deletes from


def prepare(con: duckdb.DuckDBPyConnection,
            upserts: Mapping[str, Mapping[RecordId, dict[str, Any]]],
            deletes: Mapping[str, Mapping[RecordId, Change]]) -> Batch | None:
    """Type `upserts` ({table: {id: record}}) as a sync would; None when the warehouse
    lacks a table or column they need (the caller then loads them through dlt)."""
    load_id = new_load_id()
    parts = []
    for table, records in sorted(upserts.items()):
        if not records:
            continue
        endpoint = BY_TABLE[table]
        root, children = arrow_batch(endpoint, list(records.values()), tombstones=True)
        parts.append(Part(table, "id", with_dlt_columns(root, load_id, ("id",))))
        for child in endpoint.children:
            name = child_table(endpoint, child)
            keyed = with_dlt_columns(children[name], load_id, (child.parent_key, "id"))
            parts.append(Part(name, child.parent_key, keyed))
    batch = Batch(load_id, tuple(parts), tuple(sorted({*upserts, *deletes})))
    return batch if _fits(con, batch) else None


def _fits(con: duckdb.DuckDBPyConnection, batch: Batch) -> bool:
    """Whether every table and column the batch writes exists in the warehouse."""
    wanted = [part.table for part in batch.parts]
    found: dict[str, set[str]] = defaultdict(set)
    for table, column in con.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = ? AND table_name IN (SELECT unnest(?::VARCHAR[]))",
        [DATASET, [*wanted, LOADS]],
    ).fetchall():
        found[table].add(column)
    return bool(found[LOADS]) and all(
        set(part.rows.column_names) <= found[part.table] for part in batch.parts)


def write(con: duckdb.DuckDBPyConnection, batch: Batch,
          deletes: Mapping[str, Mapping[RecordId, Change]]) -> None:
    """Tombstones, then the merge, then the purge of tombstoned rows, then the load's
    entry; call inside `transaction` (the caller adds its bookkeeping before the commit)."""
    for table, gone in sorted(deletes.items()):
        if gone:
            ledger.add_tombstones(con, table, dict(gone))
    for part in batch.parts:
        _merge(con, part)
    purge_tombstoned(con, [BY_TABLE[table] for table in batch.tables])
    if batch.parts:
        register_load(con, DATASET, DATASET, batch.load_id)


def _merge(con: duckdb.DuckDBPyConnection, part: Part) -> None:
    """dlt's delete-insert merge of one table, without its staging copy."""
    target, key = f'{DATASET}."{part.table}"', f'"{part.key}"'
    keep = f' WHERE "{TOMBSTONE}" IS NOT TRUE' if TOMBSTONE in part.rows.column_names else ""
    con.register(_ROWS, part.rows)
    try:
        con.execute(f"DELETE FROM {target} WHERE {key} IN (SELECT {key} FROM {_ROWS})")
        con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM {_ROWS}{keep}")
    finally:
        con.unregister(_ROWS)


