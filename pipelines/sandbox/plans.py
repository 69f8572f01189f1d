"""What happens to each generated bill: its state, how it was settled, its quirks.

A tiny firm must still show every case the reports and the sync meet, so the generator
starts from `REQUIRED` (one plan per case) and fills the rest of the firm at random.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# Settlement patterns: ordered steps (parent, amount, voided). Parents: Payment, Trust
# (paid from the trust account), WriteOff and Discount (credit notes). Amounts: "rest"
# (what is still owed), "part" (30-70%), "small" (5-25%), "over" (the rest plus extra).
PATTERNS: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "none": (),
    "full": (("Payment", "rest", False),),
    "partials": (("Payment", "part", False), ("Payment", "part", False), ("Payment", "rest", False)),
    "writeoff": (("Payment", "part", False), ("WriteOff", "rest", False)),
    "overpay": (("Payment", "over", False),),
    "voided": (("Payment", "rest", True), ("Payment", "rest", False)),
    "trust": (("Trust", "rest", False),),
    "credit": (("Discount", "small", False), ("Payment", "rest", False)),
    "partial": (("Payment", "part", False),),
    "partial_credit": (("WriteOff", "small", False),),
    "voided_only": (("Payment", "rest", True),),
}


@dataclass(frozen=True)
class Plan:
    """The fate of one bill."""

    state: str
    settle: str = "none"
    kind: str = "revenue_kind"
    multi: bool = False
    currency: str = "USD"
    discount: bool = False
    interest: bool = False
    overdue: int = 0  # awaiting_payment: days past due today (negative: not yet due)


REQUIRED: tuple[Plan, ...] = (
    Plan("draft"),
    Plan("awaiting_approval"),
    Plan("deleted"),
    Plan("void"),
    Plan("void", "voided_only"),
    Plan("paid", "full"),
    Plan("paid", "partials"),
    Plan("paid", "writeoff"),
    Plan("paid", "overpay"),
    Plan("paid", "voided"),
    Plan("paid", "trust"),
    Plan("paid", "credit", discount=True),
    Plan("paid", "full", interest=True),
    Plan("paid", "partials", multi=True),
    Plan("awaiting_payment", overdue=-10),
    Plan("awaiting_payment", "partial", overdue=12),
    Plan("awaiting_payment", overdue=45, interest=True),
    Plan("awaiting_payment", "partial_credit", overdue=75),
    Plan("awaiting_payment", "voided_only", overdue=120, interest=True),
    Plan("awaiting_payment", multi=True, overdue=20, discount=True),
    Plan("awaiting_payment", currency="CAD", overdue=5),
    Plan("paid", "full", currency="EUR"),
    Plan("awaiting_payment", "partial", currency="EUR", overdue=95),
    Plan("awaiting_payment", kind="trust_kind", overdue=-5),
    Plan("paid", "full", kind="trust_kind"),
)

_STATES = ("paid", "awaiting_payment", "draft", "awaiting_approval", "void", "deleted")
_SETTLE = {
    "paid": (("full", 58), ("partials", 12), ("writeoff", 8), ("overpay", 3), ("voided", 3),
             ("trust", 6), ("credit", 10)),
    "awaiting_payment": (("none", 65), ("partial", 20), ("partial_credit", 8), ("voided_only", 7)),
    "void": (("none", 80), ("voided_only", 20)),
}  # fmt: skip
# Days past due of unpaid bills: every aging bucket gets its share.
_OVERDUE = ((-30, 0, 35), (1, 30, 25), (31, 60, 15), (61, 90, 10), (91, 500, 15))


def plans_for(rng: random.Random, count: int) -> list[Plan]:
    """`count` plans: the required cases first (as many as fit), then random ones."""
    plans = list(REQUIRED[:count])
    plans += [random_plan(rng) for _ in range(count - len(plans))]
    return plans


def random_plan(rng: random.Random) -> Plan:
    """A bill fate drawn from the firm's usual mix."""
    if rng.random() < 0.05:
        paid = rng.random() < 0.6
        return Plan("paid" if paid else "awaiting_payment", "full" if paid else "none",
                    kind="trust_kind", overdue=rng.randrange(-20, 40))  # fmt: skip
    state = rng.choices(_STATES, (62, 22, 5, 3, 4, 4))[0]
    options = _SETTLE.get(state, (("none", 1),))
    settle = rng.choices([o for o, _ in options], [w for _, w in options])[0]
    low, high, _ = rng.choices(_OVERDUE, [w for *_, w in _OVERDUE])[0]
    overdue = rng.randint(low, high)
    draw = rng.random()
    return Plan(
        state,
        settle,
        multi=rng.random() < 0.08,
        currency="CAD" if draw < 0.05 else "EUR" if draw < 0.08 else "USD",
        discount=rng.random() < 0.08,
        interest=(overdue > 30 and rng.random() < 0.3) if state == "awaiting_payment"
        else state == "paid" and rng.random() < 0.05,
        overdue=overdue,
    )
