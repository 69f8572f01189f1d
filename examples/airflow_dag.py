"""clio-sync on Airflow: every firm profile synced by dlt's Airflow helper, then its models.

Copy this file into Airflow's `dags/` folder, with `.dlt/secrets.toml` (the `firms.<name>`
profiles and `destination.postgres.credentials`) beside it, under `dags/.dlt/`. Airflow's
executor spreads the firms' tasks over its workers; see docs/orchestrators.md.
"""

from __future__ import annotations

import dlt
import pendulum
from airflow.decorators import dag
from airflow.operators.bash import BashOperator
from dlt.helpers.airflow_helper import PipelineTasksGroup

from pipelines.clio.source import clio_source
from pipelines.firms.profiles import firm_names, schemas


@dag(schedule="@hourly", start_date=pendulum.datetime(2026, 1, 1), catchup=False,
     max_active_runs=1)  # a firm's next run waits for its last: its watermarks are per pipeline
def clio_sync() -> None:
    for firm in firm_names():
        names = schemas(firm)
        tasks = PipelineTasksGroup(f"sync_{firm}", use_data_folder=False, wipe_local_data=True)
        pipeline = dlt.pipeline(pipeline_name=names.pipeline, destination="postgres",
                                dataset_name=names.raw)
        # a callable: the source (and its secrets) is made when the task runs, not at parse
        sync = tasks.add_run(pipeline, lambda firm=firm: clio_source(firm=firm),
                             decompose="none")
        models = BashOperator(task_id=f"models_{firm}",
                              bash_command=f"clio-sync --firm {firm} models --destination postgres")
        sync[-1] >> models


@dag(schedule="30 2 * * *", start_date=pendulum.datetime(2026, 1, 1), catchup=False)
def clio_reconcile() -> None:
    for firm in firm_names():
        BashOperator(task_id=f"reconcile_{firm}",
                     bash_command=f"clio-sync --firm {firm} reconcile --destination postgres")


clio_sync()
clio_reconcile()
