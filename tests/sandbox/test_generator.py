"""The seeded firm generator: consistency rules, the cases a tiny firm always holds,
determinism and sizes (large sizes are checked by bench/sandbox_generate.py)."""

from __future__ import annotations

from collections import defaultdict

import pytest
from firm_rules import RULES, all_problems
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.sandbox.firm import Firm
from pipelines.sandbox.money import to_cents
from pipelines.sandbox.shapes import ENDPOINTS


@pytest.fixture(scope="module")
def tiny() -> Firm:
    return Firm.generate(3, "tiny")


@pytest.fixture(scope="module")
def small() -> Firm:
    return Firm.generate(5, "small")


@pytest.mark.parametrize("rule", RULES)
def test_tiny_firm_obeys(tiny: Firm, rule: str) -> None:
    assert RULES[rule](tiny) == []


@pytest.mark.parametrize("rule", RULES)
def test_small_firm_obeys(small: Firm, rule: str) -> None:
    assert RULES[rule](small) == []


def cases_missing(firm: Firm) -> list[str]:
    """The cases the reports and the sync must meet that `firm` lacks."""
    bills = firm.records("bills")
    allocations = firm.records("allocations")
    valid = [a for a in allocations if not a["voided_at"]]
    payments_per_bill: dict[int, int] = defaultdict(int)
    allocated_per_payment: dict[int, int] = defaultdict(int)
    for allocation in allocations:
        if allocation["parent"]["type"] == "Payment":
            allocated_per_payment[allocation["parent"]["id"]] += to_cents(allocation["amount"])
            if not allocation["voided_at"]:
                payments_per_bill[allocation["bill"]["id"]] += 1
    by_id = {a["id"]: a for a in allocations}
    memos = {m["id"]: m for m in firm.records("credit_memos")}
    deposits = [t for t in firm.records("bank_transactions") if t["funds_in"] and t["allocation"]]
    cases = {
        "every bill state": {b["state"] for b in bills}
        >= {"draft", "awaiting_approval", "awaiting_payment", "paid", "void", "deleted"},
        "matter bills": any(b["type"] == "MatterBill" for b in bills),
        "client bills": any(b["type"] == "ClientBill" for b in bills),
        "multi-matter bills": any(len(b["matters"]) > 1 for b in bills),
        "trust requests": any(b["kind"] == "trust_kind" for b in bills),
        "trust money applied to a bill": any(
            t["note"].startswith("Trust applied") for t in firm.records("trust_line_items")
        ),
        "interest": any(to_cents(b["total"]) > to_cents(b["sub_total"]) for b in bills)
        and bool(firm.records("interest_charges")),
        "discounts": any(b["discount"] and to_cents(b["due"]) < to_cents(b["total"]) for b in bills),
        "a second and third currency": {b["currency"]["code"] for b in bills} >= {"USD", "CAD", "EUR"},
        "several payments on one bill": any(n >= 2 for n in payments_per_bill.values()),
        "a partly paid unpaid bill": any(
            b["state"] == "awaiting_payment" and to_cents(b["paid"]) > 0 for b in bills
        ),
        "a write-off": any(
            a["parent"]["type"] == "CreditMemo" and memos[a["parent"]["id"]]["description"] == "Write-off"
            for a in valid
        ),
        "an overpayment": any(
            to_cents(t["funds_in"])
            > allocated_per_payment[by_id[t["allocation"]["id"]]["parent"]["id"]]
            for t in deposits
        ),
        "a voided allocation": any(a["voided_at"] for a in allocations),
        "a reversed deposit": any(
            t["funds_out"] and t["description"].startswith("Voided")
            for t in firm.records("bank_transactions")
        ),
        "outstanding client balances": bool(firm.outstanding_client_balances()),
        "overdue and not yet due receivables": {
            b["due_at"] < firm.now().date().isoformat()
            for b in bills
            if b["state"] == "awaiting_payment"
        }
        == {True, False},
        "open, pending and closed matters": {m["status"] for m in firm.records("matters")}
        == {"Open", "Pending", "Closed"},
        "unbilled and non-billable work": any(not a["bill"] for a in firm.records("activities"))
        and any(a["non_billable"] for a in firm.records("activities")),
        "time and expense entries": {a["type"] for a in firm.records("activities")}
        == {"TimeEntry", "ExpenseEntry"},
        "people and companies": {c["type"] for c in firm.records("contacts")} == {"Person", "Company"},
        "attorneys and staff": {u["subscription_type"] for u in firm.records("users")}
        == {"Attorney", "NonAttorney"},
    }
    return [case for case, present in cases.items() if not present]


def test_tiny_firm_holds_every_case(tiny: Firm) -> None:
    assert cases_missing(tiny) == []
    assert 20 <= len(tiny.records("bills")) <= 60  # tens of bills


@settings(max_examples=40, deadline=None, derandomize=True)
@given(seed=st.integers(min_value=0, max_value=2**31))
def test_any_seed_gives_a_consistent_tiny_firm_with_every_case(seed: int) -> None:
    firm = Firm.generate(seed, "tiny")
    assert all_problems(firm) == []
    assert cases_missing(firm) == []


def test_nothing_is_stamped_after_the_start(tiny: Firm, small: Firm) -> None:
    # time_problems checks every stamp against now(); a generated firm's now() is START
    assert tiny.now_instant() == small.now_instant() == Firm.START


def snapshot(firm: Firm) -> dict[str, list[dict]]:
    return {endpoint: firm.records(endpoint) for endpoint in ENDPOINTS}


def test_same_seed_same_firm_other_seed_other_firm(tiny: Firm) -> None:
    assert snapshot(Firm.generate(3, "tiny")) == snapshot(tiny)
    other = snapshot(Firm.generate(4, "tiny"))
    assert other["bills"] != tiny.records("bills")
    assert other["activities"] != tiny.records("activities")


def test_small_firm_is_demo_sized(small: Firm) -> None:
    counts = small.counts()
    assert 1900 <= counts["bills"] <= 2100
    assert 18_000 <= counts["activities"] <= 22_000
    assert counts["line_items"] > counts["bills"]
    assert counts["allocations"] > 0 and counts["bank_transactions"] > 0
    assert cases_missing(small) == []


def test_unknown_scale_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown scale"):
        Firm.generate(1, "huge")  # type: ignore[arg-type]


def test_the_scaling_firm_is_ten_times_large() -> None:
    """`xlarge` (bench/sync_scaling.py) is `large` times ten in everything that grows with
    a firm, so a sync of it shows how cost and memory scale; generating it takes minutes,
    so its size is checked here, its records by the benchmark."""
    from dataclasses import astuple

    from pipelines.sandbox.scales import SCALES

    large, xlarge = SCALES["large"], SCALES["xlarge"]
    assert xlarge.activities_per_bill == large.activities_per_bill
    counts = [n for n in astuple(large) if isinstance(n, int)]
    assert [n for n in astuple(xlarge) if isinstance(n, int)] == [10 * n for n in counts]
