"""`Firm.generate`: a deterministic, plausible law firm built from a seed and a scale.

Order of work: the directory (users, practice areas, bank accounts, contacts, matters);
one plan per bill (`plans.py`) placed on a matter and a date; per bill its activities,
line items and interest charges; then its settlement (payments, credit notes, bank
transactions, trust line items) replayed against what it still owes; every bill's
money is derived by `billing.recompute`, so the consistency rules hold by construction;
last, the rest of the firm (`whole_firm.py`: trust retainers, reference data, tasks,
calendar, notes, communications, relationships, custom field values).
Ids follow creation time within each table. Nothing is stamped after `Firm.START`.
"""

from __future__ import annotations

import bisect
import gc
import random
from dataclasses import dataclass, field

from pipelines.sandbox import billing, names
from pipelines.sandbox.clock import DAY, day_of, day_text, etag, parse_instant, stamp_text
from pipelines.sandbox.directory import Directory, at, build_directory, ref
from pipelines.sandbox.firm import Firm
from pipelines.sandbox.money import tax_rates, time_value, to_cents, to_number
from pipelines.sandbox.plans import PATTERNS, Plan, plans_for
from pipelines.sandbox.scales import SCALES
from pipelines.sandbox.settlement import Settler
from pipelines.sandbox.whole_firm import WholeFirm

HISTORY_DAYS = 730  # bills are issued over the two years before now


@dataclass
class Placement:
    """A plan put on matters and dates."""

    plan: Plan
    matters: list[dict]
    issue_day: int
    terms: int
    start_day: int
    created: int
    bill: dict = field(default_factory=dict)
    first_item: int = 0  # index of its first line item in the builder's list


def generate(firm: Firm, scale_name: str) -> Firm:
    """Fill `firm` (empty, at `Firm.START`) with a firm of the given scale."""
    if scale_name not in SCALES:
        raise ValueError(f"unknown scale {scale_name!r}; choose one of {sorted(SCALES)}")
    # Building hundreds of thousands of plain dicts makes the cyclic garbage collector run
    # over and over for nothing (they form no cycles): pausing it saves about a quarter.
    collecting = gc.isenabled()
    gc.disable()
    try:
        scale = SCALES[scale_name]
        rng = random.Random(firm.seed)
        today = day_of(firm.now_instant())
        directory = build_directory(rng, scale, today - 3 * 365, today)
        builder = _Builder(firm, rng, directory, today)
        placements = builder.place(plans_for(rng, scale.bills))
        for placement in placements:
            builder.build_bill(placement, scale.activities_per_bill)
        builder.unbilled(scale.unbilled_activities)
        builder.finish(placements)
    finally:
        if collecting:
            gc.enable()
    return firm


