"""`clio-sync report unbilled|productivity|trust|tasks` and `--by custom-field NAME`, end
to end on the hand-built whole firm (`whole_firm.py`)."""

from __future__ import annotations

import csv
import io
import shutil

import duckdb
import pytest

from pipelines.cli import main

from .conftest import FIRM_TZ, TODAY


@pytest.fixture(autouse=True)
def firm_settings(monkeypatch):
    monkeypatch.setenv("REPORTS__TODAY", TODAY)
    monkeypatch.setenv("REPORTS__TIMEZONE", FIRM_TZ)
    monkeypatch.delenv("REPORTS__WORKDAY_HOURS", raising=False)


def cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def csv_rows(capsys, db, *argv) -> list[dict[str, str]]:
    code, out, err = cli(capsys, "report", *argv, "--format", "csv", "--db", str(db))
    assert code == 0, err
    return list(csv.DictReader(io.StringIO(out)))


def pick(rows: list[dict[str, str]], *names: str) -> list[tuple[str, ...]]:
    return [tuple(r[n] for n in names) for r in rows]


class TestUnbilled:
    def test_by_matter_is_the_default(self, capsys, whole_firm_db):
        rows = csv_rows(capsys, whole_firm_db, "unbilled")
        assert pick(rows, "matter_display_number", "currency", "hours", "amount") == [
            ("00303-Birch", "EUR", "1.0000", "250.00"),
            ("00301-Acme", "USD", "3.5000", "945.50"),
            ("00302-Acme", "USD", "1.2500", "250.00"),
            ("00305-Birch", "USD", "2.0000", "240.00"),
            ("00304-Birch", "USD", "1.0000", "200.00"),
        ]

    def test_by_timekeeper(self, capsys, whole_firm_db):
        rows = csv_rows(capsys, whole_firm_db, "unbilled", "--by", "timekeeper")
        assert pick(rows, "user_name", "currency", "count_activities", "amount") == [
            ("Alice Attorney", "EUR", "1", "250.00"),
            ("Alice Attorney", "USD", "5", "945.50"),
            ("Bob Barrister", "USD", "3", "450.00"),
            ("Carol Clerk", "USD", "1", "240.00"),
        ]

    def test_table_has_human_headers_and_a_total_per_currency(self, capsys, whole_firm_db):
        code, out, err = cli(capsys, "report", "unbilled", "--db", str(whole_firm_db))
        assert code == 0, err
        assert "Unbilled work by matter (EUR)" in out and "Unbilled work by matter (USD)" in out
        header = next(line for line in out.splitlines() if line.startswith("Matter"))
        assert header.split() == ["Matter", "Client", "Entries", "Hours", "0–30", "31–60",
                                  "61–90", "91+", "Unbilled", "Oldest"]
        usd = out[out.index("(USD)"):]
        total = next(line for line in usd.splitlines() if line.startswith("Total")).split()
        assert total[1:] == ["595.50", "690.00", "-", "350.00", "1,635.50"]


class TestByCustomField:
    @pytest.mark.parametrize("name", [["Referral", "Source"], ["referral source"],
                                      ["referral_source"]])
    def test_unbilled_by_a_picklist_groups_by_its_labels(self, capsys, whole_firm_db, name):
        rows = csv_rows(capsys, whole_firm_db, "unbilled", "--by", "custom-field", *name)
        assert pick(rows, "custom_field_value", "currency", "amount") == [
            ("Referral", "EUR", "250.00"),  # 303
            ("Web", "USD", "1185.50"),  # 301 and 305
            ("Conference", "USD", "250.00"),  # 302, a deleted option
            ("", "USD", "200.00"),  # 304 has no value
        ]

    def test_a_field_sharing_a_name_is_picked_by_its_column(self, capsys, whole_firm_db):
        rows = csv_rows(capsys, whole_firm_db, "unbilled", "--by", "custom-field",
                        "referral_source_19")
        assert pick(rows, "custom_field_value", "currency", "amount")[:2] == [
            ("", "EUR", "250.00"), ("Bar association", "USD", "945.50")]

    def test_ar_aging_by_a_custom_field(self, capsys, whole_firm_db):
        rows = csv_rows(capsys, whole_firm_db, "ar-aging", "--by", "custom-field",
                        "Referral Source")
        assert pick(rows, "custom_field_value", "currency", "count_bills", "balance") == [
            ("Web", "USD", "1", "500.00"), ("Conference", "USD", "1", "220.00")]
        code, out, _ = cli(capsys, "report", "ar-aging", "--by", "custom-field",
                           "Referral Source", "--db", str(whole_firm_db))
        assert code == 0 and "AR aging by Referral Source (USD)" in out
        assert next(line for line in out.splitlines() if "Balance" in line).split()[:2] == [
            "Referral", "Source"]

    def test_an_unknown_field_lists_the_matter_fields(self, capsys, whole_firm_db):
        code, _, err = cli(capsys, "report", "unbilled", "--by", "custom-field", "Industry",
                           "--db", str(whole_firm_db))
        assert code == 1 and "ConfigError" in err and "Traceback" not in err
        assert "no live matter custom field 'Industry'" in err  # a contact field
        assert "'Referral Source' (referral_source)" in err and "'Old Field'" not in err

    def test_two_fields_of_one_name_are_told_apart_by_their_columns(self, capsys, whole_firm_db,
                                                                   tmp_path):
        db = tmp_path / "copy.duckdb"
        shutil.copy(whole_firm_db, db)
        with duckdb.connect(str(db)) as con:
            con.execute("insert into clio.custom_fields (id, name, parent_type, field_type, "
                        "deleted, _dlt_load_id, _dlt_id) values (40, 'hearing TIME', 'Matter', 'text_line', false, '1', 'x40')")
        code, _, err = cli(capsys, "report", "unbilled", "--by", "custom-field", "Hearing Time",
                           "--db", str(db))
        assert code == 1 and "give the column" in err and "hearing_time, hearing_time_40" in err

    def test_a_field_newer_than_the_models_says_to_rebuild(self, capsys, whole_firm_db, tmp_path):
        db = tmp_path / "copy.duckdb"
        shutil.copy(whole_firm_db, db)
        with duckdb.connect(str(db)) as con:
            con.execute("insert into clio.custom_fields (id, name, parent_type, field_type, "
                        "deleted, _dlt_load_id, _dlt_id) values (41, 'Region', 'Matter', 'text_line', false, '1', 'x41')")
        code, _, err = cli(capsys, "report", "unbilled", "--by", "custom-field", "Region",
                           "--db", str(db))
        assert code == 1 and "CustomFieldColumnMissing" in err and "clio-sync models" in err
        assert cli(capsys, "models", "--db", str(db))[0] == 0
        assert cli(capsys, "report", "unbilled", "--by", "custom-field", "Region",
                   "--db", str(db))[0] == 0


