"""Loading typed Clio rows through dlt into the warehouse (schema `clio`).

A sync and the webhook applier load through the same path: `typed_items` turns API
records into Arrow tables typed by the catalog (`rows.arrow_batch`), marked with the
catalog's hints (`hints.py`), and one dlt pipeline per warehouse merges them. Its working
folder sits beside the DuckDB file (`warehouse.pipelines_dir`).

Every load ends with `settle`, one transaction that deletes again whatever the tombstone
ledger says is gone (so no older copy revives a deleted record), empties dlt's staging
tables (they would keep the last batch's names and emails) and lets the caller commit
its own bookkeeping (the sync's watermarks) with it; then the loaded packages are
deleted from dlt's folder (`WAREHOUSE__KEEP_LOAD_PACKAGES` keeps the newest few).

A package that a killed run left half-loaded is finished before anything else; one that
cannot be loaded at all is aborted, which loses nothing: the sync's watermarks never
moved past it and the applier's events stay queued, so its records are read again.

Callers that write hold `warehouse.writer_lock`; nothing here takes it.
"""

from __future__ import annotations

import gc
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import dlt
import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from dlt.common.pipeline import LoadInfo
from dlt.destinations.exceptions import DestinationConnectionError
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials
from dlt.extract.resource import DltResource

from pipelines import warehouse
from pipelines.clio import values
from pipelines.clio.deletions import DATASET, delete_rows, purge_tombstoned
from pipelines.clio.destinations import (
    FILESYSTEM,
    DestinationUnreachable,
    SqlConnection,
    connect_pipeline,
    is_server,
    server_destination,
)
from pipelines.clio.dlt_loads import current_load_id
from pipelines.clio.endpoints import BY_TABLE, ENDPOINTS, Endpoint
from pipelines.clio.hints import LoadMode, mark_child, mark_root, write_disposition
from pipelines.clio.rows import TOMBSTONE, arrow_batch, arrow_schema, child_columns, child_table
from pipelines.clio.type_hints_cache import cache_type_hints
from pipelines.clio.widen import widen_columns
from pipelines.errors import ClioSyncError, ConfigError, WarehouseBusy

DLT_LOAD_ID, DLT_ID = "_dlt_load_id", "_dlt_id"
PIPELINE_NAME = "clio_sync"
DEFAULT_LAKE = Path("data/lake")
# DuckDB caches freely up to 80% of RAM by default; a sync's merge needs far less, and a
# scheduled job should stay small (it spills to disk past this). The warehouse stays open
# for a whole load, so what DuckDB caches from one job to the next counts too: held open
# at 192 MB, a large firm's full sync peaked 60-80 MB higher than at 64 MB.
DUCKDB_MEMORY_LIMIT = os.environ.get("CLIO_SYNC_DUCKDB_MEMORY_LIMIT", "64MB")
_LIMIT_SET_BY_USER = "CLIO_SYNC_DUCKDB_MEMORY_LIMIT" in os.environ
# A merge of a million rows or more into one table needs more: at 64 MB one of 1.3M rows
# ran out of memory (with one thread or without insertion order too; it deduplicates the
# staged rows by id). A load that merges a file this large (a large firm's largest is
# about 12 MB) gets the roomier limit of before; a sync never does (`walk_slices.py`), and
# a replace, however large, streams within the streaming one (below).
ROOMY_FROM_BYTES = 16 * 1024 * 1024
ROOMY_MEMORY_LIMIT = "192MB"
# A load that merges nothing (a full refresh) only streams Parquet row groups into
# tables, which needs less: a large firm's full sync peaked about 30 MB lower at 32 MB,
# for about 10% more time in the load (bench/results/profile_load.md); at 24 MB copying
# 1.3M rows of 27 columns into the staging table ran out of memory.
STREAMING_MEMORY_LIMIT = "32MB"
# Load jobs run one at a time (DuckDB parallelises each one itself): dlt's default of 20
# at once held every table's files in memory together, 100 MB more at the peak of a
# large firm's full sync (the whole firm's 35 tables), for no time saved on 2 cores.
LOAD_WORKERS = 1
Destination = str  # duckdb (default), filesystem, or any dlt destination's name
STAGING = f"{DATASET}_staging"  # dlt's staging dataset (merges and replaces go through it)
KEEP_PACKAGES_KEY = "warehouse.keep_load_packages"
# From this much to load, a full garbage collection between the steps pays for itself.
FULL_COLLECTION_FROM_BYTES = 32 * 1024 * 1024

