"""Put a synced DuckDB warehouse's raw tables on PostgreSQL with dlt's postgres destination,
independently of `run --destination postgres`: each table of schema `clio` (and `grow`) as
Arrow, so the types stay what the sync made them (NUMERIC money, timestamptz, date)."""

from __future__ import annotations

from pathlib import Path

import dlt
import duckdb

RAW_SCHEMAS = ("clio", "grow")


def copy_raw_tables(db: Path, dsn: str, work: Path) -> dict[str, int]:
    """Every raw table of `db` (dlt's own `_dlt_*` tables aside) into the database of `dsn`,
    replacing what is there; returns `schema.table` -> rows copied."""
    con = duckdb.connect(str(db), read_only=True)
    copied: dict[str, int] = {}
    try:
        for schema in RAW_SCHEMAS:
            tables = [name for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = ? "
                "and table_type = 'BASE TABLE' and table_catalog = current_database() "
                "and not starts_with(table_name, '_dlt_') order by 1", [schema]).fetchall()]
            if not tables:
                continue
            resources = []
            for table in tables:
                rows = con.sql(f'select * from {schema}."{table}"').to_arrow_table()
                copied[f"{schema}.{table}"] = rows.num_rows
                resources.append(dlt.resource(rows, name=table, write_disposition="replace"))
            pipeline = dlt.pipeline(
                pipeline_name=f"copy_{schema}", destination=dlt.destinations.postgres(dsn),
                dataset_name=schema, pipelines_dir=str(work / "dlt"),
            )
            pipeline.run(resources).raise_on_failed_jobs()
    finally:
        con.close()
    return copied
