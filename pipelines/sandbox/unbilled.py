"""Clio's billable matters: per matter, the work no bill carries yet and its trust money.

An activity is **unbilled** when it is on no bill at all (`bill` null, so `on_bill` and
`billed` false: an activity on a draft or awaiting-approval bill is on a bill, not
unbilled), is billable (`non_billable` false) and has a non-zero `price`. One row per
matter holding at least one unbilled activity:

    id, display_number      the matter's
    currency_code/_id       the matter's currency
    unbilled_amount         sum of the unbilled activities' `total` (cents, exact)
    unbilled_hours          sum of `rounded_quantity` (seconds) of the unbilled TimeEntry
                            activities / 3600, rounded to 2 decimals (expenses count none)
    amount_in_trust         the matter's trust balance (`trust.py`: its transactions on
                            the Trust accounts), 0 when it holds none
    client{id, name}        the matter's client

No `etag` or stamps (the spec gives none) and no `updated_since`: a sync reads it whole.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipelines.sandbox import trust
from pipelines.sandbox.money import to_cents, to_number

if TYPE_CHECKING:
    from pipelines.sandbox.firm import Firm


def is_unbilled(activity: dict) -> bool:
    """Whether the activity counts towards its matter's unbilled work (see above)."""
    return (
        not activity.get("bill")
        and not activity.get("non_billable")
        and bool(activity.get("price"))
    )


def _seconds(activity: dict) -> int:
    if activity.get("type") != "TimeEntry":
        return 0
    seconds = activity.get("rounded_quantity")
    if seconds is None:
        seconds = activity.get("quantity") or 0
    return round(seconds)


def billable_matters(firm: Firm) -> list[dict]:
    """The rows of `/billable_matters.json`, in matter id order."""
    amounts: dict[int, int] = {}
    seconds: dict[int, int] = {}
    for activity in firm.tables["activities"].values():
        if not is_unbilled(activity):
            continue
        matter_id = (activity.get("matter") or {}).get("id")
        if matter_id is None:
            continue
        amounts[matter_id] = amounts.get(matter_id, 0) + to_cents(activity.get("total"))
        seconds[matter_id] = seconds.get(matter_id, 0) + _seconds(activity)
    matters, contacts = firm.tables["matters"], firm.tables["contacts"]
    rows = []
    for matter_id in sorted(amounts):
        matter = matters.get(matter_id)
        if matter is None:
            continue
        currency = matter.get("currency") or {"id": 1, "code": "USD"}
        client = contacts.get(matter.get("client_id")) or matter.get("client") or {}
        rows.append({
            "currency_code": currency.get("code"), "currency_id": currency.get("id"),
            "id": matter_id, "unbilled_hours": round(seconds[matter_id] / 3600, 2),
            "unbilled_amount": to_number(amounts[matter_id]),
            "amount_in_trust": to_number(trust.balance_cents(matter)),
            "display_number": matter.get("display_number"),
            "client": {"id": client.get("id"), "name": client.get("name")} if client else None,
        })  # fmt: skip
    return rows
