"""Recording a run in `_sync_runs`: a row per resource, whatever the run's outcome.

Where the warehouse is a DuckDB file that has the table already, the rows are inserted
directly, with dlt's bookkeeping columns and an entry in `_dlt_loads`, in one
transaction: what a dlt load of them would write, without dlt's fixed steps, which cost
more than half a second for these few rows (about a third of a run that finds nothing
new, and the last step of a first sync, after its last load). A run's first load into
such a warehouse carries the table, empty (`empty_runs_table`), so that a first run
has it too. Elsewhere (the lake, a server, a run that fails before its first load) dlt
loads the rows and creates or evolves the table.
"""

from __future__ import annotations

import logging
from typing import cast

import dlt
import pyarrow as pa
from dlt.common.schema.typing import TTableSchemaColumns
from dlt.extract.resource import DltResource

from pipelines import warehouse
from pipelines.clio.column_types import STORAGE
from pipelines.clio.deletions import table_columns
from pipelines.clio.dlt_loads import LOADS, new_load_id, register_load
from pipelines.clio.endpoints import ColumnType
from pipelines.clio.hints import DLT_COLUMNS
from pipelines.clio.load import (
    prune_loaded_packages,
    run_pipeline,
    warehouse_file,
    with_dlt_columns,
)
from pipelines.clio.summary import RUNS_COLUMNS, RUNS_TABLE, RunSummary

log = logging.getLogger(__name__)


def record_run(pipeline: dlt.Pipeline, summary: RunSummary) -> None:
    """Append the run's rows to `_sync_runs`; a failure here is logged, never raised."""
    try:
        if not _inserted(pipeline, summary):
            resource = dlt.resource(summary.rows(), name=RUNS_TABLE,
                                    write_disposition="append", columns=RUNS_COLUMNS)
            run_pipeline(pipeline, resource)
            prune_loaded_packages(pipeline)
    except Exception as exc:  # monitoring must not hide the run's own outcome
        log.warning("Could not record the run in %s: %s", RUNS_TABLE, exc)


def lacks_runs_table(pipeline: dlt.Pipeline) -> bool:
    """Whether `pipeline` loads into a DuckDB file and its schema has no `_sync_runs` yet
    (a first run): its first load should carry `empty_runs_table()`."""
    if warehouse_file(pipeline) is None:
        return False
    return pipeline.default_schema_name is None or RUNS_TABLE not in pipeline.default_schema.tables


def empty_runs_table() -> DltResource:
    """`_sync_runs` with no rows, for dlt to create the table in a run's first load."""
    columns = cast(TTableSchemaColumns, {**RUNS_COLUMNS, **DLT_COLUMNS})
    # its dlt types are catalog column types by the same names (text, bigint, timestamp...)
    fields = [pa.field(name, STORAGE[cast(ColumnType, column["data_type"])].arrow,
                       column.get("nullable", True)) for name, column in columns.items()]
    return dlt.resource([pa.schema(fields).empty_table()], name=RUNS_TABLE,
                        write_disposition="append", columns=columns)


def _inserted(pipeline: dlt.Pipeline, summary: RunSummary) -> bool:
    """Insert the rows straight into the DuckDB warehouse; False when that cannot be
    done the way dlt would (another destination, a table or column not there yet)."""
    db, schema, dataset = warehouse_file(pipeline), pipeline.default_schema_name, \
        pipeline.dataset_name
    if db is None or schema is None:
        return False
    if not summary.resources:
        return True  # no rows to record
    load_id = new_load_id()
    rows = with_dlt_columns(pa.Table.from_pylist(summary.rows()), load_id, ("run_id", "resource"))
    with warehouse.connect(db) as con:
        columns = table_columns(con, dataset)
        if not columns.get(RUNS_TABLE, set()) >= set(rows.column_names) or LOADS not in columns:
            return False
        con.register("_run_rows", rows)
        with warehouse.transaction(con):
            con.execute(f'INSERT INTO "{dataset}".{RUNS_TABLE} BY NAME SELECT * FROM _run_rows')
            register_load(con, dataset, schema, load_id)
    return True
