"""How the generator's bills got paid: payments, credit notes and their bank records.

A plan's settlement pattern (`plans.PATTERNS`) is replayed step by step against what the
bill still owes per matter. Each step becomes allocations (one per matter it pays), and:
a payment -> a `funds_in` bank transaction on the operating account of the bill's
currency (the trust account for trust requests); a trust payment -> trust money applied
(a trust line item, `funds_out` of trust, `funds_in` to operating); a write-off or
discount -> a credit memo. A voided step keeps its allocation with `voided_at` and
reverses its bank money with a `funds_out`. Rows get ids in creation order in `tables()`,
when every row of the firm is known.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from pipelines.sandbox.clock import DAY, day_of, day_text, parse_day, stamp_text
from pipelines.sandbox.directory import Directory, at
from pipelines.sandbox.money import split, to_cents, to_number

if TYPE_CHECKING:
    from pipelines.sandbox.firm import Firm
    from pipelines.sandbox.generator import Placement

_PAYMENT_TYPES = ("Check", "EFT", "Credit Card", "Cash", "eCheck")


class Settler:
    """Builds the settlement rows of every generated bill."""

    def __init__(self, rng: random.Random, directory: Directory, firm: Firm) -> None:
        self.rng, self.dir, self.firm = rng, directory, firm
        self.now = firm.now_instant()
        self.allocations: list[dict] = []
        self.credit_memos: list[dict] = []
        self.bank_transactions: list[dict] = []
        self.trust_items: list[dict] = []
        self._payments = 0  # payment ids (Payment is not a served endpoint)

    def settle(self, placement: Placement, steps: tuple[tuple[str, str, bool], ...], today: int) -> None:
        """Replay `steps` against `placement.bill` (its money already derived)."""
        if not steps:
            return
        bill = placement.bill
        owed = {b["id"]: to_cents(b["amount"]) for b in bill["balances"]}
        for instant, (parent, amount, voided) in zip(
            self._instants(placement, len(steps), today), steps, strict=True
        ):
            remaining = sum(owed.values())
            if remaining <= 0:
                break
            cents = self._amount(amount, remaining)
            shares = _shares(owed, cents)
            self._step(placement, parent, shares, instant, voided, extra=self._extra(amount, cents))
            if not voided:
                for matter_id, share in shares.items():
                    owed[matter_id] -= share

    def _instants(self, placement: Placement, count: int, today: int) -> list[int]:
        """Increasing instants after the bill was issued and before today (after any
        interest charge, so a bill is never paid before it was charged interest)."""
        bill = placement.bill
        first = max(placement.issue_day, day_of(placement.created))
        charged = [parse_day(c["date"]) + 1 for c in self.firm.children("interest_charges", bill["id"])]
        last_allowed = today - 1
        span = self.rng.randint(3, placement.terms + 45)
        last = min(last_allowed, max([first + span, *charged]))
        days = sorted(self.rng.randint(first, max(first, last)) for _ in range(count))
        if charged:
            days[-1] = max(days[-1], min(max(charged), last_allowed))
        instants: list[int] = []
        for day in days:
            earliest = instants[-1] + 60 if instants else placement.created + 60
            instants.append(max(at(self.rng, day), earliest))
        overflow = instants[-1] - (self.now - 60)  # a bill issued today, paid today
        return [instant - max(overflow, 0) for instant in instants]

    def _amount(self, kind: str, remaining: int) -> int:
        if kind in ("rest", "over"):
            return remaining
        low, high = (0.30, 0.70) if kind == "part" else (0.05, 0.25)
        cents = round(remaining * self.rng.uniform(low, high))
        return min(max(cents, 1), max(remaining - 1, 1))

    def _extra(self, kind: str, cents: int) -> int:
        """What an overpayment pays beyond the balance (stays on the bank transaction)."""
        return max(100, round(cents * self.rng.uniform(0.05, 0.2))) if kind == "over" else 0

    def _step(
        self, placement: Placement, parent: str, shares: dict[int, int], instant: int,
        voided: bool, extra: int,
    ) -> None:  # fmt: skip
        bill = placement.bill
        voided_at = None
        if voided:
            voided_at = max(instant + 1, min(instant + self.rng.randint(1, 6) * DAY, self.now - 30))
        if parent in ("WriteOff", "Discount"):
            memo = self._credit_memo(bill, sum(shares.values()), parent, instant, voided_at)
            parent_ref: dict = {"_row": memo, "type": "CreditMemo"}
        else:
            self._payments += 1
            parent_ref = {"id": self._payments, "type": "Payment"}
        code = bill["currency"]["code"]
        kind = "request" if bill["kind"] == "trust_kind" else "operating"
        if parent == "Trust" and ("Trust", code) in self.dir.bank_accounts:
            kind = "trust"
        account = self.dir.bank_accounts[("Trust" if kind == "request" else "Operating", code)]
        allocations = [
            self._allocation(bill, matter_id, cents, parent_ref, account, instant, voided_at)
            for matter_id, cents in shares.items()
            if cents > 0
        ]
        if parent_ref["type"] != "Payment":
            return
        total = sum(shares.values())
        first = allocations[0]
        matter_id = next(iter(shares))
        if kind == "trust":
            trust = self.dir.bank_accounts[("Trust", code)]
            self._transaction(trust, bill, matter_id, first, instant, funds_out=total,
                              description=f"Trust applied to bill {bill['number']}")  # fmt: skip
            self.trust_items.append(_trust_line(bill, matter_id, total, instant))
        self._transaction(account, bill, matter_id, first, instant, funds_in=total + extra,
                          description=f"Payment for bill {bill['number']}")  # fmt: skip
        if voided_at is not None:
            self._transaction(account, bill, matter_id, first, voided_at, funds_out=total + extra,
                              description=f"Voided payment for bill {bill['number']}")  # fmt: skip

    def _credit_memo(
        self, bill: dict, cents: int, parent: str, instant: int, voided_at: int | None
    ) -> dict:
        memo = {
            "date": day_text(day_of(instant)), "amount": to_number(cents),
            "description": "Write-off" if parent == "WriteOff" else "Courtesy discount",
            "discount": parent == "Discount", "voided_at": _stamp(voided_at),
            "user": {"id": bill["user"]["id"]}, "contact": dict(bill["client"]),
            "_created": instant, "_updated": voided_at or instant,
        }  # fmt: skip
        self.credit_memos.append(memo)
        return memo

    def _allocation(
        self, bill: dict, matter_id: int, cents: int, parent: dict, account: dict,
        instant: int, voided_at: int | None,
    ) -> dict:  # fmt: skip
        payment = parent["type"] == "Payment"
        allocation = {
            "date": day_text(day_of(instant)), "amount": to_number(cents), "interest": False,
            "voided_at": _stamp(voided_at), "description": None if payment else "Credit note",
            "has_online_payment": False, "destroyable": voided_at is None,
            "payment_type": self.rng.choice(_PAYMENT_TYPES) if payment else None,
            "bill": {"id": bill["id"], "number": bill["number"]}, "matter": {"id": matter_id},
            "contact": dict(bill["client"]), "parent": dict(parent),
            "destination_bank_account": {"id": account["id"]} if payment else None,
            "_created": instant, "_updated": voided_at or instant,
        }  # fmt: skip
        self.allocations.append(allocation)
        return allocation

    def _transaction(
        self, account: dict, bill: dict, matter_id: int, allocation: dict, instant: int,
        description: str, funds_in: int = 0, funds_out: int = 0,
    ) -> None:  # fmt: skip
        self.bank_transactions.append({
            "type": "BankTransaction", "bank_account_id": account["id"], "source": "Payment",
            "confirmation": f"CNF-{self.rng.randrange(10**6, 10**7)}",
            "date": day_text(day_of(instant)), "amount": to_number(funds_in - funds_out),
            "currency": account["currency"], "currency_id": account["currency_id"],
            "description": description, "exchange_rate": 1.0,
            "transaction_type": "Deposit" if funds_in else "Withdrawal",
            "funds_in": to_number(funds_in), "funds_out": to_number(funds_out),
            "clio_payments_transaction": False, "read_only_confirmation": False,
            "client": {"id": bill["client"]["id"]}, "matter": {"id": matter_id},
            "bill": {"id": bill["id"]}, "allocation": {"_row": allocation},
            "_account": account, "_created": instant, "_updated": instant,
        })  # fmt: skip

    def tables(self) -> dict[str, list[dict]]:
        """Every row with its id (in creation order) and its references resolved."""
        for rows in (self.credit_memos, self.allocations, self.bank_transactions):
            rows.sort(key=lambda row: row["_created"])
            for index, row in enumerate(rows):
                row["id"] = index + 1
        for allocation in self.allocations:
            if "_row" in allocation["parent"]:
                allocation["parent"] = {"id": allocation["parent"]["_row"]["id"], "type": "CreditMemo"}
        balances: dict[int, int] = {}
        for row in self.bank_transactions:
            if row["allocation"] is not None:  # a retainer deposit settles no bill
                row["allocation"] = {"id": row["allocation"]["_row"]["id"]}
            account = row.pop("_account")
            balance = balances.get(account["id"], 0) + to_cents(row["amount"])
            balances[account["id"]] = balance
            row["current_account_balance"] = to_number(balance)
            account["balance"] = to_number(balance)
            account["bank_transactions_count"] += 1
        return {
            "credit_memos": self.credit_memos,
            "allocations": self.allocations,
            "bank_transactions": self.bank_transactions,
        }


def _shares(owed: dict[int, int], cents: int) -> dict[int, int]:
    """`cents` split over matters in proportion to what each still owes."""
    matters = [m for m, left in owed.items() if left > 0] or list(owed)
    parts = split(cents, [max(owed[m], 0) for m in matters])
    return dict(zip(matters, parts, strict=True))


def _trust_line(bill: dict, matter_id: int, cents: int, instant: int) -> dict:
    return {
        "date": day_text(day_of(instant)), "total": to_number(cents),
        "note": f"Trust applied to bill {bill['number']}", "bill": {"id": bill["id"]},
        "matter": {"id": matter_id}, "client": {"id": bill["client"]["id"]},
        "_created": instant, "_updated": instant,
    }  # fmt: skip


def _stamp(instant: int | None) -> str | None:
    return stamp_text(instant) if instant is not None else None
