"""Where a run writes, and how the run path's own SQL (watermarks, tombstones, settling)
reaches it.

    duckdb       the warehouse file (default): opened with `warehouse.connect`, as before
    filesystem   a Parquet lake (no SQL: its watermarks are a file, `watermarks.FileWatermarks`)
    any other    a dlt destination configured the dlt way (`postgres` with
                 `DESTINATION__POSTGRES__CREDENTIALS`, ...): reached through dlt's own
                 `pipeline.sql_client()`, so whatever dlt can load, the run path can settle

The run path's SQL is written once, DuckDB-style (`?` and `$name` parameters, `begin`,
`commit`); `ServerConnection` gives a dlt SQL client the same `execute(sql, params)`
shape, translating the parameters to the driver's style. It is tested on PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import dlt
from dlt.common.configuration.exceptions import ConfigFieldMissingException
from dlt.common.destination import Destination
from dlt.destinations.sql_client import SqlClientBase

from pipelines import warehouse
from pipelines.errors import ConfigError, WarehouseError

DUCKDB = "duckdb"
FILESYSTEM = "filesystem"


class DestinationUnreachable(WarehouseError):
    """A server destination refused the connection (down, wrong host, wrong password)."""


class Rows(Protocol):
    """What a statement returns: DuckDB's connection, or `ServerConnection`'s result."""

    def fetchall(self) -> list[Any]: ...

    def fetchone(self) -> Any: ...


class SqlConnection(Protocol):
    """The part of a DuckDB connection the run path uses; `ServerConnection` has it too."""

    def execute(self, query: str, parameters: Any = None) -> Rows: ...


def is_server(destination: str) -> bool:
    """A dlt destination other than the DuckDB file and the lake."""
    return destination not in (DUCKDB, FILESYSTEM)


def check_destination(name: str) -> str:
    """`name` if dlt knows a destination of that name, else a `ConfigError`."""
    if not is_server(name):
        return name
    try:
        Destination.from_reference(name)
    except Exception as exc:
        raise ConfigError(
            f"--destination {name!r} is not a dlt destination this installation has "
            f"({type(exc).__name__}). Use duckdb (the default), filesystem, or the name of a "
            "dlt destination whose package is installed (postgres, motherduck, snowflake, "
            "...), configured the dlt way (e.g. DESTINATION__POSTGRES__CREDENTIALS)."
        ) from None
    return name


def server_destination(name: str) -> Any:
    """dlt's destination `name`, replacing tables through staging in one transaction (a
    full refresh never shows a table empty), like the DuckDB warehouse. The old rows go by
    DELETE, not TRUNCATE: TRUNCATE takes an exclusive lock, so a reader's open transaction
    would hold up the run and the run would hold up every reader until it commits."""
    return Destination.from_reference(check_destination(name),
                                      replace_strategy="insert-from-staging",
                                      supports_truncate_command=False)


def credentials_key(destination: str) -> str:
    return f"DESTINATION__{destination.upper()}__CREDENTIALS"


@contextmanager
def open_client(pipeline: dlt.Pipeline) -> Iterator[SqlClientBase[Any]]:
    """dlt's SQL client of `pipeline`'s destination, connected; expected failures (no
    credentials, no SQL, no server) as `ClioSyncError`s that name no secret."""
    name = pipeline.destination.destination_name
    try:
        client = pipeline.sql_client()
    except ConfigFieldMissingException:
        raise ConfigError(
            f"The {name} destination has no credentials. Set {credentials_key(name)} (a "
            "connection string, e.g. postgresql://user:password@host:5432/database) in the "
            "environment or in .dlt/secrets.toml, as dlt reads them."
        ) from None
    except Exception as exc:
        if type(exc).__name__ != "SqlClientNotAvailable":
            raise
        raise ConfigError(
            f"The {name} destination has no SQL client, and a run keeps its watermarks and "
            "tombstones in SQL tables beside the data. Use duckdb, filesystem or a SQL "
            "destination (postgres, motherduck, snowflake, ...)."
        ) from None
    try:
        client.open_connection()
    except Exception as exc:
        raise DestinationUnreachable(
            f"Could not connect to the {name} destination: {_first_line(exc)}. Check that "
            f"the server runs and that {credentials_key(name)} names it (host, port, user, "
            "password, database)."
        ) from None
    try:
        yield client
    finally:
        client.close_connection()


@contextmanager
def connect(db: Path, destination: str = DUCKDB) -> Iterator[SqlConnection]:
    """A connection to where the raw tables are: the DuckDB file `db`, or the server."""
    if not is_server(destination):
        con = warehouse.connect(db)
        try:
            yield con
        finally:
            con.close()
        return
    from pipelines.clio.load import make_pipeline  # it imports this module

    with connect_pipeline(make_pipeline(db, destination), db) as server:
        yield server


@contextmanager
def connect_pipeline(pipeline: dlt.Pipeline, db: Path) -> Iterator[SqlConnection]:
    """A connection to `pipeline`'s destination (the warehouse file `db` for DuckDB's)."""
    if not is_server(pipeline.destination.destination_name):
        con = warehouse.connect(db)
        try:
            yield con
        finally:
            con.close()
        return
    with open_client(pipeline) as client:
        yield ServerConnection(client)


class _Result:
    def __init__(self, rows: list[tuple[Any, ...]] | None, rowcount: int) -> None:
        self._rows = rows
        self._rowcount = rowcount

    def fetchall(self) -> list[Any]:
        return list(self._rows or [])

    def fetchone(self) -> Any:
        if self._rows is None:  # a DELETE: DuckDB answers with the count, so do the same
            return (self._rowcount,)
        return self._rows[0] if self._rows else None


_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\$[A-Za-z_]\w*|\?|%|::|[^'\"$?%:]+|.",
                     re.S)


def translate(sql: str, parameters: Any, paramstyle: str) -> tuple[str, tuple[Any, ...]]:
    """DuckDB-style `sql` (`?`, `$name`) for a driver of `paramstyle`, with positional args."""
    if parameters is None:
        return sql, ()
    named = isinstance(parameters, Mapping)
    positional = iter(()) if named else iter(parameters)
    marker = "?" if paramstyle == "qmark" else "%s"
    out: list[str] = []
    args: list[Any] = []
    for token in _TOKENS.findall(sql):
        if token == "?":
            out.append(marker)
            args.append(next(positional))
        elif token.startswith("$") and named:
            out.append(marker)
            args.append(parameters[token[1:]])
        elif marker == "%s" and "%" in token:  # the driver reads % anywhere, quotes too
            out.append(token.replace("%", "%%"))
        else:
            out.append(token)
    return "".join(out), tuple(args)


class ServerConnection:
    """A dlt SQL client shaped like a DuckDB connection for the run path's statements.

    `begin`, `commit` and `rollback` go to the server as statements: dlt's clients run in
    autocommit between its own transactions, so they delimit one transaction there too.
    """

    def __init__(self, client: SqlClientBase[Any]) -> None:
        self.client = client
        self.paramstyle = str(getattr(client.dbapi, "paramstyle", "format"))

    def execute(self, query: str, parameters: Any = None) -> Rows:
        sql, args = translate(query, parameters, self.paramstyle)
        with self.client.execute_query(sql, *args) as cursor:
            rows = cursor.fetchall() if cursor.description else None
            rowcount = int(getattr(cursor, "rowcount", -1) or 0)
        return _Result(rows, rowcount)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