log = logging.getLogger(__name__)


def make_pipeline(db: Path, destination: Destination = "duckdb", *, dataset: str = DATASET,
                  name: str = PIPELINE_NAME) -> dlt.Pipeline:
    """The dlt pipeline of warehouse `db` (`dataset`, `name`: another source's, e.g. Grow's).

    `filesystem` writes Parquet to `DESTINATION__FILESYSTEM__BUCKET_URL` (any fsspec URL),
    else to `data/lake/` beside the database; any other name than `duckdb` is a dlt
    destination configured the dlt way (`postgres`...). Each keeps its own state (another
    pipeline name, in the folder beside `db`), so switching destinations never skips data.
    """
    cache_type_hints()  # dlt's per-item schema checks, without their slowest part
    if is_server(destination):
        dest: Any = server_destination(destination)
        name = f"{name}_{destination}"
    elif destination == FILESYSTEM:
        bucket = os.environ.get("DESTINATION__FILESYSTEM__BUCKET_URL") or str(
            (db.parent / DEFAULT_LAKE.name).resolve()
        )
        dest = dlt.destinations.filesystem(bucket_url=bucket)
        name = f"{name}_lake"
    else:
        widen_columns(db)  # a warehouse of an older version: wider decimals before any load
        credentials = DuckDbCredentials(str(db))
        credentials.global_config = {"memory_limit": DUCKDB_MEMORY_LIMIT}
        # A replaced table (full refresh, outstanding balances) is loaded beside it and
        # swapped in by one transaction, instead of being emptied first in its own. dlt's
        # DuckDB capabilities leave `supports_transactions` unset, so a merge or swap
        # whose SQL happens not to contain CREATE/ALTER/DROP (a table without a
        # `created_at` column...) would run statement by statement: a kill between its
        # DELETE and INSERT left the table empty. Say DuckDB has transactions (it does).
        dest = dlt.destinations.duckdb(credentials, replace_strategy="insert-from-staging",
                                       supports_transactions=True)
    # dlt takes `progress=None` (no progress display) but its overloads do not say so
    return dlt.pipeline(  # type: ignore[call-overload, no-any-return]
        pipeline_name=name,
        pipelines_dir=str(warehouse.pipelines_dir(db)),
        destination=dest,
        dataset_name=dataset,
        progress=None,
    )


def typed_items(
    endpoint: Endpoint, records: Sequence[Mapping[str, Any]], mode: LoadMode = "merge"
) -> Iterator[Any]:
    """The Arrow tables of one batch of API records: the root, then each marked child,
    marked to load in `mode` (only a merge needs tombstone rows for emptied lists)."""
    if not records:
        return
    root, children = arrow_batch(endpoint, records, tombstones=mode == "merge")
    yield from typed_tables(endpoint, root, children, mode)


def typed_tables(endpoint: Endpoint, root: pa.Table, children: dict[str, pa.Table],
                 mode: LoadMode) -> Iterator[Any]:
    """Typed tables (as `rows.arrow_batch` makes them) marked to load in `mode`, the root
    first, then each child with dlt's columns: only a merge keeps the tombstone rows."""
    load_id = current_load_id() or dlt.current.load_package_state()["load_id"]
    yield mark_root(endpoint, with_dlt_columns(root, load_id, ("id",)), mode)
    for child in endpoint.children:
        table = children[child_table(endpoint, child)]
        if mode != "merge" and TOMBSTONE in table.column_names:
            table = table.filter(pc.is_null(table.column(TOMBSTONE))).drop_columns([TOMBSTONE])
        keyed = with_dlt_columns(table, load_id, (child.parent_key, "id"))
        yield mark_child(endpoint, child, keyed, mode)


def empty_tables(endpoint: Endpoint, mode: LoadMode) -> Iterator[Any]:
    """The endpoint's tables with no rows, as `typed_tables` marks them: a replace that
    yields them empties the tables (a walk that yields nothing else would leave them)."""
    root = arrow_schema(endpoint.columns).empty_table()
    children = {child_table(endpoint, child): arrow_schema(
        child_columns(child), required=child.parent_key).empty_table()
        for child in endpoint.children}
    return typed_tables(endpoint, root, children, mode)


