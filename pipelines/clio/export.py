"""`clio-sync export parquet`: the warehouse as Parquet files, replaced atomically.

Layout: `<out>/clio/<table>.parquet` for every raw table (dlt's bookkeeping tables
excluded), `<out>/grow/<table>.parquet` for Clio Grow's when it is synced, `<out>/reports/<view>.parquet` for every report view, and the marker
`<out>/.clio-sync-export.json` listing them. Files are written to a new private folder
beside `out`, which then takes `out`'s place, so a reader never sees a half-written
export; `export_target` decides what `out` may be and retires the earlier export.

Export is a reader: it reads the published snapshot (`snapshot`), never the warehouse
itself, so a sync or the webhook applier is not held up while it writes, and its DuckDB
connection may write nowhere but the new export's folder.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines import snapshot
from pipelines.clio import export_target
from pipelines.clio.deletions import DATASET
from pipelines.errors import ConfigError, ExportError
from pipelines.grow.catalog import DATASET as GROW_DATASET
from pipelines.private_files import PRIVATE_DIR, make_private

DEFAULT_EXPORT = Path("data/export")
REPORTS_SCHEMA = "reports"
SNAPSHOT_WAIT = 10.0  # seconds to wait for a writer when no snapshot exists yet
NO_EXTENSIONS: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False, "autoload_known_extensions": False,
}


def exportable(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(schema, name) of every raw table (Manage's and, if synced, Grow's) and every report
    view, in a stable order."""
    rows = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where (table_schema in (?, ?) and table_name not like '\\_dlt\\_%' escape '\\') "
        "or table_schema = ? order by 1, 2",
        [DATASET, GROW_DATASET, REPORTS_SCHEMA],
    ).fetchall()
    return [(schema, name) for schema, name in rows]


def _apply_report_settings(con: duckdb.DuckDBPyConnection) -> None:
    """Report views read the firm's today and time zone from the session, when they exist."""
    try:
        from pipelines.reports.settings import apply_settings, load_report_settings
    except ImportError:
        return
    apply_settings(con, load_report_settings())


def refuse_destination(destination: str) -> None:
    """Export writes the DuckDB warehouse's snapshot; a server's tables are read in place."""
    raise ConfigError(
        f"export parquet reads the DuckDB warehouse, not the {destination} destination. The "
        f"tables there are read where they are (any SQL client, dlt's `pipeline.dataset()`), "
        "or, for Parquet files of the raw tables, sync a lake beside the server: "
        "`clio-sync run --destination filesystem` (DESTINATION__FILESYSTEM__BUCKET_URL for "
        "a bucket)."
    )


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
    staging = export_target.make_staging(target)
    try:
        con = _open_snapshot(db, staging)
        try:
            files = _write_files(con, staging)
        finally:
            con.close()
    except BaseException:
        export_target.discard(staging)
        raise
    try:
        export_target.write_marker(staging, db, files)
        target = export_target.check_target(target.path, db)  # again: it may have changed
    except BaseException:
        export_target.discard(staging)
        raise
    export_target.swap_in(staging, target)
    return [target.path / name for name in files]


def _open_snapshot(db: Path, staging: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection on the newest snapshot that may write under `staging` only."""
    _, con = snapshot.open_read_only(db, NO_EXTENSIONS, SNAPSHOT_WAIT)
    try:
        folder = str(staging).replace("'", "''") + "/"
        con.execute(f"set allowed_directories = ['{folder}']")  # before access is shut
        con.execute("set enable_external_access = false")
        con.execute("set lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


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
