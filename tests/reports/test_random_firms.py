"""Properties of the reports on random firms (hypothesis), consistent by construction and
loaded through the sync's load path: buckets sum to balances, AR equals the balances of
awaiting_payment revenue bills, the checks pass, and the as-of aging of today and the
KPIs' current month agree with the live aging."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.clio.load import load_records
from pipelines.reports.checks import run_checks
from pipelines.reports.runner import build_models
from pipelines.reports.settings import ReportSettings, apply_settings

TODAY = date(2026, 11, 20)
CURRENCIES = ({"id": 1, "code": "USD"}, {"id": 2, "code": "EUR"})
MATTERS = (11, 12, 13)
BUCKETS = ("current_amount", "days_1_30_amount", "days_31_60_amount", "days_61_90_amount",
           "days_91_plus_amount")
STATES = ("draft", "awaiting_approval", "awaiting_payment", "paid", "void", "deleted")

pytestmark = pytest.mark.slow


def money(cents: int) -> float:
    return round(cents / 100, 2)


@st.composite
def bills_and_allocations(draw):
    bills, allocations = [], []
    for bill_id in range(1, draw(st.integers(1, 10)) + 1):
        state = draw(st.sampled_from(STATES))
        issued = TODAY - timedelta(days=draw(st.integers(0, 400)))
        due_at = issued + timedelta(days=draw(st.sampled_from([0, 15, 30])))
        due = draw(st.integers(100, 500_000))
        paid = credits = 0
        if state in ("awaiting_payment", "paid"):
            parts = draw(st.lists(st.tuples(st.integers(1, max(1, due // 2)), st.booleans(),
                                            st.booleans()), max_size=3))
            if state == "paid":  # settle the rest, sometimes overpaying
                parts.append((due - sum(p for p, _, v in parts if not v)
                              + draw(st.sampled_from([0, 0, 500])), False, False))
            for amount, is_credit, is_voided in parts:
                if amount <= 0:
                    continue
                day = issued + timedelta(days=draw(st.integers(0, (TODAY - issued).days)))
                allocations.append({
                    "id": 100 * bill_id + len(allocations), "date": day.isoformat(),
                    "amount": money(amount),
                    "voided_at": f"{day.isoformat()}T18:00:00-05:00" if is_voided else None,
                    "bill": {"id": bill_id, "number": f"B{bill_id}"}, "matter": {"id": 11},
                    "contact": {"id": 1, "name": "C"},
                    "parent": {"id": 9, "type": "CreditMemo" if is_credit else "Payment"},
                })
                if not is_voided:
                    credits += amount if is_credit else 0
                    paid += 0 if is_credit else amount
        balance = due - paid - credits
        matters = draw(st.lists(st.sampled_from(MATTERS), min_size=1, max_size=2, unique=True))
        first_part = draw(st.integers(min(0, balance), max(0, balance)))
        shares = [first_part, balance - first_part][: len(matters)]
        shares[-1] += balance - sum(shares)
        client = draw(st.integers(1, 3))
        bills.append({
            "id": bill_id, "number": f"B{bill_id}", "state": state,
            "kind": draw(st.sampled_from(["revenue_kind", "revenue_kind", "trust_kind"])),
            "issued_at": issued.isoformat(), "due_at": due_at.isoformat(),
            "total": money(due), "due": money(due), "paid": money(paid),
            "credits_issued": money(credits), "balance": money(balance),
            "paid_at": None, "client": {"id": client, "name": f"Client {client}"},
            "currency": draw(st.sampled_from(CURRENCIES)),
            "matters": [{"id": m, "display_number": f"M{m}"} for m in matters],
            "balances": [{"id": m, "type": "Matter", "amount": money(s), "interest_amount": 0.0,
                          "due": None} for m, s in zip(matters, shares, strict=True)],
        })
    return bills, allocations


def outstanding(bills):
    totals = defaultdict(int)
    for b in bills:
        if b["state"] == "awaiting_payment" and b["kind"] != "trust_kind":
            totals[(b["client"]["id"], b["currency"]["id"])] += round(b["balance"] * 100)
    return [
        {"id": c * 100 + cur, "contact": {"id": c, "name": f"Client {c}"},
         "currency": CURRENCIES[cur - 1], "total_outstanding_balance": money(cents)}
        for (c, cur), cents in totals.items()
    ]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(firm=bills_and_allocations())
def test_reports_reconcile_on_random_firms(firm, tmp_path_factory):
    bills, allocations = firm
    db = tmp_path_factory.mktemp("random") / "clio_sync.duckdb"
    load_records(db, "bills", bills)
    load_records(db, "allocations", allocations)
    load_records(db, "outstanding_client_balances", outstanding(bills))
    with duckdb.connect(str(db)) as con:
        build_models(con)
        apply_settings(con, ReportSettings(timezone="America/New_York", today=TODAY))
        results = run_checks(con)
        assert all(r.passed for r in results), [r.describe() for r in results]

        expected = defaultdict(Decimal)
        for b in bills:
            if b["state"] == "awaiting_payment" and b["kind"] != "trust_kind":
                expected[b["currency"]["code"]] += Decimal(str(b["balance"])).quantize(Decimal("0.01"))
        live = dict(con.execute(
            f"select currency, sum(balance) from reports.ar_aging_detail "
            f"where {' + '.join(BUCKETS)} = balance group by 1").fetchall())
        assert live == dict(expected)

        kpi = dict(con.execute(
            "select currency, ar_at_month_end from reports.billing_kpis_monthly where month = ?",
            [TODAY.replace(day=1)]).fetchall())
        assert {k: v for k, v in kpi.items() if v or k in live} == live
        as_of = dict(con.execute(
            "select currency, sum(balance) from reports.ar_aging_as_of(cast(? as date)) "
            "where bill_id in (select bill_id from intermediate.approved_revenue_bills "
            "where is_receivable) group by 1", [TODAY]).fetchall())
        assert {k: v for k, v in as_of.items() if v} == {k: v for k, v in live.items() if v}
