"""`clio-sync export parquet`: the warehouse as Parquet files, replaced atomically.

Layout: `<out>/clio/<table>.parquet` for every raw table (dlt's bookkeeping tables
excluded), `<out>/grow/<table>.parquet` for Clio Grow's when it is synced, `<out>/reports/<view>.parquet` for every report view, and the marker
`<out>/.clio-sync-export.json` listing them. Files are written to a new private folder
beside `out`, which then takes `out`'s place, so a reader never sees a half-written
export; `export_target` decides what `out` may be and retires the earlier export.

Export is a reader: it reads the published snapshot (`snapshot`), never the warehouse
itself, so a sync or the webhook applier is not held up while it writes, and its DuckDB
connection may write nowhere but the new export's folder. With `--destination NAME` (a
PostgreSQL destination) it reads the server instead, in one read-only transaction
(`export_server`), into the same layout with the same guarantees.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from pipelines import snapshot
from pipelines.clio import export_target
from pipelines.clio.deletions import DATASET
from pipelines.errors import ConfigError, ExportError
from pipelines.grow.catalog import DATASET as GROW_DATASET
from pipelines.private_files import PRIVATE_DIR, make_private

if TYPE_CHECKING:
    from pipelines.reports.engine import Engine

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


def _apply_report_settings(con: duckdb.DuckDBPyConnection | Engine) -> None:
    """Report views read the firm's today and time zone from the session, when they exist."""
    try:
        from pipelines.reports.settings import apply_settings, load_report_settings
    except ImportError:
        return
    apply_settings(con, load_report_settings())


def refuse_destination(destination: str) -> None:
    """Export reads the DuckDB warehouse or a PostgreSQL destination, nothing else."""
    raise ConfigError(
        f"export parquet reads the DuckDB warehouse or a PostgreSQL destination, and "
        f"{destination} is neither. Read its tables where they are (any SQL client, dlt's "
        "`pipeline.dataset()`), or, for Parquet files of the raw tables, sync a lake beside "
        "it: `clio-sync run --destination filesystem` (DESTINATION__FILESYSTEM__BUCKET_URL "
        "for a bucket)."
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
    def write(staging: Path) -> list[str]:
        con = _open_snapshot(db, staging)
        try:
            return _write_files(con, staging)
        finally:
            con.close()

    return _export(db, out, str(db), write)


def export_from_destination(db: Path, out: Path, destination: str) -> list[Path]:
    """Write every raw table and report view of the PostgreSQL destination `destination`
    under `out` as Parquet, as `export_parquet` does for the DuckDB warehouse.

    `db` is the local warehouse path a server run keeps its lock and dlt's folder beside;
    the export is never put over them.

    Raises:
        ConfigError: `destination` is not a configured PostgreSQL destination.
        DestinationUnavailable: the server refused the connection.
        ExportError: as `export_parquet`, or the server refused a read.
    """
    from pipelines.clio import export_server
    from pipelines.reports.engine import open_destination, runs_models

    if not runs_models(destination):
        refuse_destination(destination)

    def write(staging: Path) -> list[str]:
        # read-only by PostgreSQL's own means; no reader-role check (`readers`), as export
        # runs only its own SELECTs, never a user's SQL
        engine = open_destination(destination, read_only=True)
        try:
            return export_server.write_files(
                engine.connection,  # type: ignore[attr-defined]
                staging, (DATASET, GROW_DATASET), REPORTS_SCHEMA,
                prepare=lambda: _apply_report_settings(engine))
        finally:
            engine.close()

    return _export(db, out, f"PostgreSQL destination {destination}", write)


def _export(db: Path, out: Path, source: str, write: Callable[[Path], list[str]]) -> list[Path]:
    """Write an export with `write` in a staging folder, mark it as read from `source`, and
    swap it in at `out`."""
    target = export_target.check_target(export_folder(out), db)
    staging = export_target.make_staging(target)
    try:
        files = write(staging)
    except BaseException:
        export_target.discard(staging)
        raise
    try:
        export_target.write_marker(staging, source, files)
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
