"""Firm life: what a law firm does to its Clio data in a simulated day.

Each day brings new contacts and matters, time and expense entries, bills issued from
unbilled work (some left as drafts, drafts approved later), payments and the odd
write-off on unpaid bills (states and balances follow through `billing.recompute`),
harmless edits, the occasional void, deleted draft, deleted activity or closed matter.
Every change goes through the firm's primitives, so it is stamped, versioned and
announced to webhooks like any other. Volumes follow the firm's size, so a tiny firm
changes a little every day and a small one a lot.
"""

from __future__ import annotations

import random
from contextlib import suppress

from pipelines.sandbox import billing, names
from pipelines.sandbox.casework_life import CaseworkLife
from pipelines.sandbox.clock import day_of, day_start, day_text, parse_day
from pipelines.sandbox.directory import CURRENCIES, Directory, at, currency, new_matter, person, ref
from pipelines.sandbox.firm import Firm, FirmRuleError
from pipelines.sandbox.money import split, tax_rates, time_value, to_cents, to_number

_WORKDAY_END = 17 * 3600
_UNAPPROVED = ("draft", "awaiting_approval")
_DEFAULT_RATE = 300.0
_APPROVAL_CHANCE = 0.25  # per day, for a bill that has waited 3 days or more


class FirmLife:
    """Advances a firm day by day, deterministically for the firm's seed."""

    def __init__(self, firm: Firm) -> None:
        self.firm = firm
        self.rng = random.Random(f"life:{firm.seed}")
        self.dir = _directory(firm)
        self._payments = 10_000_000  # Payment ids live apart from the generator's
        self.casework = CaseworkLife(firm)  # tasks, calendar, custom values, trust...

    def advance(self, days: int) -> None:
        """Live `days` days after the firm's current day; the clock ends at 17:00 of the last."""
        first = day_of(self.firm.now_instant()) + 1
        for day in range(first, first + days):
            self._live(day)
            self.firm.tick(day_start(day) + _WORKDAY_END)

    # ----- one day ---------------------------------------------------------------

    def _live(self, day: int) -> None:
        firm, rng = self.firm, self.rng
        size = max(len(firm.tables["bills"]), 30) / 730  # bills a day, as in the history
        for _ in range(_count(rng, size * 0.3)):
            self._new_client(day)
        for _ in range(_count(rng, size * 0.4)):
            self._new_matter(day)
        open_matters = self._open_matters()
        for _ in range(_count(rng, max(size * 10, 3))):
            self._new_activity(day, open_matters)
        unbilled = self._unbilled(day)
        for _ in range(_count(rng, max(size, 1))):
            self._issue_bill(day, unbilled)
        self._approve_drafts(day)
        self._collect(day, size)
        self._tidy(day, size)
        self.casework.live(day)

    def _new_client(self, day: int) -> None:
        firm = self.firm
        contact = person(self.rng, firm.next_id("contacts"), at(self.rng, day), self._companies())
        contact.update(is_client=True, is_bill_recipient=True, currency=currency("USD"))
        firm.create("contacts", contact, at=at(self.rng, day))

    def _new_matter(self, day: int) -> None:
        clients = [c for c in self.firm.tables["contacts"].values() if c["is_client"] and c["currency"]]
        if not clients or not self.dir.practice_areas or not self.dir.attorneys:
            return
        client = self.rng.choice(clients)
        matter = new_matter(self.rng, self.dir, self.firm.next_id("matters"), client, at(self.rng, day), day)
        if matter["status"] == "Closed":  # a new matter is never born closed
            matter["status"] = "Open"
            self.dir.open_day[matter["id"]] = day
            self.dir.matters_by_client.setdefault(client["id"], []).append(matter)
        matter["open_date"] = day_text(day) if matter["status"] == "Open" else None
        instant = at(self.rng, day)
        self.casework.born(matter, instant)
        self.firm.create("matters", matter, at=instant)

    def _new_activity(self, day: int, matters: list[dict]) -> None:
        if not matters:
            return
        rng = self.rng
        matter = rng.choice(matters)
        user = self._user(matter)
        if rng.random() < 0.85:
            seconds = rng.randrange(360, 4 * 3600, 360)
            rate = user["rate"] or _DEFAULT_RATE  # a hand-built firm may not say
            total = time_value(rate, seconds)
            fields = {
                "type": "TimeEntry", "quantity_in_hours": seconds / 3600,
                "rounded_quantity_in_hours": seconds / 3600, "quantity": float(seconds),
                "rounded_quantity": float(seconds), "price": rate,
                "note": rng.choice(names.TIME_NOTES),
            }  # fmt: skip
        else:
            total = rng.randrange(1500, 50000, 5)
            fields = {
                "type": "ExpenseEntry", "quantity": 1.0, "rounded_quantity": 1.0,
                "price": to_number(total), "note": rng.choice(names.EXPENSE_NOTES),
            }  # fmt: skip
        activity = self.firm.create("activities", {
            **fields, "date": day_text(day), "quantity_redacted": False, "flat_rate": False,
            "billed": False, "on_bill": False, "total": to_number(total),
            "contingency_fee": False, "non_billable": False, "non_billable_total": 0.0,
            "no_charge": False, "tax_setting": "no_tax", "currency": _currency_of(matter),
            "matter": ref(matter, "display_number"), "user": ref(user, "name"), "bill": None,
            **self.casework.links(matter, fields["type"]),
        }, at=at(rng, day))  # fmt: skip
        self.casework.logged(activity)

    def _unbilled(self, day: int) -> dict[int, list[dict]]:
        """Billable work done before `day` that no bill carries, per matter."""
        unbilled: dict[int, list[dict]] = {}
        for activity in self.firm.records("activities"):
            if not activity["bill"] and not activity["non_billable"] and activity["date"] < day_text(day):
                unbilled.setdefault(activity["matter"]["id"], []).append(activity)
        return unbilled

    def _issue_bill(self, day: int, unbilled: dict[int, list[dict]]) -> None:
        """Bill one matter's unbilled work: usually issued at once, sometimes a draft."""
        firm, rng = self.firm, self.rng
        if not unbilled:
            return
        work = unbilled.pop(rng.choice(sorted(unbilled)))
        matter = firm.tables["matters"].get(work[0]["matter"]["id"])
        if matter is None:
            return
        client = firm.tables["contacts"][matter["client_id"]]
        attorney = firm.tables["users"].get((matter["responsible_attorney"] or {}).get("id"))
        attorney = attorney or self.dir.attorneys[0]
        state = "draft" if rng.random() < 0.15 else "awaiting_payment"
        bill_id = firm.next_id("bills")
        bill = {
            "id": bill_id, "number": str(bill_id), "issued_at": day_text(day),
            "due_at": day_text(day + 30), "subject": f"Legal services: {matter['description']}",
            "type": "MatterBill",
            "start_at": min(a["date"] for a in work), "end_at": day_text(day - 1),
            "state": state, "kind": "revenue_kind", "discount_services_only": "false",
            "shared": state != "draft", "client": ref(client, "name"),
            "user": ref(attorney, "name"), "currency": _currency_of(matter),
            "matters": [ref(matter, "display_number")], "discount": None,
        }  # fmt: skip
        bill["tax_rate"], bill["secondary_tax_rate"] = tax_rates(bill["currency"]["code"])
        # As in Clio: the bill exists first, its lines follow, then its totals are derived.
        instant = at(rng, day)
        billing.recompute(firm, bill)
        bill = firm.create("bills", bill, at=instant)
        for order, activity in enumerate(sorted(work, key=lambda a: a["id"])):
            time = activity["type"] == "TimeEntry"
            firm.create("line_items", {
                "type": "ActivityLineItem", "description": activity["note"],
                "date": activity["date"], "price": activity["price"], "taxable": False,
                "kind": "Service" if time else "Expense", "secondary_taxable": False,
                "total": activity["total"], "tax": 0.0, "secondary_tax": 0.0,
                "sub_total": activity["total"],
                "quantity": activity["rounded_quantity_in_hours"] if time else activity["quantity"],
                "group_ordering": order, "bill": {"id": bill_id},
                "matter": dict(activity["matter"]), "activity": {"id": activity["id"]},
                "user": dict(activity["user"]),
            }, at=instant)  # fmt: skip
            activity.update(bill={"id": bill_id}, on_bill=True, billed=state != "draft")
            firm.touch("activities", activity, at=instant)
        billing.recompute(firm, bill)
        firm.touch("bills", bill)

    def _approve_drafts(self, day: int) -> None:
        """Drafts and bills awaiting approval, once a few days old, are approved and issued
        (or, rarely, deleted) with a daily chance, so no day sees a burst of approvals."""
        firm, rng = self.firm, self.rng
        for bill in list(firm.records("bills")):
            if bill["state"] not in _UNAPPROVED or bill["issued_at"] > day_text(day - 3):
                continue
            if rng.random() >= _APPROVAL_CHANCE:
                continue
            if rng.random() < 0.1:
                firm.delete_bill(bill["id"])
                continue
            bill.update(state="awaiting_payment", issued_at=day_text(day), due_at=day_text(day + 30))
            for item in firm.children("line_items", bill["id"]):
                activity = firm.tables["activities"].get((item["activity"] or {}).get("id"))
                if activity is not None:
                    activity["billed"] = True
                    firm.touch("activities", activity, at=at(self.rng, day))
            billing.recompute(firm, bill)
            firm.touch("bills", bill, at=at(self.rng, day))

    def _collect(self, day: int, size: float) -> None:
        """Clients pay about as many bills a day as the firm issues, so receivables stay
        roughly level: mostly bills near their due date, seldom long-overdue ones; some
        pay part, a few get a write-off of the rest."""
        firm, rng = self.firm, self.rng
        unpaid = [
            b for b in firm.records("bills")
            if b["state"] == "awaiting_payment" and b["kind"] == "revenue_kind" and to_cents(b["balance"]) > 0
        ]  # fmt: skip
        if not unpaid:
            return
        weights = [_payment_weight(day - parse_day(b["due_at"] or day_text(day))) for b in unpaid]
        picked = {b["id"]: b for b in rng.choices(unpaid, weights, k=_count(rng, max(size, 0.3)))}
        for bill in picked.values():
            owed = to_cents(bill["balance"])
            draw = rng.random()
            if draw < 0.8:
                self._allocate(bill, owed, "Payment", day)
            elif draw < 0.93:
                self._allocate(bill, max(1, round(owed * rng.uniform(0.3, 0.7))), "Payment", day)
            else:
                self._allocate(bill, owed, "CreditMemo", day)

    def _allocate(self, bill: dict, cents: int, parent_type: str, day: int) -> None:
        firm, rng = self.firm, self.rng
        instant = at(rng, day)
        owed = {b["id"]: max(to_cents(b["amount"]), 0) for b in bill["balances"]}
        shares = dict(zip(owed, split(cents, list(owed.values())), strict=True))
        if parent_type == "CreditMemo":
            memo = firm.create("credit_memos", {
                "date": day_text(day), "amount": to_number(cents), "description": "Write-off",
                "discount": False, "user": {"id": bill["user"]["id"]},
                "contact": dict(bill["client"]),
            }, at=instant)  # fmt: skip
            parent = {"id": memo["id"], "type": "CreditMemo"}
        else:
            self._payments += 1
            parent = {"id": self._payments, "type": "Payment"}
        code = bill["currency"]["code"]
        account = next(
            (a for a in firm.tables["bank_accounts"].values()
             if a["type"] == "Operating" and a["currency"] == code),
            None,
        )  # fmt: skip
        deposit = parent_type == "Payment" and account is not None  # a hand-built firm may have no bank
        first = None
        for matter_id, share in shares.items():
            if share <= 0:
                continue
            allocation = firm.create("allocations", {
                "date": day_text(day), "amount": to_number(share), "interest": False,
                "description": None if parent_type == "Payment" else "Credit note",
                "has_online_payment": False, "destroyable": True,
                "payment_type": rng.choice(("Check", "EFT", "Credit Card")) if parent_type == "Payment" else None,
                "bill": {"id": bill["id"], "number": bill["number"]}, "matter": {"id": matter_id},
                "contact": dict(bill["client"]), "parent": parent,
                "destination_bank_account": {"id": account["id"]} if deposit else None,
            }, at=instant)  # fmt: skip
            first = first or allocation
        if deposit and first is not None:
            balance = to_cents(account["balance"]) + cents
            account.update(balance=to_number(balance), bank_transactions_count=account["bank_transactions_count"] + 1)
            firm.create("bank_transactions", {
                "type": "BankTransaction", "bank_account_id": account["id"], "source": "Payment",
                "confirmation": f"CNF-{rng.randrange(10**6, 10**7)}", "date": day_text(day),
                "amount": to_number(cents), "currency": code, "currency_id": CURRENCIES[code][0],
                "description": f"Payment for bill {bill['number']}", "exchange_rate": 1.0,
                "transaction_type": "Deposit", "funds_in": to_number(cents), "funds_out": 0.0,
                "clio_payments_transaction": False, "current_account_balance": to_number(balance),
                "read_only_confirmation": False, "client": {"id": bill["client"]["id"]},
                "matter": {"id": next(iter(shares))}, "bill": {"id": bill["id"]},
                "allocation": {"id": first["id"]},
            }, at=instant)  # fmt: skip
            firm.touch("bank_accounts", account, at=instant)
        billing.recompute(firm, bill)
        firm.touch("bills", bill, at=instant)

    def _tidy(self, day: int, size: float) -> None:
        """Edits, voids, deleted activities and contacts, closed matters."""
        firm, rng = self.firm, self.rng
        for endpoint in ("contacts", "matters", "activities"):
            records = firm.records(endpoint)
            for _ in range(_count(rng, max(size * 0.5, 0.5)) if records else 0):
                firm.edit(endpoint, rng.choice(records)["id"])
        if rng.random() < 0.15:
            unpaid = [
                b for b in firm.records("bills")
                if b["state"] == "awaiting_payment" and to_cents(b["paid"]) == 0
                and to_cents(b["credits_issued"]) == 0
            ]  # fmt: skip
            if unpaid:
                firm.delete_bill(rng.choice(unpaid)["id"])
        if rng.random() < 0.3:
            loose = [a for a in firm.records("activities") if not a["bill"]]
            if loose:  # one freed from a voided bill is still named by its line item
                with suppress(FirmRuleError):
                    firm.delete("activities", rng.choice(loose)["id"])
        if rng.random() < 0.1:
            self._delete_unused_contact()
        if rng.random() < 0.2:
            busy = self._matters_with_open_bills()
            matters = [m for m in self._open_matters() if m["id"] not in busy]
            if matters:
                matter = rng.choice(matters)
                matter.update(status="Closed", close_date=day_text(day))
                firm.touch("matters", matter, at=at(rng, day))

    # ----- helpers ---------------------------------------------------------------

    def _delete_unused_contact(self) -> None:
        """Delete the newest contact nothing points at (a lead that came to nothing)."""
        firm = self.firm
        referenced = {m["client_id"] for m in firm.tables["matters"].values()}
        referenced |= {(c["company"] or {}).get("id") for c in firm.tables["contacts"].values()}
        for contact_id in sorted(firm.tables["contacts"], reverse=True)[:20]:
            if contact_id not in referenced:
                with suppress(FirmRuleError):  # a bill or payment may still name it
                    firm.delete("contacts", contact_id)
                return

    def _matters_with_open_bills(self) -> set[int]:
        open_states = ("draft", "awaiting_approval", "awaiting_payment")
        return {
            m["id"] for b in self.firm.records("bills") if b["state"] in open_states
            for m in b["matters"] or ()
        }  # fmt: skip

    def _open_matters(self) -> list[dict]:
        return [m for m in self.firm.records("matters") if m["status"] == "Open"]

    def _companies(self) -> list[dict]:
        return [c for c in self.firm.records("contacts") if c["type"] == "Company"]

    def _user(self, matter: dict) -> dict:
        users = self.firm.tables["users"]
        if self.rng.random() < 0.6 and matter["responsible_attorney"]:
            return users[matter["responsible_attorney"]["id"]]
        return self.rng.choice(self.dir.attorneys + self.dir.staff)


def _directory(firm: Firm) -> Directory:
    """The who-is-who `new_matter` needs, read back from the firm's tables."""
    users = list(firm.records("users"))
    return Directory(
        users=users,
        attorneys=[u for u in users if u["subscription_type"] == "Attorney"] or users,
        staff=[u for u in users if u["subscription_type"] != "Attorney"] or users,
        # a hand-built firm may have areas the word lists do not know: no new matters there
        practice_areas=[a for a in firm.records("practice_areas") if a["code"] in names.MATTER_TOPICS],
    )


def _payment_weight(days_past_due: int) -> float:
    """How likely a bill is to be the one paid today, by how late it is."""
    for limit, weight in ((0, 3.0), (30, 4.0), (60, 2.0), (90, 1.0)):
        if days_past_due <= limit:
            return weight
    return 0.3


def _currency_of(matter: dict) -> dict:
    return dict(matter["currency"] or currency("USD"))


def _count(rng: random.Random, mean: float) -> int:
    """A whole number of events whose average is `mean`."""
    whole = int(mean)
    return whole + (rng.random() < mean - whole)

