"""Fixtures of the PostgreSQL destination tests: the sandbox firms of the sync tests, a fresh
database per test (`postgres_dsn`, tests/postgres_server.py) configured the dlt way."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # pg_helpers
sys.path.insert(0, str(Path(__file__).parents[1] / "sync"))  # sync_helpers, firm_fixture


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """The local warehouse path: with a server destination it holds dlt's folder and lock."""
    return tmp_path / "data" / "clio_sync.duckdb"


@pytest.fixture
def pg(postgres_dsn: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh database, set as dlt's `postgres` destination (subprocesses inherit it)."""
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", postgres_dsn)
    return postgres_dsn


@pytest.fixture
def firm():
    """The hand-built firm of the sync tests (awkward cents, offsets, every endpoint)."""
    from firm_fixture import NOW, hand_built_firm

    from pipelines.sandbox.harness import serve_sandbox

    with serve_sandbox(fixture=hand_built_firm(), fixture_now=NOW, rate_limit=None) as sb:
        yield sb
