"""Helpers of the sync tests (imported by the test modules; `conftest.py` puts this
folder on `sys.path`)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.clio.config import ClioSettings, load_settings
from pipelines.clio.endpoints import BY_TABLE, Endpoint
from pipelines.clio.rows import child_columns, child_table, flatten

SANDBOX_APP = {"client_id": "sandbox", "client_secret": "sandbox-secret"}


def settings_for(sb, tmp_path: Path, **overrides) -> ClioSettings:
    """Settings of a connection to sandbox `sb`, with a fresh token store under tmp_path."""
    token = sb.token()
    return load_settings(
        base_url=sb.base_url,
        region="us",
        api="manage",
        token_store=tmp_path / "token.json",
        refresh_token=token["refresh_token"],
        access_token=token["access_token"],
        **SANDBOX_APP,
        **overrides,
    )


def sandbox_env(sb, tmp_path: Path) -> dict[str, str]:
    """Environment variables that point a `clio-sync` subprocess at sandbox `sb`."""
    token = sb.token()
    return {
        "SOURCES__CLIO__BASE_URL": sb.base_url,
        "SOURCES__CLIO__REGION": "us",
        "SOURCES__CLIO__API": "manage",
        "SOURCES__CLIO__TOKEN_STORE": str(tmp_path / "token.json"),
        "SOURCES__CLIO__CREDENTIALS__CLIENT_ID": SANDBOX_APP["client_id"],
        "SOURCES__CLIO__CREDENTIALS__CLIENT_SECRET": SANDBOX_APP["client_secret"],
        "SOURCES__CLIO__CREDENTIALS__REFRESH_TOKEN": token["refresh_token"],
        "SOURCES__CLIO__CREDENTIALS__ACCESS_TOKEN": token["access_token"],
    }


BY_PATH: dict[str, Endpoint] = {e.path: e for e in BY_TABLE.values()}


def walk_key(endpoint: Endpoint, params: dict) -> tuple[tuple[str, str], ...]:
    """The walk a request belongs to: its values of the endpoint's walk filters.
    `params` is a walk's filters or a parsed query string (values as lists)."""
    names = {name for walk in endpoint.walks for name in walk}
    values = {k: v[0] if isinstance(v, list) else v for k, v in params.items() if k in names}
    return tuple(sorted(values.items()))


def _filter_matches(record: dict, name: str, wanted: str) -> bool:
    value = record.get(name)
    return (str(value).lower() if isinstance(value, bool) else str(value)) == wanted


# Tables whose records the firm's life deletes outright: Clio's index stops listing them,
# so only `reconcile` (or a webhook) removes them from the warehouse.
DELETED_OUTRIGHT = ("activities", "contacts", "matters", "tasks", "calendar_entries", "notes",
                    "communications", "relationships")

# What the sandbox's plain index hides, of what an extra filter lists (Clio leaves it open):
# deleted and void bills; deleted custom fields are listed by both.
PLAIN_INDEX_HIDES = {"bills": ({"state": "deleted"}, {"state": "void"})}


def listed_by_walk(endpoint: Endpoint, walk: dict, record: dict) -> bool:
    """Whether Clio (the sandbox) lists `record` in the walk with filters `walk`: filters
    select, and the plain index hides what `PLAIN_INDEX_HIDES` says."""
    if not all(_filter_matches(record, k, v) for k, v in walk.items()):
        return False
    extra_names = {name for extra in endpoint.extra_filters for name in extra}
    if extra_names & set(walk):
        return True
    return not any(all(_filter_matches(record, k, v) for k, v in hidden.items())
                   for hidden in PLAIN_INDEX_HIDES.get(endpoint.table, ()))


def _sorted_rows(rows: list[dict], keys: tuple[str, ...]) -> list[dict]:
    return sorted(rows, key=lambda r: tuple(-1 if r[k] is None else r[k] for k in keys))


def expected_tables(sb, endpoint: Endpoint) -> dict[str, list[dict]]:
    """Clio's truth for `endpoint`, typed as the sync types it: {table: rows}."""
    tables: dict[str, list[dict]] = {endpoint.table: []}
    for child in endpoint.children:
        tables[child_table(endpoint, child)] = []
    for record in sb.truth(endpoint.table):
        root, children = flatten(endpoint, record)
        tables[endpoint.table].append(root)
        for name, rows in children.items():
            tables[name].extend(rows)
    return _order(endpoint, tables)


def stored_tables(db: Path, endpoint: Endpoint) -> dict[str, list[dict]]:
    """What the warehouse holds for `endpoint` (catalog columns only): {table: rows}."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = {endpoint.table: _select(con, endpoint.table, list(endpoint.columns))}
        for child in endpoint.children:
            name = child_table(endpoint, child)
            tables[name] = _select(con, name, list(child_columns(child)))
    finally:
        con.close()
    return _order(endpoint, tables)


def _select(con, table: str, columns: list[str]) -> list[dict]:
    """The rows of `clio.<table>` (none when no run ever loaded a row into it)."""
    exists = con.execute("select count(*) from information_schema.tables "
                         "where table_schema = 'clio' and table_name = ?", [table]).fetchone()[0]
    if not exists:
        return []
    quoted = ", ".join(f'"{c}"' for c in columns)  # `default`, `order` are SQL keywords
    cursor = con.execute(f'select {quoted} from clio."{table}"')
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _order(endpoint: Endpoint, tables: dict[str, list[dict]]) -> dict[str, list[dict]]:
    ordered = {endpoint.table: _sorted_rows(tables[endpoint.table], ("id",))}
    for child in endpoint.children:
        name = child_table(endpoint, child)
        ordered[name] = _sorted_rows(tables[name], (child.parent_key, "id"))
    return ordered


def assert_matches_truth(sb, db: Path, tables: list[str] | None = None) -> None:
    """Every synced table equals the sandbox's truth, row for row and field for field."""
    for name in tables or list(BY_TABLE):
        endpoint = BY_TABLE[name]
        expected, stored = expected_tables(sb, endpoint), stored_tables(db, endpoint)
        for table, rows in expected.items():
            assert len(stored[table]) == len(rows), f"{table}: row count differs"
            for got, want in zip(stored[table], rows, strict=True):
                assert got == want, f"{table} id={want.get('id')}: stored row differs"


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _generator_available() -> bool:
    try:
        import pipelines.sandbox.generator  # noqa: F401
    except ImportError:
        return False
    return True


requires_generated_firm = pytest.mark.skipif(
    not _generator_available(), reason="the sandbox's firm generator is not available"
)
