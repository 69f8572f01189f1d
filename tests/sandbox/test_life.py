"""Firm life (`Firm.advance`): the firm stays consistent day after day, every change is
stamped after the previous `now()` and listed by `updated_since`, days look alike, and the
same seed lives the same life."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import pytest
from firm_rules import RULES, all_problems
from fixture_firm import NOW, records
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.sandbox.clock import parse_instant
from pipelines.sandbox.firm import Firm
from pipelines.sandbox.shapes import DERIVED, ENDPOINTS

DAYS = 10


@dataclass
class Lived:
    """A firm that lived DAYS days one at a time, with every change it announced."""

    firm: Firm
    start: datetime
    mornings: list[datetime] = field(default_factory=list)  # now() before each day
    events: list[tuple[int, str, str, dict]] = field(default_factory=list)  # day, endpoint, event, record
    counts: list[dict[str, int]] = field(default_factory=list)  # advance(1)'s answer per day
    moves: Counter = field(default_factory=Counter)  # (old state, new state) of bills
    unapproved: int = 0  # drafts and bills awaiting approval before the first day
    unpaid: int = 0  # unpaid revenue bills before the first day


def live(firm: Firm, days: int = DAYS) -> Lived:
    lived = Lived(firm, firm.now())
    states = {b["id"]: b["state"] for b in firm.records("bills")}
    lived.unapproved = sum(1 for state in states.values() if state in ("draft", "awaiting_approval"))
    lived.unpaid = len(unpaid_bills(firm))

    def listen(endpoint: str, event: str, record: dict) -> None:
        lived.events.append((len(lived.mornings) - 1, endpoint, event, record))
        if endpoint == "bills":
            if record["id"] in states and states[record["id"]] != record["state"]:
                lived.moves[(states[record["id"]], record["state"])] += 1
            states[record["id"]] = record["state"]

    firm.subscribe(listen)
    for _ in range(days):
        lived.mornings.append(firm.now())
        lived.counts.append(firm.advance(1))
    return lived


def unpaid_bills(firm: Firm) -> list[dict]:
    return [b for b in firm.records("bills") if b["state"] == "awaiting_payment" and b["kind"] == "revenue_kind"]


@pytest.fixture(scope="module")
def tiny() -> Lived:
    return live(Firm.generate(3, "tiny"))


@pytest.fixture(scope="module")
def small() -> Lived:
    return live(Firm.generate(5, "small"))


@pytest.mark.parametrize("rule", RULES)
def test_tiny_firm_still_obeys_after_life(tiny: Lived, rule: str) -> None:
    assert RULES[rule](tiny.firm) == []


@pytest.mark.parametrize("rule", RULES)
def test_small_firm_still_obeys_after_life(small: Lived, rule: str) -> None:
    assert RULES[rule](small.firm) == []


@settings(max_examples=10, deadline=None, derandomize=True)
@given(seed=st.integers(min_value=0, max_value=2**31), days=st.integers(min_value=1, max_value=20))
def test_any_tiny_firm_stays_consistent_for_any_number_of_days(seed: int, days: int) -> None:
    firm = Firm.generate(seed, "tiny")
    firm.advance(days)
    assert all_problems(firm) == []


@pytest.mark.parametrize("name", ["tiny", "small"])
def test_every_change_is_stamped_after_the_previous_now(name: str, request: pytest.FixtureRequest) -> None:
    lived: Lived = request.getfixturevalue(name)
    assert lived.events
    previous = 0
    for day, endpoint, event, record in lived.events:
        if event == "deleted":  # the record as it was; the deletion itself is not a stamp
            continue
        stamp = parse_instant(record["updated_at"])
        assert stamp > lived.mornings[day].timestamp(), (endpoint, record["id"])
        assert stamp > previous, f"{endpoint} {record['id']} stamped no later than the change before it"
        previous = stamp
    assert lived.firm.now_instant() >= previous


@pytest.mark.parametrize("name", ["tiny", "small"])
def test_updated_since_lists_exactly_the_changed_records(name: str, request: pytest.FixtureRequest) -> None:
    lived: Lived = request.getfixturevalue(name)
    firm = lived.firm
    for endpoint in ENDPOINTS:
        if endpoint in DERIVED:  # derived, announces nothing
            continue
        changed = {r["id"] for _, e, ev, r in lived.events if e == endpoint and ev != "deleted"}
        deleted = {r["id"] for _, e, ev, r in lived.events if e == endpoint and ev == "deleted"}
        listed = {r["id"] for r in firm.changed_since(endpoint, lived.start)}
        assert listed == changed - deleted, endpoint
        assert not deleted & set(firm.tables[endpoint]), endpoint
        created = {r["id"] for _, e, ev, r in lived.events if e == endpoint and ev == "created"}
        assert {r["id"] for r in firm.created_since(endpoint, lived.start)} == created - deleted


def test_ten_days_bring_work_bills_payments_voids_and_deletions(small: Lived) -> None:
    happened = Counter((endpoint, event) for _, endpoint, event, _ in small.events)
    for endpoint in ("contacts", "matters", "activities", "bills", "line_items", "allocations",
                     "bank_transactions"):  # fmt: skip
        assert happened[(endpoint, "created")] > 0, endpoint
    for endpoint in ("contacts", "matters", "activities", "bills", "bank_accounts"):
        assert happened[(endpoint, "updated")] > 0, endpoint
    assert happened[("activities", "deleted")] + happened[("contacts", "deleted")] > 0
    assert small.moves[("awaiting_payment", "paid")] > 0
    assert small.moves[("draft", "awaiting_payment")] + small.moves[("awaiting_approval", "awaiting_payment")] > 0
    assert small.moves[("awaiting_payment", "void")] > 0
    assert small.moves[("draft", "deleted")] + small.moves[("awaiting_approval", "deleted")] > 0
    # volumes follow the firm: a small firm issues a few bills and ~25 time entries a day
    created_bills = happened[("bills", "created")] / DAYS
    assert 1 <= created_bills <= 8
    assert 10 <= happened[("activities", "created")] / DAYS <= 60


def test_days_look_alike(small: Lived) -> None:
    """Drafts waiting for approval are approved with a daily chance, not all on day one."""
    per_day = [counts.get("bills", 0) for counts in small.counts]
    assert max(per_day) <= 2.5 * statistics.median(per_day), per_day
    waiting = small.moves[("draft", "awaiting_payment")] + small.moves[("awaiting_approval", "awaiting_payment")]
    assert waiting < 0.9 * small.unapproved


def test_receivables_hold_steady(small: Lived) -> None:
    """Clients pay about as many bills as the firm issues: the unpaid pile neither drains
    nor runs away (it grows a little at first, as the waiting drafts get approved)."""
    assert 0.8 * small.unpaid <= len(unpaid_bills(small.firm)) <= 1.5 * small.unpaid
    issued = sum(1 for _, endpoint, event, _ in small.events if (endpoint, event) == ("bills", "created"))
    settled = small.moves[("awaiting_payment", "paid")]
    assert 0.3 * issued <= settled <= 2 * issued, (issued, settled)


def test_the_same_seed_lives_the_same_life() -> None:
    first, second, other = (Firm.generate(seed, "tiny") for seed in (11, 11, 12))
    assert first.advance(5) == second.advance(5)
    other.advance(5)
    for endpoint in ENDPOINTS:
        assert first.records(endpoint) == second.records(endpoint), endpoint
    assert first.records("activities") != other.records("activities")


def test_a_hand_built_firm_can_live() -> None:
    firm = Firm.from_records(records(), NOW)
    before = firm.now()
    counts = firm.advance(3)
    assert sum(counts.values()) > 0
    assert firm.now() > before
    assert all(
        datetime.fromisoformat(r["updated_at"]) > before
        for e in ENDPOINTS if e not in DERIVED for r in firm.changed_since(e, before)
    )
