"""Shared fixtures for the report tests: the hand-built firm, loaded into a DuckDB file."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from pipelines.reports.runner import build_models
from pipelines.reports.settings import ReportSettings, apply_settings

FIXTURES = Path(__file__).parent / "fixtures"
FIRM = json.loads((FIXTURES / "firm.json").read_text())
TODAY = "2026-11-20"
FIRM_TZ = "America/New_York"
SETTINGS = ReportSettings(timezone=FIRM_TZ, today=__import__("datetime").date.fromisoformat(TODAY))


def _load(db: Path, table: str, records: list[dict], deleted_ids=()) -> None:
    # TEMPORARY until pipelines.clio.load lands: a hand flatten with the catalog types.
    from datetime import datetime

    from pipelines.clio.endpoints import BY_TABLE
    from pipelines.reports.raw_tables import RAW_TABLES

    endpoint = BY_TABLE[table]
    con = duckdb.connect(str(db))
    con.execute("create schema if not exists clio")
    tables = {table: RAW_TABLES[table]}
    for child in endpoint.children:
        tables[f"{table}__{child.field}"] = RAW_TABLES[f"{table}__{child.field}"]
    for name, cols in tables.items():
        defs = ", ".join(f'"{c}" {t}' for c, t in cols.items())
        con.execute(f"create table if not exists clio.{name} ({defs})")
    for rec in records:
        row = {}
        for col, kind in RAW_TABLES[table].items():
            if "__" in col:
                rel, sub = col.split("__", 1)
                value = (rec.get(rel) or {}).get(sub)
            else:
                value = rec.get(col)
            if kind == "TIMESTAMPTZ" and value:
                value = datetime.fromisoformat(value)
            row[col] = value
        con.execute(f"delete from clio.{table} where id = ?", [rec["id"]])
        con.execute(
            f"insert into clio.{table} values ({', '.join('?' * len(row))})", list(row.values())
        )
        for child in endpoint.children:
            cname = f"{table}__{child.field}"
            con.execute(f"delete from clio.{cname} where {child.parent_key} = ?", [rec["id"]])
            for item in rec.get(child.field) or []:
                vals = [rec["id"], *[item.get(s) for s in child.subfields]]
                con.execute(f"insert into clio.{cname} values ({', '.join('?' * len(vals))})", vals)
    for rid in deleted_ids:
        con.execute(f"delete from clio.{table} where id = ?", [rid])
        for child in endpoint.children:
            con.execute(f"delete from clio.{table}__{child.field} where {child.parent_key} = ?", [rid])
    con.close()


def load_firm(db: Path) -> None:
    """Load the hand-built firm through the sync's load path; delete the deleted bill."""
    for table, records in FIRM["deleted_outright"].items():
        _load(db, table, records)
    for table, records in FIRM["records"].items():
        _load(db, table, records)
    for table, records in FIRM["deleted_outright"].items():
        _load(db, table, [], deleted_ids=[r["id"] for r in records])


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
