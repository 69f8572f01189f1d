"""Syncs over HTTP store Clio's numbers exactly, refuse what they cannot store, and widen
the columns of a warehouse written before rates and quantities were exact."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from firm_fixture import NOW, hand_built_firm
from sync_helpers import assert_matches_truth, query, sandbox_env, settings_for

from pipelines.clio.sync import sync
from pipelines.errors import ClioSyncError
from pipelines.sandbox.harness import serve_sandbox

REPO = Path(__file__).resolve().parents[2]


def firm_with_fine_numbers() -> dict[str, list[dict]]:
    """The hand-built firm, with the rates and tax rates that need more than 2 decimals."""
    firm = hand_built_firm()
    firm["users"][0]["rate"] = 312.125
    firm["bills"][0].update(tax_rate=5.0, secondary_tax_rate=9.975)  # GST + Quebec's QST
    firm["line_items"][0].update(price=312.125, quantity=0.1, total=31.21, sub_total=31.21)
    firm["bank_transactions"][0]["exchange_rate"] = 1.3456789
    return firm


@pytest.fixture
def fine_firm():
    with serve_sandbox(fixture=firm_with_fine_numbers(), fixture_now=NOW, rate_limit=None) as sb:
        yield sb


def column_types(db: Path, table: str) -> dict[str, str]:
    rows = query(db, "select column_name, data_type from information_schema.columns "
                     "where table_schema = 'clio' and table_name = ?", [table])
    return dict(rows)


def test_rates_and_tax_rates_are_stored_exactly(fine_firm, tmp_path, db) -> None:
    sync(db, settings_for(fine_firm, tmp_path))
    assert query(db, "select tax_rate, secondary_tax_rate from clio.bills where id = 1") == [
        (Decimal("5"), Decimal("9.975"))]
    assert query(db, "select rate from clio.users where id = 1") == [(Decimal("312.125"),)]
    assert query(db, "select price, quantity, total from clio.line_items where id = 1") == [
        (Decimal("312.125"), Decimal("0.1"), Decimal("31.21"))]
    assert query(db, "select exchange_rate from clio.bank_transactions where id = 1") == [
        (Decimal("1.3456789"),)]
    assert column_types(db, "bills")["secondary_tax_rate"] == "DECIMAL(28,10)"
    assert column_types(db, "users")["rate"] == "DECIMAL(28,10)"
    assert column_types(db, "bills")["total"] == "DECIMAL(18,2)"
    assert_matches_truth(fine_firm, db)


def test_an_amount_with_a_third_decimal_fails_the_run_and_loads_nothing(tmp_path, db) -> None:
    firm = hand_built_firm()
    firm["bills"][1]["total"] = 2.675
    with serve_sandbox(fixture=firm, fixture_now=NOW, rate_limit=None) as sb:
        with pytest.raises(ValueError) as caught:
            sync(db, settings_for(sb, tmp_path))
        assert isinstance(caught.value, ClioSyncError)
        for part in ("bills 2", "`total`", "2.675", "DECIMAL(18,2)"):
            assert part in str(caught.value)
        assert query(db, "select count(*) from information_schema.tables where table_schema = 'clio' "
                         "and table_name = 'bills'") == [(0,)]
        cli = subprocess.run(
            [sys.executable, "-m", "pipelines", "run", "--db", str(db)], cwd=REPO,
            env={**os.environ, **sandbox_env(sb, tmp_path)}, capture_output=True, text=True,
            timeout=120,
        )
    assert cli.returncode == 1
    assert "ValueDoesNotFit: " in cli.stderr and "bills 2" in cli.stderr
    assert "Traceback" not in cli.stderr


def _narrow(db: Path, statements: list[str]) -> None:
    """Give the warehouse the column types the previous version created."""
    con = duckdb.connect(str(db))
    try:
        schemas = [s for (s,) in con.execute(
            "select schema_name from information_schema.schemata where schema_name like 'clio%'"
        ).fetchall()]
        for schema in schemas:
            for statement in statements:
                table = statement.split()[2]
                if con.execute("select count(*) from information_schema.tables where table_schema = ? "
                               "and table_name = ?", [schema, table]).fetchone()[0]:
                    con.execute(statement.replace(f"table {table}", f'table "{schema}".{table}'))
    finally:
        con.close()


OLD_TYPES = [
    "alter table bills alter column tax_rate set data type double",
    "alter table bills alter column secondary_tax_rate set data type double",
    "alter table users alter column rate set data type decimal(18,2)",
    "alter table line_items alter column price set data type decimal(18,2)",
    "alter table line_items alter column quantity set data type double",
]


def test_a_warehouse_of_the_previous_version_is_widened_not_rounded(fine_firm, tmp_path, db) -> None:
    settings = settings_for(fine_firm, tmp_path)
    sync(db, settings)
    _narrow(db, OLD_TYPES)
    assert query(db, "select rate from clio.users where id = 1") == [(Decimal("312.13"),)]
    fine_firm.edit("users", 1, {"rate": 312.125})
    fine_firm.edit("line_items", 1, {"price": 312.125})
    sync(db, settings)
    assert query(db, "select rate from clio.users where id = 1") == [(Decimal("312.125"),)]
    assert query(db, "select price, quantity from clio.line_items where id = 1") == [
        (Decimal("312.125"), Decimal("0.1"))]
    assert query(db, "select secondary_tax_rate from clio.bills where id = 1") == [(Decimal("9.975"),)]
    for table, column in (("bills", "tax_rate"), ("users", "rate"), ("line_items", "quantity")):
        assert column_types(db, table)[column] == "DECIMAL(28,10)"


def test_widening_refuses_a_stored_value_it_cannot_keep(fine_firm, tmp_path, db) -> None:
    settings = settings_for(fine_firm, tmp_path)
    sync(db, settings)
    _narrow(db, OLD_TYPES)
    con = duckdb.connect(str(db))
    con.execute("update clio.line_items set quantity = 1 / 3 where id = 2")
    con.close()
    with pytest.raises(ValueError) as caught:
        sync(db, settings)
    assert isinstance(caught.value, ClioSyncError)
    for part in ("line_items 2", "`quantity`", "0.3333333333333333", "DECIMAL(28,10)"):
        assert part in str(caught.value)
    assert column_types(db, "line_items")["quantity"] == "DOUBLE"
