"""Every report against the hand-built firm (fixtures/firm.json), row by row.

The firm's today is 2026-11-20 in America/New_York. Expected rows were worked out by
hand from the fixture; see the comments for the cases each row covers.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

D = Decimal


def rows(con, sql: str, params=None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


class TestArAgingDetail:
    def test_one_row_per_receivable_bill_and_matter_with_bucket_edges(self, con):
        got = rows(
            con,
            "select bill_id, matter_id, currency, days_past_due, aging_bucket, balance "
            "from reports.ar_aging_detail order by bill_id, matter_id",
        )
        assert got == [
            (1001, 301, "USD", 0, "current", D("1000.00")),  # due today
            (1002, 301, "USD", 1, "1-30", D("300.00")),  # partial payment
            (1003, 303, "USD", 30, "1-30", D("750.50")),
            (1004, 303, "USD", 31, "31-60", D("1150.00")),  # discount: due < total
            (1005, 302, "USD", 60, "31-60", D("1000.00")),  # two partial payments
            (1006, 303, "USD", 61, "61-90", D("300.00")),
            (1007, 301, "USD", 90, "61-90", D("1200.00")),  # multi-matter bill
            (1007, 302, "USD", 90, "61-90", D("800.00")),
            (1008, 303, "USD", 91, "91+", D("400.00")),
            (1009, 301, "USD", -30, "current", D("250.00")),  # not yet due
            (1010, 303, "USD", 10, "1-30", D("-50.00")),  # reduced after a payment: credit stays
            (1011, 304, "EUR", 50, "31-60", D("4000.00")),  # second currency
        ]

    def test_drafts_unapproved_void_deleted_and_trust_requests_are_not_receivables(self, con):
        bill_ids = {r[0] for r in rows(con, "select bill_id from reports.ar_aging_detail")}
        assert bill_ids.isdisjoint({1016, 1017, 1018, 1019, 1020, 1021, 1022})

    def test_bucket_columns_hold_the_row_balance_once(self, con):
        got = rows(
            con,
            "select bill_id, matter_id, current_amount, days_1_30_amount, days_31_60_amount, "
            "days_61_90_amount, days_91_plus_amount from reports.ar_aging_detail "
            "where bill_id in (1001, 1003, 1004, 1007, 1008) order by bill_id, matter_id",
        )
        z = D("0.00")
        assert got == [
            (1001, 301, D("1000.00"), z, z, z, z),
            (1003, 303, z, D("750.50"), z, z, z),
            (1004, 303, z, z, D("1150.00"), z, z),
            (1007, 301, z, z, z, D("1200.00"), z),
            (1007, 302, z, z, z, D("800.00"), z),
            (1008, 303, z, z, z, z, D("400.00")),
        ]

    def test_names_matters_and_attorneys(self, con):
        got = rows(
            con,
            "select distinct matter_id, matter_display_number, responsible_attorney_name "
            "from reports.ar_aging_detail order by matter_id",
        )
        assert got == [
            (301, "00301-Acme", "Alice Attorney"),
            (302, "00302-Acme", "Bob Barrister"),
            (303, "00303-Birch", "Bob Barrister"),
            (304, "00304-Cedar", "Alice Attorney"),
        ]

    def test_issue_date_basis_ages_from_the_issue_date(self, con):
        con.execute("set variable clio_sync_aging_basis = 'issue_date'")
        got = rows(
            con,
            "select bill_id, days_past_due, aging_days, aging_bucket from reports.ar_aging_detail "
            "where bill_id in (1001, 1009, 1008) order by bill_id",
        )
        assert got == [(1001, 0, 30, "1-30"), (1008, 91, 121, "91+"), (1009, -30, 0, "current")]

    def test_money_stays_decimal(self, con):
        kinds = dict(
            rows(
                con,
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'reports' and table_name = 'ar_aging_detail'",
            )
        )
        assert kinds["balance"] == kinds["days_91_plus_amount"] == "DECIMAL(18,2)"


class TestArAgingSummary:
    @pytest.mark.parametrize(
        ("group", "expected"),
        [
            (
                "client_name",
                [
                    # bill 1007 spans two matters, so it counts once in each matter's row
                    ("Acme LLP", "USD", D("1250.00"), D("300.00"), D("1000.00"), D("2000.00"), D("0.00"), D("4550.00"), 6),
                    ("Birch & Co", "USD", D("0.00"), D("700.50"), D("1150.00"), D("300.00"), D("400.00"), D("2550.50"), 5),
                    ("Cedar GmbH", "EUR", D("0.00"), D("0.00"), D("4000.00"), D("0.00"), D("0.00"), D("4000.00"), 1),
                ],
            ),
            (
                "responsible_attorney_name",
                [
                    ("Alice Attorney", "EUR", D("0.00"), D("0.00"), D("4000.00"), D("0.00"), D("0.00"), D("4000.00"), 1),
                    ("Alice Attorney", "USD", D("1250.00"), D("300.00"), D("0.00"), D("1200.00"), D("0.00"), D("2750.00"), 4),
                    ("Bob Barrister", "USD", D("0.00"), D("700.50"), D("2150.00"), D("1100.00"), D("400.00"), D("4350.50"), 7),
                ],
            ),
        ],
    )
    def test_buckets_roll_up_without_mixing_currencies(self, con, group, expected):
        got = rows(
            con,
            f"select {group}, currency, sum(current_amount), sum(days_1_30_amount), "
            "sum(days_31_60_amount), sum(days_61_90_amount), sum(days_91_plus_amount), "
            f"sum(balance), sum(count_bills) from reports.ar_aging_summary "
            f"group by all order by {group}, currency",
        )
        assert got == expected


class TestOutstandingBalances:
    def test_per_client_and_currency(self, con):
        got = rows(con, "select * from reports.outstanding_balances order by client_id")
        assert got == [
            (101, "Acme LLP", "USD", D("4550.00"), D("3300.00"), date(2026, 8, 22), date(2026, 11, 5), 5),
            (102, "Birch & Co", "USD", D("2550.50"), D("2550.50"), date(2026, 8, 21), date(2026, 11, 12), 5),
            (103, "Cedar GmbH", "EUR", D("4000.00"), D("4000.00"), date(2026, 10, 1), date(2026, 10, 15), 1),
        ]


class TestPaidBills:
    def test_one_row_per_paid_bill(self, con):
        got = rows(
            con,
            "select bill_id, client_id, currency, issued_at, due_at, paid_at, days_to_pay, "
            "days_late, is_paid_on_time, total, collected, written_off, settled_by "
            "from reports.paid_bills order by bill_id",
        )
        assert got == [
            (1012, 103, "EUR", date(2026, 8, 1), date(2026, 8, 31), date(2026, 9, 15), 45, 15, False,
             D("800.00"), D("800.00"), D("0.00"), "payment"),
            # paid partly, the rest written off by a credit note
            (1013, 101, "USD", date(2026, 7, 1), date(2026, 7, 31), date(2026, 7, 20), 19, 0, True,
             D("1500.00"), D("1000.00"), D("500.00"), "both"),
            # written off entirely: no paid_at, the credit note's date stands in
            (1014, 102, "USD", date(2026, 6, 1), date(2026, 7, 1), date(2026, 8, 10), 70, 40, False,
             D("600.00"), D("0.00"), D("600.00"), "write_off"),
            # paid 21:30 New York time on the due date (01:30 UTC the next day); a
            # bounced (voided) earlier payment does not count
            (1015, 101, "USD", date(2026, 10, 1), date(2026, 10, 30), date(2026, 10, 30), 29, 0, True,
             D("900.00"), D("900.00"), D("0.00"), "payment"),
            # overpaid by 50: paid, and out of AR with its credit balance
            (1022, 102, "USD", date(2026, 10, 20), date(2026, 11, 19), date(2026, 11, 12), 23, 0, True,
             D("200.00"), D("250.00"), D("0.00"), "payment"),
        ]


class TestCollections:
    def test_one_row_per_valid_allocation(self, con):
        got = rows(
            con,
            "select allocation_id, allocation_date, allocation_type, bill_id, client_id, "
            "currency, amount, collected, written_off from reports.collections "
            "order by allocation_id",
        )
        z = D("0.00")
        assert got == [
            (2001, date(2026, 11, 5), "payment", 1002, 101, "USD", D("200.00"), D("200.00"), z),
            (2002, date(2026, 9, 1), "payment", 1005, 101, "USD", D("500.00"), D("500.00"), z),
            (2003, date(2026, 10, 1), "payment", 1005, 101, "USD", D("500.00"), D("500.00"), z),
            (2004, date(2026, 8, 30), "payment", 1007, 101, "USD", D("1000.00"), D("1000.00"), z),
            (2005, date(2026, 11, 1), "payment", 1010, 102, "USD", D("150.00"), D("150.00"), z),
            (2006, date(2026, 10, 15), "payment", 1011, 103, "EUR", D("1000.00"), D("1000.00"), z),
            (2007, date(2026, 9, 15), "payment", 1012, 103, "EUR", D("800.00"), D("800.00"), z),
            (2008, date(2026, 7, 20), "payment", 1013, 101, "USD", D("1000.00"), D("1000.00"), z),
            (2009, date(2026, 7, 25), "credit_note", 1013, 101, "USD", D("500.00"), z, D("500.00")),
            (2010, date(2026, 8, 10), "credit_note", 1014, 102, "USD", D("600.00"), z, D("600.00")),
            (2012, date(2026, 10, 30), "payment", 1015, 101, "USD", D("900.00"), D("900.00"), z),
            (2013, date(2026, 11, 12), "payment", 1022, 102, "USD", D("250.00"), D("250.00"), z),
        ]


class TestBillingKpisMonthly:
    def test_money_per_month_and_currency(self, con):
        got = rows(
            con,
            "select currency, month, month_end_at, billed, collected, written_off, "
            "ar_at_month_end, ar_over_90_at_month_end, billed_trailing_90_days "
            "from reports.billing_kpis_monthly order by currency desc, month",
        )
        z = D("0.00")
        assert got == [
            ("USD", date(2026, 6, 1), date(2026, 6, 30), D("600.00"), z, z, D("600.00"), z, D("600.00")),
            ("USD", date(2026, 7, 1), date(2026, 7, 31), D("4900.00"), D("1000.00"), D("500.00"), D("4000.00"), z, D("5500.00")),
            ("USD", date(2026, 8, 1), date(2026, 8, 31), D("2300.00"), D("1000.00"), D("600.00"), D("4700.00"), z, D("7200.00")),
            ("USD", date(2026, 9, 1), date(2026, 9, 30), D("1900.50"), D("500.00"), z, D("6100.50"), z, D("7600.50")),
            ("USD", date(2026, 10, 1), date(2026, 10, 31), D("2700.00"), D("1400.00"), z, D("7400.50"), z, D("6900.50")),
            # the current month is measured as of today: only bill 1008 is over 90 days;
            # the overpaid bill 1022 leaves AR with its 50 credit when it is paid
            ("USD", date(2026, 11, 1), date(2026, 11, 20), D("250.00"), D("600.00"), z, D("7100.50"), D("400.00"), D("4850.50")),
            ("EUR", date(2026, 8, 1), date(2026, 8, 31), D("800.00"), z, z, D("800.00"), z, D("800.00")),
            ("EUR", date(2026, 9, 1), date(2026, 9, 30), D("5000.00"), D("800.00"), z, D("5000.00"), z, D("5800.00")),
            ("EUR", date(2026, 10, 1), date(2026, 10, 31), z, D("1000.00"), z, D("4000.00"), z, D("5000.00")),
            ("EUR", date(2026, 11, 1), date(2026, 11, 20), z, z, z, D("4000.00"), z, D("5000.00")),
        ]

    def test_rates_dso_and_days_to_pay(self, con):
        got = rows(
            con,
            "select currency, month, collection_rate, dso_days, avg_days_to_pay, "
            "weighted_days_to_pay from reports.billing_kpis_monthly order by currency desc, month",
        )
        assert got == [
            ("USD", date(2026, 6, 1), 0.0, 90.0, None, None),
            ("USD", date(2026, 7, 1), 0.2041, 65.5, 19.0, 19.0),
            ("USD", date(2026, 8, 1), 0.4348, 58.8, 70.0, 70.0),
            ("USD", date(2026, 9, 1), 0.2631, 72.2, None, None),
            ("USD", date(2026, 10, 1), 0.5185, 96.5, 29.0, 29.0),
            ("USD", date(2026, 11, 1), 2.4, 131.7, 23.0, 23.0),
            ("EUR", date(2026, 8, 1), 0.0, 90.0, None, None),
            ("EUR", date(2026, 9, 1), 0.16, 77.6, 45.0, 45.0),
            ("EUR", date(2026, 10, 1), None, 72.0, None, None),
            ("EUR", date(2026, 11, 1), None, 72.0, None, None),
        ]

    def test_ar_at_month_end_of_today_equals_the_aging_total(self, con):
        kpi = dict(
            rows(
                con,
                "select currency, ar_at_month_end from reports.billing_kpis_monthly "
                "where month = date '2026-11-01'",
            )
        )
        aging = dict(rows(con, "select currency, sum(balance) from reports.ar_aging_detail group by 1"))
        assert kpi == aging


class TestArAgingAsOf:
    def test_end_of_september(self, con):
        got = rows(
            con,
            "select bill_id, currency, days_past_due, aging_bucket, balance "
            "from reports.ar_aging_as_of(date '2026-09-30') order by bill_id",
        )
        assert got == [
            (1003, "USD", -21, "current", D("750.50")),
            (1004, "USD", -20, "current", D("1150.00")),
            (1005, "USD", 9, "1-30", D("1500.00")),  # one of two payments made by then
            (1006, "USD", 10, "1-30", D("300.00")),
            (1007, "USD", 39, "31-60", D("2000.00")),
            (1008, "USD", 40, "31-60", D("400.00")),
            (1011, "EUR", -1, "current", D("5000.00")),
        ]

    @pytest.mark.parametrize(("as_of", "balance"), [("2026-10-15", None), ("2026-10-16", D("900.00"))])
    def test_a_payment_counts_until_the_day_it_was_voided(self, con, as_of, balance):
        got = rows(
            con,
            "select balance from reports.ar_aging_as_of(cast(? as date)) where bill_id = 1015",
            [as_of],
        )
        assert got == ([(balance,)] if balance is not None else [])

    def test_as_of_today_matches_the_live_aging(self, con):
        as_of = dict(
            rows(con, "select currency, sum(balance) from reports.ar_aging_as_of(date '2026-11-20') group by 1")
        )
        live = dict(rows(con, "select currency, sum(balance) from reports.ar_aging_detail group by 1"))
        assert as_of == live