class _Builder:
    def __init__(self, firm: Firm, rng: random.Random, directory: Directory, today: int) -> None:
        self.firm, self.rng, self.dir, self.today = firm, rng, directory, today
        self.activities: list[dict] = []
        self.line_items: list[dict] = []
        self.interest: list[dict] = []
        self.trust_items: list[dict] = []
        self.last_bill_day: dict[int, int] = {}
        self.by_currency: dict[str, list[dict]] = {}
        # per currency: the pool's open days (bisected per bill, kept current when a matter
        # is backdated) and its clients with several matters (for multi-matter bills)
        self.pool_days: dict[str, list[int]] = {}
        self.pool_slot: dict[int, tuple[str, int]] = {}
        self.multi_clients: dict[str, list[int]] = {}
        for matter in directory.matters:
            if matter["id"] in directory.open_day:
                self.by_currency.setdefault(matter["currency"]["code"], []).append(matter)
        for code, pool in self.by_currency.items():
            self.pool_days[code] = [directory.open_day[m["id"]] for m in pool]
            self.pool_slot.update((m["id"], (code, index)) for index, m in enumerate(pool))
            by_client = directory.matters_by_client
            self.multi_clients[code] = sorted({m["client_id"] for m in pool if len(by_client[m["client_id"]]) > 1})

    # ----- where and when each bill lands ------------------------------------------

    def place(self, plans: list[Plan]) -> list[Placement]:
        placements = [self._place(plan) for plan in plans]
        placements.sort(key=lambda p: p.created)
        renumber(self.dir)  # backdating moved some matters and clients earlier
        for placement in placements:
            placement.matters.sort(key=lambda m: m["id"])
        return placements

    def _place(self, plan: Plan) -> Placement:
        rng, today = self.rng, self.today
        terms = rng.choices((30, 15, 45, 0), (75, 10, 10, 5))[0]
        if plan.state == "awaiting_payment":
            terms = max(terms, -plan.overdue, 15 if plan.settle != "none" else 0)
            issue = today - plan.overdue - terms
        elif plan.state == "paid":
            low = terms + 40 if plan.interest else 20
            issue = today - rng.randint(low, HISTORY_DAYS)
        elif plan.state in ("draft", "awaiting_approval"):
            issue = today - rng.randint(0, 12)
        else:
            issue = today - rng.randint(15, HISTORY_DAYS)
        start = issue - rng.randint(20, 40)
        matters = self._matters(plan, start)
        return Placement(plan, matters, issue, terms, start, at(rng, issue))

    def _matters(self, plan: Plan, start: int) -> list[dict]:
        """Matters for the bill, opened before its period (backdated if none was)."""
        code = "USD" if plan.kind == "trust_kind" else plan.currency
        code = code if self.by_currency.get(code) else "USD"
        pool = self.by_currency[code]
        if plan.multi:
            clients = self.multi_clients[code]
            if clients:
                own = self.dir.matters_by_client[self.rng.choice(clients)]
                chosen = self.rng.sample(own, min(len(own), self.rng.choice((2, 2, 3))))
                return sorted((self._opened_by(m, start) for m in chosen), key=lambda m: m["id"])
        eligible = pool[: bisect.bisect_right(self.pool_days[code], start)] or pool
        return [self._opened_by(self.rng.choice(eligible), start)]

    def _opened_by(self, matter: dict, start: int) -> dict:
        if self.dir.open_day[matter["id"]] > start:
            day = start - self.rng.randint(0, 30)
            self.dir.open_day[matter["id"]] = day
            code, slot = self.pool_slot[matter["id"]]
            self.pool_days[code][slot] = day
            matter["open_date"] = day_text(day)
            created = at(self.rng, day)
            matter["created_at"] = matter["updated_at"] = stamp_text(created)
            client = self._contact(matter["client_id"])
            self._exists_before(client, created)
            employer = client["company"] and self._contact(client["company"]["id"])
            self._exists_before(employer, parse_instant(client["created_at"]))
        return matter

    def _exists_before(self, contact: dict | None, instant: int) -> None:
        """Backdate `contact` to some days before `instant` if it was created after it."""
        if contact and parse_instant(contact["created_at"]) >= instant:
            stamp = stamp_text(instant - self.rng.randint(1, 30) * DAY)
            contact["created_at"] = contact["updated_at"] = stamp

    def _contact(self, contact_id: int) -> dict:
        return self.dir.contacts[contact_id - 1]

    # ----- one bill ------------------------------------------------------------------

    def build_bill(self, placement: Placement, per_bill: float) -> None:
        plan, rng = placement.plan, self.rng
        bill_id = len(self.firm.tables["bills"]) + 1
        first = placement.matters[0]
        client = self.dir.contacts[first["client_id"] - 1]
        attorney = self._user(first["responsible_attorney"]["id"])
        issued = plan.state not in ("draft", "awaiting_approval", "deleted")
        sent = at(rng, placement.issue_day) if issued and rng.random() < 0.8 else None
        bill = {
            "id": bill_id, "number": str(bill_id), "issued_at": day_text(placement.issue_day),
            "due_at": day_text(placement.issue_day + placement.terms),
            "subject": f"Legal services: {first['description']}",
            "purchase_order": f"PO-{bill_id:05d}" if rng.random() < 0.05 else None,
            "type": "ClientBill" if len(placement.matters) > 1 else "MatterBill",
            "memo": None, "start_at": day_text(placement.start_day),
            "end_at": day_text(placement.issue_day - 1), "state": plan.state, "kind": plan.kind,
            "discount_services_only": "false", "shared": sent is not None,
            "last_sent_at": stamp_text(max(sent, placement.created)) if sent else None,
            "services_taxable_sub_total": 0, "services_secondary_taxable_sub_total": 0,
            "taxable_sub_total": 0, "secondary_taxable_sub_total": 0,
            "created_at": stamp_text(placement.created), "updated_at": None,
            "client": ref(client, "name"), "user": ref(attorney, "name"),
            "currency": dict(first["currency"]),
            "matters": [ref(m, "display_number") for m in placement.matters],
            "discount": self._discount() if plan.discount else None,
        }  # fmt: skip
        bill["tax_rate"], bill["secondary_tax_rate"] = tax_rates(bill["currency"]["code"])
        if bill["discount"]:
            bill["discount_services_only"] = rng.choice(("true", "false"))
        placement.bill = bill
        placement.first_item = len(self.line_items)  # this bill's lines are appended next
        self.firm.tables["bills"][bill_id] = bill  # loaded for real in finish()
        if plan.kind == "trust_kind":
            self._trust_request(placement)
        else:
            self._work(placement, per_bill)
        if plan.interest:
            self._interest(placement)
        for matter in placement.matters:
            self.last_bill_day[matter["id"]] = max(self.last_bill_day.get(matter["id"], 0), placement.issue_day)

    def _discount(self) -> dict:
        if self.rng.random() < 0.7:
            rate, kind = float(self.rng.choice((5, 10, 15))), "percentage"
        else:
            rate, kind = float(self.rng.randrange(100, 500, 25)), "money"
        return {"rate": rate, "type": kind, "note": "Client courtesy discount",
                "early_payment_rate": None, "early_payment_period": None}  # fmt: skip

    def _work(self, placement: Placement, per_bill: float) -> None:
        """Activities of the billing period and their line items."""
        rng, bill = self.rng, placement.bill
        count = max(len(placement.matters), round(rng.gauss(per_bill, per_bill / 3)))
        billed = 0
        for index in range(count):
            matter = placement.matters[index % len(placement.matters)]
            day = rng.randint(placement.start_day, placement.issue_day - 1)
            # every bill carries at least one line: a bill of nothing is not a bill
            activity = self._activity(matter, day, billable=billed == 0 and index == count - 1)
            if activity["non_billable"]:
                continue
            billed += 1
            activity["_bill"] = bill
            self.line_items.append(_line_item(activity, bill, len(self.line_items) + 1, index))
        self._cap_discount(bill, billed)

    def _cap_discount(self, bill: dict, billed: int) -> None:
        """A fixed discount never swallows a bill: above half of it, it becomes 10%."""
        discount = bill["discount"]
        if not discount or discount["type"] != "money":
            return
        sub = sum(to_cents(li["sub_total"]) for li in self.line_items[-billed:]) if billed else 0
        if to_cents(discount["rate"]) * 2 > sub:
            discount.update(rate=10.0, type="percentage")

    def _activity(self, matter: dict, day: int, billable: bool = False) -> dict:
        rng = self.rng
        user = self._worker(matter)
        created = at(rng, day)
        if day <= self.dir.open_day.get(matter["id"], day - 1):  # work on the opening day
            created = max(created, parse_instant(matter["created_at"]) + 60)
        if rng.random() < 0.85:
            seconds = rng.randrange(180, 4 * 3600) if rng.random() < 0.9 else rng.randrange(4 * 3600, 9 * 3600)
            rounded = -(-seconds // 360) * 360  # Clio's default: up to the next 6 minutes
            total = time_value(user["rate"], rounded)
            kind, note = "TimeEntry", rng.choice(names.TIME_NOTES)
            quantity, hours, rounded_hours, price = float(seconds), round(seconds / 3600, 4), rounded / 3600, user["rate"]
            rounded_quantity = float(rounded)
        else:
            price_cents = rng.randrange(1500, 95000, 5)
            total, kind, note = price_cents, "ExpenseEntry", rng.choice(names.EXPENSE_NOTES)
            quantity, hours, rounded_hours, price = 1.0, None, None, to_number(price_cents)
            rounded_quantity = 1.0
        non_billable = rng.random() < 0.06 and not billable
        activity = {
            "id": None, "type": kind, "date": day_text(day), "quantity_in_hours": hours,
            "rounded_quantity_in_hours": rounded_hours, "quantity": quantity,
            "rounded_quantity": rounded_quantity, "quantity_redacted": False, "price": price,
            "note": note, "flat_rate": False, "billed": False, "on_bill": False,
            "total": to_number(total), "contingency_fee": False, "reference": None,
            "non_billable": non_billable, "non_billable_total": to_number(total if non_billable else 0),
            "no_charge": False, "tax_setting": "no_tax", "currency": dict(matter["currency"]),
            "matter": ref(matter, "display_number"), "user": ref(user, "name"), "bill": None,
            "_created": created, "_updated": created,
        }  # fmt: skip
        self.activities.append(activity)
        return activity

    def _worker(self, matter: dict) -> dict:
        draw = self.rng.random()
        if draw < 0.55:
            return self._user(matter["responsible_attorney"]["id"])
        if draw < 0.75 and matter["responsible_staff"]:
            return self._user(matter["responsible_staff"]["id"])
        return self.rng.choice(self.dir.attorneys)

    def _user(self, user_id: int) -> dict:
        return self.dir.users[user_id - 1]

    def _trust_request(self, placement: Placement) -> None:
        bill, matter = placement.bill, placement.matters[0]
        amount = self.rng.randrange(1000, 10001, 500) * 100
        item = {
            "id": len(self.line_items) + 1, "type": "LineItem", "description": "Trust request: retainer",
            "date": bill["issued_at"], "price": to_number(amount), "taxable": False, "kind": "Expense",
            "note": None, "secondary_taxable": False, "total": to_number(amount), "tax": 0.0,
            "secondary_tax": 0.0, "sub_total": to_number(amount), "quantity": 1.0,
            "group_ordering": 0, "created_at": bill["created_at"], "updated_at": bill["created_at"],
            "bill": {"id": bill["id"]}, "matter": ref(matter, "display_number"), "activity": None,
            "user": dict(bill["user"]),
        }  # fmt: skip
        self.line_items.append(item)
        self.trust_items.append(trust_line_item(bill, matter, amount, "Retainer requested", placement.created))

    def _interest(self, placement: Placement) -> None:
        """Monthly 1.5% interest charges on an overdue bill, up to three."""
        due_day = placement.issue_day + placement.terms
        sub = sum(to_cents(li["sub_total"]) for li in self.line_items[placement.first_item :])
        for month in (1, 2, 3):
            day = due_day + 30 * month
            if day >= self.today - 1 or (month > 1 and self.rng.random() < 0.5):
                break
            created = at(self.rng, day)
            self.interest.append({
                "id": None, "date": day_text(day), "description": f"Interest: month {month} overdue",
                "total": to_number(round(sub * 0.015)), "bill": {"id": placement.bill["id"]},
                "_created": created, "_updated": created,
            })  # fmt: skip

    def unbilled(self, count: int) -> None:
        """Recent work on open matters that no bill carries yet."""
        open_matters = [m for m in self.dir.matters if m["status"] == "Open"]
        for _ in range(count if open_matters else 0):
            matter = self.rng.choice(open_matters)
            low = max(self.dir.open_day[matter["id"]], self.today - 40)
            self._activity(matter, self.rng.randint(low, self.today))

    # ----- money, ids, loading -------------------------------------------------------

    def finish(self, placements: list[Placement]) -> None:
        firm = self.firm
        bills = firm.tables["bills"]
        firm.tables["bills"] = {}
        _assign_ids(self.activities)
        for item in self.line_items:
            activity = item.pop("_activity", None)
            if activity is not None:
                item["activity"] = {"id": activity["id"]}
            self._load("line_items", item)
        _assign_ids(self.interest)
        for charge in self.interest:
            self._load("interest_charges", charge)
        for bill in bills.values():
            bill.update(dict.fromkeys(("balance", "total", "paid", "due", "credits_issued"), 0.0))
            bill["state_planned"] = bill["state"]
            billing.recompute(firm, bill)
        settler = Settler(self.rng, self.dir, firm)
        for placement in placements:
            settler.settle(placement, PATTERNS[placement.plan.settle], self.today)
        whole = WholeFirm(firm, self.dir, self.today)
        whole.fund_trust(settler)
        self.trust_items += settler.trust_items
        for table, rows in settler.tables().items():
            for row in rows:
                self._load(table, row)
        _assign_ids(self.trust_items)
        for item in self.trust_items:
            self._load("trust_line_items", item)
        self._load_bills(placements)
        self._close_matters()
        whole.build(self.activities)
        whole.load(self._load)
        self._load_activities()
        whole.settle_directory()
        self._load_directory(settler)
        whole.finish()

    def _load_bills(self, placements: list[Placement]) -> None:
        for placement in placements:
            bill = placement.bill
            planned = bill.pop("state_planned")
            billing.recompute(self.firm, bill)
            if bill["state"] != planned:
                raise AssertionError(f"bill {bill['id']} planned {planned}, settled {bill['state']}")
            instants = [placement.created]
            instants += [parse_instant(c["updated_at"]) for c in self.firm.children("allocations", bill["id"])]
            if bill["state"] in ("void", "deleted"):
                moved = min(self.firm.now_instant() - 1, max(instants) + self.rng.randint(1, 20) * DAY)
                instants.append(moved)
                bill["_moved"] = moved
            if bill["last_sent_at"]:
                instants.append(placement.created + 1)
            bill["_updated"] = max(instants)
            bill["_created"] = placement.created
            self._load("bills", bill)

    def _load_activities(self) -> None:
        for activity in self.activities:
            bill = activity.pop("_bill", None)
            if bill is not None and bill["state"] not in ("void", "deleted"):
                issued = bill["state"] in ("awaiting_payment", "paid")
                activity.update(bill={"id": bill["id"]}, on_bill=True, billed=issued)
                activity["_updated"] = max(activity["_created"], parse_instant(bill["created_at"]))
            elif bill is not None:  # freed when its bill was voided or deleted
                activity["_updated"] = max(activity["_created"], parse_instant(bill["updated_at"]))
            self._load("activities", activity)

    def _close_matters(self) -> None:
        for matter in self.dir.matters:
            last = self.last_bill_day.get(matter["id"])
            if matter["status"] == "Closed":
                open_day = self.dir.open_day[matter["id"]]
                close = max(open_day + 30, (last or open_day) + self.rng.randint(5, 60))
                close = min(close, self.today - 1)
                matter["close_date"] = day_text(close)
                matter["updated_at"] = stamp_text(at(self.rng, close))

    def _load_directory(self, settler: Settler) -> None:
        for matter in self.dir.matters:
            self._load("matters", matter)
        for table, rows in (
            ("users", self.dir.users), ("practice_areas", self.dir.practice_areas),
            ("contacts", self.dir.contacts), ("bank_accounts", list(self.dir.bank_accounts.values())),
        ):
            for row in rows:
                self._load(table, row)
        _last_activity_dates(self.firm)

    def _load(self, endpoint: str, row: dict) -> None:
        created = row.pop("_created", None)
        updated = row.pop("_updated", None)
        row.pop("_moved", None)
        instants = None
        if created is not None:
            instants = (created, max(created, updated or created))
            row["created_at"] = stamp_text(created)
            row["updated_at"] = row["created_at"] if instants[1] == created else stamp_text(instants[1])
        row["etag"] = etag(self.firm.seed, endpoint, row["id"], 0)
        self.firm.load(endpoint, _complete(endpoint, row), instants)


def renumber(directory: Directory) -> None:
    """Give contacts and matters ids in creation order again (as a database would have),
    after backdating moved some; nothing but the directory refers to them yet."""
    contacts = sorted(directory.contacts, key=lambda c: (c["created_at"], c["id"]))
    new_ids = {contact["id"]: index + 1 for index, contact in enumerate(contacts)}
    for contact in contacts:
        contact["id"] = new_ids[contact["id"]]
        if contact["company"]:
            contact["company"]["id"] = new_ids[contact["company"]["id"]]
    directory.contacts[:] = contacts
    directory.matters_by_client = {new_ids[k]: v for k, v in directory.matters_by_client.items()}
    matters = sorted(directory.matters, key=lambda m: (m["created_at"], m["id"]))
    open_day = {}
    for index, matter in enumerate(matters):
        old, new = matter["id"], index + 1
        if old in directory.open_day:
            open_day[new] = directory.open_day[old]
        client_id = new_ids[matter["client_id"]]
        short = matter["display_number"].split("-", 1)[1]
        matter.update(
            id=new, number=new, display_number=f"{new:05d}-{short}", client_id=client_id,
            maildrop_address=f"{new}.hq@maildrop.example", client={**matter["client"], "id": client_id},
        )  # fmt: skip
    directory.matters[:] = matters
    directory.open_day = open_day


def _complete(endpoint: str, row: dict) -> dict:
    from pipelines.sandbox.shapes import complete

    return complete(endpoint, row)


def _assign_ids(rows: list[dict]) -> None:
    """Ids in creation order, as a database hands them out."""
    rows.sort(key=lambda row: row["_created"])
    for index, row in enumerate(rows):
        row["id"] = index + 1


def _last_activity_dates(firm: Firm) -> None:
    latest: dict[int, str] = {}
    for activity in firm.tables["activities"].values():
        matter_id = activity["matter"]["id"]
        if activity["date"] > latest.get(matter_id, ""):
            latest[matter_id] = activity["date"]
    for matter_id, day in latest.items():
        firm.tables["matters"][matter_id]["last_activity_date"] = day


def _line_item(activity: dict, bill: dict, item_id: int, order: int) -> dict:
    time = activity["type"] == "TimeEntry"
    return {
        "id": item_id, "type": "ActivityLineItem", "description": activity["note"],
        "date": activity["date"], "price": activity["price"], "taxable": False,
        "kind": "Service" if time else "Expense", "note": None, "secondary_taxable": False,
        "total": activity["total"], "tax": 0.0, "secondary_tax": 0.0,
        "sub_total": activity["total"],
        "quantity": activity["rounded_quantity_in_hours"] if time else activity["quantity"],
        "group_ordering": order, "created_at": bill["created_at"], "updated_at": bill["created_at"],
        "bill": {"id": bill["id"]}, "matter": dict(activity["matter"]), "activity": None,
        "user": dict(activity["user"]), "_activity": activity,
    }  # fmt: skip


def trust_line_item(bill: dict, matter: dict, cents: int, note: str, instant: int) -> dict:
    """A trust line of a bill: money requested into trust, or trust applied to the bill."""
    return {
        "id": None, "date": day_text(day_of(instant)), "total": to_number(cents), "note": note,
        "bill": {"id": bill["id"]}, "matter": {"id": matter["id"]},
        "client": {"id": bill["client"]["id"]}, "_created": instant, "_updated": instant,
    }


__all__ = ["generate", "trust_line_item"]
