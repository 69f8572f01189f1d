"""Shared fixtures for the report tests: the hand-built firm, loaded into a DuckDB file."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.clio.load import load_records
from pipelines.reports.runner import build_models
from pipelines.reports.settings import ReportSettings, apply_settings

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


@pytest.fixture
def con(firm_db: Path):
    """A read-only connection to the firm warehouse, aimed at the firm's today."""
    connection = duckdb.connect(str(firm_db), read_only=True)
    apply_settings(connection, SETTINGS)
    yield connection
    connection.close()
