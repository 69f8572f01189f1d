"""Helpers of the many-firms tests: the environment of firm profiles on sandboxes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SANDBOX_APP = {"client_id": "sandbox", "client_secret": "sandbox-secret"}


def firm_env(name: str, sb, tmp_path: Path, token: dict | None = None) -> dict[str, str]:
    """`FIRMS__<NAME>__...` variables pointing firm `name` at sandbox `sb`."""
    token = token or sb.token()
    prefix = f"FIRMS__{name.upper()}__"
    return {
        prefix + "BASE_URL": sb.base_url,
        prefix + "TOKEN_STORE": str(tmp_path / f"token-{name}.json"),
        prefix + "CREDENTIALS__CLIENT_ID": SANDBOX_APP["client_id"],
        prefix + "CREDENTIALS__CLIENT_SECRET": SANDBOX_APP["client_secret"],
        prefix + "CREDENTIALS__REFRESH_TOKEN": token["refresh_token"],
    }


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any Clio or firm setting, plus `extra`."""
    kept = {k: v for k, v in os.environ.items()
            if not k.startswith(("SOURCES__", "FIRMS__", "DESTINATION__"))}
    return {**kept, **extra}


def clio_sync(*args: str, env: dict[str, str], cwd: Path = REPO,
              timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`clio-sync ARGS` as a real process."""
    return subprocess.run([sys.executable, "-m", "pipelines", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def api_requests(sb) -> list[dict]:
    return [r for r in sb.stats()["requests"] if r["path"].startswith("/api/v4/")]


def firm_copy(db: Path, firm: str, dest: Path) -> Path:
    """A DuckDB file holding firm `firm`'s raw schema of `db` as schema `clio`, so the sync
    tests' comparisons with Clio's truth apply to it unchanged."""
    import duckdb

    con = duckdb.connect(str(dest))
    try:
        con.execute(f"attach '{db}' as wh (read_only)")
        con.execute("create schema if not exists clio")
        tables = con.execute("select table_name from information_schema.tables "
                             "where table_catalog = 'wh' and table_schema = ?",
                             [f"clio_{firm}"]).fetchall()
        for (table,) in tables:
            con.execute(f'create table clio."{table}" as select * from wh.clio_{firm}."{table}"')
        con.execute("detach wh")
    finally:
        con.close()
    return dest


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def schemas_of(db: Path) -> set[str]:
    return {name for (name,) in query(db, "select schema_name from information_schema.schemata "
                                          "where catalog_name = current_database()")}
