"""The whole-firm reports on generated sandbox firms synced over real HTTP, each compared
with values computed here, in Python, from the sandbox's truth (`/_sandbox/truth/...`):
never from the warehouse or the models' SQL.

The firms are those of `test_sandbox_properties.py` (tiny seeds 7, 3 and 41 and the demo
firm), each after a full sync and after days of life and an incremental sync.
"""

from __future__ import annotations

import calendar
import re
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import duckdb
import pytest

from pipelines.reports.settings import ReportSettings, apply_settings

from .conftest import DEMO_FIRM, SANDBOX_TZ, Snapshot

pytestmark = pytest.mark.slow

FIRMS = [("tiny", 7, 5), pytest.param(("tiny", 3, 12), marks=pytest.mark.soak),
         pytest.param(("tiny", 41, 30), marks=pytest.mark.soak), DEMO_FIRM]  # fmt: skip
CENT = Decimal("0.01")
HOUR = Decimal("0.0001")
WORKDAY = 8
TYPES = {"numeric": "DECIMAL(28,10)", "currency": "DECIMAL(18,2)", "date": "DATE",
         "checkbox": "BOOLEAN", "contact": "BIGINT", "matter": "BIGINT"}


def money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


def hours(seconds: Decimal) -> Decimal:
    return (seconds / 3600).quantize(HOUR)


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


# ----- what Clio holds, worked out from the truth --------------------------------------


def definitions(state: Snapshot) -> dict[int, dict]:
    return {d["id"]: d for d in state.truth["custom_fields"]}


def live_values(state: Snapshot):
    """(parent type, parent id, value) of every value neither soft-deleted nor of a
    deleted definition."""
    fields = definitions(state)
    for table, parent_type in (("matters", "Matter"), ("contacts", "Contact")):
        for parent in state.truth[table]:
            for value in parent.get("custom_field_values") or ():
                field = fields.get(value["custom_field"]["id"])
                if not value["soft_deleted"] and not (field and field["deleted"]):
                    yield parent_type, parent["id"], value


def typed(value: dict, labels: dict[int, str]) -> tuple:
    """(number, date, bool, picklist label) of a value, by its field type."""
    kind, text = value["field_type"], value["value"]
    if text is None:
        return None, None, None, None
    if kind in ("numeric", "currency"):
        return Decimal(text), None, None, None
    if kind in ("contact", "matter"):
        return Decimal(int(text)), None, None, None
    if kind == "date":
        return None, date.fromisoformat(text), None, None
    if kind == "checkbox":
        return None, None, {"true": True, "false": False}[text], None
    if kind == "picklist":
        option = (value.get("picklist_option") or {}).get("id") or int(text)
        return None, None, None, labels[option]
    return None, None, None, None


def picklist_labels(state: Snapshot) -> dict[int, str]:
    return {o["id"]: o["option"] for d in state.truth["custom_fields"]
            for o in d.get("picklist_options") or ()}


def matter_currency(state: Snapshot) -> dict[int, str]:
    return {m["id"]: (m.get("currency") or {}).get("code") for m in state.truth["matters"]}


def is_unbilled(activity: dict) -> bool:
    return (not activity["bill"] and not activity["billed"] and not activity["on_bill"]
            and not activity["non_billable"] and bool(activity["price"]))


def seconds_of(activity: dict) -> Decimal:
    if activity["type"] != "TimeEntry":
        return Decimal(0)
    return Decimal(str(activity["rounded_quantity"] if activity["rounded_quantity"] is not None
                       else activity["quantity"] or 0))


def weekdays(month: date, today: date) -> int:
    last = date(month.year, month.month, calendar.monthrange(month.year, month.month)[1])
    end = min(last, max(today, month))
    return sum(1 for n in range((end - month).days + 1) if (month + timedelta(n)).weekday() < 5)


# ----- the tests ------------------------------------------------------------------------


def test_custom_field_values_are_clio_live_values_typed(con, state):
    labels = picklist_labels(state)
    expected = {(kind, parent, v["id"], v["custom_field"]["id"], v["value"], *typed(v, labels))
                for kind, parent, v in live_values(state)}
    got = set(con.execute("""
        select parent_type, parent_id, custom_field_value_id, custom_field_id, value_text,
               value_number, value_date, value_bool, picklist_label
        from reports.custom_field_values""").fetchall())
    assert got == expected
    assert {row[0] for row in got} == {"Matter", "Contact"}
    assert {v["field_type"] for _, _, v in live_values(state)} >= set(TYPES) | {"picklist"}


