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

On a PostgreSQL destination (`connect_destination`, `clio-sync report/sql --destination`)
the protections are PostgreSQL's own: the session's transactions are READ ONLY
(`default_transaction_read_only`, and the one transaction a reader runs in is opened so),
the SQL must be one statement (a second could end that transaction), and the role must
not reach the server's files: a superuser, or a member of pg_read_server_files,
pg_write_server_files or pg_execute_server_program, is refused (PostgreSQL lets those run
COPY ... TO a file or a program, even in a read-only transaction). MVCC means a reader
never blocks a sync; a reader waits for a models build at most `DEFAULT_WAIT` seconds.
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

    from pipelines.reports.engine import Engine
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

# Built-in roles whose members can read or write the server's files or run programs.
FILE_ROLES = ("pg_read_server_files", "pg_write_server_files", "pg_execute_server_program")
_PG_REFUSALS = ("25006", "42501")  # read_only_sql_transaction, insufficient_privilege

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


class ReaderRoleTooPowerful(ClioSyncError):
    """The PostgreSQL role of a reader could reach the server's files."""


def connect_destination(name: str, settings: ReportSettings | None = None,
                        wait: float = DEFAULT_WAIT) -> Engine:
    """A read-only connection to the PostgreSQL destination `name` (configured the dlt way).

    Args:
        settings: the firm's time zone, today and aging basis (default: `REPORTS__*`).
        wait: seconds a statement waits for a lock (a models build in progress).

    Raises:
        ReaderRoleTooPowerful: the role is a superuser or may use the server's files.
    """
    from pipelines.reports.engine import open_destination
    from pipelines.reports.settings import apply_settings, load_report_settings

    engine = open_destination(name, read_only=True, lock_timeout=wait)
    try:
        _check_role(engine, name)
        apply_settings(engine, settings or load_report_settings())
    except BaseException:
        engine.close()
        raise
    return engine


def run_on_destination(engine: Engine, query: str) -> Any:
    """Run the reader's one statement of PostgreSQL SQL; returns the cursor.

    Raises:
        QueryRefused: more than one statement, or PostgreSQL refused a write or a file.
        ClioSyncError: PostgreSQL rejected the query otherwise.
    """
    import psycopg2  # type: ignore[import-untyped]

    _one_statement(query)
    try:
        return engine.execute_native(query)
    except psycopg2.Error as exc:
        text = " ".join(str(exc).split())
        if exc.pgcode in _PG_REFUSALS:
            raise QueryRefused(
                f"The query tried to write or to reach outside the warehouse, which readers "
                f"may not do (PostgreSQL: {text}). Readers run in a read-only transaction; "
                "query the schemas clio, staging, intermediate and reports, and to get files "
                "out use `clio-sync export parquet`."
            ) from None
        raise ClioSyncError(
            f"PostgreSQL rejected the query: {text} The connection is read-only, so only "
            "reads run; the models are in the schemas reports, intermediate and staging, the "
            "synced tables in clio."
        ) from None


def _one_statement(query: str) -> None:
    import sqlglot
    from sqlglot.errors import SqlglotError
    from sqlglot.tokens import TokenType

    from pipelines.reports.engine import POSTGRES

    try:
        tokens = sqlglot.Dialect.get_or_raise(POSTGRES).tokenize(query)
    except SqlglotError:
        tokens = None
    if tokens is not None:
        kinds = [t.token_type for t in tokens]
        end = kinds.index(TokenType.SEMICOLON) if TokenType.SEMICOLON in kinds else len(kinds)
        if all(kind == TokenType.SEMICOLON for kind in kinds[end:]):
            return
    raise QueryRefused(
        "Readers run one SQL statement at a time (a second one could end the read-only "
        "transaction), and this text holds several or could not be read as SQL. Run each "
        "statement with its own `clio-sync sql`."
    )


def _check_role(engine: Engine, name: str) -> None:
    roles = ", ".join(f"'{role}'" for role in FILE_ROLES)
    rows = engine.execute_native(
        f"select rolname from pg_roles where rolname in ({roles}) "
        "and pg_has_role(current_user, oid, 'MEMBER') order by rolname"
    ).fetchall()
    if not rows:
        return
    user = engine.execute_native("select current_user").fetchone()[0]
    raise ReaderRoleTooPowerful(
        f"The PostgreSQL role {user} of destination {name!r} is a superuser or may use the "
        f"server's files ({', '.join(r[0] for r in rows)}), and PostgreSQL lets such a role "
        "read and write files and run programs even in a read-only transaction, so readers "
        "refuse it. Give readers a role of their own, e.g. `CREATE ROLE clio_reader LOGIN "
        "PASSWORD '...'; GRANT pg_read_all_data TO clio_reader;`, and name it as a dlt "
        "destination: DESTINATION__CLIO_READER__DESTINATION_TYPE=postgres, "
        "DESTINATION__CLIO_READER__CREDENTIALS=postgresql://clio_reader:...@host/db, then "
        "--destination clio_reader (docs/reports.md, \"On PostgreSQL\")."
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
