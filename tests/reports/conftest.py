"""Shared fixtures for the report tests: the hand-built firm, loaded into a DuckDB file,
and generated sandbox firms synced over HTTP."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

import duckdb
import httpx
import pytest

from pipelines.clio.config import ClioSettings, load_settings
from pipelines.clio.load import load_records
from pipelines.clio.reconcile import reconcile
from pipelines.clio.sync import build_models_if_present, sync
from pipelines.reports.runner import build_models
from pipelines.reports.settings import ReportSettings, apply_settings
from pipelines.sandbox.harness import SandboxServer, serve_sandbox

FIXTURES = Path(__file__).parent / "fixtures"
FIRM = json.loads((FIXTURES / "firm.json").read_text())
TODAY = "2026-11-20"
FIRM_TZ = "America/New_York"
SETTINGS = ReportSettings(timezone=FIRM_TZ, today=date.fromisoformat(TODAY))


def load_firm(db: Path) -> None:
    """Load the hand-built firm through the sync's load path; delete the deleted bill."""
    for table, records in FIRM["deleted_outright"].items():
        load_records(db, table, records)
    for table, records in FIRM["records"].items():
        load_records(db, table, records)
    for table, records in FIRM["deleted_outright"].items():
        load_records(db, table, [], deleted_ids=[r["id"] for r in records])


@pytest.fixture(scope="session")
def firm_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse holding the hand-built firm with every model built (read it, don't write)."""
    db = tmp_path_factory.mktemp("firm") / "clio_sync.duckdb"
    load_firm(db)
    con = duckdb.connect(str(db))
    build_models(con)
    con.close()
    return db


@pytest.fixture(scope="session")
def whole_firm_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse holding the hand-built whole firm (`whole_firm.py`), models built."""
    from .whole_firm import RECORDS

    db = tmp_path_factory.mktemp("whole_firm") / "clio_sync.duckdb"
    for table, records in RECORDS.items():
        load_records(db, table, records)
    con = duckdb.connect(str(db))
    build_models(con)
    con.close()
    return db


@pytest.fixture
def whole_con(whole_firm_db: Path):
    """A read-only connection to the whole-firm warehouse, aimed at the firm's today."""
    connection = duckdb.connect(str(whole_firm_db), read_only=True)
    apply_settings(connection, SETTINGS)
    yield connection
    connection.close()


@pytest.fixture
def con(firm_db: Path):
    """A read-only connection to the firm warehouse, aimed at the firm's today."""
    connection = duckdb.connect(str(firm_db), read_only=True)
    apply_settings(connection, SETTINGS)
    yield connection
    connection.close()


# The generated firm lives at a fixed -05:00 offset (no DST); Etc/GMT+5 is that zone.
SANDBOX_TZ = "Etc/GMT+5"
SANDBOX_OFFSET = timezone(timedelta(hours=-5))
DEMO_FIRM = ("small", 7, 1)  # what `clio-sync demo` syncs: small seed 7, then a day of life
WHOLE_FIRM_TRUTH = ("custom_fields", "matters", "contacts", "activities", "line_items", "users",
                    "tasks", "bank_accounts", "billable_matters")


@dataclass(frozen=True)
class Snapshot:
    """A warehouse with its models built, and Clio's truth at the moment it was synced."""

    db: Path
    today: date
    bills: list[dict]
    allocations: list[dict]
    outstanding: list[dict]
    truth: dict[str, list[dict]]  # the whole firm's tables (WHOLE_FIRM_TRUTH) at that moment

    def revenue_bills(self, *states: str) -> list[dict]:
        return [b for b in self.bills if b["state"] in states and b["kind"] != "trust_kind"]


def sandbox_settings(sb: SandboxServer, tmp: Path) -> ClioSettings:
    token = sb.token()
    return load_settings(
        base_url=sb.base_url, region="us", api="manage", token_store=tmp / "token.json",
        refresh_token=token["refresh_token"], access_token=token["access_token"],
        client_id="sandbox", client_secret="sandbox-secret",
    )


def sandbox_today(sb: SandboxServer) -> date:
    """The firm's date: its clock comes as the `Date` header of every sandbox answer."""
    stamp = httpx.get(f"{sb.base_url}/_sandbox/stats").headers["date"]
    return parsedate_to_datetime(stamp).astimezone(SANDBOX_OFFSET).date()


def _snapshot(sb: SandboxServer, db: Path, copy_to: Path) -> Snapshot:
    assert build_models_if_present(db)
    shutil.copy(db, copy_to)  # the next sync writes on `db`; this state stays readable
    return Snapshot(copy_to, sandbox_today(sb), sb.truth("bills"), sb.truth("allocations"),
                    sb.truth("outstanding_client_balances"),
                    {table: sb.truth(table) for table in WHOLE_FIRM_TRUTH})


def sync_generated_firm(scale: str, seed: int, days: int, tmp: Path) -> dict[str, Snapshot]:
    """{"synced": after a full sync, "lived": after `days` of life, an incremental sync and
    `reconcile` (a run plus reconcile equals Clio: DESIGN.md, invariant 1)}."""
    db = tmp / "clio_sync.duckdb"
    with serve_sandbox(scale=scale, seed=seed) as sb:
        settings = sandbox_settings(sb, tmp)
        sync(db, settings, full_refresh=True)
        synced = _snapshot(sb, db, tmp / "synced.duckdb")
        changes = sb.advance(days=days)
        assert changes.get("bills"), "the firm's life changed no bill: nothing to test"
        assert not sync(db, settings).full_refresh
        reconcile(db, settings)  # records deleted outright at Clio (no webhooks here)
        lived = _snapshot(sb, db, tmp / "lived.duckdb")
    assert lived.today == synced.today + timedelta(days=days)
    return {"synced": synced, "lived": lived}


@pytest.fixture(scope="session")
def generated_firm(tmp_path_factory) -> Callable[[str, int, int], dict[str, Snapshot]]:
    """`generated_firm(scale, seed, days)`: a synced firm, built once per session (read it,
    don't write: the notebook test and the property tests share the demo firm)."""
    built: dict[tuple[str, int, int], dict[str, Snapshot]] = {}

    def get(scale: str, seed: int, days: int) -> dict[str, Snapshot]:
        key = (scale, seed, days)
        if key not in built:
            built[key] = sync_generated_firm(*key, tmp_path_factory.mktemp(f"{scale}{seed}"))
        return built[key]

    return get
