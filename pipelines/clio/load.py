"""Loading typed Clio rows through dlt into the warehouse (schema `clio`).

A sync and the webhook applier load through the same path: `typed_items` turns API
records into Arrow tables typed by the catalog (`rows.arrow_batch`), marked with the
catalog's hints (`hints.py`), and one dlt pipeline per warehouse merges them. Its working
folder sits beside the DuckDB file (`warehouse.pipelines_dir`), so the incremental state
belongs to that warehouse; dlt commits the state together with the data it loads.

Callers that write hold `warehouse.writer_lock`; nothing here takes it.
"""

from __future__ import annotations

import gc
import logging
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import dlt
import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from dlt.common.pipeline import LoadInfo
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials
from dlt.extract.resource import DltResource

from pipelines import warehouse
from pipelines.clio.deletions import DATASET, delete_rows
from pipelines.clio.endpoints import BY_TABLE, Endpoint
from pipelines.clio.hints import mark_child, mark_root, write_disposition
from pipelines.clio.rows import arrow_batch, child_table
from pipelines.clio.widen import widen_columns
from pipelines.errors import ClioSyncError, WarehouseBusy

DLT_LOAD_ID, DLT_ID = "_dlt_load_id", "_dlt_id"
PIPELINE_NAME = "clio_sync"
DEFAULT_LAKE = Path("data/lake")
# DuckDB caches freely up to 80% of RAM by default; a sync's merge needs far less, and a
# scheduled job should stay small (it spills to disk past this).
DUCKDB_MEMORY_LIMIT = os.environ.get("CLIO_SYNC_DUCKDB_MEMORY_LIMIT", "192MB")
Destination = Literal["duckdb", "filesystem"]

log = logging.getLogger(__name__)

# One resource after the other (dlt's default interleaves them): one walk holds memory at
# a time, and the progress display and logs read in order.
os.environ.setdefault("EXTRACT__NEXT_ITEM_MODE", "fifo")


def make_pipeline(db: Path, destination: Destination = "duckdb") -> dlt.Pipeline:
    """The dlt pipeline of warehouse `db`.

    `filesystem` writes Parquet to `DESTINATION__FILESYSTEM__BUCKET_URL` (any fsspec URL),
    else to `data/lake/` beside the database; it keeps its own state (another pipeline
    name), so switching destinations never skips data.
    """
    if destination == "filesystem":
        bucket = os.environ.get("DESTINATION__FILESYSTEM__BUCKET_URL") or str(
            (db.parent / DEFAULT_LAKE.name).resolve()
        )
        dest: Any = dlt.destinations.filesystem(bucket_url=bucket)
        name = f"{PIPELINE_NAME}_lake"
    else:
        widen_columns(db)  # a warehouse of an older version: wider decimals before any load
        credentials = DuckDbCredentials(str(db))
        credentials.global_config = {"memory_limit": DUCKDB_MEMORY_LIMIT}
        dest = dlt.destinations.duckdb(credentials)
        name = PIPELINE_NAME
    return dlt.pipeline(
        pipeline_name=name,
        pipelines_dir=str(warehouse.pipelines_dir(db)),
        destination=dest,
        dataset_name=DATASET,
        progress=None,
    )


def typed_items(
    endpoint: Endpoint, records: Sequence[Mapping[str, Any]], append: bool = False
) -> Iterator[Any]:
    """The Arrow tables of one batch of API records: the root, then each marked child.

    `append` marks them for a destination without merge (the Parquet lake).
    """
    if not records:
        return
    load_id = dlt.current.load_package_state()["load_id"]
    root, children = arrow_batch(endpoint, records, tombstones=not append)
    yield mark_root(endpoint, with_dlt_columns(root, load_id, ("id",)), append)
    for child in endpoint.children:
        table = children[child_table(endpoint, child)]
        keyed = with_dlt_columns(table, load_id, (child.parent_key, "id"))
        yield mark_child(endpoint, child, keyed, append)


