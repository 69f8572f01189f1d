"""dlt table hints from the catalog: explicit column types, keys, write dispositions.

Every column is declared up front with its type's dlt hint (`column_types.STORAGE`: money
DECIMAL(18,2), TIMESTAMPTZ, DATE, ...), so dlt never infers a type and never splits a
column into variants when a value looks different.

    bills            merge on `id` (delete-insert)
    bills__matters   merge on `bill_id`: the children of every parent in the batch are
                     replaced; the `_tombstone` rows (hard_delete) empty a list and vanish
    outstanding_client_balances   replaced in full (no `updated_since` at Clio)

A full refresh loads every table with `replace`, an append-only lake with `append`
(`LoadMode`). The warehouse's destination replaces a table from dlt's staging dataset in
one transaction (`insert-from-staging`), so no table is ever seen empty; a full refresh
into DuckDB mostly replaces its tables without dlt's load (`direct_replace.py`).
"""

from __future__ import annotations

from typing import Any, Literal, cast

import dlt
import pyarrow as pa
from dlt.common.schema.typing import (
    TMergeDispositionDict,
    TTableSchemaColumns,
    TWriteDispositionConfig,
)

from pipelines.clio.column_types import STORAGE
from pipelines.clio.endpoints import Child, Endpoint
from pipelines.clio.rows import TOMBSTONE, child_columns, child_table

TColumns = dict[str, dict[str, Any]]
DLT_COLUMNS: TColumns = {  # filled in by `load.with_dlt_columns`
    "_dlt_load_id": {"data_type": "text", "nullable": False},
    "_dlt_id": {"data_type": "text", "nullable": False},
}


def root_columns(endpoint: Endpoint) -> TColumns:
    """dlt column hints of the endpoint's raw table."""
    cols: TColumns = {name: {**STORAGE[kind].dlt} for name, kind in endpoint.columns.items()}
    cols["id"].update(nullable=False, primary_key=True)
    return {**cols, **DLT_COLUMNS}


LoadMode = Literal["merge", "replace", "append"]
MERGE: TMergeDispositionDict = {"disposition": "merge", "strategy": "delete-insert"}


def write_disposition(endpoint: Endpoint, mode: LoadMode = "merge") -> TWriteDispositionConfig:
    """Merge on `id` for incremental endpoints, full replace for the others (and for every
    endpoint in a full refresh), append into a lake."""
    if mode == "append":
        return {"disposition": "append"}
    if mode == "merge" and endpoint.incremental:
        return MERGE
    return {"disposition": "replace"}


def root_hints(endpoint: Endpoint, mode: LoadMode = "merge") -> Any:
    """Hints of the endpoint's raw table: typed columns, key `id`, the mode's disposition."""
    return dlt.mark.make_hints(
        table_name=endpoint.table,
        write_disposition=write_disposition(endpoint, mode),
        primary_key="id",
        columns=cast(TTableSchemaColumns, root_columns(endpoint)),
    )


def child_hints(endpoint: Endpoint, child: Child, mode: LoadMode = "merge") -> Any:
    """Hints that send an Arrow table to the child table: merged by parent (the children of
    every parent in the batch replace the stored ones, tombstones empty a list), or with
    the whole table replaced, or appended; only a merge carries tombstones."""
    merging = mode == "merge"
    cols: TColumns = {name: {**STORAGE[kind].dlt} for name, kind in child_columns(child).items()}
    cols[child.parent_key].update(nullable=False, merge_key=merging)
    if merging:
        cols[TOMBSTONE] = {"data_type": "bool", "hard_delete": True}
    cols.update(DLT_COLUMNS)
    disposition: TWriteDispositionConfig = MERGE if merging else {"disposition": mode}
    return dlt.mark.make_hints(
        table_name=child_table(endpoint, child),
        write_disposition=disposition,
        columns=cast(TTableSchemaColumns, cols),
    )


def mark_root(endpoint: Endpoint, table: pa.Table, mode: LoadMode = "merge") -> Any:
    """`table` marked for the endpoint's raw table.

    Each table a resource yields carries its own hints (a table variant): resource-level
    column hints would leak into the child tables' variants.
    """
    return dlt.mark.with_hints(table, root_hints(endpoint, mode), create_table_variant=True)


def mark_child(endpoint: Endpoint, child: Child, table: pa.Table, mode: LoadMode = "merge") -> Any:
    """`table` marked for its child table, so one resource can yield several tables."""
    return dlt.mark.with_hints(table, child_hints(endpoint, child, mode), create_table_variant=True)
