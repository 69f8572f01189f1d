"""Properties of the reports on generated sandbox firms synced over real HTTP, judged
against the sandbox's truth (`/_sandbox/truth/...`), not against the warehouse itself.

Each firm is synced in full, then lives a few days (`sandbox.advance`) and is synced
incrementally; both states are checked: buckets sum to balances, AR per currency and per
client equals Clio's, every reconciliation check passes, paid bills and KPIs agree with
the allocations Clio holds, and the as-of aging of today equals the live aging.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

import duckdb
import pytest

from pipelines.reports.checks import run_checks
from pipelines.reports.settings import ReportSettings, apply_settings

from .conftest import DEMO_FIRM, SANDBOX_TZ, Snapshot

pytestmark = pytest.mark.slow

# (scale, seed, days lived between the full and the incremental sync); small seed 7 after
# one day is the database `clio-sync demo` builds.
FIRMS = [("tiny", 7, 5), pytest.param(("tiny", 3, 12), marks=pytest.mark.soak),
         pytest.param(("tiny", 41, 30), marks=pytest.mark.soak), DEMO_FIRM]  # fmt: skip
BUCKETS = ("current_amount", "days_1_30_amount", "days_31_60_amount", "days_61_90_amount",
           "days_91_plus_amount")
CENT = Decimal("0.01")


def cents(value: float | None) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


@pytest.fixture(scope="module", params=FIRMS, ids=lambda f: f"{f[0]}-seed{f[1]}-{f[2]}days")
def firm(request, generated_firm) -> dict[str, Snapshot]:
    return generated_firm(*request.param)


@pytest.fixture(params=["synced", "lived"])
def state(request, firm) -> Snapshot:
    return firm[request.param]


@pytest.fixture
def con(state):
    connection = duckdb.connect(str(state.db), read_only=True)
    apply_settings(connection, ReportSettings(timezone=SANDBOX_TZ, today=state.today))
    yield connection
    connection.close()


def test_every_check_passes(con):
    results = run_checks(con)
    assert all(r.passed and not r.skipped for r in results), [r.describe() for r in results]


def test_every_aging_row_sums_its_buckets_and_every_bill_its_balance(con, state):
    rows = con.execute(
        f"select bill_id, {', '.join(BUCKETS)}, balance from reports.ar_aging_detail"
    ).fetchall()
    per_bill: dict[int, Decimal] = defaultdict(Decimal)
    for bill_id, *buckets, balance in rows:
        assert sum(buckets) == balance, f"bill {bill_id}: buckets {buckets} != {balance}"
        assert sum(1 for b in buckets if b) <= 1  # a row ages in exactly one bucket
        per_bill[bill_id] += balance
    receivable = {b["id"]: cents(b["balance"]) for b in state.revenue_bills("awaiting_payment")}
    assert receivable, "a generated firm always has receivables"
    assert dict(per_bill) == receivable
    summary = con.execute(
        f"select {' + '.join(BUCKETS)}, balance from reports.ar_aging_summary").fetchall()
    assert summary and all(total == balance for total, balance in summary)


def test_ar_per_currency_is_the_balance_of_bills_awaiting_payment(con, state):
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for bill in state.revenue_bills("awaiting_payment"):
        expected[bill["currency"]["code"]] += cents(bill["balance"])
    aged = dict(con.execute(
        "select currency, sum(balance) from reports.ar_aging_detail group by 1").fetchall())
    owed = dict(con.execute(
        "select currency, sum(total_outstanding) from reports.outstanding_balances group by 1"
    ).fetchall())
    assert aged == owed == dict(expected)


def test_ar_per_client_is_clio_outstanding_client_balances(con, state):
    clio = {(r["contact"]["id"], r["currency"]["code"]): cents(r["total_outstanding_balance"])
            for r in state.outstanding if r["total_outstanding_balance"]}
    ours = {(client, currency): total for client, currency, total in con.execute(
        "select client_id, currency, total_outstanding from reports.outstanding_balances"
    ).fetchall()}
    assert clio and ours == clio


def test_paid_bills_are_every_paid_bill_settled_by_collections_and_write_offs(con, state):
    rows = con.execute(
        "select bill_id, amount_due, collected, written_off, settled_by from reports.paid_bills"
    ).fetchall()
    ids = [r[0] for r in rows]
    assert len(ids) == len(set(ids))
    paid = {b["id"]: b for b in state.revenue_bills("paid")}
    assert set(ids) == set(paid)
    for bill_id, due, collected, written_off, settled_by in rows:
        bill = paid[bill_id]
        assert collected + written_off == due == cents(bill["due"]), bill_id
        assert (collected, written_off) == (cents(bill["paid"]), cents(bill["credits_issued"]))
        assert settled_by in ("payment", "write_off", "both")


def test_monthly_kpis_are_clio_allocations_and_bills_by_month(con, state):
    revenue = {b["id"]: b for b in state.revenue_bills("awaiting_payment", "paid")}
    billed: dict[tuple, Decimal] = defaultdict(Decimal)
    for bill in revenue.values():
        billed[bill["currency"]["code"], month_of(bill["issued_at"])] += cents(bill["due"])
    collected: dict[tuple, Decimal] = defaultdict(Decimal)
    written_off: dict[tuple, Decimal] = defaultdict(Decimal)
    for allocation in state.allocations:
        bill = revenue.get(allocation["bill"]["id"])
        if allocation["voided_at"] or bill is None:
            continue
        key = (bill["currency"]["code"], month_of(allocation["date"]))
        kind = allocation["parent"]["type"]
        (collected if kind == "Payment" else written_off)[key] += cents(allocation["amount"])
    rows = con.execute(
        "select currency, month, billed, collected, written_off from reports.billing_kpis_monthly"
    ).fetchall()
    assert {(c, m): v for c, m, v, _, _ in rows if v} == dict(billed)
    assert {(c, m): v for c, m, _, v, _ in rows if v} == dict(collected)
    assert {(c, m): v for c, m, _, _, v in rows if v} == dict(written_off)
    this_month = state.today.replace(day=1)
    ar_now = dict(con.execute(
        "select currency, ar_at_month_end from reports.billing_kpis_monthly where month = ?",
        [this_month]).fetchall())
    aged = dict(con.execute(
        "select currency, sum(balance) from reports.ar_aging_detail group by 1").fetchall())
    assert {k: v for k, v in ar_now.items() if v} == {k: v for k, v in aged.items() if v}


def test_as_of_today_is_the_live_aging(con, state):
    live = con.execute(
        "select bill_id, sum(balance), any_value(aging_bucket) from reports.ar_aging_detail "
        "group by 1 order by 1").fetchall()
    as_of = con.execute(
        "select bill_id, balance, aging_bucket from reports.ar_aging_as_of(cast(? as date)) "
        "order by 1", [state.today]).fetchall()
    assert as_of == live


def test_as_of_the_first_sync_day_replays_its_aging_from_the_later_warehouse(firm):
    """After days of life, the as-of aging of the first sync's day gives that day's AR,
    except for bills that changed state since (Clio keeps no state history: a bill
    voided later vanishes, one approved later keeps its original issue date)."""
    synced, lived = firm["synced"], firm["lived"]
    states_then = {b["id"]: b["state"] for b in synced.bills}
    states_now = {b["id"]: b["state"] for b in lived.bills}
    stable = {i for i, s in states_then.items() if s in ("awaiting_payment", "paid")
              and states_now.get(i) in ("awaiting_payment", "paid")}
    with duckdb.connect(str(synced.db), read_only=True) as con:
        apply_settings(con, ReportSettings(timezone=SANDBOX_TZ, today=synced.today))
        then = con.execute("select bill_id, sum(balance) from reports.ar_aging_detail "
                           "group by 1 order by 1").fetchall()
    with duckdb.connect(str(lived.db), read_only=True) as con:
        apply_settings(con, ReportSettings(timezone=SANDBOX_TZ, today=lived.today))
        replayed = con.execute(
            "select bill_id, balance from reports.ar_aging_as_of(cast(? as date)) order by 1",
            [synced.today]).fetchall()
    assert then
    assert [r for r in replayed if r[0] in stable] == [r for r in then if r[0] in stable]


def month_of(day: str) -> date:
    return datetime.strptime(day[:7], "%Y-%m").date()