def snake(name: str, taken: set[str], field_id: int) -> str:
    """The column of a field as docs/reports.md describes it, for the sandbox's plain
    ASCII names: lowercase, runs of other characters as `_`, `_<id>` on a clash."""
    column = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return f"{column}_{field_id}" if column in taken else column


@pytest.mark.parametrize(("parent_type", "table", "key"), [
    ("Matter", "matters", "matter_id"), ("Contact", "contacts", "contact_id")])
def test_wide_tables_have_a_typed_column_per_live_definition(con, state, parent_type, table, key):
    live = sorted((d for d in state.truth["custom_fields"]
                   if d["parent_type"] == parent_type and not d["deleted"]), key=lambda d: d["id"])
    taken, columns = {key}, {}
    for field in live:
        columns[field["id"]] = snake(field["name"], taken, field["id"])
        taken.add(columns[field["id"]])
    got_columns = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'reports' and table_name = ? order by ordinal_position",
        [f"{parent_type.lower()}_custom_fields"]).fetchall()
    assert got_columns == [(key, "BIGINT")] + [
        (columns[f["id"]], TYPES.get(f["field_type"], "VARCHAR")) for f in live]

    labels = picklist_labels(state)
    expected = {p["id"]: dict.fromkeys(columns.values()) for p in state.truth[table]}
    for kind, parent, value in live_values(state):
        if kind == parent_type and value["custom_field"]["id"] in columns:
            number, day, flag, label = typed(value, labels)
            field_type = value["field_type"]
            cell = {"currency": number, "numeric": number, "date": day, "checkbox": flag,
                    "picklist": label}.get(field_type, value["value"])
            if field_type in ("contact", "matter"):
                cell = int(number)
            expected[parent][columns[value["custom_field"]["id"]]] = cell
    result = con.execute(f"select * from reports.{parent_type.lower()}_custom_fields")
    names = [d[0] for d in result.description]
    got = {row[0]: dict(zip(names[1:], row[1:], strict=True)) for row in result.fetchall()}
    assert got == expected
    assert any(v is not None for row in got.values() for v in row.values())


def test_unbilled_work_is_billable_work_on_no_bill(con, state):
    currency = matter_currency(state)
    expected: dict[tuple, list] = defaultdict(lambda: [0, Decimal(0), Decimal(0)] + [Decimal(0)] * 4)
    for activity in state.truth["activities"]:
        if not is_unbilled(activity):
            continue
        matter = activity["matter"]["id"]
        row = expected[matter, activity["user"]["id"], currency[matter]]
        age = (state.today - date.fromisoformat(activity["date"])).days
        bucket = 0 if age <= 30 else 1 if age <= 60 else 2 if age <= 90 else 3
        row[0] += 1
        row[1] += seconds_of(activity)
        row[2] += money(activity["total"])
        row[3 + bucket] += money(activity["total"])
    got = {(m, u, c): [n, h, a, *b] for m, u, c, n, h, a, *b in con.execute("""
        select matter_id, user_id, currency, count_activities, hours, amount,
               amount_0_30, amount_31_60, amount_61_90, amount_91_plus
        from reports.unbilled_work""").fetchall()}
    assert expected and got == {k: [v[0], hours(v[1]), *v[2:]] for k, v in expected.items()}
    # and per matter, Clio's own figure
    clio = {m["id"]: money(m["unbilled_amount"]) for m in state.truth["billable_matters"]}
    per_matter: dict[int, Decimal] = defaultdict(Decimal)
    for (matter, _, _), row in expected.items():
        per_matter[matter] += row[2]
    assert dict(per_matter) == {k: v for k, v in clio.items() if v}


