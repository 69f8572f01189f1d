"""Where the models are built and read: the DuckDB file, or a PostgreSQL destination of dlt.

An `Engine` runs the models' DuckDB SQL on one connection: unchanged on DuckDB, transpiled
by `dialect.translate` elsewhere. The runner, the checks, the report settings and the
report queries take an engine (or a DuckDB connection, which they wrap), so every model
and query is written once.

`open_destination(name)` resolves `--destination NAME` the dlt way (`postgres` with
`DESTINATION__POSTGRES__CREDENTIALS`, or a named destination whose `destination_type` is
postgres) and connects with psycopg2, dlt's own driver for it. A reader connection
(`read_only=True`) is read-only by PostgreSQL's own means: every transaction is READ ONLY
(`default_transaction_read_only`, and psycopg2 opens each one so), and its role may not
touch the server's files (see `pipelines.readers`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, cast

import duckdb

from pipelines.errors import ClioSyncError, ConfigError
from pipelines.reports.dialect import translate
from pipelines.reports.schemas import DEFAULT, ModelSchemas

if TYPE_CHECKING:
    from dlt.common.configuration.specs import ConnectionStringCredentials

DUCKDB = "duckdb"
POSTGRES = "postgres"
# psycopg2 type codes (PostgreSQL type oids) -> the DuckDB names the output code reads.
_PG_TYPES = {16: "BOOLEAN", 20: "BIGINT", 21: "SMALLINT", 23: "INTEGER", 25: "VARCHAR",
             700: "FLOAT", 701: "DOUBLE", 1043: "VARCHAR", 1082: "DATE", 1114: "TIMESTAMP",
             1184: "TIMESTAMP WITH TIME ZONE", 1700: "DECIMAL"}


class Cursor(Protocol):
    """What the engines' `execute` returns: a DB-API cursor."""

    @property
    def description(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def fetchone(self) -> Any: ...


class DestinationUnavailable(ClioSyncError):
    """The destination could not be reached or is not one the models run on."""


class Engine:
    """One connection that runs DuckDB SQL, translated for its engine."""

    kind: str = DUCKDB  # the sqlglot dialect, and what the runner branches on
    label: str = "DuckDB"  # what messages call the warehouse
    errors: tuple[type[BaseException], ...] = (duckdb.Error,)
    schemas: ModelSchemas = DEFAULT  # whose schemas `clio.`, `reports.`... name (a firm's)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        """Run DuckDB SQL (`?` parameters), translated for this engine, its references to
        `clio`, `staging`, `intermediate` and `reports` aimed at `schemas`."""
        raise NotImplementedError

    def execute_native(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        """Run SQL already in this engine's dialect (`?` on DuckDB, `%s` on PostgreSQL)."""
        raise NotImplementedError

    def column_types(self, cursor: Cursor) -> list[str]:
        """The result's column types, by DuckDB's names (`DECIMAL(18,2)`, `DATE`...)."""
        return [str(d[1]) for d in cursor.description or []]

    def begin(self) -> None:
        self.execute_native("begin transaction")

    def commit(self) -> None:
        self.execute_native("commit")

    def rollback(self) -> None:
        self.execute_native("rollback")

    def close(self) -> None:
        raise NotImplementedError


class DuckDBEngine(Engine):
    """A DuckDB connection: the SQL runs as written."""

    def __init__(self, con: duckdb.DuckDBPyConnection, schemas: ModelSchemas = DEFAULT) -> None:
        self.con = con
        self.schemas = schemas

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        return self.con.execute(self.schemas.rename(sql), list(params))

    def execute_native(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        return self.con.execute(sql, list(params))

    def close(self) -> None:
        self.con.close()


class PostgresEngine(Engine):
    """A psycopg2 connection to PostgreSQL: DuckDB SQL is transpiled with sqlglot."""

    kind = POSTGRES

    def __init__(self, connection: Any, label: str) -> None:
        import psycopg2  # type: ignore[import-untyped]

        self.connection = connection
        self.label = label
        self.errors = (psycopg2.Error,)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        style = "pyformat" if params else "?"
        # renamed after the translation: the try_cast helper it names is per firm too
        return self.execute_native(self.schemas.rename(translate(sql, POSTGRES, style)), params)

    def execute_native(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        cursor = self.connection.cursor()
        # no parameters: psycopg2 leaves `%` alone only when given none at all
        cursor.execute(sql, tuple(params) if params else None)
        return cursor  # type: ignore[no-any-return]

    def column_types(self, cursor: Cursor) -> list[str]:
        types = []
        for column in cursor.description or []:
            name = _PG_TYPES.get(column.type_code, "VARCHAR")
            # numeric without a type modifier: psycopg2 gives 65535 for both
            if name == "DECIMAL" and column.precision and column.precision <= 1000:
                name = f"DECIMAL({column.precision},{column.scale})"
            types.append(name)
        return types

    def begin(self) -> None:
        """Nothing to send: psycopg2 opens a transaction at the first statement (autocommit
        is off), and one already open (settings applied) becomes the caller's."""

    def commit(self) -> None:
        self.connection.commit()

    def rollback(self) -> None:
        self.connection.rollback()

    def close(self) -> None:
        self.connection.close()


def as_engine(
    con: duckdb.DuckDBPyConnection | Engine, schemas: ModelSchemas | None = None
) -> Engine:
    """An engine for `con`: itself, or a DuckDB connection wrapped; aimed at `schemas` (a
    firm's) when given."""
    engine = con if isinstance(con, Engine) else DuckDBEngine(con)
    if schemas is not None:
        engine.schemas = schemas
    return engine


def open_destination(name: str, read_only: bool = False, lock_timeout: float = 10.0) -> Engine:
    """Connect to the dlt destination `name` (PostgreSQL), configured the dlt way.

    Args:
        read_only: every transaction of the connection is READ ONLY.
        lock_timeout: seconds a statement waits for a lock (another build's) before failing.

    Raises:
        ConfigError: no such destination, or its credentials are not configured.
        DestinationUnavailable: not a PostgreSQL destination, or the server refused us.
    """
    credentials = _credentials(name)
    import psycopg2

    label = f"PostgreSQL (destination {name})"
    options = [f"-c lock_timeout={int(lock_timeout * 1000)}"]
    if read_only:
        options.append("-c default_transaction_read_only=on")
    try:
        connection = psycopg2.connect(
            dsn=credentials.to_native_representation(), options=" ".join(options)
        )
    except psycopg2.Error as exc:
        raise DestinationUnavailable(
            f"Could not connect to {label} at {credentials.host}:{credentials.port}: "
            f"{' '.join(str(exc).split())} Check that the server is running and that "
            f"DESTINATION__{name.upper()}__CREDENTIALS (or [destination.{name}] credentials in "
            ".dlt/secrets.toml) names it, its database and a role that may log in."
        ) from None
    if read_only:
        connection.set_session(readonly=True)  # BEGIN READ ONLY, whatever the session says
    return PostgresEngine(connection, label)


def runs_models(name: str) -> bool:
    """Whether the models are built on the dlt destination `name` (PostgreSQL ones)."""
    from dlt.common.destination.reference import Destination

    try:
        destination = Destination.from_reference(name)
    except Exception:  # an unknown name: open_destination says so, clearly
        return True
    return destination is not None and _runs_models(destination)


def _runs_models(destination: Any) -> bool:
    kind = destination.destination_type.rsplit(".", 1)[-1]
    return bool(destination.capabilities().sqlglot_dialect == POSTGRES and kind == POSTGRES)


def _credentials(name: str) -> ConnectionStringCredentials:
    from dlt.common.configuration.exceptions import ConfigurationException
    from dlt.common.destination.exceptions import UnknownDestinationModule
    from dlt.common.destination.reference import Destination

    try:
        destination = Destination.from_reference(name)
    except UnknownDestinationModule:
        raise ConfigError(
            f"There is no dlt destination {name!r}. Give --destination the name of one: "
            "postgres (configured by DESTINATION__POSTGRES__CREDENTIALS), or a name of your "
            f"own with DESTINATION__{name.upper()}__DESTINATION_TYPE=postgres and "
            f"DESTINATION__{name.upper()}__CREDENTIALS."
        ) from None
    assert destination is not None
    kind = destination.destination_type.rsplit(".", 1)[-1]
    if not _runs_models(destination):
        raise DestinationUnavailable(
            f"The destination {name!r} is of type {kind}; the SQL models, reports and "
            "`clio-sync sql` run on the DuckDB file (--db) and on PostgreSQL destinations. "
            "Sync into one of those, or read this destination with its own tools."
        )
    try:
        # the raw tables' schema; the models' schemas are named in their SQL
        initial = destination.spec()
        initial.dataset_name = "clio"  # type: ignore[attr-defined]
        config = destination.configuration(initial)
    except ConfigurationException as exc:
        raise ConfigError(
            f"The destination {name!r} is not configured: {' '.join(str(exc).split()[:40])} "
            f"Set DESTINATION__{name.upper()}__CREDENTIALS to a connection string such as "
            "postgresql://user:password@host:5432/database (or put it in .dlt/secrets.toml "
            f"under [destination.{name}])."
        ) from None
    return cast("ConnectionStringCredentials", config.credentials)
