"""The consistency rules every sandbox firm obeys (generated, or after any days of life).

Each `*_problems` function returns human-readable findings (empty when the rule holds),
so a failing test names the records at fault instead of a bare `assert False`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from pipelines.sandbox.clock import parse_instant
from pipelines.sandbox.firm import Firm, references
from pipelines.sandbox.money import to_cents

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
            problems.append(f"bank transaction {tx['id']}: no allocation")
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
        if endpoint == "outstanding_client_balances":
            continue
        previous = None
        for record_id in sorted(table):
            record = table[record_id]
            stamps = {name: parse_instant(record[name]) for name in _STAMPS if record.get(name)}
            late = [name for name, instant in stamps.items() if instant > now]
            if late:
                problems.append(f"{endpoint} {record_id}: {late} after now")
            if stamps["created_at"] > stamps["updated_at"]:
                problems.append(f"{endpoint} {record_id}: created after its last update")
            if previous is not None and stamps["created_at"] < previous:
                problems.append(f"{endpoint} {record_id}: created before the record with the id below")
            previous = stamps["created_at"]
            for target, target_id in references(endpoint, record):
                other = firm.tables[target].get(target_id)
                if other is None:
                    problems.append(f"{endpoint} {record_id}: points at missing {target} {target_id}")
                elif other["created_at"] > record["updated_at"]:
                    problems.append(f"{endpoint} {record_id}: points at {target} {target_id}, created later")
    return problems


RULES: dict[str, Callable[[Firm], list[str]]] = {
    "bills": bill_problems,
    "activities": activity_problems,
    "money records": money_record_problems,
    "receivables": receivable_problems,
    "time and ids": time_problems,
}


def all_problems(firm: Firm) -> list[str]:
    """Every rule above, for one firm."""
    return [problem for rule in RULES.values() for problem in rule(firm)]