def item_rows(item: Any) -> int:
    """Rows of one item `typed_items` yields."""
    return int(item.data.num_rows)


def last_of_batch(endpoint: Endpoint, item: Any) -> bool:
    """Whether `item` is the last `typed_items` yields for a batch of `endpoint`'s records
    (a package cut there holds whole batches: each root row with its children)."""
    last = child_table(endpoint, endpoint.children[-1]) if endpoint.children else endpoint.table
    return bool(item.meta.hints.get("table_name") == last)


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


def endpoint_resource(endpoint: Endpoint, data: Iterator[Any], name: str | None = None,
                      mode: LoadMode = "merge") -> DltResource:
    """A dlt resource of `endpoint`; `data` yields items marked by `typed_items`."""
    return dlt.resource(
        data,
        name=name or endpoint.table,
        table_name=endpoint.table,
        write_disposition=write_disposition(endpoint, mode),
    )


@dlt.source(name=DATASET, max_table_nesting=0)
def records_source(endpoint: Endpoint, records: Sequence[Mapping[str, Any]]) -> DltResource:
    """The sync's own source shape for a handful of records: same schema `clio`, same
    resource name (so `--full-refresh` also empties what webhooks loaded), no state."""
    return endpoint_resource(endpoint, typed_items(endpoint, records))


Released = Callable[[], AbstractContextManager[Any]]  # lets go of the writer lock meanwhile


def run_pipeline(pipeline: dlt.Pipeline, data: Any, *, released: Released | None = None,
                 finish_first: bool = True,
                 **extract_options: Any) -> LoadInfo:
    """Extract `data`, normalise and load it, with expected failures as `ClioSyncError`s.

    `released`, when given, is entered around extraction and normalization, which touch
    only dlt's folder: the writer lock goes to another firm's load while this one waits
    on Clio (`run --all-firms`).

    This is `pipeline.run(data)` in its steps: first whatever an interrupted run left is
    finished (`finish_pending`; `finish_first=False` skips the check, for the later loads
    of one run), since dlt's `run` would load only that and skip `data`;
    between the steps memory is handed back, so a large sync stays small; the warehouse is
    held open from the first load job to the last (`held_open`). The caller settles the
    load (`settle`) once it returns.

    A `ClioSyncError` raised inside a resource (a bad page, an auth failure) comes out as
    itself; a DuckDB file held by another process becomes `WarehouseBusy`.
    """
    try:
        if finish_first:
            finish_pending(pipeline)
        steps = _StepClock()
        with released() if released is not None else nullcontext():
            pipeline.extract(data, **extract_options)
            _release_memory(everything=False)
            steps.lap("extract")
            pipeline.normalize()
            _release_memory(everything=_bytes_to_load(pipeline) >= FULL_COLLECTION_FROM_BYTES)
            steps.lap("normalize")
        info = _load(pipeline)
        steps.lap("load")
        log.debug("%s", steps)
        return info
    except Exception as exc:
        expected = expected_cause(exc)
        if expected is None:
            raise
        raise expected from None


class _StepClock:
    """Wall and this thread's CPU seconds per step of a load, for the debug log (the CPU
    is the main thread's own: the read-ahead thread's paging is not in it)."""

    def __init__(self) -> None:
        self.laps: list[str] = []
        self._wall, self._cpu = time.perf_counter(), time.thread_time()

    def lap(self, step: str) -> None:
        wall, cpu = time.perf_counter(), time.thread_time()
        self.laps.append(f"{step} {wall - self._wall:.2f} s ({cpu - self._cpu:.2f} s CPU)")
        self._wall, self._cpu = wall, cpu

    def __str__(self) -> str:
        return ", ".join(self.laps)


def held_open(pipeline: dlt.Pipeline) -> AbstractContextManager[Any]:
    """The warehouse held open while `pipeline` loads into it, so dlt's connection per
    load job costs nothing (`warehouse.held_open`); nothing to hold for other destinations.

    Whatever the load's size: dlt opens and closes the file for each of its jobs (about
    70 in a full sync: a copy and a merge or swap per table), and each open reads the
    catalog and each close checkpoints: held open, the load step of a large firm's full
    sync takes 0.75x the CPU (bench/results/profile_load.md). `DUCKDB_MEMORY_LIMIT`
    bounds what the open database caches."""
    db = warehouse_file(pipeline)
    return nullcontext() if db is None else warehouse.held_open(db)


