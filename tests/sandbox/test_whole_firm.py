"""The whole firm in the generator and in life: the cases every firm holds, volumes, what
a day changes, and the custom field option ("touch" / "silent") both ways."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest
from firm_rules import all_problems, custom_value_problems
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.sandbox import custom_values
from pipelines.sandbox.clock import parse_instant
from pipelines.sandbox.custom_values import FIELD_TYPES
from pipelines.sandbox.firm import Firm, FirmRuleError
from pipelines.sandbox.money import to_cents


def whole_firm_cases_missing(firm: Firm) -> list[str]:
    """The whole-firm cases the sync and the reports must meet that `firm` lacks."""
    fields = {f["id"]: f for f in firm.records("custom_fields")}
    values = [(t, v) for t in ("matters", "contacts") for r in firm.records(t) for v in r["custom_field_values"]]
    live_types = {fields[v["custom_field"]["id"]]["field_type"] for t, v in values if t == "matters" and not v["soft_deleted"]}
    tasks = firm.records("tasks")
    today = firm.now().date().isoformat()
    trust = {a["id"] for a in firm.records("bank_accounts") if a["type"] == "Trust"}
    trust_txs = [t for t in firm.records("bank_transactions") if t["bank_account_id"] in trust]
    matters = firm.records("matters")
    entries = firm.records("calendar_entries")
    cases = {
        "a live matter value of every field type": live_types == set(FIELD_TYPES),
        "values on contacts": any(t == "contacts" and not v["soft_deleted"] for t, v in values),
        "soft-deleted values": any(v["soft_deleted"] for _, v in values),
        "deleted definitions of both parents": {f["parent_type"] for f in fields.values() if f["deleted"]}
        == {"Matter", "Contact"},
        "a deleted picklist option": any(o["deleted_at"] for f in fields.values() for o in f["picklist_options"]),
        "custom field sets": bool(firm.records("custom_field_sets")),
        "every task status": {t["status"] for t in tasks} == {"pending", "in_progress", "in_review", "complete", "draft"},
        "an overdue open task": any(t["status"] != "complete" and t["due_at"] and t["due_at"] < today for t in tasks),
        "tasks with time entries": any(t["time_entries_count"] for t in tasks),
        "a task assigned to a contact": any(t["assignee"]["type"] != "User" for t in tasks),
        "a deleted task type": any(t["deleted_at"] for t in firm.records("task_types")),
        "timed and all-day calendar entries": {e["all_day"] for e in entries} == {True, False},
        "matter and contact notes": {n["type"] for n in firm.records("notes")} == {"Matter", "Contact"},
        "emails and phone calls": {c["type"] for c in firm.records("communications")}
        == {"EmailCommunication", "PhoneCommunication"},
        "relationships": bool(firm.records("relationships")),
        "billable matters": bool(firm.records("billable_matters")),
        "billable matters holding trust": any(to_cents(r["amount_in_trust"]) > 0 for r in firm.records("billable_matters")),
        "trust deposits and trust applied to bills": {t["source"] for t in trust_txs} >= {"Deposit", "Payment"},
        "matters holding trust money": any(m["account_balances"] for m in matters),
        "contacts holding trust money": any(c["account_balances"] for c in firm.records("contacts")),
        "an evergreen matter below its minimum": any(
            m["evergreen_retainer"] and to_cents(m["evergreen_retainer"]["minimum_threshold"])
            > sum(to_cents(b["balance"]) for b in m["account_balances"])
            for m in matters
        ),
        "matter stages and groups": all(m["group"] for m in matters) and any(m["matter_stage"] for m in matters),
        "activities with descriptions and categories": any(a["activity_description"] for a in firm.records("activities"))
        and any(a["expense_category"] for a in firm.records("activities")),
        "activity rates per user and per client": any(r["contact_id"] for r in firm.records("activity_rates"))
        and any(not r["contact_id"] for r in firm.records("activity_rates")),
        "groups of every kind": {g["type"] for g in firm.records("groups")} >= {"AccountGroup", "UserGroup", "TeamGroup"},
    }  # fmt: skip
    return [case for case, present in cases.items() if not present]


@pytest.fixture(scope="module")
def tiny() -> Firm:
    return Firm.generate(3, "tiny")


@pytest.fixture(scope="module")
def small() -> Firm:
    return Firm.generate(5, "small")


def test_tiny_firm_holds_every_whole_firm_case(tiny: Firm) -> None:
    assert whole_firm_cases_missing(tiny) == []


@settings(max_examples=25, deadline=None, derandomize=True)
@given(seed=st.integers(min_value=0, max_value=2**31))
def test_any_seed_holds_every_whole_firm_case(seed: int) -> None:
    firm = Firm.generate(seed, "tiny")
    assert whole_firm_cases_missing(firm) == []
    assert all_problems(firm) == []


def test_small_firm_volumes(small: Firm) -> None:
    counts = small.counts()
    matters = counts["matters"]
    assert 1.0 * matters <= counts["tasks"] <= 2.5 * matters
    assert 1.0 * matters <= counts["calendar_entries"] <= 2.5 * matters
    assert 1.0 * matters <= counts["notes"] <= 2.5 * matters
    assert 1.5 * matters <= counts["communications"] <= 3 * matters
    assert 0.3 * matters <= counts["relationships"] <= matters
    values = sum(len(m["custom_field_values"]) for m in small.records("matters"))
    assert 4 * matters <= values <= 7 * matters
    assert 0.4 * matters <= counts["billable_matters"] <= matters
    assert whole_firm_cases_missing(small) == []


def test_the_billing_firm_of_a_seed_is_unchanged_by_the_whole_firm(tiny: Firm) -> None:
    """The whole firm draws from its own stream: bills, line items and allocations of a
    seed are what they were before it existed (their ids and amounts)."""
    again = Firm.generate(3, "tiny")
    assert [(b["id"], b["total"], b["state"]) for b in again.records("bills")] == [
        (b["id"], b["total"], b["state"]) for b in tiny.records("bills")
    ]


# ----- life ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lived() -> tuple[Firm, datetime, Counter]:
    firm = Firm.generate(5, "small")
    start = firm.now()
    events: Counter = Counter()
    firm.subscribe(lambda endpoint, event, record: events.update([(endpoint, event)]))
    firm.advance(10)
    return firm, start, events


def test_life_moves_the_whole_firm(lived: tuple[Firm, datetime, Counter]) -> None:
    firm, start, events = lived
    for endpoint in ("tasks", "calendar_entries", "notes", "communications", "relationships",
                     "trust_line_items", "bank_transactions"):  # fmt: skip
        assert events[(endpoint, "created")] > 0, endpoint
    for endpoint in ("tasks", "calendar_entries", "notes", "bank_accounts", "matters", "contacts"):
        assert events[(endpoint, "updated")] > 0, endpoint
    deleted = sum(events[(e, "deleted")] for e in ("tasks", "calendar_entries", "notes", "communications", "relationships"))
    assert deleted > 0
    changed_tasks = firm.changed_since("tasks", start)
    assert any(t["status"] == "complete" and parse_instant(t["completed_at"]) > start.timestamp() for t in changed_tasks)
    assert any(t["time_entries_count"] for t in changed_tasks)
    edited = [v for m in firm.records("matters") for v in m["custom_field_values"]
              if parse_instant(v["updated_at"]) > start.timestamp()]  # fmt: skip
    assert edited
    moved = [t for t in firm.changed_since("bank_transactions", start) if t["bank_account_id"] == 2]
    assert {t["source"] for t in moved} >= {"Deposit", "Payment"}
    assert any(m["matter_stage_updated_at"] and parse_instant(m["matter_stage_updated_at"]) > start.timestamp()
               for m in firm.records("matters"))  # fmt: skip
    assert all_problems(firm) == []


def test_new_matters_are_born_whole(lived: tuple[Firm, datetime, Counter]) -> None:
    firm, start, _ = lived
    born = firm.created_since("matters", start)
    assert born
    assert all(m["group"] and m["account_balances"] is not None for m in born)
    assert any(m["custom_field_values"] for m in born)


# ----- the custom field option -----------------------------------------------------


@pytest.mark.parametrize("mode", ["touch", "silent"])
def test_editing_a_value_moves_the_parent_only_under_touch(tiny: Firm, mode: str) -> None:
    firm = Firm.generate(3, "tiny")
    firm.custom_field_edits = mode
    heard: list[tuple[str, str, int]] = []
    firm.subscribe(lambda endpoint, event, record: heard.append((endpoint, event, record["id"])))
    matter = firm.records("matters")[0]
    field = next(f for f in firm.records("custom_fields") if f["name"] == "Claim Number")
    before = dict(matter)
    read = firm.now()
    custom_values.set_value(firm, "matters", matter["id"], field["id"], "CLM-777")
    value = next(v for v in matter["custom_field_values"] if v["custom_field"]["id"] == field["id"])
    assert value["value"] == "CLM-777" and parse_instant(value["updated_at"]) > read.timestamp()
    listed = [m["id"] for m in firm.changed_since("matters", read)]
    if mode == "touch":
        assert matter["updated_at"] > before["updated_at"] and matter["etag"] != before["etag"]
        assert listed == [matter["id"]] and heard == [("matters", "updated", matter["id"])]
    else:
        assert (matter["updated_at"], matter["etag"]) == (before["updated_at"], before["etag"])
        assert listed == [] and heard == [("matters", "custom_field_values", matter["id"])]
    assert custom_value_problems(firm) == []


@pytest.mark.parametrize("mode", ["touch", "silent"])
def test_life_under_either_option_keeps_the_rules(mode: str) -> None:
    firm = Firm.generate(8, "tiny")
    firm.custom_field_edits = mode
    start = firm.now()
    firm.advance(15)
    assert all_problems(firm) == []
    edited = {m["id"] for m in firm.records("matters") for v in m["custom_field_values"]
              if parse_instant(v["updated_at"]) > start.timestamp()}  # fmt: skip
    assert edited
    touched = {m["id"] for m in firm.changed_since("matters", start)}
    if mode == "touch":
        assert edited <= touched
    else:  # some value edits hit matters that nothing else changed: invisible to updated_since
        assert edited - touched


def test_deleting_a_definition_soft_deletes_its_values() -> None:
    firm = Firm.generate(3, "tiny")
    field = next(f for f in firm.records("custom_fields") if f["name"] == "Referral Source")
    holders = [m for m in firm.records("matters") if any(v["custom_field"]["id"] == field["id"] for v in m["custom_field_values"])]
    assert holders
    start = firm.now()
    custom_values.delete_definition(firm, field["id"])
    assert field["deleted"] and parse_instant(field["updated_at"]) > start.timestamp()
    for matter in holders:
        value = next(v for v in matter["custom_field_values"] if v["custom_field"]["id"] == field["id"])
        assert value["soft_deleted"] and parse_instant(value["updated_at"]) > start.timestamp()
    assert {m["id"] for m in holders} <= {m["id"] for m in firm.changed_since("matters", start)}
    assert custom_value_problems(firm) == []
    with pytest.raises(FirmRuleError, match="deleted"):
        custom_values.set_value(firm, "matters", holders[0]["id"], field["id"], 1)


@pytest.mark.parametrize(
    ("name", "raw", "text"),
    [
        ("Conflict Check Done", True, "true"),
        ("Estimated Value", 1250.5, "1250.50"),
        ("Expected Hours", "12.50", "12.5"),
        ("Statute of Limitations Date", "2027-01-31", "2027-01-31"),
        ("Hearing Time", "9:30", None),
        ("Hearing Time", "09:30", "09:30:00"),
        ("Adjuster Email", "no-at-sign", None),
        ("Court Docket URL", "https://courts.example/1", "https://courts.example/1"),
        ("Opposing Counsel", 2, "2"),
        ("Referral Source", 6, None),  # the deleted option
        ("Referral Source", 2, "2"),
    ],
)
def test_values_are_checked_and_written_as_clio_sends_them(name: str, raw: object, text: str | None) -> None:
    firm = Firm.generate(3, "tiny")
    field = next(f for f in firm.records("custom_fields") if f["name"] == name)
    matter = firm.records("matters")[-1]
    if text is None:
        with pytest.raises(FirmRuleError):
            custom_values.set_value(firm, "matters", matter["id"], field["id"], raw)
        return
    custom_values.set_value(firm, "matters", matter["id"], field["id"], raw)
    value = next(v for v in matter["custom_field_values"] if v["custom_field"]["id"] == field["id"])
    assert value["value"] == text and value["id"].startswith(f"{field['field_type']}-")
    assert custom_value_problems(firm) == []


def test_a_cleared_value_disappears_and_ids_are_never_reused() -> None:
    firm = Firm.generate(3, "tiny")
    matter = firm.records("matters")[0]
    value = matter["custom_field_values"][0]
    field_id = value["custom_field"]["id"]
    custom_values.set_value(firm, "matters", matter["id"], field_id, None)
    assert all(v["custom_field"]["id"] != field_id for v in matter["custom_field_values"])
    field = firm.get("custom_fields", field_id)
    if not field["deleted"]:
        fresh = draw_valid(firm, field)
        custom_values.set_value(firm, "matters", matter["id"], field_id, fresh)
        again = next(v for v in matter["custom_field_values"] if v["custom_field"]["id"] == field_id)
        assert again["id"] != value["id"]


def draw_valid(firm: Firm, field: dict) -> object:
    kind = field["field_type"]
    if kind == "picklist":
        return next(o["id"] for o in field["picklist_options"] if not o["deleted_at"])
    if kind in ("contact", "matter"):
        return firm.records(kind + "s")[0]["id"]
    return {"checkbox": True, "currency": 10, "numeric": 3, "date": "2026-01-01", "time": "10:00",
            "email": "a@b.example", "url": "https://x.example"}.get(kind, "text")  # fmt: skip


def test_a_bare_hand_built_firm_lives_its_whole_firm_life() -> None:
    """No reference data, no custom fields, a trust account that says nothing of its
    balance: life still runs, and moves trust money consistently."""
    from firm_rules import trust_problems
    from fixture_firm import NOW

    stamp = "2026-11-01T09:00:00-05:00"
    firm = Firm.from_records({
        "users": [{"id": 1, "name": "Ada", "subscription_type": "Attorney", "rate": 200.0,
                   "default_calendar_id": 9, "email": "ada@x.example"}],
        "contacts": [{"id": 2, "name": "Acme", "type": "Company", "is_client": True,
                      "currency": {"id": 1, "code": "USD"}}],
        "practice_areas": [{"id": 3, "name": "Litigation", "code": "LIT"}],
        "matters": [{"id": 4, "display_number": "00004-Acme", "status": "Open", "client_id": 2,
                     "currency": {"id": 1, "code": "USD"}, "client": {"id": 2, "name": "Acme"},
                     "practice_area": {"id": 3, "name": "Litigation"},
                     "responsible_attorney": {"id": 1, "name": "Ada"}, "has_tasks": False}],
        "bank_accounts": [{"id": 5, "name": "Trust (USD)", "type": "Trust", "currency": "USD",
                           "currency_id": 1, "created_at": stamp}],
    }, NOW)  # fmt: skip
    counts = firm.advance(30)
    assert counts.get("bank_transactions") and counts.get("tasks")
    assert trust_problems(firm) == []
    assert firm.get("matters", 4)["account_balances"]
