"""The consistency rules every sandbox firm obeys (generated, or after any days of life).

Each `*_problems` function returns human-readable findings (empty when the rule holds),
so a failing test names the records at fault instead of a bare `assert False`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from datetime import date

from pipelines.sandbox.clock import parse_instant
from pipelines.sandbox.firm import Firm, references
from pipelines.sandbox.money import to_cents
from pipelines.sandbox.shapes import DERIVED

_ISSUED = ("awaiting_payment", "paid")
_GONE = ("void", "deleted")
_STAMPS = ("created_at", "updated_at", "paid_at", "voided_at", "last_sent_at")


def _cents(values) -> int:
    return sum(to_cents(v) for v in values)


def bill_problems(firm: Firm) -> list[str]:
    """Line items sum to the bill; balance = due - paid - credits_issued; valid allocations
    sum to paid and credits_issued; per-matter balances sum to the bill; a paid bill has
    balance 0 and a paid_at, no other bill has one."""
    problems = []
    for bill in firm.tables["bills"].values():
        bid = bill["id"]
        items = firm.children("line_items", bid)
        valid = [a for a in firm.children("allocations", bid) if not a["voided_at"]]
        paid = _cents(a["amount"] for a in valid if a["parent"]["type"] == "Payment")
        credits = _cents(a["amount"] for a in valid if a["parent"]["type"] == "CreditMemo")
        interest = _cents(c["total"] for c in firm.children("interest_charges", bid))
        sub_total = to_cents(bill["sub_total"])
        due, balance = to_cents(bill["due"]), to_cents(bill["balance"])
        checks = {
            "line items sum to sub_total": _cents(i["sub_total"] for i in items) == sub_total,
            "total = sub_total + interest": to_cents(bill["total"]) == sub_total + interest,
            "0 <= due <= total": 0 <= due <= to_cents(bill["total"]),
            "no discount -> due = total": bool(bill["discount"]) or due == to_cents(bill["total"]),
            "balance = due - paid - credits": balance == due - to_cents(bill["paid"]) - to_cents(bill["credits_issued"]),
            "payments sum to paid": paid == to_cents(bill["paid"]),
            "credit notes sum to credits_issued": credits == to_cents(bill["credits_issued"]),
            "balance >= 0": balance >= 0,
            "balances[] sum to balance": _cents(b["amount"] for b in bill["balances"]) == balance,
            "balances[] sum to due": _cents(b["due"] for b in bill["balances"]) == due,
            "paid <=> balance 0 with paid_at": (bill["state"] == "paid")
            == (bill["state"] in _ISSUED and balance == 0 and bill["paid_at"] is not None),
            "only paid bills have paid_at": bill["state"] == "paid" or bill["paid_at"] is None,
            "a bill has a line": bool(items),
        }  # fmt: skip
        problems += [f"bill {bid} ({bill['state']}): {rule}" for rule, ok in checks.items() if not ok]
    return problems


def activity_problems(firm: Firm) -> list[str]:
    """Billed activities are on their bill (a line item of it names them); activities of
    void or deleted bills are freed; line items of live bills point back at their work."""
    problems = []
    bills, activities = firm.tables["bills"], firm.tables["activities"]
    for activity in activities.values():
        aid, ref = activity["id"], activity["bill"]
        if ref is None:
            if activity["billed"] or activity["on_bill"]:
                problems.append(f"activity {aid}: billed/on_bill without a bill")
            continue
        bill = bills.get(ref["id"])
        if bill is None or bill["state"] in _GONE:
            problems.append(f"activity {aid}: on bill {ref['id']}, which is missing or {bill and bill['state']}")
            continue
        named = {(i["activity"] or {}).get("id") for i in firm.children("line_items", bill["id"])}
        if aid not in named:
            problems.append(f"activity {aid}: bill {bill['id']} has no line item for it")
        if not activity["on_bill"] or activity["billed"] != (bill["state"] in _ISSUED):
            problems.append(f"activity {aid}: on_bill/billed disagree with bill state {bill['state']}")
    for bill in bills.values():
        for item in firm.children("line_items", bill["id"]):
            if not item["activity"]:
                continue
            activity = activities.get(item["activity"]["id"])
            owner = (activity or {}).get("bill") or {}
            if bill["state"] in _GONE and owner.get("id") == bill["id"]:
                problems.append(f"activity {item['activity']['id']}: still on {bill['state']} bill {bill['id']}")
            if bill["state"] not in _GONE and owner.get("id") != bill["id"]:
                problems.append(f"line item {item['id']} of bill {bill['id']}: its activity is not on the bill")
    return problems


def money_record_problems(firm: Firm) -> list[str]:
    """A credit memo's valid allocations sum to its amount; a payment's bank deposit covers
    its allocations; bank accounts hold the sum of their transactions."""
    problems = []
    by_memo: dict[int, int] = defaultdict(int)
    by_payment: dict[int, int] = defaultdict(int)
    for allocation in firm.tables["allocations"].values():
        parent = allocation["parent"]
        target = by_memo if parent["type"] == "CreditMemo" else by_payment
        target[parent["id"]] += to_cents(allocation["amount"])
    for memo in firm.tables["credit_memos"].values():
        if by_memo[memo["id"]] != to_cents(memo["amount"]):
            problems.append(f"credit memo {memo['id']}: allocations {by_memo[memo['id']]} != amount")
    allocations = firm.tables["allocations"]
    balances: dict[int, int] = defaultdict(int)
    counts: dict[int, int] = defaultdict(int)
    for tx in firm.records("bank_transactions"):
        balances[tx["bank_account_id"]] += to_cents(tx["amount"])
        counts[tx["bank_account_id"]] += 1
        if to_cents(tx["amount"]) != to_cents(tx["funds_in"]) - to_cents(tx["funds_out"]):
            problems.append(f"bank transaction {tx['id']}: amount != funds_in - funds_out")
        allocation = allocations.get((tx["allocation"] or {}).get("id"))
        if allocation is None:
            if tx["source"] == "Payment":  # a deposit or refund of trust money settles no bill
                problems.append(f"bank transaction {tx['id']}: a payment without an allocation")
        elif tx["funds_in"] and to_cents(tx["funds_in"]) < by_payment[allocation["parent"]["id"]]:
            problems.append(f"bank transaction {tx['id']}: deposit below its payment's allocations")
    for account in firm.tables["bank_accounts"].values():
        if to_cents(account["balance"]) != balances[account["id"]]:
            problems.append(f"bank account {account['id']}: balance != sum of its transactions")
        if account["bank_transactions_count"] != counts[account["id"]]:
            problems.append(f"bank account {account['id']}: bank_transactions_count is off")
    return problems


def receivable_problems(firm: Firm) -> list[str]:
    """outstanding_client_balances = awaiting_payment revenue balances per client, currency."""
    expected: dict[tuple[int, int], int] = defaultdict(int)
    for bill in firm.tables["bills"].values():
        if bill["state"] == "awaiting_payment" and bill["kind"] == "revenue_kind":
            expected[(bill["client"]["id"], bill["currency"]["id"])] += to_cents(bill["balance"])
    served = {
        (row["contact"]["id"], row["currency"]["id"]): to_cents(row["total_outstanding_balance"])
        for row in firm.outstanding_client_balances()
    }
    return [] if served == dict(expected) else [f"outstanding balances {served} != {dict(expected)}"]


def time_problems(firm: Firm) -> list[str]:
    """Nothing is stamped after now(); created_at <= updated_at; within each table ids
    follow creation time; no record was last changed before what it points at existed."""
    problems = []
    now = firm.now_instant()
    for endpoint, table in firm.tables.items():
        if endpoint in DERIVED:
            continue
        previous = None
        for record_id in sorted(table):
            record = table[record_id]
            stamps = {name: parse_instant(record[name]) for name in _STAMPS if record.get(name)}
            late = [name for name, instant in stamps.items() if instant > now]
            if late:
                problems.append(f"{endpoint} {record_id}: {late} after now")
            created = stamps.get("created_at", firm._instants[endpoint][record_id][0])  # groups: none
            if created > stamps["updated_at"]:
                problems.append(f"{endpoint} {record_id}: created after its last update")
            if previous is not None and created < previous:
                problems.append(f"{endpoint} {record_id}: created before the record with the id below")
            previous = created
            for target, target_id in references(endpoint, record):
                other = firm.tables[target].get(target_id)
                if other is None:
                    problems.append(f"{endpoint} {record_id}: points at missing {target} {target_id}")
                elif other.get("created_at") and parse_instant(other["created_at"]) > stamps["updated_at"]:
                    problems.append(f"{endpoint} {record_id}: points at {target} {target_id}, created later")
    return problems


def _trust_accounts(firm: Firm) -> set[int]:
    return {a["id"] for a in firm.tables["bank_accounts"].values() if a["type"] == "Trust"}


def trust_problems(firm: Firm) -> list[str]:
    """`account_balances[]` of every matter and contact = the sum of its transactions on
    each trust account; no trust balance (a matter's, a client's, an account's) is ever
    below zero, in transaction order; money applied from trust to a bill left trust."""
    problems = []
    trust = _trust_accounts(firm)
    held: dict[tuple[str, int], dict[int, int]] = defaultdict(dict)
    for tx in sorted(firm.tables["bank_transactions"].values(), key=lambda t: (t["created_at"], t["id"])):
        if tx["bank_account_id"] not in trust:
            continue
        for table, relation in (("matters", "matter"), ("contacts", "client"), ("accounts", None)):
            owner = (tx[relation] or {}).get("id") if relation else tx["bank_account_id"]
            per = held[(table, owner)]
            per[tx["bank_account_id"]] = per.get(tx["bank_account_id"], 0) + to_cents(tx["amount"])
            if per[tx["bank_account_id"]] < 0:
                problems.append(f"{table} {owner}: trust below zero after bank transaction {tx['id']}")
    for table in ("matters", "contacts"):
        for record in firm.tables[table].values():
            served = {e["id"]: to_cents(e["balance"]) for e in record["account_balances"] or ()}
            if served != held.get((table, record["id"]), {}):
                problems.append(f"{table} {record['id']}: account_balances {served} != transactions")
            if any(e["type"] != "Trust" for e in record["account_balances"] or ()):
                problems.append(f"{table} {record['id']}: an account balance that is not trust")
    outs = defaultdict(int)
    for tx in firm.tables["bank_transactions"].values():
        if tx["bank_account_id"] in trust and tx["bill"]:
            outs[(tx["bill"]["id"], tx["matter"]["id"])] += to_cents(tx["funds_out"])
    for item in firm.tables["trust_line_items"].values():
        if item["note"].startswith("Trust applied"):
            key = (item["bill"]["id"], item["matter"]["id"])
            if outs[key] < to_cents(item["total"]):
                problems.append(f"trust line item {item['id']}: no matching funds_out of trust")
    return problems


def _unbilled(activity: dict) -> bool:
    return not activity["bill"] and not activity["non_billable"] and bool(activity["price"])


def billable_matter_problems(firm: Firm) -> list[str]:
    """billable_matters: one row per matter with unbilled billable work (no bill at all,
    not non-billable, a price), its amount and rounded time, and its trust money."""
    amounts: dict[int, int] = defaultdict(int)
    seconds: dict[int, int] = defaultdict(int)
    for activity in firm.tables["activities"].values():
        if _unbilled(activity):
            amounts[activity["matter"]["id"]] += to_cents(activity["total"])
            if activity["type"] == "TimeEntry":
                seconds[activity["matter"]["id"]] += round(activity["rounded_quantity"])
    trust = _trust_accounts(firm)
    in_trust: dict[int, int] = defaultdict(int)
    for tx in firm.tables["bank_transactions"].values():
        if tx["bank_account_id"] in trust:
            in_trust[tx["matter"]["id"]] += to_cents(tx["amount"])
    expected = {
        m: (to_cents(amounts[m] / 100), round(seconds[m] / 3600, 2), in_trust[m]) for m in amounts
    }
    served = {
        row["id"]: (to_cents(row["unbilled_amount"]), row["unbilled_hours"], to_cents(row["amount_in_trust"]))
        for row in firm.records("billable_matters")
    }
    problems = [] if served == expected else [f"billable_matters {served} != {expected}"]
    for row in firm.records("billable_matters"):
        matter = firm.tables["matters"][row["id"]]
        if (row["currency_code"], row["display_number"], row["client"]["id"]) != (
            matter["currency"]["code"], matter["display_number"], matter["client_id"]
        ):
            problems.append(f"billable matter {row['id']}: does not match its matter")
    return problems


_VALUE_FORMATS = {
    "checkbox": r"true|false", "currency": r"-?\d+\.\d{2}", "date": r"\d{4}-\d{2}-\d{2}",
    "time": r"([01]\d|2[0-3]):[0-5]\d:[0-5]\d", "numeric": r"-?\d+(\.\d+)?",
    "email": r"[^@\s]+@[^@\s]+", "url": r"https?://\S+", "text_line": r"[^\n]+",
    "text_area": r"(?s).+", "contact": r"\d+", "matter": r"\d+", "picklist": r"\d+",
}  # fmt: skip


def custom_value_problems(firm: Firm) -> list[str]:
    """Every value: a string id "<field_type>-<n>" unique in the firm, its definition's
    name, type and parent type, `soft_deleted` exactly when the definition is deleted, a
    string value in its type's format naming a live record or an option of the field,
    one value per field per parent; under "touch" the parent changed no earlier."""
    problems, seen = [], set()
    fields = firm.tables["custom_fields"]
    for table, parent_type in (("matters", "Matter"), ("contacts", "Contact")):
        for record in firm.tables[table].values():
            per_field = [v["custom_field"]["id"] for v in record["custom_field_values"] or ()]
            if len(per_field) != len(set(per_field)):
                problems.append(f"{table} {record['id']}: two values of one field")
            for value in record["custom_field_values"] or ():
                where = f"{table} {record['id']} value {value['id']}"
                field = fields.get(value["custom_field"]["id"])
                if field is None:
                    problems.append(f"{where}: no such custom field")
                    continue
                kind = field["field_type"]
                if not isinstance(value["id"], str) or not value["id"].startswith(f"{kind}-") or value["id"] in seen:
                    problems.append(f"{where}: id is not a unique '{kind}-<n>' string")
                seen.add(value["id"])
                if (value["field_name"], value["field_type"], field["parent_type"]) != (field["name"], kind, parent_type):
                    problems.append(f"{where}: does not match its definition")
                if value["soft_deleted"] != field["deleted"]:
                    problems.append(f"{where}: soft_deleted {value['soft_deleted']} but deleted {field['deleted']}")
                if not isinstance(value["value"], str) or not re.fullmatch(_VALUE_FORMATS[kind], value["value"]):
                    problems.append(f"{where}: {value['value']!r} is not a {kind} value")
                    continue
                if kind == "date":
                    date.fromisoformat(value["value"])
                if kind == "picklist":
                    options = {o["id"] for o in field["picklist_options"]}
                    if int(value["value"]) not in options or value["picklist_option"]["id"] != int(value["value"]):
                        problems.append(f"{where}: not an option of field {field['id']}")
                elif kind in ("contact", "matter"):
                    target = firm.tables[kind + "s"].get(int(value["value"]))
                    if target is None or value[kind]["id"] != target["id"]:
                        problems.append(f"{where}: names no live {kind}")
                elif value["picklist_option"] or value["contact"] or value["matter"]:
                    problems.append(f"{where}: a relation on a {kind} value")
                if value["created_at"] > value["updated_at"]:
                    problems.append(f"{where}: created after its last update")
                if firm.custom_field_edits == "touch" and value["updated_at"] > record["updated_at"]:
                    problems.append(f"{where}: changed after its parent's updated_at (touch)")
    return problems


def casework_problems(firm: Firm) -> list[str]:
    """Tasks: completed_at exactly when complete, time entries that name them, matters'
    has_tasks; notes of their type; calendar entries that end after they start."""
    problems = []
    linked: dict[int, set[int]] = defaultdict(set)
    for activity in firm.tables["activities"].values():
        if activity["task"]:
            linked[activity["task"]["id"]].add(activity["id"])
            task = firm.tables["tasks"].get(activity["task"]["id"])
            if task is None:
                problems.append(f"activity {activity['id']}: names a missing task")
    with_tasks = set()
    for task in firm.tables["tasks"].values():
        where = f"task {task['id']}"
        if task["status"] not in ("pending", "in_progress", "in_review", "complete", "draft"):
            problems.append(f"{where}: status {task['status']}")
        if (task["status"] == "complete") != (task["completed_at"] is not None):
            problems.append(f"{where}: completed_at and status {task['status']} disagree")
        entries = {e["id"] for e in task["time_entries"] or ()}
        if entries != linked.get(task["id"], set()) or task["time_entries_count"] != len(entries):
            problems.append(f"{where}: time_entries {sorted(entries)} != activities naming it")
        if task["matter"]:
            with_tasks.add(task["matter"]["id"])
    for matter in firm.tables["matters"].values():
        if bool(matter["has_tasks"]) != (matter["id"] in with_tasks):
            problems.append(f"matter {matter['id']}: has_tasks {matter['has_tasks']} disagrees with its tasks")
    for note in firm.tables["notes"].values():
        owner = {"Matter": note["matter"], "Contact": note["contact"]}
        if note["type"] not in owner or not owner[note["type"]] or any(v for k, v in owner.items() if k != note["type"]):
            problems.append(f"note {note['id']}: type {note['type']} with the wrong parent")
    for entry in firm.tables["calendar_entries"].values():
        if parse_instant(entry["end_at"]) <= parse_instant(entry["start_at"]):
            problems.append(f"calendar entry {entry['id']}: ends before it starts")
        if entry["all_day"] != (entry["start_time"] is None):
            problems.append(f"calendar entry {entry['id']}: all_day and start_time disagree")
    return problems


RULES: dict[str, Callable[[Firm], list[str]]] = {
    "bills": bill_problems,
    "activities": activity_problems,
    "money records": money_record_problems,
    "receivables": receivable_problems,
    "time and ids": time_problems,
    "trust": trust_problems,
    "billable matters": billable_matter_problems,
    "custom field values": custom_value_problems,
    "casework": casework_problems,
}


def all_problems(firm: Firm) -> list[str]:
    """Every rule above, for one firm."""
    return [problem for rule in RULES.values() for problem in rule(firm)]