def warehouse_file(pipeline: dlt.Pipeline) -> Path | None:
    """The DuckDB file `pipeline` loads into; None for other destinations."""
    credentials = _warehouse_credentials(pipeline)
    return Path(credentials.database) if credentials is not None and credentials.database \
        else None


def _warehouse_credentials(pipeline: dlt.Pipeline) -> DuckDbCredentials | None:
    """The DuckDB credentials `pipeline` loads with; None for other destinations."""
    credentials = pipeline.destination.config_params.get("credentials")
    return credentials if isinstance(credentials, DuckDbCredentials) else None


def _load(pipeline: dlt.Pipeline) -> LoadInfo:
    """dlt's load of the normalized packages, under the memory limit their files need and
    with the warehouse held open."""
    _limit_memory(pipeline)
    with held_open(pipeline):
        return pipeline.load(workers=LOAD_WORKERS)


def _files_to_load(pipeline: dlt.Pipeline, merged: bool = False) -> list[int]:
    """The sizes of the files the next load loads (`merged`: of tables it merges)."""
    tables = pipeline.default_schema.tables
    return [job.file_size for load_id in pipeline.list_normalized_load_packages()
            for job in pipeline.get_load_package_info(load_id).jobs["new_jobs"]
            if not merged or tables.get(job.job_file_info.table_name, {}).get(
                "write_disposition") == "merge"]


def _bytes_to_load(pipeline: dlt.Pipeline) -> int:
    return sum(_files_to_load(pipeline))


def _limit_memory(pipeline: dlt.Pipeline) -> None:
    """DuckDB's memory limit for the next load (unless the user set it): the streaming one
    when it merges nothing, the roomier one when it merges a large file. A replace streams
    its rows whatever their number, and a sync merges in packages that stay well below
    the roomy threshold (`walk_slices.py`)."""
    credentials = _warehouse_credentials(pipeline)
    if credentials is None:
        return
    merged = _files_to_load(pipeline, merged=True)
    if _LIMIT_SET_BY_USER or not merged:
        limit = replace_memory_limit()
    else:
        limit = ROOMY_MEMORY_LIMIT if max(merged) >= ROOMY_FROM_BYTES else DUCKDB_MEMORY_LIMIT
    credentials.global_config = {**(credentials.global_config or {}), "memory_limit": limit}


def replace_memory_limit() -> str:
    """DuckDB's memory limit for a load that merges nothing (the user's, if set)."""
    return memory_limit_or(STREAMING_MEMORY_LIMIT)


def memory_limit_or(default: str) -> str:
    """The user's DuckDB memory limit (`CLIO_SYNC_DUCKDB_MEMORY_LIMIT`) if set, else
    `default`."""
    return DUCKDB_MEMORY_LIMIT if _LIMIT_SET_BY_USER else default


def finish_pending(pipeline: dlt.Pipeline) -> None:
    """Load what an interrupted writer left (and restore dlt's folder from the destination
    if it was lost); abort a package that fails to load, whose records will be read again.
    """
    if pipeline.has_pending_data:
        log.warning("Finishing the load of a run that was interrupted")
    try:
        if pipeline.list_normalized_load_packages():
            # loaded first: `run` would first reset dlt's folder, package included, when the
            # warehouse has no dlt state yet (a first run killed after normalizing)
            _load(pipeline)
        pipeline.run(None)
    except Exception as exc:
        if expected_cause(exc) is not None or not pipeline.has_pending_data:
            raise
        log.warning("The load left by an earlier run cannot be finished (%s); dropping it. "
                    "Nothing is lost: its records are read from Clio again.", _first_line(exc))
        pipeline.abort_packages()


