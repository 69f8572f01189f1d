"""A full refresh into DuckDB without dlt's load: each group's tables swapped in by one
transaction, written straight from the walk's Arrow tables.

dlt's `replace` through `insert-from-staging` writes every row three times (a Parquet file
in the package, the staging table, then the copy into the table) and pays its steps
(normalize, config, jobs) on top: after a large firm's last page, its last group took
4 s to load. Here the group's walks are spooled to uncompressed Arrow files beside the
warehouse while Clio is paged (with the writer lock let go, as dlt's extract does). Then
each table's staging copy (its own DDL) is filled from its file and committed alone, so
DuckDB's memory holds one table's rows at a time; and one transaction, which writes no
rows, drops each table for its copy, purges the tombstoned rows, registers the load in
`_dlt_loads` and adds the caller's bookkeeping (the sync's watermarks): a kill at any
point leaves the old tables, whole, and the copies a killed run left are dropped by the
next sync of the warehouse.

The rows are the ones dlt would load: `source.sync_endpoint` types them and
`load.typed_tables` adds dlt's columns (`_dlt_id` from the natural key, `_dlt_load_id`
this load's id) and drops the tombstone rows, as for dlt. Every table of the group's
endpoints is replaced, roots and children, those the walk left empty too.

Only tables and columns the warehouse and dlt's schema have already are written here
(`fits`); a group that needs a table or a column goes through dlt, which evolves the
schema. A first full refresh starts with a dlt load that creates its tables, empty
(`empty_resources`), so that every group comes here. `WAREHOUSE__REPLACE_PATH=dlt`
chooses dlt's load instead.
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
    memory_limit_or,
    replace_memory_limit,
    warehouse_file,
)
from pipelines.clio.rows import child_columns, child_table
from pipelines.clio.write_paths import WritePath
from pipelines.errors import WarehouseError

REPLACE_PATH_KEY = "warehouse.replace_path"  # WAREHOUSE__REPLACE_PATH
SPOOL = "direct_replace"  # folder in dlt's (`warehouse.pipelines_dir`): this module's alone
_ROWS = "_direct_replace_rows"  # the name a spooled table is scanned under
STAGED = "_direct_replace__"  # prefix of a table's staging copy, swapped in by the commit
# A table's staging copy is filled under the streaming limit (32 MB), and once more under
# this one if that ran out of memory: a row group of a wide table needs more to be
# written (120k bills of 47 columns, a firm ten times `large`, needed more than 32 MB and
# 36 MB was enough), while 48 MB for every table raised a large firm's peak RSS from
# about 292 MB to 304 (a table of 123k activities staged while the next group paged).
ROOMIER_MEMORY_LIMIT = "48MB"
Items = Callable[[Endpoint], Iterator[Any]]  # the items a walk yields, marked for dlt
log = logging.getLogger(__name__)


def replace_path() -> WritePath:
    """How a full refresh writes into DuckDB (`WAREHOUSE__REPLACE_PATH`): `direct`
    (default, this module) or `dlt` (dlt's load through staging tables)."""
    return write_paths.write_path(
        REPLACE_PATH_KEY, "a full refresh swaps in each group of tables in one transaction, "
        "without dlt's load", "dlt's load through staging tables", default="direct")


def tables_of(endpoint: Endpoint) -> dict[str, set[str]]:
    """{table: its column names} as a replace loads them: the root's, each child's."""
    dlt_columns = {DLT_LOAD_ID, DLT_ID}
    found = {endpoint.table: set(endpoint.columns) | dlt_columns}
    for child in endpoint.children:
        found[child_table(endpoint, child)] = set(child_columns(child)) | dlt_columns
    return found


def fits(pipeline: dlt.Pipeline, db: Path, endpoints: Sequence[Endpoint]) -> bool:
    """Whether the group `endpoints` can be replaced here: a DuckDB warehouse whose
    tables, and dlt's schema of them, hold every column the group writes, and whose
    tables carry nothing the swap would drop with them (an index or a comment someone
    added: dlt's load keeps them)."""
    if warehouse_file(pipeline) is None or pipeline.default_schema_name is None:
        return False
    schema = pipeline.default_schema.tables
    wanted = {name: cols for e in endpoints for name, cols in tables_of(e).items()}
    if any(name not in schema or not cols <= set(schema[name].get("columns", {}))
           for name, cols in wanted.items()):
        return False
    with contextlib.closing(warehouse.connect(db)) as con:
        found = table_columns(con, pipeline.dataset_name)
        annotated = _annotated(con, pipeline.dataset_name)
    return (LOADS in found and not annotated & set(wanted)
            and all(cols <= found.get(name, set()) for name, cols in wanted.items()))


def _annotated(con: duckdb.DuckDBPyConnection, dataset: str) -> set[str]:
    """Tables of `dataset` with an index, or a comment on them or on a column."""
    where = "database_name = current_database() and schema_name = ?"
    return {name for (name,) in con.execute(
        f"select table_name from duckdb_indexes() where {where} union "
        f"select table_name from duckdb_tables() where {where} and comment is not null union "
        f"select table_name from duckdb_columns() where {where} and comment is not null",
        [dataset] * 3).fetchall()}


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
    with what the walks read (`swap_in`: staging copies swapped in by one transaction
    that also runs `then(con)`).

    The walks run with `released` entered (the writer lock let go); the staging and the
    swap run without.
    """
    load_id = new_load_id()
    spool = _spool_folder(pipeline, db)
    shutil.rmtree(spool, ignore_errors=True)  # a killed run's, if `sync` has not cleared it
    spool.mkdir(mode=0o700, parents=True)
    try:
        with released() if released is not None else nullcontext():
            files = _spooled(endpoints, items, spool, load_id)
        _commit(pipeline, db, endpoints, files, load_id, then)
        log.info("Swapped in the tables of %s in one transaction (load %s)",
                 ", ".join(e.table for e in endpoints), load_id)
    finally:
        shutil.rmtree(spool, ignore_errors=True)


def clear_leftovers(pipeline: dlt.Pipeline, db: Path) -> None:
    """Delete what a killed full refresh of `pipeline` left: its spool folder (copies of
    records: only ever written by `replace`) and its staging tables."""
    shutil.rmtree(_spool_folder(pipeline, db), ignore_errors=True)
    if db.exists():  # the spool may be gone with dlt's folder: look for the tables
        with contextlib.closing(warehouse.connect(db)) as con:
            _drop_staged(con, pipeline.dataset_name)


def _spool_folder(pipeline: dlt.Pipeline, db: Path) -> Path:
    """Where `replace` spools `pipeline`'s walks (each firm's pipeline has its own, as
    firms page at once in `run --all-firms`)."""
    return warehouse.pipelines_dir(db) / SPOOL / pipeline.pipeline_name


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

    def bookkeeping(con: duckdb.DuckDBPyConnection) -> None:
        purge_tombstoned(con, endpoints, dataset)
        register_load(con, dataset, pipeline.default_schema.name, load_id)
        if then is not None:
            then(con)

    con = replacing_connection(db)
    try:
        swap_in(con, dataset, {table: files.get(table) for endpoint in endpoints
                               for table in tables_of(endpoint)}, bookkeeping)
    finally:
        con.close()


def swap_in(con: duckdb.DuckDBPyConnection, dataset: str, files: dict[str, Path | None],
            then: Callable[[duckdb.DuckDBPyConnection], None]) -> None:
    """Replace each table of `files` with the rows of its Arrow stream file (None: empty):
    fill a staging copy of each, committed one by one, then swap them all in, and run
    `then(con)`, in one transaction that writes no rows.

    In one transaction DuckDB holds each table's last, partial row group in memory until
    the commit: a firm ten times `large` (120k bills of 47 columns and a million rows
    elsewhere) ran out of memory there even at 40 MB. Committed one by one, each table
    needs its own row groups only."""
    _drop_staged(con, dataset)
    try:
        for table, file in files.items():
            _stage(con, dataset, table, file)
        with warehouse.transaction(con):
            for table in files:
                _swap(con, dataset, table)
            then(con)
    finally:
        _drop_staged(con, dataset)  # what a failure left


def _stage(con: duckdb.DuckDBPyConnection, dataset: str, table: str, file: Path | None) -> None:
    """Create the staging copy of `table` (its own DDL: dlt's types and NOT NULLs) and fill
    it from the Arrow stream `file` (none: left empty), in one transaction."""
    ddl = con.execute(
        "select sql from duckdb_tables() where database_name = current_database() "
        "and schema_name = ? and table_name = ?", [dataset, table]).fetchone()
    if ddl is None:
        raise WarehouseError(f'the table "{dataset}"."{table}" vanished during a full refresh')
    _, _, columns = ddl[0].partition("(")  # dlt's table names hold no parenthesis
    staged = f'"{dataset}"."{STAGED}{table}"'
    try:
        _fill(con, staged, columns, file)
    except duckdb.Error as exc:
        limit = replace_memory_limit()
        if not _out_of_memory(exc) or memory_limit_or(ROOMIER_MEMORY_LIMIT) == limit:
            raise
        log.info("Staging %s ran out of memory under %s: once more under %s", table, limit,
                 ROOMIER_MEMORY_LIMIT)
        con.execute(f"SET memory_limit = '{ROOMIER_MEMORY_LIMIT}'")
        try:
            _fill(con, staged, columns, file)
        finally:
            con.execute(f"SET memory_limit = '{limit}'")


def _fill(con: duckdb.DuckDBPyConnection, staged: str, columns: str, file: Path | None) -> None:
    with warehouse.transaction(con):  # a failed COMMIT has ended it: nothing to roll back
        con.execute(f"CREATE TABLE {staged}({columns}")
        if file is not None:
            _insert(con, staged, file)


def _out_of_memory(exc: duckdb.Error) -> bool:
    """DuckDB's error for memory it could not get: in a statement, or in the COMMIT that
    writes the rows (a TransactionException, told by its message)."""
    return isinstance(exc, duckdb.OutOfMemoryException) or any(
        words in str(exc) for words in ("could not allocate block", "failed to pin block"))


def _swap(con: duckdb.DuckDBPyConnection, dataset: str, table: str) -> None:
    """Put the staging copy of `table` in its place (DuckDB's views bind by name)."""
    con.execute(f'DROP TABLE "{dataset}"."{table}"')
    con.execute(f'ALTER TABLE "{dataset}"."{STAGED}{table}" RENAME TO "{table}"')


def _drop_staged(con: duckdb.DuckDBPyConnection, dataset: str) -> None:
    staged = con.execute(
        "select table_name from duckdb_tables() where database_name = current_database() "
        "and schema_name = ? and starts_with(table_name, ?)", [dataset, STAGED]).fetchall()
    for (name,) in staged:
        con.execute(f'DROP TABLE "{dataset}"."{name}"')


def replacing_connection(db: Path) -> duckdb.DuckDBPyConnection:
    """The warehouse, open to replace tables: on one thread, under the streaming limit
    (the user's limit, if set). With two threads each inserting thread keeps a row group
    of its own; one streams, and it was faster too (a large firm's full sync 22.7 s
    against 23.4)."""
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