def with_dlt_columns(table: pa.Table, load_id: str, key: tuple[str, ...]) -> pa.Table:
    """`table` with dlt's bookkeeping columns, computed here rather than by dlt.

    `_dlt_load_id` is the load package's id; `_dlt_id` a row key derived from the row's
    natural key (`"12"`, or `"12.3"` for matter 3 of bill 12). dlt would add both by
    rewriting every file after extraction, which costs a second pass and its memory.
    """
    parts = [pc.fill_null(pc.cast(table.column(name), pa.string()), "") for name in key]
    row_id = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, ".")
    load_ids = pa.array([load_id] * table.num_rows, pa.string())
    return table.append_column(pa.field(DLT_LOAD_ID, pa.string(), nullable=False), load_ids) \
        .append_column(pa.field(DLT_ID, pa.string(), nullable=False), row_id)


def endpoint_resource(endpoint: Endpoint, data: Iterable[Any], name: str | None = None) -> DltResource:
    """A dlt resource of `endpoint`; `data` yields items marked by `typed_items`."""
    return dlt.resource(
        data,
        name=name or endpoint.table,
        table_name=endpoint.table,
        write_disposition=write_disposition(endpoint),  # type: ignore[arg-type]
    )


@dlt.source(name=DATASET, max_table_nesting=0)
def records_source(endpoint: Endpoint, records: Sequence[Mapping[str, Any]]) -> DltResource:
    """The sync's own source shape for a handful of records: same schema `clio`, same
    resource name (so `--full-refresh` also empties what webhooks loaded), no state."""
    return endpoint_resource(endpoint, typed_items(endpoint, records))


def run_pipeline(pipeline: dlt.Pipeline, data: Any, **extract_options: Any) -> LoadInfo:
    """Extract `data`, normalise and load it, with expected failures as `ClioSyncError`s.

    This is `pipeline.run(data)` in its steps: first whatever an interrupted run left
    (killed while loading) is loaded, since dlt's `run` would load only that and skip
    `data`; between the steps memory is handed back, so a large sync stays small.

    A `ClioSyncError` raised inside a resource (a bad page, an auth failure) comes out as
    itself; a DuckDB file held by another process becomes `WarehouseBusy`.
    """
    try:
        if pipeline.has_pending_data:
            log.warning("Finishing the load of a run that was interrupted")
        pipeline.run(None)  # restores state from the destination if needed; loads leftovers
        started = time.perf_counter()
        pipeline.extract(data, **extract_options)
        _release_memory()
        extracted = time.perf_counter()
        pipeline.normalize()
        _release_memory()
        normalized = time.perf_counter()
        info = pipeline.load()
        log.debug("extract %.2f s, normalize %.2f s, load %.2f s", extracted - started,
                  normalized - extracted, time.perf_counter() - normalized)
        return info
    except Exception as exc:
        expected = expected_cause(exc)
        if expected is None:
            raise
        raise expected from None


def _release_memory() -> None:
    gc.collect()
    pa.default_memory_pool().release_unused()


def expected_cause(exc: BaseException) -> ClioSyncError | None:
    """The expected failure behind a dlt exception chain, if there is one."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ClioSyncError):
            return seen
        if isinstance(seen, duckdb.IOException) and "lock" in str(seen).lower():
            return WarehouseBusy(
                "DuckDB cannot open the warehouse to write: another process has it open "
                f"({seen}). A notebook or SQL client may hold it; close that connection "
                "(notebooks should connect with read_only=True) and run again."
            )
        seen = seen.__cause__ or seen.__context__
    return None


def load_records(
    db: Path,
    endpoint_table: str,
    records: list[dict[str, Any]],
    deleted_ids: Iterable[int] = (),
) -> None:
    """Merge API-shaped `records` into `clio.<endpoint_table>` and hard-delete `deleted_ids`.

    Uses the same typing, hints and dlt pipeline as a sync, so a row loaded here equals
    the row a sync would store. The caller holds the writer lock.

    Args:
        db: the DuckDB warehouse file.
        endpoint_table: catalog table name, e.g. "bills".
        records: records as the API returns them (nested relations as dicts / lists).
        deleted_ids: ids deleted outright at Clio; their rows and child rows are removed.
    """
    endpoint = BY_TABLE[endpoint_table]
    deleted = sorted({int(i) for i in deleted_ids})
    if records:
        pipeline = make_pipeline(db)
        run_pipeline(pipeline, records_source(endpoint, records))
    if deleted:
        delete_rows(db, endpoint, deleted)
