"""Helpers of the Grow source tests: settings for a sandbox, the truth typed as the sync
types it, and what the warehouse holds."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import duckdb

from pipelines.clio.rows import child_columns, child_table, flatten
from pipelines.grow.catalog import BY_TABLE, RESOURCES, GrowResource
from pipelines.grow.config import GrowSettings, load_grow_settings
from pipelines.grow.source import prepare
from pipelines.sandbox.grow.options import GrowOptions

GROW_APP = {"client_id": "grow-sandbox", "client_secret": "grow-sandbox-secret"}
FAST = {"requests_per_second": 1000.0, "max_attempts": 4, "backoff_base": 0.01,
        "backoff_cap": 0.05}
UNTHROTTLED = GrowOptions(rate_limit=None, page_size=40)


def grow_settings(sb, tmp_path: Path, scopes: list[str] | None = None,
                  **overrides: Any) -> GrowSettings:
    """Settings of a Grow connection to sandbox `sb`, with a fresh token pair and store."""
    pair = sb.grow.token(scopes=scopes)
    values = {**GROW_APP, **FAST, "refresh_token": pair["refresh_token"],
              "access_token": pair["access_token"], **overrides}
    return load_grow_settings(base_url=sb.base_url, token_store=tmp_path / "grow-token.json",
                              **values)


def grow_env(sb, tmp_path: Path, scopes: list[str] | None = None) -> dict[str, str]:
    """Environment variables that point a `clio-sync` process's Grow source at `sb`."""
    pair = sb.grow.token(scopes=scopes)
    return {
        "SOURCES__GROW__BASE_URL": sb.base_url,
        "SOURCES__GROW__TOKEN_STORE": str(tmp_path / "grow-token.json"),
        "SOURCES__GROW__CREDENTIALS__CLIENT_ID": GROW_APP["client_id"],
        "SOURCES__GROW__CREDENTIALS__CLIENT_SECRET": GROW_APP["client_secret"],
        "SOURCES__GROW__CREDENTIALS__REFRESH_TOKEN": pair["refresh_token"],
        "SOURCES__GROW__CREDENTIALS__ACCESS_TOKEN": pair["access_token"],
        "SOURCES__GROW__REQUESTS_PER_SECOND": "1000",
    }


def _sorted(rows: list[dict], keys: tuple[str, ...]) -> list[dict]:
    return sorted(rows, key=lambda r: tuple(-1 if r[k] is None else r[k] for k in keys))


def expected_tables(sb, resource: GrowResource) -> dict[str, list[dict]]:
    """Grow's truth for `resource`, typed as the sync types it: {table: rows}."""
    endpoint = resource.endpoint
    tables: dict[str, list[dict]] = {endpoint.table: []}
    tables.update({child_table(endpoint, child): [] for child in endpoint.children})
    for record in sb.grow.truth(endpoint.table):
        root, children = flatten(endpoint, prepare(resource, copy.deepcopy(record)))
        tables[endpoint.table].append(root)
        for name, rows in children.items():
            tables[name].extend(rows)
    return _order(resource, tables)


def stored_tables(db: Path, resource: GrowResource) -> dict[str, list[dict]]:
    endpoint = resource.endpoint
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = {endpoint.table: _select(con, endpoint.table, list(endpoint.columns))}
        for child in endpoint.children:
            name = child_table(endpoint, child)
            tables[name] = _select(con, name, list(child_columns(child)))
    finally:
        con.close()
    return _order(resource, tables)


def _select(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> list[dict]:
    quoted = ", ".join(f'"{c}"' for c in columns)
    cursor = con.execute(f'select {quoted} from grow."{table}"')
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _order(resource: GrowResource, tables: dict[str, list[dict]]) -> dict[str, list[dict]]:
    endpoint = resource.endpoint
    ordered = {endpoint.table: _sorted(tables[endpoint.table], ("id",))}
    for child in endpoint.children:
        name = child_table(endpoint, child)
        ordered[name] = _sorted(tables[name], (child.parent_key, "id"))
    return ordered


def assert_matches_truth(sb, db: Path, tables: list[str] | None = None) -> None:
    """Every Grow table (default: all but the notes) equals the sandbox's truth, row for row
    and field for field."""
    for name in tables or [r.table for r in RESOURCES if r.parent is None]:
        resource = BY_TABLE[name]
        expected, stored = expected_tables(sb, resource), stored_tables(db, resource)
        for table, rows in expected.items():
            assert len(stored[table]) == len(rows), f"{table}: {len(stored[table])} rows, " \
                f"truth has {len(rows)}"
            for got, want in zip(stored[table], rows, strict=True):
                assert got == want, f"{table} id={want.get('id')}: {got} != {want}"


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def requests_to(sb, part: str) -> list[dict]:
    return [r for r in sb.stats()["requests"] if part in r["path"]]