def settle(pipeline: dlt.Pipeline, db: Path,
           then: Callable[[SqlConnection], None] | None = None,
           endpoints: Sequence[Endpoint] | None = None) -> dict[str, int]:
    """After a load into the warehouse: purge tombstoned rows, empty dlt's staging tables
    and run `then` (the caller's bookkeeping) in one transaction, then prune dlt's folder.
    The pipeline's dataset says which ledger and staging tables; `endpoints` are its
    catalog (Manage's by default). On a server destination this is the server's own
    transaction, after dlt's load committed.

    Returns:
        Rows deleted again per table because the ledger says they are gone.
    """
    dataset = pipeline.dataset_name
    with connect_pipeline(pipeline, db) as con:
        con.execute("begin")
        try:
            purged = purge_tombstoned(con, endpoints or ENDPOINTS, dataset)
            _empty_staging(con, f"{dataset}_staging")
            if then is not None:
                then(con)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    for table, count in purged.items():
        log.info("%s: removed %d rows of records deleted at Clio", table, count)
    prune_loaded_packages(pipeline)
    return purged


def _empty_staging(con: SqlConnection, staging: str = STAGING) -> None:
    tables = con.execute(
        "select table_name from information_schema.tables where table_schema = ? "
        "and table_type = 'BASE TABLE' and table_name not like '\\_dlt\\_%' escape '\\'",
        [staging],
    ).fetchall()
    for (name,) in tables:
        con.execute(f'delete from {staging}."{name}"')


def keep_load_packages() -> int:
    """How many loaded packages dlt's folder keeps (`WAREHOUSE__KEEP_LOAD_PACKAGES`, 0)."""
    value: Any = dlt.config.get(KEEP_PACKAGES_KEY)  # a string, or whatever TOML holds
    if value is None:
        return 0
    try:
        kept = int(value)
    except (TypeError, ValueError):
        kept = -1
    if kept < 0 or str(value).strip() != str(kept):
        raise ConfigError(
            f"WAREHOUSE__KEEP_LOAD_PACKAGES is {value!r}; it must be a whole number of 0 or "
            "more (how many loaded packages dlt's folder keeps, for debugging; 0 by default "
            "because they hold copies of the records, deleted ones included)."
        )
    return kept


def prune_loaded_packages(pipeline: dlt.Pipeline) -> int:
    """Delete loaded packages from dlt's folder but the newest `keep_load_packages()`.

    They hold a copy of every record loaded, including records deleted at Clio since;
    the warehouse has the data and `clio._sync_runs` the history.
    """
    loaded = sorted(pipeline.list_completed_load_packages())
    keep = keep_load_packages()
    doomed = loaded[: max(0, len(loaded) - keep)]
    storage = pipeline._get_load_storage()  # dlt offers no public delete of loaded packages
    for load_id in doomed:
        storage.loaded_packages.delete_package(load_id, not_exists_ok=True)
    return len(doomed)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def _release_memory(everything: bool) -> None:
    """Hand freed memory back before the next step. A full collection costs 0.1-0.3 s
    with a big heap (a notebook's, a test session's), so only a large load pays for it."""
    gc.collect(2 if everything else 1)
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
                "and run again (notebooks should read through `pipelines.readers.read_sql`, "
                "which never holds the warehouse)."
            )
        if isinstance(seen, DestinationConnectionError):
            return DestinationUnreachable(
                "The load could not connect to its destination. Check that the server runs "
                "and that its DESTINATION__<NAME>__CREDENTIALS are right; nothing of this run "
                "was committed, and the next run reads it again.")
        seen = seen.__cause__ or seen.__context__
    return None


def load_records(
    db: Path,
    endpoint_table: str,
    records: list[dict[str, Any]],
    deleted_ids: Iterable[int | str] = (),
) -> None:
    """Merge API-shaped `records` into `clio.<endpoint_table>` and hard-delete `deleted_ids`.

    Uses the same typing, hints and dlt pipeline as a sync, so a row loaded here equals
    the row a sync would store. The caller holds the writer lock.

    Args:
        db: the DuckDB warehouse file.
        endpoint_table: catalog table name, e.g. "bills".
        records: records as the API returns them (nested relations as dicts / lists).
        deleted_ids: ids deleted outright at Clio; they are tombstoned and their rows and
            child rows removed.
    """
    endpoint = BY_TABLE[endpoint_table]
    deleted = sorted({values.scalar(endpoint.id_kind, i) for i in deleted_ids})
    if records:
        pipeline = make_pipeline(db)
        run_pipeline(pipeline, records_source(endpoint, records))
        settle(pipeline, db)
    if deleted:
        delete_rows(db, endpoint, deleted, source="webhook")
