"""`reports.ar_aging_as_of(date)` on a small hand-built firm, balances worked out by hand.

The firm (today 2026-11-20, America/New_York) holds the cases the as-of aging used to
get wrong: paid bills whose allocations are all voided or missing (they vanished from
every date), and interest charged after the as-of date (it counted in that date's
balance). Each expected balance is written as a literal with its arithmetic.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from pathlib import Path

import duckdb
import pytest

from pipelines.clio.load import load_records
from pipelines.reports.runner import build_models
from pipelines.reports.settings import ReportSettings, apply_settings

SETTINGS = ReportSettings(timezone="America/New_York", today=date(2026, 11, 20))

CLIENT = {"id": 1, "name": "Acme LLP"}
USD = {"id": 1, "code": "USD"}


def bill(bill_id: int, state: str, issued: str, due: str, amount: float, *, paid_at: str | None = None,
         updated_at: str, paid: float = 0.0) -> dict:
    return {
        "id": bill_id, "number": str(bill_id), "state": state, "kind": "revenue_kind",
        "type": "MatterBill", "issued_at": issued, "due_at": due, "total": amount, "due": amount,
        "paid": paid, "credits_issued": 0.0, "balance": round(amount - paid, 2), "paid_at": paid_at,
        "client": CLIENT, "currency": USD, "matters": [], "balances": [],
        "created_at": f"{issued}T08:30:00-04:00", "updated_at": updated_at,
    }


def payment(allocation_id: int, bill_id: int, day: str, amount: float, voided_at: str | None = None) -> dict:
    return {
        "id": allocation_id, "bill": {"id": bill_id, "number": str(bill_id)}, "date": day,
        "amount": amount, "parent": {"id": 900 + allocation_id, "type": "Payment"},
        "voided_at": voided_at, "contact": CLIENT,
        "created_at": f"{day}T12:00:00-04:00", "updated_at": voided_at or f"{day}T12:00:00-04:00",
    }


def interest(charge_id: int, bill_id: int, day: str, total: float) -> dict:
    return {"id": charge_id, "bill": {"id": bill_id}, "date": day, "total": total,
            "description": "Interest", "created_at": f"{day}T06:00:00-04:00",
            "updated_at": f"{day}T06:00:00-04:00"}


FIRM = {
    "contacts": [{"id": 1, "name": "Acme LLP", "type": "Company", "updated_at": "2026-01-05T09:00:00-05:00"}],
    "bills": [
        # 1: paid; its only payment (Oct 10) was voided on Oct 20; Clio says paid on Oct 25
        bill(1, "paid", "2026-09-01", "2026-10-01", 1000.00, paid=1000.00,
             paid_at="2026-10-25T10:00:00-04:00", updated_at="2026-10-25T10:00:00-04:00"),
        # 2: paid with no allocation synced; paid at 21:30 New York time on Sep 15 (Sep 16 UTC)
        bill(2, "paid", "2026-08-03", "2026-09-02", 500.00, paid=500.00,
             paid_at="2026-09-15T21:30:00-04:00", updated_at="2026-09-15T21:30:00-04:00"),
        # 3: awaiting payment: 2000.00 of work, interest 30.00 on Aug 30 and 30.45 on Sep 29,
        #    a payment of 500.00 on Sep 10: due 2060.45 today, balance 1560.45
        bill(3, "awaiting_payment", "2026-07-01", "2026-07-31", 2060.45, paid=500.00,
             updated_at="2026-09-29T06:00:00-04:00"),
        # 4: paid: 800.00 of work, interest 12.00 on Jul 31, paid 812.00 on Aug 20
        bill(4, "paid", "2026-06-01", "2026-07-01", 812.00, paid=812.00,
             paid_at="2026-08-20T11:00:00-04:00", updated_at="2026-08-20T11:00:00-04:00"),
        # 5: paid, no allocation and no paid_at: it left AR by its last update (Nov 5)
        bill(5, "paid", "2026-10-01", "2026-10-31", 300.00, paid=300.00,
             updated_at="2026-11-05T09:00:00-05:00"),
    ],
    "allocations": [
        payment(11, 1, "2026-10-10", 1000.00, voided_at="2026-10-20T09:00:00-04:00"),
        payment(31, 3, "2026-09-10", 500.00),
        payment(41, 4, "2026-08-20", 812.00),
    ],
    "interest_charges": [
        interest(301, 3, "2026-08-30", 30.00),
        interest(302, 3, "2026-09-29", 30.45),
        interest(401, 4, "2026-07-31", 12.00),
    ],
}


@pytest.fixture(scope="module")
def firm_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("as_of") / "clio_sync.duckdb"
    for table, records in FIRM.items():
        load_records(db, table, records)
    con = duckdb.connect(str(db))
    build_models(con)
    con.close()
    return db


@pytest.fixture
def con(firm_db: Path):
    connection = duckdb.connect(str(firm_db), read_only=True)
    apply_settings(connection, SETTINGS)
    yield connection
    connection.close()


def aging(con, as_of: str) -> dict[int, tuple]:
    """{bill_id: (balance, days_past_due, aging_bucket)} as of the end of `as_of`."""
    rows = con.execute(
        "select bill_id, balance, days_past_due, aging_bucket from reports.ar_aging_as_of(cast(? as date))",
        [as_of],
    ).fetchall()
    return {bill_id: (balance, days, bucket) for bill_id, balance, days, bucket in rows}


class TestPaidBillWithoutValidAllocations:
    def test_is_owed_before_its_voided_payment(self, con):
        # issued Sep 1, nothing allocated by Sep 30: 1000.00; due Oct 1 -> 1 day before due
        assert aging(con, "2026-09-30")[1] == (D("1000.00"), -1, "current")

    def test_is_settled_while_its_payment_stood(self, con):
        # the Oct 10 payment was voided on Oct 20, after Oct 15: 1000.00 - 1000.00 = 0
        assert 1 not in aging(con, "2026-10-15")

    def test_is_owed_again_once_the_payment_is_voided(self, con):
        # Oct 22: the payment no longer counts, and Clio's paid date (Oct 25) is ahead:
        # 1000.00 - 0 = 1000.00; Oct 22 - Oct 1 = 21 days past due
        assert aging(con, "2026-10-22")[1] == (D("1000.00"), 21, "1-30")

    def test_leaves_ar_on_clios_paid_date(self, con):
        assert 1 not in aging(con, "2026-10-25")

    def test_with_no_allocation_at_all_is_owed_until_paid_at_in_the_firms_zone(self, con):
        # issued Aug 3; Aug 31 is 2 days before due (Sep 2); Sep 14 is 12 days past due
        assert aging(con, "2026-08-31")[2] == (D("500.00"), -2, "current")
        assert aging(con, "2026-09-14")[2] == (D("500.00"), 12, "1-30")
        # paid at 21:30 on Sep 15 New York time (01:30 UTC on Sep 16): gone by end of Sep 15
        assert 2 not in aging(con, "2026-09-15")

    def test_with_no_paid_at_either_leaves_ar_on_its_last_update(self, con):
        # Nov 4 - Oct 31 = 4 days past due; updated (paid) on Nov 5
        assert aging(con, "2026-11-04")[5] == (D("300.00"), 4, "1-30")
        assert 5 not in aging(con, "2026-11-05")


class TestInterestChargedLater:
    def test_is_not_owed_before_it_is_charged(self, con):
        # 2060.45 today - 30.00 (Aug 30) - 30.45 (Sep 29) = 2000.00; Aug 15 - Jul 31 = 15
        assert aging(con, "2026-08-15")[3] == (D("2000.00"), 15, "1-30")

    def test_counts_from_the_day_it_is_charged(self, con):
        # 2060.45 - 30.45 (charged Sep 29, later) = 2030.00; Aug 30 - Jul 31 = 30 days
        assert aging(con, "2026-08-30")[3] == (D("2030.00"), 30, "1-30")

    def test_and_payments_count_on_their_own_dates(self, con):
        # 2060.45 - 30.45 (Sep 29) - 500.00 (paid Sep 10) = 1530.00; Sep 10 - Jul 31 = 41
        assert aging(con, "2026-09-10")[3] == (D("1530.00"), 41, "31-60")
        # 2060.45 - 500.00 = 1560.45; Sep 29 - Jul 31 = 60 days
        assert aging(con, "2026-09-29")[3] == (D("1560.45"), 60, "31-60")

    def test_on_a_bill_paid_later(self, con):
        # bill 4: 812.00 - 12.00 (Jul 31) = 800.00 on Jul 30 (29 days past due Jul 1)
        assert aging(con, "2026-07-30")[4] == (D("800.00"), 29, "1-30")
        # 812.00 on Jul 31; gone once paid on Aug 20
        assert aging(con, "2026-07-31")[4] == (D("812.00"), 30, "1-30")
        assert 4 not in aging(con, "2026-08-20")


def test_as_of_today_is_the_live_aging(con):
    # today only bill 3 is owed: 1560.45, Nov 20 - Jul 31 = 112 days past due
    assert aging(con, "2026-11-20") == {3: (D("1560.45"), 112, "91+")}
    live = con.execute("select bill_id, balance, aging_bucket from reports.ar_aging_detail").fetchall()
    assert live == [(3, D("1560.45"), "91+")]


def test_kpi_ar_at_month_end_follows_the_same_rules(con):
    got = con.execute(
        "select month, ar_at_month_end from reports.billing_kpis_monthly order by month"
    ).fetchall()
    assert [(str(month), ar) for month, ar in got] == [
        ("2026-06-01", D("800.00")),   # bill 4: 812.00 - 12.00 of interest charged in July
        ("2026-07-01", D("2812.00")),  # + bill 3: 2060.45 - 30.00 - 30.45 = 2000.00; + 12.00
        ("2026-08-01", D("2530.00")),  # + bill 2: 500.00; + 30.00 interest; - 812.00 paid
        ("2026-09-01", D("2560.45")),  # + bill 1: 1000.00; + 30.45; - 500.00; - bill 2 (500.00) settled
        ("2026-10-01", D("1860.45")),  # + bill 5: 300.00; - bill 1 (1000.00) settled Oct 25
        ("2026-11-01", D("1560.45")),  # - bill 5 (300.00) settled Nov 5: the live AR
    ]