def test_trust_balances_are_each_matters_trust_accounts_and_minimum(con, state):
    codes = {a["currency_id"]: a["currency"] for a in state.truth["bank_accounts"]}
    expected = {}
    for matter in state.truth["matters"]:
        held: dict[str, Decimal] = defaultdict(Decimal)
        for entry in matter.get("account_balances") or ():
            if entry["type"] == "Trust":
                held[codes[entry["currency_id"]]] += money(entry["balance"])
        minimum = (matter.get("evergreen_retainer") or {}).get("minimum_threshold")
        minimum = money(minimum) if minimum is not None else None
        if minimum is not None and not held:
            held[matter["currency"]["code"]] = Decimal("0.00")
        for code, balance in held.items():
            if balance or minimum is not None:
                shortfall = max(minimum - balance, Decimal(0)) if minimum is not None else None
                expected[matter["id"], code] = (balance, minimum, shortfall,
                                                minimum is not None and balance < minimum)
    got = {(m, c): (b, t, s, below) for m, c, b, t, s, below in con.execute("""
        select matter_id, currency, trust_balance, minimum_threshold, shortfall,
               is_below_minimum from reports.trust_balances""").fetchall()}
    assert got == expected
    assert any(row[3] for row in got.values()), "every generated firm has a matter short of trust"
    clio = {m["id"]: money(m["amount_in_trust"]) for m in state.truth["billable_matters"]}
    ours = defaultdict(Decimal)
    for (matter, _), row in got.items():
        ours[matter] += row[0]
    assert {m: ours.get(m, Decimal("0.00")) for m in clio} == clio


def test_open_tasks_are_tasks_neither_complete_nor_draft(con, state):
    expected = {}
    for task in state.truth["tasks"]:
        if task["status"] in ("complete", "draft"):
            continue
        due = date.fromisoformat(task["due_at"]) if task["due_at"] else None
        overdue = max((state.today - due).days, 0) if due else None
        expected[task["id"]] = (task["status"], due, overdue, (task.get("assignee") or {}).get("id"),
                                (task.get("matter") or {}).get("id"))
    got = {row[0]: row[1:] for row in con.execute("""
        select task_id, status, due_at, days_overdue, assignee_id, matter_id
        from reports.open_tasks""").fetchall()}
    assert expected and got == expected
    assert {t["status"] for t in state.truth["tasks"]} & {"complete", "draft"}, \
        "the firm has finished tasks to leave out"


def test_productivity_is_time_worked_billed_and_collected_per_timekeeper_month(con, state):
    currency = matter_currency(state)
    rates = {u["id"]: u["rate"] for u in state.truth["users"]}
    rows: dict[tuple, dict] = defaultdict(lambda: defaultdict(Decimal))
    for activity in state.truth["activities"]:
        if activity["type"] != "TimeEntry":
            continue
        day = date.fromisoformat(activity["date"])
        user = activity["user"]["id"]
        row = rows[user, day.replace(day=1), currency[activity["matter"]["id"]]]
        seconds = seconds_of(activity)
        row["worked"] += seconds
        if not activity["non_billable"] and activity["price"]:
            row["billable"] += seconds
            rate = rates.get(user) or activity["price"]
            row["value"] += seconds * Decimal(str(rate)) / 3600
    bills = {b["id"]: b for b in state.revenue_bills("awaiting_payment", "paid")}
    for line in state.truth["line_items"]:
        bill = bills.get(line["bill"]["id"])
        if line["kind"] != "Service" or bill is None:
            continue
        day = date.fromisoformat(line["date"])
        row = rows[line["user"]["id"], day.replace(day=1), bill["currency"]["code"]]
        row["billed_hours"] += Decimal(str(line["quantity"]))
        row["billed"] += money(line["sub_total"])
        if bill["total"]:
            row["collected"] += money(bill["paid"]) * money(line["sub_total"]) / money(bill["total"])
    got = {(u, m, c): rest for u, m, c, *rest in con.execute("""
        select user_id, month, currency, hours_worked, billable_hours, billed_hours,
               billable_value, billed_amount, collected_amount, capacity_hours,
               utilization, realization, collection_rate
        from reports.timekeeper_productivity_monthly""").fetchall()}
    assert set(got) == set(rows) and rows
    for key, row in rows.items():
        capacity = weekdays(key[1], state.today) * WORKDAY
        worked, billable, billed_h, value, billed, collected, cap, util, real, coll = got[key]
        assert (worked, billable, billed_h, billed, cap) == (
            hours(row["worked"]), hours(row["billable"]), row["billed_hours"].quantize(HOUR),
            row["billed"], capacity), key
        assert abs(value - row["value"]) <= CENT and abs(collected - row["collected"]) <= CENT, key
        ratios = (row["billable"] / 3600 / capacity if capacity else None,
                  row["billed"] / row["value"] if row["value"] else None,
                  row["collected"] / row["billed"] if row["billed"] else None)
        for ours, theirs in zip((util, real, coll), ratios, strict=True):
            assert (ours is None) == (theirs is None), key
            assert ours is None or abs(Decimal(str(ours)) - theirs) < Decimal("0.0002"), key
    assert any(r["billed"] for r in rows.values()) and any(r["collected"] for r in rows.values())
