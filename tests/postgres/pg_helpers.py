"""Reading what a run left in PostgreSQL, in the shape `sync_helpers` compares with the truth."""

from __future__ import annotations

from typing import Any

import psycopg2
from sync_helpers import _order, expected_tables

from pipelines.clio.column_types import STORAGE
from pipelines.clio.endpoints import BY_TABLE, Endpoint
from pipelines.clio.rows import child_columns, child_table

# How PostgreSQL's information_schema names each catalog column type
PG_TYPES = {
    "money": ("numeric", 18, 2),
    "decimal": ("numeric", 28, 10),
    "timestamp": ("timestamp with time zone", None, None),
    "date": ("date", None, None),
    "bigint": ("bigint", None, None),
    "double": ("double precision", None, None),
    "bool": ("boolean", None, None),
    "text": ("character varying", None, None),
}
assert set(PG_TYPES) == set(STORAGE)


def pg_query(dsn: str, sql: str, params: Any = None) -> list[tuple]:
    conn = psycopg2.connect(dsn, connect_timeout=10)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall() if cur.description else []
        conn.commit()
        return rows
    finally:
        conn.close()


def _select(dsn: str, table: str, columns: list[str]) -> list[dict]:
    exists = pg_query(dsn, "select count(*) from information_schema.tables "
                           "where table_schema = 'clio' and table_name = %s", [table])[0][0]
    if not exists:
        return []
    quoted = ", ".join(f'"{c}"' for c in columns)
    return [dict(zip(columns, row, strict=True))
            for row in pg_query(dsn, f'select {quoted} from clio."{table}"')]


def stored_tables_pg(dsn: str, endpoint: Endpoint) -> dict[str, list[dict]]:
    tables = {endpoint.table: _select(dsn, endpoint.table, list(endpoint.columns))}
    for child in endpoint.children:
        name = child_table(endpoint, child)
        tables[name] = _select(dsn, name, list(child_columns(child)))
    return _order(endpoint, tables)


def assert_pg_matches_truth(sb, dsn: str, tables: list[str] | None = None) -> None:
    """Every synced table in PostgreSQL equals the sandbox's truth, field for field."""
    for name in tables or list(BY_TABLE):
        endpoint = BY_TABLE[name]
        expected, stored = expected_tables(sb, endpoint), stored_tables_pg(dsn, endpoint)
        for table, rows in expected.items():
            assert len(stored[table]) == len(rows), f"{table}: row count differs"
            for got, want in zip(stored[table], rows, strict=True):
                assert got == want, f"{table} id={want.get('id')}: stored row differs"


def column_types(dsn: str) -> dict[tuple[str, str], tuple[str, int | None, int | None]]:
    """(table, column) -> (data_type, numeric_precision, numeric_scale) of schema clio."""
    rows = pg_query(dsn, "select table_name, column_name, data_type, numeric_precision, "
                         "numeric_scale from information_schema.columns "
                         "where table_schema = 'clio'")
    return {(t, c): (kind, p if kind == "numeric" else None, s if kind == "numeric" else None)
            for t, c, kind, p, s in rows}


def expected_column_types() -> dict[tuple[str, str], tuple[str, int | None, int | None]]:
    """Every catalog column, typed as PostgreSQL must store it."""
    wanted = {}
    for endpoint in BY_TABLE.values():
        for name, kind in endpoint.columns.items():
            wanted[(endpoint.table, name)] = PG_TYPES[kind]
        for child in endpoint.children:
            for name, kind in child_columns(child).items():
                wanted[(child_table(endpoint, child), name)] = PG_TYPES[kind]
    return wanted
