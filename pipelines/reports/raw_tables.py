"""How the SQL models see the raw tables in schemas `clio` and `grow`.

Staging models read `clio.<table>` (and `grow.<table>` for Clio Grow). The runner swaps each such reference for a typed
projection of the catalog's columns (`pipelines/clio/endpoints.py`), so a model always
sees every column with its catalog type: a table not synced yet reads as empty, a column
dlt never created (every value was null) reads as null, and a column typed differently
is cast once, here.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipelines.clio.column_types import STORAGE
from pipelines.clio.endpoints import ENDPOINTS, Endpoint
from pipelines.clio.rows import child_columns, child_table
from pipelines.grow.catalog import ENDPOINTS as GROW_ENDPOINTS


def _catalog(endpoints: Sequence[Endpoint] = ENDPOINTS) -> dict[str, dict[str, str]]:
    tables: dict[str, dict[str, str]] = {}
    for endpoint in endpoints:
        tables[endpoint.table] = {
            name: STORAGE[kind].duckdb for name, kind in endpoint.columns.items()
        }
        for child in endpoint.children:
            columns = child_columns(child)
            tables[child_table(endpoint, child)] = {name: STORAGE[kind].duckdb for name, kind in columns.items()}
    return tables


RAW_TABLES: dict[str, dict[str, str]] = _catalog()
"""Raw table name -> column -> DuckDB type, for every table the catalog defines."""
GROW_TABLES: dict[str, dict[str, str]] = _catalog(GROW_ENDPOINTS)
"""The same for schema `grow` (the Grow source's catalog, `pipelines/grow/catalog.py`)."""
CATALOGS: dict[str, dict[str, dict[str, str]]] = {"clio": RAW_TABLES, "grow": GROW_TABLES}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def raw_relation(table: str, present: dict[str, str] | None, schema: str = "clio",
                 where: str | None = None) -> str:
    """A parenthesised SELECT standing in for `clio.<table>` (or `grow.<table>`) in a model,
    aliased as the table (PostgreSQL wants an alias on a subquery in FROM).

    Args:
        table: a raw table of the schema's catalog.
        present: the table's columns in the warehouse (name -> DuckDB type), or None when
            the table does not exist (Grow never synced: its tables read as empty).
        schema: `clio` or `grow`.
        where: the schema that holds it (a firm's `clio_<name>`), if not `schema`.
    """
    wanted = CATALOGS[schema][table]
    if present is None:
        columns = ", ".join(f"cast(null as {kind}) as {_quote(name)}" for name, kind in wanted.items())
        return f"(select {columns} limit 0) as {_quote(table)}"
    present_lower = {name.lower(): name for name in present}
    parts = []
    for name, kind in wanted.items():
        actual = present_lower.get(name.lower())
        if actual is None:
            parts.append(f"cast(null as {kind}) as {_quote(name)}")
        elif _same_type(present[actual], kind):
            parts.append(_quote(actual))
        else:
            parts.append(f"cast({_quote(actual)} as {kind}) as {_quote(name)}")
    return f"(select {', '.join(parts)} from {where or schema}.{_quote(table)}) as {_quote(table)}"


def _same_type(actual: str, wanted: str) -> bool:
    """Whether type names `actual` (DuckDB's or PostgreSQL's, as information_schema gives
    them) and `wanted` (DuckDB's) are one type, spelling aside. PostgreSQL's `numeric` has
    no precision there, so it is cast to the catalog's (an exact, lossless cast)."""
    return _normal(actual) == _normal(wanted)


def _normal(name: str) -> str:
    name = name.upper().replace(" ", "")
    return {"TIMESTAMPWITHTIMEZONE": "TIMESTAMPTZ", "CHARACTERVARYING": "VARCHAR", "TEXT": "VARCHAR",
            "DOUBLEPRECISION": "DOUBLE"}.get(name, name)