class TestProductivity:
    def test_every_month_up_to_today_latest_first(self, capsys, whole_firm_db):
        rows = csv_rows(capsys, whole_firm_db, "productivity")
        assert pick(rows, "currency", "month", "user_name", "utilization", "realization",
                    "collection_rate")[:3] == [
            ("EUR", "2026-09-01", "Alice Attorney", "0.0114", "0.4167", "0.9"),
            ("USD", "2026-11-01", "Alice Attorney", "0.0083", "0.0", ""),
            ("USD", "2026-11-01", "Bob Barrister", "0.0104", "0.0", ""),
        ]

    def test_as_of_stops_at_that_month(self, capsys, whole_firm_db):
        rows = csv_rows(capsys, whole_firm_db, "productivity", "--as-of", "2026-09-30")
        assert {r["month"] for r in rows} == {"2026-07-01", "2026-08-01", "2026-09-01"}

    def test_workday_hours_come_from_the_config(self, capsys, whole_firm_db, monkeypatch):
        monkeypatch.setenv("REPORTS__WORKDAY_HOURS", "6")
        rows = csv_rows(capsys, whole_firm_db, "productivity")
        assert {r["capacity_hours"] for r in rows if r["month"] == "2026-11-01"} == {"90.00"}


class TestTrustAndTasks:
    def test_trust_lists_the_largest_shortfall_first(self, capsys, whole_firm_db):
        rows = csv_rows(capsys, whole_firm_db, "trust")
        assert pick(rows, "matter_display_number", "trust_balance", "shortfall") == [
            ("00303-Birch", "2500.00", "0.00"),
            ("00301-Acme", "3000.00", "2000.00"),
            ("00304-Birch", "0.00", "800.00"),
            ("00302-Acme", "1500.00", ""),
        ]

    def test_tasks_most_overdue_first(self, capsys, whole_firm_db):
        rows = csv_rows(capsys, whole_firm_db, "tasks")
        assert pick(rows, "task_id", "days_overdue") == [
            ("8001", "10"), ("8007", "1"), ("8002", "0"), ("8003", "0"), ("8006", "")]
        code, out, _ = cli(capsys, "report", "tasks", "--db", str(whole_firm_db))
        assert code == 0 and out.splitlines()[0].startswith("Open tasks")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ar-aging", "--by", "timekeeper"], "--by timekeeper does not apply to ar-aging"),
        (["outstanding", "--by", "custom-field", "Court"], "does not apply to outstanding"),
        (["unbilled", "--by", "custom-field"], "needs the field's name"),
        (["unbilled", "--by", "client", "matter"], "--by must be one of"),
        (["ar-aging", "--by", "custom-field", "Court", "--as-of", "2026-09-30"],
         "--as-of with --by custom-field"),
        (["unbilled", "--as-of", "2026-09-30"], "no history of whether work was billed"),
        (["trust", "--as-of", "2026-09-30"], "no history of trust balances"),
        (["tasks", "--as-of", "2026-09-30"], "no history of task statuses"),
        (["tasks", "--by", "matter"], "--by applies to the ar-aging and outstanding"),
    ],
)
def test_bad_options_are_explained_without_a_traceback(capsys, whole_firm_db, argv, message):
    code, _, err = cli(capsys, "report", *argv, "--db", str(whole_firm_db))
    assert code == 1
    assert message in err and "Traceback" not in err
