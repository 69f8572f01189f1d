"""`clio-sync export parquet`: the warehouse as Parquet files, replaced atomically.

Layout: `<out>/clio/<table>.parquet` for every raw table (dlt's bookkeeping tables
excluded) and `<out>/reports/<view>.parquet` for every report view. Files are written to
a temporary folder beside `out`, which then takes `out`'s place, so a reader never sees
a half-written export.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from pipelines import warehouse
from pipelines.clio.load import DATASET

DEFAULT_EXPORT = Path("data/export")
REPORTS_SCHEMA = "reports"


def exportable(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(schema, name) of every raw table and every report view, in a stable order."""
    rows = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where (table_schema = ? and table_name not like '\\_dlt\\_%' escape '\\') "
        "or table_schema = ? order by 1, 2",
        [DATASET, REPORTS_SCHEMA],
    ).fetchall()
    return [(schema, name) for schema, name in rows]


def _apply_report_settings(con: duckdb.DuckDBPyConnection) -> None:
    """Report views read the firm's today and time zone from the session, when they exist."""
    try:
        from pipelines.reports.settings import apply_settings, load_report_settings
    except ImportError:
        return
    apply_settings(con, load_report_settings())


def export_parquet(db: Path, out: Path) -> list[Path]:
    """Write every raw table and report view of `db` under `out` as Parquet.

    Returns:
        The files written, at their final place.
    """
    out = out.expanduser().resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    con = warehouse.connect(db, read_only=True)
    try:
        _apply_report_settings(con)
        written = []
        for schema, name in exportable(con):
            target = staging / schema / f"{name}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            quoted = str(target).replace("'", "''")
            con.execute(f"copy (select * from {schema}.\"{name}\") to '{quoted}' (format parquet)")
            written.append(out / schema / target.name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        con.close()
    _swap_into_place(staging, out)
    return written


def _swap_into_place(staging: Path, out: Path) -> None:
    """Put `staging` where `out` is: two renames, the old export removed afterwards."""
    retired = out.with_name(f".{out.name}.old-{os.getpid()}")
    if out.exists():
        out.rename(retired)
    staging.rename(out)
    shutil.rmtree(retired, ignore_errors=True)
