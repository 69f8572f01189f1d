"""How to read the warehouse: notebooks, `clio-sync sql`, `clio-sync report`.

    from pipelines.readers import read_sql
    read_sql("select * from reports.outstanding_balances")       # a pandas DataFrame

Readers open the read snapshot (`pipelines.snapshot`), never the warehouse itself, so a
reader held open for hours blocks no `run` and no webhook applier, and always sees a
committed state: `connect()` keeps the state it opened until closed; `read_sql` reads the
newest published state on each call.

Every connection is also locked down with DuckDB's own settings: no file, network or
extension access (COPY ... TO, ATTACH, EXPORT DATABASE, read_csv/read_text of files,
INSTALL/LOAD), and the configuration is locked so SQL cannot switch that back on. Only
the warehouse's tables and views can be read; nothing on disk can be written.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from pipelines import snapshot, warehouse
from pipelines.errors import ClioSyncError

if TYPE_CHECKING:
    import pandas

    from pipelines.reports.settings import ReportSettings

DEFAULT_WAIT = 10.0  # seconds a first reader waits for a writer when there is no snapshot yet

# DuckDB settings of every reader connection; `lock_configuration` makes them final. What
# a big query spills goes to DuckDB's default, `<file>.tmp` beside the snapshot (0700).
SAFE_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_persistent_secrets": False,
    "lock_configuration": True,
}

_REFUSALS = ("file system operations are disabled", "disabled through configuration",
             "configuration has been locked", "external access")


class QueryRefused(ClioSyncError):
    """The SQL reached outside the warehouse (files, extensions, settings)."""


def connect(db: str | os.PathLike[str] | None = None, settings: ReportSettings | None = None,
            wait: float = DEFAULT_WAIT) -> duckdb.DuckDBPyConnection:
    """A safe read-only connection to the newest published state of the warehouse.

    Args:
        db: the warehouse file (default: `--db`'s default, `data/clio_sync.duckdb`).
        settings: the firm's time zone, today and aging basis for the report views
            (default: `REPORTS__*` config, as `clio-sync report`).
        wait: seconds to wait for a writer when no snapshot exists yet.
    """
    return _open(warehouse.resolve_db(db), settings, wait)[1]


def read_sql(query: str, params: list[Any] | dict[str, Any] | None = None,
             db: str | os.PathLike[str] | None = None) -> pandas.DataFrame:
    """Run one query on the newest published state and return a pandas DataFrame.

    The connection is kept between calls and reopened when a newer state is published.
    """
    path = warehouse.resolve_db(db)
    with _cache_lock:
        con = _cached(path)
        try:
            return con.execute(query, params).df()
        except duckdb.Error as exc:
            refused = refusal(exc)
            if refused is not None:
                raise refused from None
            raise


def refusal(exc: duckdb.Error) -> QueryRefused | None:
    """The one-paragraph error for SQL that tried to leave the warehouse, else None."""
    text = " ".join(str(exc).split())
    if not isinstance(exc, duckdb.PermissionException) and not any(
            marker in text for marker in _REFUSALS):
        return None
    return QueryRefused(
        f"The query tried to reach outside the warehouse, which readers may not do "
        f"(DuckDB: {text}). Reader connections can read the warehouse's tables and views "
        "only: reading or writing files (COPY ... TO, ATTACH, EXPORT DATABASE, read_csv, "
        "read_text), installing or loading extensions and changing settings are turned off. "
        "Query the schemas clio, staging, intermediate and reports; to get files out, use "
        "`clio-sync export parquet`."
    )


_cache_lock = threading.Lock()
_cache: dict[Path, tuple[Path, duckdb.DuckDBPyConnection]] = {}


def _cached(db: Path) -> duckdb.DuckDBPyConnection:
    """The kept connection of `db`, reopened if a newer state was published since."""
    current = snapshot.readable(db, DEFAULT_WAIT)
    kept = _cache.get(db)
    if kept and kept[0] == current:
        return kept[1]
    if kept:
        kept[1].close()
        del _cache[db]
    _cache[db] = _open(db, None, DEFAULT_WAIT)
    return _cache[db][1]


def _open(db: Path, settings: ReportSettings | None,
          wait: float) -> tuple[Path, duckdb.DuckDBPyConnection]:
    from pipelines.reports.settings import apply_settings, load_report_settings

    opened, con = snapshot.open_read_only(db, SAFE_CONFIG, wait)
    try:
        apply_settings(con, settings or load_report_settings())
    except BaseException:
        con.close()
        raise
    return opened, con
