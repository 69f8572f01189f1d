"""A program that knows nothing of clio-sync but its dlt source: configured by the
environment only (SOURCES__CLIO__... or FIRMS__<NAME>__...), it runs one dlt pipeline
into a DuckDB file and prints the load's outcome. Usage: plain_dlt_program.py DB [FIRM]"""

import sys

import dlt

from pipelines.clio import clio_source

db, firm = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else None)
pipeline = dlt.pipeline(pipeline_name="foreign", destination=dlt.destinations.duckdb(db),
                        dataset_name="clio_data", pipelines_dir=db + ".dlt")
source = clio_source(firm=firm) if firm else clio_source()
info = pipeline.run(source)
print("loaded", len(info.loads_ids), "packages; failed jobs:", info.has_failed_jobs)
