"""Give an existing warehouse's decimal columns the catalog's wider types, before a load.

dlt creates a column once and never changes its type: when a column hint changes it
updates its own schema and loads the new values into the old column, which DuckDB then
casts. Warehouses written before rates, prices, quantities and tax rates were exact
hold them as DOUBLE or DECIMAL(18,2), so a price of 312.125 would be rounded to 312.13.
`widen_columns` runs before every load into DuckDB (`load.make_pipeline`) and alters,
in schema `clio` and in dlt's staging schema, every catalog column typed money/decimal
whose stored type is narrower:

    DECIMAL(p,s) -> DECIMAL(P,S)   when s <= S and p - s <= P - S: always exact
    DOUBLE       -> DECIMAL(P,S)   when every stored value is exactly a number of S
                                   decimals, read as its shortest repr (what Clio sent,
                                   as the sync reads a float); else `ValueDoesNotFit`
                                   naming the first such row, and nothing is altered

in one transaction. Any other difference is left to the models, which cast every raw
column to its catalog type (`reports/raw_tables.py`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipelines import warehouse
from pipelines.clio.column_types import STORAGE
from pipelines.clio.endpoints import ENDPOINTS, ColumnType
from pipelines.clio.rows import child_columns, child_field, child_table
from pipelines.clio.values import Unfit, ValueDoesNotFit, exact_decimal

log = logging.getLogger(__name__)

SCHEMAS = ("clio", "clio_staging")  # the dataset and dlt's staging dataset for merges
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")
_BINARY = ("DOUBLE", "FLOAT", "REAL")


@dataclass(frozen=True)
class _Column:
    """A catalog column typed money or decimal, and how an error names its rows."""

    table: str  # raw table
    column: str
    kind: ColumnType
    endpoint: str  # the endpoint's table, for messages
    field: str  # `rate`, or `balances[].amount` for a child's column
    key: str  # the column holding the record id: `id`, or the parent's id for a child


def _decimal_columns() -> dict[tuple[str, str], _Column]:
    found: dict[tuple[str, str], _Column] = {}
    for ep in ENDPOINTS:
        for name, kind in ep.columns.items():
            found[(ep.table, name)] = _Column(ep.table, name, kind, ep.table, name, "id")
        for child in ep.children:
            table = child_table(ep, child)
            for name, kind in child_columns(child).items():
                found[(table, name)] = _Column(table, name, kind, ep.table, child_field(child, name),
                                               child.parent_key)
    return {key: col for key, col in found.items() if STORAGE[col.kind].precision is not None}


DECIMAL_COLUMNS = _decimal_columns()


def widen_columns(db: Path) -> list[str]:
    """Widen `db`'s narrower decimal columns in place; returns what changed (also logged).

    The caller holds the writer lock. A missing file is left alone (dlt creates it).

    Raises:
        ValueDoesNotFit: a stored DOUBLE value the wider DECIMAL cannot hold exactly.
    """
    if not db.exists():
        return []
    con = warehouse.connect(db)
    try:
        plan = [(schema, col, present) for schema, col, present in _present(con) if _narrower(present, col.kind)]
        if not plan:
            return []
        con.execute("begin")
        try:
            changes = [_widen(con, schema, col, present) for schema, col, present in plan]
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    finally:
        con.close()
    for change in changes:
        log.info("widened %s", change)
    return changes


def _present(con: duckdb.DuckDBPyConnection) -> list[tuple[str, _Column, str]]:
    rows = con.execute(
        "select table_schema, table_name, column_name, data_type from information_schema.columns "
        f"where table_schema in ({', '.join('?' for _ in SCHEMAS)})", list(SCHEMAS),
    ).fetchall()
    return [(schema, DECIMAL_COLUMNS[(table, column)], kind) for schema, table, column, kind in rows
            if (table, column) in DECIMAL_COLUMNS]


def _narrower(present: str, kind: ColumnType) -> bool:
    """Whether a column stored as `present` must widen to `kind` (and can without loss)."""
    target = STORAGE[kind]
    assert target.precision is not None and target.scale is not None
    if present.upper() in _BINARY:
        return True
    match = _DECIMAL.fullmatch(present.upper())
    if not match:
        return False  # text or another type: the models cast it
    precision, scale = int(match[1]), int(match[2])
    if (precision, scale) == (target.precision, target.scale):
        return False
    return scale <= target.scale and precision - scale <= target.precision - target.scale


def _quoted(*names: str) -> str:
    return ".".join('"' + name.replace('"', '""') + '"' for name in names)


def _widen(con: duckdb.DuckDBPyConnection, schema: str, col: _Column, present: str) -> str:
    target = STORAGE[col.kind]
    table, column = _quoted(schema, col.table), _quoted(col.column)
    binary = present.upper() in _BINARY
    if binary:
        expected = _exact_values(con, table, col)
        using = f" using cast(cast({column} as varchar) as {target.duckdb})"  # its shortest repr
    else:
        using = ""
    con.execute(f"alter table {table} alter column {column} set data type {target.duckdb}{using}")
    if binary:
        stored = {value for (value,) in con.execute(f"select distinct {column} from {table}").fetchall()}
        if stored != expected:  # DuckDB's repr of a double disagreed with Python's
            raise RuntimeError(f"widening {schema}.{col.table}.{col.column} changed its values")
    return f"{schema}.{col.table}.{col.column}: {present} -> {target.duckdb}"


def _exact_values(con: duckdb.DuckDBPyConnection, table: str, col: _Column) -> set[Any]:
    """The distinct stored values as exact Decimals, converted as a sync converts a float."""
    target = STORAGE[col.kind]
    assert target.precision is not None and target.scale is not None
    rows = con.execute(
        f"select {_quoted(col.column)}, min({_quoted(col.key)}) from {table} "
        f"where {_quoted(col.column)} is not null group by 1"
    ).fetchall()
    exact: set[Any] = set()
    for value, record_id in rows:
        try:
            exact.add(exact_decimal(value, target.precision, target.scale))
        except Unfit as unfit:
            raise ValueDoesNotFit(col.endpoint, col.field, record_id, value, col.kind,
                                  f"is stored as DOUBLE and {unfit.reason}") from None
    return exact | ({None} if _has_nulls(con, table, col) else set())


def _has_nulls(con: duckdb.DuckDBPyConnection, table: str, col: _Column) -> bool:
    found = con.execute(f"select 1 from {table} where {_quoted(col.column)} is null limit 1").fetchone()
    return found is not None
