"""Clio's outstanding client balances, derived from the firm's bills and allocations.

One row per client contact and currency holding at least one `awaiting_payment` revenue
bill (trust requests are not receivables). The row id is `contact_id * 100 + currency_id`,
stable across calls; its etag changes whenever its content does.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from pipelines.sandbox.money import to_cents, to_number

if TYPE_CHECKING:
    from pipelines.sandbox.firm import Firm


def outstanding_client_balances(firm: Firm) -> list[dict]:
    """The rows Clio's `/outstanding_client_balances.json` would list, in id order."""
    groups: dict[tuple[int, int], list[dict]] = {}
    for bill in firm.records("bills"):
        if bill["state"] == "awaiting_payment" and bill["kind"] != "trust_kind":
            key = (bill["client"]["id"], (bill["currency"] or {}).get("id") or 1)
            groups.setdefault(key, []).append(bill)
    last_payments = _last_payment_dates(firm)
    rows = [_row(firm, key, bills, last_payments.get(key)) for key, bills in groups.items()]
    return sorted(rows, key=lambda row: row["id"])


def _last_payment_dates(firm: Firm) -> dict[tuple[int, int], str]:
    """Latest valid payment date per (contact, currency of the paid bill)."""
    bills = firm.tables["bills"]
    latest: dict[tuple[int, int], str] = {}
    for allocation in firm.records("allocations"):
        bill = bills.get(allocation["bill"]["id"])
        if allocation["voided_at"] or bill is None:
            continue
        if allocation["parent"]["type"] != "Payment":
            continue
        key = (bill["client"]["id"], (bill["currency"] or {}).get("id") or 1)
        if allocation["date"] > latest.get(key, ""):
            latest[key] = allocation["date"]
    return latest


def _row(firm: Firm, key: tuple[int, int], bills: list[dict], last_payment: str | None) -> dict:
    contact_id, currency_id = key
    contact = firm.tables["contacts"].get(contact_id) or bills[0]["client"]
    newest = max(bills, key=lambda b: (b["issued_at"] or "", b["id"]))
    sent = [b["last_sent_at"][:10] for b in bills if b["last_sent_at"]]
    row = {
        "associated_matter_ids": sorted({m["id"] for b in bills for m in b["matters"] or ()}),
        "id": contact_id * 100 + currency_id,
        "last_payment_date": last_payment,
        "last_shared_date": max(sent) if sent else None,
        "newest_issued_bill_due_date": newest["due_at"],
        "pending_payments_total": to_number(sum(to_cents(b["pending"]) for b in bills)),
        "reminders_enabled": False,
        "total_outstanding_balance": to_number(sum(to_cents(b["balance"]) for b in bills)),
        "created_at": min(b["created_at"] for b in bills),
        "updated_at": max(b["updated_at"] for b in bills),
        "contact": {"id": contact_id, "name": contact["name"]},
        "currency": dict(bills[0]["currency"] or {"id": 1, "code": "USD"}),
    }
    digest = hashlib.md5(json.dumps(row, sort_keys=True).encode()).hexdigest()
    row["etag"] = f'"{digest}"'
    return row
