"""Build the SQL models in `sql/` as views (and table macros) in DuckDB.

Models are the files under `sql/staging`, `sql/intermediate` and `sql/reports`, one
SELECT each, named after the view it defines (`sql/reports/paid_bills.sql` ->
`reports.paid_bills`). The build order comes from the references in the SQL itself
(`staging.x`, `intermediate.y`, `reports.z`), not from a hand-kept list. A file whose
first lines hold `-- params: a, b` becomes a table macro `schema.name(a, b)`.

Every build is one transaction of `create or replace`: a broken model raises
`ModelBuildError` naming its file and DuckDB's message, and leaves the previous models
as they were. Views whose file is gone are dropped; finding no model file at all is an
error (an incomplete installation), never a reason to drop every view.

The files ship inside the package as `pipelines/sql` (in a checkout, a link to the
top-level `sql/`), read through `importlib.resources`, so an installed wheel, an sdist
build and an editable checkout all read the same models.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from importlib.resources import files
from importlib.resources.abc import Traversable

import duckdb

from pipelines.errors import ClioSyncError
from pipelines.reports.raw_tables import CATALOGS, raw_relation

SQL_DIR: Traversable = files("pipelines") / "sql"
LAYERS = ("staging", "intermediate", "reports")

_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
_MODEL_REF = re.compile(r"\b(staging|intermediate|reports)\.([a-z_][a-z0-9_]*)\b", re.IGNORECASE)
_RAW_REF = re.compile(r"\b(clio|grow)\.([a-z_][a-z0-9_]*)\b", re.IGNORECASE)
_PARAMS = re.compile(r"^\s*--\s*params:\s*(.+)$", re.MULTILINE)


class ModelBuildError(ClioSyncError):
    """A SQL model could not be built."""


@dataclass(frozen=True)
class Model:
    """One SQL file: the view (or table macro) `schema.name` it defines."""

    schema: str
    name: str
    path: Traversable
    sql: str
    params: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def body(self) -> str:
        """The SQL without comments, where references are looked for."""
        return _COMMENT.sub(" ", self.sql)

    @property
    def refs(self) -> set[str]:
        return {f"{s.lower()}.{n.lower()}" for s, n in _MODEL_REF.findall(self.body)}

    @property
    def raw_refs(self) -> set[str]:
        """`clio.bills`, `grow.matters`, ...: the raw tables the model reads."""
        return {f"{s.lower()}.{name.lower()}" for s, name in _RAW_REF.findall(self.body)}


def read_model(path: Traversable, schema: str) -> Model:
    """Parse one model file (`-- params: a, b` in its header makes it a table macro)."""
    sql = path.read_text(encoding="utf-8").strip().rstrip(";")
    params_line = _PARAMS.search(sql)
    params = tuple(p.strip() for p in params_line.group(1).split(",")) if params_line else ()
    name = path.name.removesuffix(".sql")
    return Model(schema=schema, name=name, path=path, sql=sql, params=params)


def sql_files(folder: Traversable) -> list[Traversable]:
    """The `.sql` files of `folder` by name; none when it does not exist."""
    if not folder.is_dir():
        return []
    return sorted((f for f in folder.iterdir() if f.name.endswith(".sql") and f.is_file()),
                  key=lambda f: f.name)


def discover_models(sql_dir: Traversable = SQL_DIR) -> list[Model]:
    """Every model file under the layer folders of `sql_dir`, in no particular order."""
    return [read_model(path, layer) for layer in LAYERS for path in sql_files(sql_dir / layer)]


def build_order(models: list[Model]) -> list[Model]:
    """The models sorted so each comes after the models it references."""
    by_key = {m.key: m for m in models}
    graph = {m.key: {ref for ref in m.refs if ref in by_key and ref != m.key} for m in models}
    try:
        ordered = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise ModelBuildError(
            f"The SQL models reference each other in a cycle ({cycle}). A model can only "
            "select from models of its own or an earlier layer that do not select from it; "
            "break the cycle in one of those files."
        ) from None
    return [by_key[key] for key in ordered]


def build_models(con: duckdb.DuckDBPyConnection, sql_dir: Traversable | None = None) -> list[str]:
    """Create or replace every model of `sql_dir` (default: the models shipped in the package).

    Returns:
        The models built, as `schema.name`, in build order.

    Raises:
        ModelBuildError: no model file was found, or a model failed (its file and DuckDB's
            message are named); either way nothing was changed.
    """
    folder = sql_dir or SQL_DIR
    found = discover_models(folder)
    if not found:
        raise ModelBuildError(
            f"No SQL models were found in {folder} (expected .sql files under "
            f"{', '.join(LAYERS)}), so nothing was built and the existing views were left "
            "as they were. The installation is incomplete: reinstall clio-sync (pip install "
            "--force-reinstall clio-sync), or in a checkout restore the sql/ folder."
        )
    models = build_order(found)
    cur = con.cursor()  # its own transaction, whatever the caller's connection is doing
    try:
        cur.execute("begin transaction")
        raw_columns = _raw_columns(cur)
        for schema in LAYERS:
            cur.execute(f"create schema if not exists {schema}")
        _drop_stale(cur, {m.key for m in models})
        for model in models:
            _build(cur, model, raw_columns)
        cur.execute("commit")
    except BaseException:
        cur.execute("rollback")
        raise
    finally:
        cur.close()
    return [m.key for m in models]


def _build(cur: duckdb.DuckDBPyConnection, model: Model, raw: dict[str, dict[str, str]]) -> None:
    sql = _RAW_REF.sub(lambda m: _raw_relation_for(m.group(1), m.group(2), raw, model),
                       model.body)
    if model.params:
        ddl = f"create or replace macro {model.key}({', '.join(model.params)}) as table {sql}"
    else:
        ddl = f"create or replace view {model.key} as {sql}"
    try:
        cur.execute(ddl)
    except duckdb.Error as exc:
        raise ModelBuildError(
            f"The SQL model {_display(model.path)} ({model.key}) did not build: "
            f"{_first_lines(str(exc))} Fix that file and run `clio-sync models` again; "
            "the models were left as they were before this build."
        ) from None


def _raw_relation_for(schema: str, table: str, raw: dict[str, dict[str, str]],
                      model: Model) -> str:
    schema, table = schema.lower(), table.lower()
    catalog = CATALOGS[schema]
    if table not in catalog:
        where = "pipelines/grow/catalog.py" if schema == "grow" else "pipelines/clio/endpoints.py"
        raise ModelBuildError(
            f"The SQL model {_display(model.path)} reads {schema}.{table}, which is not a table "
            f"of the endpoint catalog ({where}). Read one of its tables instead: "
            f"{', '.join(sorted(catalog))}."
        )
    return raw_relation(table, raw.get(f"{schema}.{table}"), schema)


def _raw_columns(cur: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """Columns of every raw table, by `schema.table`."""
    rows = cur.execute(
        "select table_schema, table_name, column_name, data_type from information_schema.columns "
        "where table_schema in ('clio', 'grow') and table_catalog = current_database()"
    ).fetchall()
    tables: dict[str, dict[str, str]] = {}
    for schema, table, column, kind in rows:
        tables.setdefault(f"{schema}.{table.lower()}", {})[column] = kind
    return tables


def _drop_stale(cur: duckdb.DuckDBPyConnection, keys: set[str]) -> None:
    views = cur.execute(
        "select schema_name, view_name from duckdb_views() "
        "where database_name = current_database() and schema_name in ?",
        [list(LAYERS)],
    ).fetchall()
    for schema, name in views:
        if f"{schema}.{name}" not in keys:
            cur.execute(f'drop view "{schema}"."{name}"')
    macros = cur.execute(
        "select distinct schema_name, function_name from duckdb_functions() "
        "where database_name = current_database() and schema_name in ? "
        "and function_type = 'table_macro'",
        [list(LAYERS)],
    ).fetchall()
    for schema, name in macros:
        if f"{schema}.{name}" not in keys:
            cur.execute(f'drop macro table "{schema}"."{name}"')


def _display(path: Traversable) -> str:
    """`sql/<layer>/<file>` for a shipped model, the full path for any other."""
    shipped = str(SQL_DIR)
    text = str(path)
    return "sql" + text[len(shipped):] if text.startswith(shipped + "/") else text


def _first_lines(message: str, limit: int = 600) -> str:
    text = " ".join(message.split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text if text.endswith((".", "…")) else text + "."
