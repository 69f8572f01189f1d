"""Bill arithmetic: every money field of a bill derives from its parts.

    sub_total       = sum of its line items' sub_total (taxes are zero in the sandbox)
    total           = sub_total + total_tax + interest charges
    due             = total - discount (the bill's `discount`, on services only or all)
    paid            = valid allocations whose parent is a Payment
    credits_issued  = valid allocations whose parent is a CreditMemo
    balance         = due - paid - credits_issued
    balances[]      = the same split per matter: `due`, `interest_amount` and `amount`
                      (the matter's outstanding part), summing to the bill's due and balance

Allocations name a matter, so payments split per matter exactly; interest and discount
split in proportion to each matter's sub_total (largest remainders, to the cent). A valid
allocation is one without `voided_at`. An issued bill is `paid` once its balance reaches
zero (`paid_at` = the creation instant of its last valid allocation) and goes back to
`awaiting_payment` if an allocation is voided.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipelines.sandbox.clock import parse_instant, stamp_text
from pipelines.sandbox.money import split, to_cents, to_number
from pipelines.sandbox.shapes import STATE_TRANSITIONS

if TYPE_CHECKING:
    from pipelines.sandbox.firm import Firm

_ISSUED = ("awaiting_payment", "paid")
_ZERO_FIELDS = (
    "services_secondary_tax", "services_tax", "tax_sum", "secondary_tax_sum", "total_tax",
)  # fmt: skip


def discount_cents(bill: dict, sub_total: int, services: int) -> int:
    """The bill's discount in cents: a percentage or a fixed amount, never above its base."""
    discount = bill.get("discount")
    if not discount or not discount.get("rate"):
        return 0
    base = services if bill.get("discount_services_only") == "true" else sub_total
    if discount.get("type") == "money":
        return min(to_cents(discount["rate"]), base)
    return round(base * discount["rate"] / 100)


def recompute(firm: Firm, bill: dict) -> None:
    """Derive `bill`'s money fields, per-matter balances, state and `paid_at` from its parts."""
    matter_ids = [m["id"] for m in bill.get("matters") or ()]
    sub = dict.fromkeys(matter_ids, 0)
    services = dict.fromkeys(matter_ids, 0)
    for item in firm.children("line_items", bill["id"]):
        matter_id = (item.get("matter") or {}).get("id")
        if matter_id not in sub:
            matter_ids.append(matter_id)
            sub[matter_id] = services[matter_id] = 0
        cents = to_cents(item["sub_total"])
        sub[matter_id] += cents
        if item.get("kind") == "Service":
            services[matter_id] += cents
    sub_total, services_total = sum(sub.values()), sum(services.values())
    interest_total = sum(to_cents(c["total"]) for c in firm.children("interest_charges", bill["id"]))
    discount_total = discount_cents(bill, sub_total, services_total)
    weights = [sub[m] for m in matter_ids]
    interest = dict(zip(matter_ids, split(interest_total, weights), strict=True))
    base = services if bill.get("discount_services_only") == "true" else sub
    discount = dict(zip(matter_ids, split(discount_total, [base[m] for m in matter_ids]), strict=True))
    paid, credits, last = _allocated(firm, bill["id"], matter_ids)
    due = {m: sub[m] + interest[m] - discount[m] for m in matter_ids}
    bill.update(
        sub_total=to_number(sub_total),
        services_sub_total=to_number(services_total),
        total=to_number(sub_total + interest_total),
        due=to_number(sum(due.values())),
        paid=to_number(sum(paid.values())),
        credits_issued=to_number(sum(credits.values())),
        balance=to_number(sum(due.values()) - sum(paid.values()) - sum(credits.values())),
        pending=0.0,
        balances=[
            {
                "id": m,
                "type": "Matter",
                "amount": to_number(due[m] - paid[m] - credits[m]),
                "interest_amount": to_number(interest[m]),
                "due": to_number(due[m]),
            }
            for m in matter_ids
        ],
    )
    for name in _ZERO_FIELDS:
        bill[name] = 0.0
    _settle_state(bill, last)


def _allocated(firm: Firm, bill_id: int, matter_ids: list) -> tuple[dict, dict, int | None]:
    """Valid payment and credit cents per matter, and the latest valid allocation instant."""
    paid = dict.fromkeys(matter_ids, 0)
    credits = dict.fromkeys(matter_ids, 0)
    last: int | None = None
    for allocation in firm.children("allocations", bill_id):
        if allocation.get("voided_at"):
            continue
        matter_id = (allocation.get("matter") or {}).get("id")
        target = paid if (allocation.get("parent") or {}).get("type") == "Payment" else credits
        if matter_id not in target:
            matter_id = matter_ids[0] if matter_ids else None
            target.setdefault(matter_id, 0)
        target[matter_id] += to_cents(allocation["amount"])
        created = parse_instant(allocation["created_at"])
        last = created if last is None else max(last, created)
    return paid, credits, last


def _settle_state(bill: dict, last_allocation: int | None) -> None:
    """Move an issued bill between awaiting_payment and paid as its balance says."""
    if bill.get("state") in _ISSUED:
        settled = to_cents(bill["balance"]) <= 0 and last_allocation is not None
        bill["state"] = "paid" if settled else "awaiting_payment"
    paid = bill.get("state") == "paid"
    bill["paid_at"] = stamp_text(last_allocation) if paid and last_allocation is not None else None
    bill["available_state_transitions"] = list(STATE_TRANSITIONS.get(bill.get("state") or "", ()))
    bill["can_update"] = bill.get("state") in ("draft", "awaiting_approval", "awaiting_payment")
