"""A full refresh into DuckDB without dlt's load: each group's tables replaced in one
transaction, written straight from the walk's Arrow tables.

dlt's `replace` through `insert-from-staging` writes every row three times (a Parquet file
in the package, the staging table, then the copy into the table) and pays its steps
(normalize, config, jobs) on top: after a large firm's last page, its last group took
4 s to load. Here the group's walks are spooled to uncompressed Arrow files beside the
warehouse while Clio is paged (with the writer lock let go, as dlt's extract does), then,
in one transaction, each table is emptied and filled from its file, the tombstoned rows
purged, the load registered in `_dlt_loads` and the caller's bookkeeping (the sync's
watermarks) added: a kill at any point leaves the old tables, whole.

The rows are the ones dlt would load: `source.sync_endpoint` types them and
`load.typed_tables` adds dlt's columns (`_dlt_id` from the natural key, `_dlt_load_id`
this load's id) and drops the tombstone rows, as for dlt. Every table of the group's
endpoints is replaced, roots and children, those the walk left empty too.

Only tables and columns the warehouse and dlt's schema have already are written here
(`fits`); a group that needs a table or a column goes through dlt, which evolves the
schema. A first full refresh starts with a dlt load that creates its tables, empty
(`empty_resources`), so that every group comes here. Opt-in, with
`WAREHOUSE__REPLACE_PATH=direct`: a full refresh of a firm ten times `large` failed to
commit its group of 1.24M activities under the 32 MB limit (bench/results/sync_full.md).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import dlt
import duckdb
import pyarrow as pa
from dlt.extract.resource import DltResource

from pipelines import warehouse
from pipelines.clio import write_paths
from pipelines.clio.deletions import DATASET, purge_tombstoned, table_columns
from pipelines.clio.dlt_loads import LOADS, direct_load_id, new_load_id, register_load
from pipelines.clio.endpoints import Endpoint
from pipelines.clio.hints import LoadMode
from pipelines.clio.load import (
    DLT_ID,
    DLT_LOAD_ID,
    empty_tables,
    endpoint_resource,
    replace_memory_limit,
    warehouse_file,
)
from pipelines.clio.rows import child_columns, child_table
from pipelines.clio.write_paths import WritePath

REPLACE_PATH_KEY = "warehouse.replace_path"  # WAREHOUSE__REPLACE_PATH
SPOOL = "direct_replace"  # folder in dlt's (`warehouse.pipelines_dir`): this module's alone
_ROWS = "_direct_replace_rows"  # the name a spooled table is scanned under
Items = Callable[[Endpoint], Iterator[Any]]  # the items a walk yields, marked for dlt
log = logging.getLogger(__name__)


def replace_path() -> WritePath:
    """How a full refresh writes into DuckDB (`WAREHOUSE__REPLACE_PATH`): `dlt` (default,
    dlt's load through staging tables) or `direct`. Opt-in: a full refresh of a firm ten
    times `large` (1.24M activities in one group) failed to COMMIT under the 32 MB limit."""
    return write_paths.write_path(
        REPLACE_PATH_KEY, "a full refresh replaces each group of tables in one transaction, "
        "without dlt's load: faster, but a very large group may not commit under the "
        "memory limit", "dlt's load through staging tables", default="dlt")


def tables_of(endpoint: Endpoint) -> dict[str, set[str]]:
    """{table: its column names} as a replace loads them: the root's, each child's."""
    dlt_columns = {DLT_LOAD_ID, DLT_ID}
    found = {endpoint.table: set(endpoint.columns) | dlt_columns}
    for child in endpoint.children:
        found[child_table(endpoint, child)] = set(child_columns(child)) | dlt_columns
    return found


def fits(pipeline: dlt.Pipeline, db: Path, endpoints: Sequence[Endpoint]) -> bool:
    """Whether the group `endpoints` can be replaced here: a DuckDB warehouse whose
    tables, and dlt's schema of them, hold every column the group writes."""
    if warehouse_file(pipeline) is None or pipeline.default_schema_name is None:
        return False
    schema = pipeline.default_schema.tables
    wanted = {name: cols for e in endpoints for name, cols in tables_of(e).items()}
    if any(name not in schema or not cols <= set(schema[name].get("columns", {}))
           for name, cols in wanted.items()):
        return False
    with contextlib.closing(warehouse.connect(db)) as con:
        found = table_columns(con, pipeline.dataset_name)
    return LOADS in found and all(cols <= found.get(name, set()) for name, cols in wanted.items())


def lacking(pipeline: dlt.Pipeline, db: Path, endpoints: Sequence[Endpoint]) -> list[Endpoint]:
    """Those of `endpoints` whose tables the warehouse has none of (a first run's: all).
    One with some of its tables (a child table added by a later version) is not among
    them: its empty tables would replace the others, and a reader would see them empty."""
    if warehouse_file(pipeline) is None:
        return []
    with contextlib.closing(warehouse.connect(db)) as con:
        found = table_columns(con, pipeline.dataset_name)
    return [e for e in endpoints if not set(tables_of(e)) & set(found)]


def empty_resources(endpoints: Sequence[Endpoint], mode: LoadMode) -> list[DltResource]:
    """The tables of `endpoints`, empty, as the walks' resources would load them: a dlt
    load of them creates the tables (with dlt's schema of them) for `replace` to fill."""
    return [endpoint_resource(endpoint, empty_tables(endpoint, mode), mode=mode)
            for endpoint in endpoints]


@dlt.source(name=DATASET, max_table_nesting=0)
def tables_source(resources: list[DltResource]) -> list[DltResource]:
    """`resources` in the sync's source shape: same schema `clio`, no state."""
    return resources


def replace(pipeline: dlt.Pipeline, db: Path, endpoints: Sequence[Endpoint], items: Items, *,
            then: Callable[[Any], None] | None = None,
            released: Callable[[], AbstractContextManager[Any]] | None = None) -> None:
    """Walk `endpoints` (`items` gives each one's marked tables) and replace their tables
    with what the walks read, in one transaction that also runs `then(con)`.

    The walks run with `released` entered (the writer lock let go); the transaction
    runs without.
    """
    load_id = new_load_id()
    spool = clear_spool(pipeline, db)
    spool.mkdir(mode=0o700, parents=True)
    try:
        with released() if released is not None else nullcontext():
            files = _spooled(endpoints, items, spool, load_id)
        _commit(pipeline, db, endpoints, files, load_id, then)
        log.info("Replaced the tables of %s in one transaction (load %s)",
                 ", ".join(e.table for e in endpoints), load_id)
    finally:
        shutil.rmtree(spool, ignore_errors=True)


def clear_spool(pipeline: dlt.Pipeline, db: Path) -> Path:
    """Delete what a killed run of `pipeline` left in its spool folder (copies of
    records: only ever written by `replace`); returns the folder (each firm's pipeline
    has its own, as firms page at once in `run --all-firms`)."""
    spool = warehouse.pipelines_dir(db) / SPOOL / pipeline.pipeline_name
    shutil.rmtree(spool, ignore_errors=True)
    return spool


def _spooled(endpoints: Sequence[Endpoint], items: Items, spool: Path,
             load_id: str) -> dict[str, Path]:
    """Write the walks' tables to one Arrow stream file per table; {table: file}."""
    writers: dict[str, tuple[pa.NativeFile, pa.ipc.RecordBatchStreamWriter, pa.Schema]] = {}
    try:
        with direct_load_id(load_id):
            for endpoint in endpoints:
                for item in items(endpoint):
                    table: str = item.meta.hints["table_name"]
                    rows: pa.Table = item.data
                    if table not in writers:
                        sink = pa.OSFile(str(spool / f"{table}.arrows"), "wb")
                        writers[table] = (sink, pa.ipc.new_stream(sink, rows.schema), rows.schema)
                    _, writer, schema = writers[table]
                    if not rows.schema.equals(schema):
                        rows = rows.cast(schema)  # the nullability of a page's columns
                    writer.write_table(rows)
    finally:
        for sink, writer, _ in writers.values():
            writer.close()
            sink.close()
    return {table: spool / f"{table}.arrows" for table in writers}


def _commit(pipeline: dlt.Pipeline, db: Path, endpoints: Sequence[Endpoint],
            files: dict[str, Path], load_id: str, then: Callable[[Any], None] | None) -> None:
    dataset = pipeline.dataset_name
    con = replacing_connection(db)
    try:
        with warehouse.transaction(con):
            for endpoint in endpoints:
                for table in tables_of(endpoint):
                    target = f'"{dataset}"."{table}"'
                    con.execute(f"DELETE FROM {target}")
                    if table in files:
                        _insert(con, target, files[table])
            purge_tombstoned(con, endpoints, dataset)
            register_load(con, dataset, pipeline.default_schema.name, load_id)
            if then is not None:
                then(con)
    finally:
        con.close()


def replacing_connection(db: Path) -> duckdb.DuckDBPyConnection:
    """The warehouse, open to replace tables: under the streaming memory limit, on one
    thread. With two, each inserting thread kept a row group of its own in memory until
    the commit, and a large firm's last group ran out of memory at 32 MB; one thread
    streams (two tables of 1.3M wide rows fit, tests/sync/test_load_memory_limit.py),
    and it was faster too (a large firm's full sync 22.7 s against 23.4)."""
    con = warehouse.connect(db)
    con.execute(f"SET memory_limit = '{replace_memory_limit()}'")
    con.execute("SET threads = 1")
    return con


def _insert(con: duckdb.DuckDBPyConnection, target: str, file: Path) -> None:
    """Append the rows of the Arrow stream `file` to `target`, batch by batch."""
    with pa.OSFile(str(file), "rb") as source:
        con.register(_ROWS, pa.ipc.open_stream(source))
        try:
            con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM {_ROWS}")
        finally:
            con.unregister(_ROWS)
