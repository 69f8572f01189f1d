"""A program that knows nothing of clio-sync but its dlt source: configured by the
environment only (SOURCES__CLIO__... or FIRMS__<NAME>__...), it runs one dlt pipeline
into a DuckDB file, the way any dlt user would.

Usage: plain_dlt_program.py DB DATASET [FIRM] [--spoil TABLE]

Prints `loaded` and exits 0. `--spoil TABLE` puts ids that are no numbers into TABLE's
job file between normalize and load (a load job that fails for good: DuckDB cannot cast
them), and loads with dlt's `raise_on_failed_jobs` off, so the package completes with
that job failed.
"""

import sys

import dlt
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.clio import clio_source

args = sys.argv[1:]
spoil = None
if "--spoil" in args:
    at = args.index("--spoil")
    spoil = args[at + 1]
    del args[at:at + 2]
db, dataset = args[0], args[1]
firm = args[2] if len(args) > 2 else None
pipeline = dlt.pipeline(pipeline_name="foreign", destination=dlt.destinations.duckdb(db),
                        dataset_name=dataset, pipelines_dir=db + ".dlt")
source = clio_source(firm=firm) if firm else clio_source()
if spoil is None:
    pipeline.run(source)
    print("loaded")
    sys.exit(0)
pipeline.extract(source)
pipeline.normalize()
for load_id in pipeline.list_normalized_load_packages():
    for job in pipeline.get_load_package_info(load_id).jobs["new_jobs"]:
        if job.job_file_info.table_name == spoil:
            table = pq.read_table(job.file_path)
            ids = pa.array(["not a number"] * table.num_rows)
            pq.write_table(table.set_column(table.schema.get_field_index("id"), "id", ids),
                           job.file_path)
info = pipeline.load(raise_on_failed_jobs=False)
print("loaded with failed jobs" if info.has_failed_jobs else "loaded")
