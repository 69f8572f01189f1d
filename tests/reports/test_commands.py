"""`clio-sync models`, `report` and `sql` end to end on a real warehouse file."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import time

import pytest

from pipelines.cli import main

from .conftest import FIRM_TZ, TODAY


@pytest.fixture(autouse=True)
def firm_settings(monkeypatch):
    monkeypatch.setenv("REPORTS__TODAY", TODAY)
    monkeypatch.setenv("REPORTS__TIMEZONE", FIRM_TZ)
    monkeypatch.delenv("REPORTS__AGING_BASIS", raising=False)


@pytest.fixture
def db_copy(firm_db, tmp_path):
    db = tmp_path / "clio_sync.duckdb"
    shutil.copy(firm_db, db)
    return db


def cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


class TestReport:
    def test_aging_table_has_human_headers_and_a_table_per_currency(self, capsys, firm_db):
        code, out, err = cli(capsys, "report", "ar-aging", "--db", str(firm_db))
        assert code == 0, err
        assert "AR aging by client (EUR)" in out and "AR aging by client (USD)" in out
        header = next(line for line in out.splitlines() if line.startswith("Client"))
        assert header.split() == ["Client", "Bills", "Current", "1–30", "31–60", "61–90", "91+",
                                  "Balance"]
        assert "_amount" not in out and "client_id" not in out
        assert "4,550.00" in out and "2,550.50" in out and "4,000.00" in out
        assert "-50.00" not in out  # the credit balance is netted into Birch's 1-30 bucket
        assert "700.50" in out
        usd = out[out.index("(USD)"):]
        assert next(line for line in usd.splitlines() if line.startswith("Total")).split()[-1] \
            == "7,100.50"

    def test_aging_by_attorney_names_matters_without_one(self, capsys, db_copy):
        import duckdb

        with duckdb.connect(str(db_copy)) as con:
            con.execute("update clio.matters set responsible_attorney__id = null, "
                        "responsible_attorney__name = null where id = 304")
        code, out, err = cli(capsys, "report", "ar-aging", "--by", "attorney", "--db", str(db_copy))
        assert code == 0, err
        assert any(line.startswith("(no attorney)") for line in out.splitlines())

    def test_csv_and_json_keep_the_machine_column_names(self, capsys, firm_db):
        names = ["client_id", "client_name", "currency", "count_bills", "current_amount",
                 "days_1_30_amount", "days_31_60_amount", "days_61_90_amount",
                 "days_91_plus_amount", "balance"]
        code, out, _ = cli(capsys, "report", "ar-aging", "--format", "csv", "--db", str(firm_db))
        assert code == 0 and out.splitlines()[0].split(",") == names
        code, out, _ = cli(capsys, "report", "ar-aging", "--format", "json", "--db", str(firm_db))
        assert code == 0 and all(list(row) == names for row in json.loads(out))

    def test_aging_by_attorney_as_csv(self, capsys, firm_db):
        code, out, _ = cli(capsys, "report", "ar-aging", "--by", "attorney", "--format", "csv",
                           "--db", str(firm_db))
        assert code == 0
        got = [
            (r["responsible_attorney_name"], r["currency"], r["count_bills"], r["balance"])
            for r in csv.DictReader(io.StringIO(out))
        ]
        assert got == [
            ("Alice Attorney", "EUR", "1", "4000.00"),
            ("Bob Barrister", "USD", "7", "4350.50"),
            ("Alice Attorney", "USD", "4", "2750.00"),
        ]

    def test_aging_by_client_counts_a_multi_matter_bill_once(self, capsys, firm_db):
        code, out, _ = cli(capsys, "report", "ar-aging", "--format", "json", "--db", str(firm_db))
        assert code == 0
        acme = next(r for r in json.loads(out) if r["client_id"] == 101)
        assert acme["count_bills"] == 5 and acme["balance"] == 4550.0

    def test_outstanding_as_of_a_past_date(self, capsys, firm_db):
        code, out, _ = cli(capsys, "report", "outstanding", "--as-of", "2026-09-30",
                           "--format", "json", "--db", str(firm_db))
        assert code == 0
        got = {(r["client_id"], r["currency"]): (r["total_outstanding"], r["overdue_outstanding"],
                                                 r["open_bills"]) for r in json.loads(out)}
        assert got == {
            (101, "USD"): (3500.0, 3500.0, 2),  # bills 1005 and 1007
            (102, "USD"): (2600.5, 700.0, 4),  # 1003, 1004 (not yet due), 1006, 1008
            (103, "EUR"): (5000.0, 0.0, 1),
        }

    def test_kpis_as_of_stop_at_that_month(self, capsys, firm_db):
        code, out, _ = cli(capsys, "report", "kpis", "--as-of", "2026-09-30", "--format", "json",
                           "--db", str(firm_db))
        assert code == 0
        usd = [r for r in json.loads(out) if r["currency"] == "USD"]
        assert [r["month"] for r in usd][-1] == "2026-09-01"
        assert usd[-1]["ar_at_month_end"] == 6100.5

    def test_paid_bills_follow_the_firm_time_zone(self, capsys, firm_db):
        def bill_1015(tz):
            code, out, _ = cli(capsys, "report", "paid-bills", "--format", "json", "--timezone", tz,
                               "--db", str(firm_db))
            assert code == 0
            return next(r for r in json.loads(out) if r["bill_id"] == 1015)

        assert (bill_1015(FIRM_TZ)["paid_at"], bill_1015(FIRM_TZ)["days_late"]) == ("2026-10-30", 0)
        assert (bill_1015("UTC")["paid_at"], bill_1015("UTC")["days_late"]) == ("2026-10-31", 1)

    def test_collections_as_of_leave_out_later_allocations(self, capsys, firm_db):
        code, out, _ = cli(capsys, "report", "collections", "--as-of", "2026-08-31",
                           "--format", "csv", "--db", str(firm_db))
        assert code == 0
        ids = [r["allocation_id"] for r in csv.DictReader(io.StringIO(out))]
        assert ids == ["2004", "2010", "2009", "2008"]

    @pytest.mark.parametrize(
        ("argv", "message"),
        [
            (["paid-bills", "--by", "client"], "--by applies to the ar-aging and outstanding"),
            (["ar-aging", "--by", "matter", "--as-of", "2026-09-30"], "no history of how a bill"),
            (["kpis", "--as-of", "30/09/2026"], "not a date"),
            (["kpis", "--timezone", "Mars/Olympus"], "not a time zone"),
        ],
    )
    def test_bad_options_are_explained_without_a_traceback(self, capsys, firm_db, argv, message):
        code, _, err = cli(capsys, "report", *argv, "--db", str(firm_db))
        assert code == 1
        assert message in err and "Traceback" not in err

    def test_a_warehouse_without_models_says_how_to_build_them(self, capsys, tmp_path):
        import duckdb

        db = tmp_path / "raw_only.duckdb"
        duckdb.connect(str(db)).close()
        code, _, err = cli(capsys, "report", "kpis", "--db", str(db))
        assert code == 1 and "ReportsMissing" in err and "clio-sync models" in err


class TestModels:
    def test_builds_and_checks(self, capsys, db_copy):
        code, out, err = cli(capsys, "models", "--check", "--db", str(db_copy))
        assert code == 0, err
        assert "bill_balance_formula: ok" in out and "ar_matches_clio_outstanding: ok" in out

    def test_a_failed_check_names_the_rows_and_exits_non_zero(self, capsys, db_copy):
        import duckdb

        with duckdb.connect(str(db_copy)) as con:
            con.execute("update clio.allocations set amount = 400.00 where id = 2002")
        code, _, err = cli(capsys, "models", "--check", "--db", str(db_copy))
        assert code == 1
        assert "ChecksFailed" in err and "allocations_match_bills" in err and "bill_id=1005" in err


class TestSql:
    def test_prints_a_table(self, capsys, firm_db):
        code, out, _ = cli(capsys, "sql", "select currency, sum(balance) as ar from "
                           "reports.ar_aging_detail group by 1 order by 1", "--db", str(firm_db))
        assert code == 0
        assert "4,000.00 EUR" in out and "7,100.50 USD" in out

    def test_writes_are_refused(self, capsys, firm_db):
        code, _, err = cli(capsys, "sql", "delete from clio.bills", "--db", str(firm_db))
        assert code == 1 and "read-only" in err

    @pytest.mark.slow
    def test_a_writer_holding_the_file_gives_warehouse_busy(self, capsys, db_copy):
        holder = subprocess.Popen(
            [sys.executable, "-c",
             "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
             "time.sleep(60)", str(db_copy)],
            stdout=subprocess.PIPE, text=True,
        )
        try:
            assert holder.stdout.readline().strip() == "ready"
            started = time.monotonic()
            code, _, err = cli(capsys, "sql", "select 1", "--db", str(db_copy))
            assert code == 1 and "WarehouseBusy" in err and "read_sql" in err
            assert time.monotonic() - started < 5
        finally:
            holder.kill()
            holder.wait()
