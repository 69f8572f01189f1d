"""clio-sync on Airflow: each firm profile (or the single firm of `sources.clio`) synced by
dlt's Airflow helper into PostgreSQL, the models after it, and a nightly reconcile.

Copy this file into Airflow's `dags/` folder, with `.dlt/secrets.toml` (the `firms.<name>`
profiles or `sources.clio`, and `destination.postgres.credentials`) under `dags/.dlt/`.
Airflow's executor spreads the firms' tasks over its workers; see docs/orchestrators.md.
"""

from __future__ import annotations

import dlt
import pendulum
from airflow.decorators import dag
from airflow.operators.bash import BashOperator
from dlt.helpers.airflow_helper import PipelineTasksGroup

from pipelines.clio import clio_source
from pipelines.firms.profiles import firm_names, schemas

FIRMS: list[str | None] = [*firm_names()] or [None]  # None: the single firm, sources.clio
START = pendulum.datetime(2026, 1, 1)


@dag(schedule="@hourly", start_date=START, catchup=False, max_active_runs=1)
def clio_sync() -> None:
    for firm in FIRMS:
        names = schemas(firm)
        tasks = PipelineTasksGroup(f"sync_{firm or 'clio'}", wipe_local_data=True)
        pipeline = dlt.pipeline(pipeline_name=names.pipeline, destination="postgres",
                                dataset_name=names.raw)
        # a callable: the source (and its secrets) is made when the task runs, not at parse
        sync = tasks.add_run(pipeline, lambda firm=firm: clio_source(firm=firm),
                             decompose="none")
        if firm is None:  # the models know the single firm's schemas only, so far
            sync[-1] >> BashOperator(task_id="models",
                                     bash_command="clio-sync models --destination postgres")


@dag(schedule="30 2 * * *", start_date=START, catchup=False)
def clio_reconcile() -> None:
    for firm in FIRMS:
        chosen = f"--firm {firm} " if firm else ""
        BashOperator(task_id=f"reconcile_{firm or 'clio'}",
                     bash_command=f"clio-sync {chosen}reconcile --destination postgres")


clio_sync()
clio_reconcile()
