"""The whole-firm reports against the hand-built firm (`whole_firm.py`), row by row.

Today is 2026-11-20 in America/New_York. Expected rows were worked out by hand from the
records; the comments say how.
"""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal

import duckdb
import pytest

from pipelines.reports.checks import run_checks
from pipelines.reports.runner import build_models
from pipelines.reports.settings import apply_settings

from .conftest import SETTINGS

D = Decimal
Z = D("0.00")


def rows(con, sql: str, params=None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


@pytest.fixture
def writable(whole_firm_db, tmp_path):
    db = tmp_path / "copy.duckdb"
    shutil.copy(whole_firm_db, db)
    connection = duckdb.connect(str(db))
    apply_settings(connection, SETTINGS)
    yield connection
    connection.close()


class TestCustomFieldValues:
    def test_one_row_per_live_value_typed_by_its_field(self, whole_con):
        got = rows(whole_con, """
            select parent_type, parent_id, custom_field_id, value_text, value_number,
                   value_date, value_bool, picklist_label
            from reports.custom_field_values order by parent_type desc, parent_id, custom_field_id
        """)
        assert got == [
            ("Matter", 301, 11, "111", None, None, None, "Web"),
            ("Matter", 301, 12, "25000.50", D("25000.5"), None, None, None),
            ("Matter", 301, 13, "2026-01-15", None, date(2026, 1, 15), None, None),
            ("Matter", 301, 14, "true", None, None, True, None),
            ("Matter", 301, 15, "302", D(302), None, None, None),  # the matter it points to
            ("Matter", 301, 16, "103", D(103), None, None, None),  # the contact it points to
            ("Matter", 301, 17, "12.5", D("12.5"), None, None, None),
            ("Matter", 301, 18, "Superior Court", None, None, None, None),
            ("Matter", 301, 19, "Bar association", None, None, None, None),
            # 20: its definition is deleted, so its value is not live
            ("Matter", 301, 21, "internal ref", None, None, None, None),
            ("Matter", 301, 22, "14:30", None, None, None, None),  # time: text
            ("Matter", 301, 23, "https://acme.example", None, None, None, None),
            ("Matter", 302, 11, "113", None, None, None, "Conference"),  # a deleted option
            # 12 on 302 is soft-deleted
            ("Matter", 302, 14, "false", None, None, False, None),
            ("Matter", 302, 17, "3", D(3), None, None, None),
            ("Matter", 303, 11, "112", None, None, None, "Referral"),  # option from the value
            ("Matter", 303, 14, None, None, None, None, None),  # Clio sent no value
            ("Matter", 305, 11, "111", None, None, None, "Web"),
            ("Contact", 101, 31, "311", None, None, None, "Tech"),
            ("Contact", 101, 32, "2020-05-01", None, date(2020, 5, 1), None, None),
            ("Contact", 101, 33, "ap@acme.example", None, None, None, None),
            ("Contact", 102, 31, "312", None, None, None, "Retail"),
        ]

    def test_names_types_and_ids_come_with_each_value(self, whole_con):
        got = rows(whole_con, """
            select custom_field_value_id, field_name, field_type from reports.custom_field_values
            where parent_id = 301 and custom_field_id in (11, 19)
            order by custom_field_id
        """)
        assert got == [("11-301", "Referral Source", "picklist"),
                       ("19-301", "referral-source", "text_line")]


class TestMatterCustomFields:
    def test_one_typed_column_per_live_matter_definition_in_snake_case(self, whole_con):
        columns = rows(whole_con, """
            select column_name, data_type from information_schema.columns
            where table_schema = 'reports' and table_name = 'matter_custom_fields'
            order by ordinal_position
        """)
        assert columns == [
            ("matter_id", "BIGINT"),
            ("referral_source", "VARCHAR"),  # the picklist's label
            ("budget", "DECIMAL(18,2)"),
            ("opened_on", "DATE"),
            ("conflict_checked", "BOOLEAN"),
            ("related_matter", "BIGINT"),
            ("opposing_party", "BIGINT"),
            ("estimated_hours", "DECIMAL(28,10)"),
            ("court", "VARCHAR"),
            ("referral_source_19", "VARCHAR"),  # the younger of two `referral_source`
            ("matter_id_21", "VARCHAR"),  # `Matter ID` would be the key column
            ("hearing_time", "VARCHAR"),
            ("website", "VARCHAR"),
        ]

    def test_one_row_per_matter_with_its_values(self, whole_con):
        got = rows(whole_con, "select * from reports.matter_custom_fields order by matter_id")
        assert got == [
            (301, "Web", D("25000.50"), date(2026, 1, 15), True, 302, 103, D("12.5"),
             "Superior Court", "Bar association", "internal ref", "14:30", "https://acme.example"),
            (302, "Conference", None, None, False, None, None, D(3), None, None, None, None, None),
            (303, "Referral", None, None, None, None, None, None, None, None, None, None, None),
            (304, None, None, None, None, None, None, None, None, None, None, None, None),
            (305, "Web", None, None, None, None, None, None, None, None, None, None, None),
        ]


class TestContactCustomFields:
    def test_one_row_per_contact_and_a_column_per_contact_definition(self, whole_con):
        result = whole_con.execute("select * from reports.contact_custom_fields order by contact_id")
        assert [d[0] for d in result.description] == [
            "contact_id", "industry", "client_since", "email_for_invoices"]
        assert result.fetchall() == [
            (101, "Tech", date(2020, 5, 1), "ap@acme.example"),
            (102, "Retail", None, None),
            (103, None, None, None),
        ]


class TestUnbilledWork:
    def test_billable_work_on_no_bill_per_matter_and_timekeeper(self, whole_con):
        got = rows(whole_con, """
            select matter_id, user_id, currency, count_activities, hours, amount,
                   amount_0_30, amount_31_60, amount_61_90, amount_91_plus, oldest_activity_date
            from reports.unbilled_work order by matter_id, user_id
        """)
        assert got == [
            # 5001 (10 days) + expense 5009 (19) | 5002 (50) + no-charge 5008 (45, at 0) |
            # 5003 (111); 5006 is on a draft bill, 5007 billed, 5004 non-billable
            (301, 201, "USD", 5, D("3.5000"), D("945.50"),
             D("345.50"), D("450.00"), Z, D("150.00"), date(2026, 8, 1)),
            # today and five days ahead both count as 0-30
            (302, 202, "USD", 2, D("1.2500"), D("250.00"), D("250.00"), Z, Z, Z,
             date(2026, 11, 20)),
            (303, 201, "EUR", 1, D("1.0000"), D("250.00"), Z, Z, D("250.00"), Z,
             date(2026, 9, 15)),
            # 5013 has a zero price: not billable
            (304, 202, "USD", 1, D("1.0000"), D("200.00"), Z, Z, Z, D("200.00"),
             date(2026, 7, 1)),
            (305, 203, "USD", 1, D("2.0000"), D("240.00"), Z, D("240.00"), Z, Z,
             date(2026, 10, 16)),
        ]

    def test_names_matter_client_attorney_and_timekeeper(self, whole_con):
        got = rows(whole_con, """
            select matter_display_number, client_name, responsible_attorney_name, user_name
            from reports.unbilled_work where matter_id in (301, 305) order by matter_id
        """)
        assert got == [("00301-Acme", "Acme LLP", "Alice Attorney", "Alice Attorney"),
                       ("00305-Birch", "Birch & Co", "Alice Attorney", "Carol Clerk")]

    def test_buckets_sum_to_the_amount(self, whole_con):
        assert rows(whole_con, """
            select count(*) from reports.unbilled_work
            where amount_0_30 + amount_31_60 + amount_61_90 + amount_91_plus <> amount
        """) == [(0,)]


class TestTimekeeperProductivityMonthly:
    def test_hours_values_and_ratios_per_timekeeper_month_and_currency(self, whole_con):
        got = rows(whole_con, """
            select user_id, month, currency, hours_worked, billable_hours, billed_hours,
                   billable_value, billed_amount, collected_amount, capacity_hours
            from reports.timekeeper_productivity_monthly order by user_id, month, currency
        """)
        h = D
        assert got == [
            (201, date(2026, 8, 1), "USD", h("0.5000"), h("0.5000"), h("0.0000"),
             D("150.00"), Z, Z, D("168.00")),  # 21 weekdays x 8 h
            # 5005 unbilled at standard 300 (priced 250), 5017 billed at 250 on a
            # discounted bill: 225 paid of its 250 total
            (201, date(2026, 9, 1), "EUR", h("2.0000"), h("2.0000"), h("1.0000"),
             D("600.00"), D("250.00"), D("225.00"), D("176.00")),
            # 5002, 5006 (on a draft), 5007 (billed) and 5008 (no charge) are all billable:
            # 6 h at 300; 5007's line has 900 of bill 9001's 1000, which has 500 paid
            (201, date(2026, 10, 1), "USD", h("6.0000"), h("6.0000"), h("3.0000"),
             D("1800.00"), D("900.00"), D("450.00"), D("176.00")),
            # 5001 billable, 5004 non-billable; 15 weekdays up to Friday the 20th
            (201, date(2026, 11, 1), "USD", h("3.0000"), h("1.0000"), h("0.0000"),
             D("300.00"), Z, Z, D("120.00")),
            (202, date(2026, 7, 1), "USD", h("1.0000"), h("1.0000"), h("0.0000"),
             D("200.00"), Z, Z, D("184.00")),
            (202, date(2026, 9, 1), "USD", h("1.0000"), h("0.0000"), h("0.0000"),
             Z, Z, Z, D("176.00")),  # a zero price is not billable
            # bill 9002: 220 paid of 440 (400 fees + 40 tax)
            (202, date(2026, 10, 1), "USD", h("2.0000"), h("2.0000"), h("2.0000"),
             D("400.00"), D("400.00"), D("200.00"), D("176.00")),
            (202, date(2026, 11, 1), "USD", h("1.2500"), h("1.2500"), h("0.0000"),
             D("250.00"), Z, Z, D("120.00")),
            # no standard rate: her entries' 120 an hour
            (203, date(2026, 10, 1), "USD", h("2.5000"), h("2.5000"), h("0.5000"),
             D("300.00"), D("60.00"), D("60.00"), D("176.00")),
        ]

    def test_utilization_realization_and_collection_rate(self, whole_con):
        got = rows(whole_con, """
            select user_id, month, utilization, realization, collection_rate
            from reports.timekeeper_productivity_monthly
            where (user_id, month) in ((201, date '2026-10-01'), (201, date '2026-09-01'),
                                       (202, date '2026-09-01'), (203, date '2026-10-01'))
            order by user_id, month
        """)
        assert got == [
            (201, date(2026, 9, 1), 0.0114, 0.4167, 0.9),  # 2/176, 250/600, 225/250
            (201, date(2026, 10, 1), 0.0341, 0.5, 0.5),  # 6/176, 900/1800, 450/900
            (202, date(2026, 9, 1), 0.0, None, None),  # nothing billable, nothing billed
            (203, date(2026, 10, 1), 0.0142, 0.2, 1.0),  # 2.5/176, 60/300, 60/60
        ]

    def test_workday_hours_set_the_capacity(self, whole_con):
        whole_con.execute("set variable clio_sync_workday_hours = 7.5")
        assert rows(whole_con, """
            select capacity_hours, utilization from reports.timekeeper_productivity_monthly
            where user_id = 201 and month = date '2026-11-01'
        """) == [(D("112.50"), 0.0089)]  # 15 x 7.5; 1 / 112.5


class TestTrustBalances:
    def test_matters_holding_trust_or_a_minimum_with_their_shortfall(self, whole_con):
        got = rows(whole_con, """
            select matter_id, client_id, currency, trust_balance, minimum_threshold, shortfall,
                   is_below_minimum, count_trust_accounts
            from reports.trust_balances order by matter_id
        """)
        assert got == [
            (301, 101, "USD", D("3000.00"), D("5000.00"), D("2000.00"), True, 1),  # operating left out
            (302, 101, "USD", D("1500.00"), None, None, False, 1),
            (303, 102, "EUR", D("2500.00"), D("1000.00"), Z, False, 1),
            (304, 102, "USD", Z, D("800.00"), D("800.00"), True, 0),  # no trust account
            # 305: an empty trust account and no minimum
        ]


class TestOpenTasks:
    def test_tasks_neither_complete_nor_draft_with_days_overdue(self, whole_con):
        got = rows(whole_con, """
            select task_id, status, due_at, days_overdue, is_overdue, assignee_type,
                   assignee_name, matter_id, client_name
            from reports.open_tasks order by task_id
        """)
        assert got == [
            (8001, "pending", date(2026, 11, 10), 10, True, "User", "Alice Attorney", 301, "Acme LLP"),
            (8002, "in_progress", date(2026, 11, 20), 0, False, "User", "Alice Attorney", 301,
             "Acme LLP"),
            (8003, "in_review", date(2026, 12, 1), 0, False, "User", "Alice Attorney", 301,
             "Acme LLP"),
            (8006, "pending", None, None, False, "Person", "Dana Opposing", 301, "Acme LLP"),
            (8007, "pending", date(2026, 11, 19), 1, True, "User", "Alice Attorney", None, None),
        ]


class TestChecks:
    def test_every_check_passes_and_the_clio_ones_ran(self, whole_con):
        results = {r.name: r for r in run_checks(whole_con)}
        for name in ("unbilled_matches_clio", "trust_matches_clio", "custom_field_values_are_typed"):
            assert results[name].passed and not results[name].skipped, results[name].describe()
        assert all(r.passed for r in results.values()), [r.describe() for r in results.values()]

    def test_unbilled_work_that_disagrees_with_clio_is_named(self, writable):
        writable.execute("update clio.billable_matters set unbilled_amount = 1200.00 where id = 301")
        writable.execute("update clio.activities set billed = true where id = 5016")
        failing = {r.name: r for r in run_checks(writable)}["unbilled_matches_clio"]
        assert [(r["matter_id"], r["unbilled_amount"], r["clio_unbilled_amount"])
                for r in failing.failures] == [(301, D("945.50"), D("1200.00")),
                                               (305, Z, D("240.00"))]

    def test_a_trust_balance_that_disagrees_with_clio_is_named(self, writable):
        writable.execute("update clio.matters__account_balances set balance = 2900.00 "
                         "where matter_id = 301 and type = 'Trust'")
        failing = {r.name: r for r in run_checks(writable)}["trust_matches_clio"]
        assert [(r["matter_id"], r["trust_balance"], r["clio_amount_in_trust"])
                for r in failing.failures] == [(301, D("2900.00"), D("3000.00"))]

    def test_a_value_that_does_not_read_as_its_type_is_named(self, writable):
        writable.execute("update clio.matters__custom_field_values set value = 'twelve' "
                         "where id = '17-301'")
        writable.execute("update clio.matters__custom_field_values set value = '1.005' "
                         "where id = '12-301'")
        failing = {r.name: r for r in run_checks(writable)}["custom_field_values_are_typed"]
        assert sorted((r["custom_field_id"], r["value_text"]) for r in failing.failures) == [
            (12, "1.005"), (17, "twelve")]

    def test_the_clio_checks_are_skipped_without_billable_matters(self, writable):
        writable.execute("drop table clio.billable_matters")
        results = {r.name: r for r in run_checks(writable)}
        assert results["unbilled_matches_clio"].skipped and results["trust_matches_clio"].skipped

    def test_a_listing_synced_empty_is_checked_against_nothing(self, writable):
        """dlt creates no table for an empty listing; the sync's run history says it was read."""
        writable.execute("drop table clio.billable_matters")
        writable.execute("create table if not exists clio._sync_runs "
                         "(run_id varchar, status varchar, resource varchar)")
        writable.execute("insert into clio._sync_runs values ('r1', 'ok', 'billable_matters')")
        build_models(writable)  # as after that sync
        results = {r.name: r for r in run_checks(writable)}
        unbilled = results["unbilled_matches_clio"]
        assert not unbilled.skipped
        assert sorted(r["matter_id"] for r in unbilled.failures) == [301, 302, 303, 304, 305]
        assert not results["trust_matches_clio"].skipped and results["trust_matches_clio"].passed
