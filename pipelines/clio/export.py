"""`clio-sync export parquet`: the warehouse as Parquet files, replaced atomically.

Layout: `<out>/clio/<table>.parquet` for every raw table (dlt's bookkeeping tables
excluded), `<out>/reports/<view>.parquet` for every report view, and the marker
`<out>/.clio-sync-export.json` listing them. Files are written to a new private folder
beside `out`, which then takes `out`'s place, so a reader never sees a half-written
export; `export_target` decides what `out` may be and retires the earlier export.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines import warehouse
from pipelines.clio import export_target
from pipelines.clio.deletions import DATASET
from pipelines.errors import ExportError
from pipelines.private_files import PRIVATE_DIR, make_private

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


def export_folder(out: str | Path) -> Path:
    """The folder an export to `out` lands in: absolute, symlinks resolved."""
    return Path(out).expanduser().resolve()


def export_parquet(db: Path, out: Path) -> list[Path]:
    """Write every raw table and report view of `db` under `out` as Parquet.

    Returns:
        The files written, at their final place.

    Raises:
        ExportError: `out` is not clio-sync's to replace (see `export_target`), or cannot
            be written.
        WarehouseError: `db` cannot be read.
    """
    target = export_target.check_target(export_folder(out), db)
    con = warehouse.connect(db, read_only=True)
    try:
        staging = export_target.make_staging(target)
        try:
            files = _write_files(con, staging)
        except BaseException:
            export_target.discard(staging)
            raise
    finally:
        con.close()
    try:
        export_target.write_marker(staging, db, files)
        target = export_target.check_target(target.path, db)  # again: it may have changed
    except BaseException:
        export_target.discard(staging)
        raise
    export_target.swap_in(staging, target)
    return [target.path / name for name in files]


def _write_files(con: duckdb.DuckDBPyConnection, staging: Path) -> list[str]:
    """Write each table and view as `<schema>/<name>.parquet` under `staging`, owner-only."""
    _apply_report_settings(con)
    written = []
    for schema, name in exportable(con):
        target = staging / schema / f"{name}.parquet"
        target.parent.mkdir(mode=PRIVATE_DIR, exist_ok=True)
        quoted = str(target).replace("'", "''")
        try:
            con.execute(f"copy (select * from {schema}.\"{name}\") to '{quoted}' (format parquet)")
        except duckdb.IOException as exc:
            raise ExportError(
                f"Could not write {target.name} of the export beside {staging.parent}: "
                f"{' '.join(str(exc).split()).rstrip('.')}. Free some space, or choose "
                "another --out."
            ) from None
        make_private(target)
        written.append(f"{schema}/{target.name}")
    return written
