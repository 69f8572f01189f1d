"""Firm life beyond billing: what a simulated day does to tasks, the calendar, notes,
communications, relationships, matter stages, custom field values and trust money.

Called by `FirmLife` once a day (after the billing day), and when a matter is born or a
time entry logged. It draws from its own random stream (seeded from the firm's seed), so
the billing life of a seed is unchanged by it. Volumes follow the firm's size as the
billing life does (`size` = bills / 730); every change goes through the firm's
primitives, so it is stamped, versioned and announced like any other.

A day:
- tasks: new ones on open matters (1.5 × size; the matter's `has_tasks` turns true),
  tasks moved along (pending -> in_progress -> in_review -> complete, drafts published),
  tasks due soon completed (1.2 × size), now and then one without time deleted;
- 25% of new time entries are logged against an open task of their matter (the task's
  `time_entries` follow); time entries get an activity description, expenses a category;
- custom field values edited, set or cleared on matters and clients (0.8 × size), under
  the firm's `custom_field_edits` option;
- trust: retainer deposits (evergreen matters below their minimum first), unpaid bills
  paid from trust where the matter holds enough, refunds of closed matters' trust money;
- calendar entries added (1 × size), rescheduled, now and then deleted; notes written,
  edited and deleted; communications logged; relationships added and removed; matters
  moved to their next stage.
"""

from __future__ import annotations

import random
from contextlib import suppress
from typing import TYPE_CHECKING

from pipelines.sandbox import billing, casework, trust
from pipelines.sandbox.clock import day_of, day_text, parse_day, parse_instant, stamp_text
from pipelines.sandbox.custom_values import PARENT_OF_TABLE, draw, set_value, value_record
from pipelines.sandbox.directory import CURRENCIES, at
from pipelines.sandbox.firm import FirmRuleError
from pipelines.sandbox.money import to_cents, to_number

if TYPE_CHECKING:
    from pipelines.sandbox.firm import Firm

_NEXT_STATUS = {"draft": "pending", "pending": "in_progress", "in_progress": "in_review",
                "in_review": "complete"}  # fmt: skip


class CaseworkLife:
    """Advances the whole-firm records of a firm, one day at a time."""

    def __init__(self, firm: Firm) -> None:
        self.firm = firm
        self.rng = random.Random(f"casework:{firm.seed}")
        self._payments = 20_000_000  # Payment ids apart from the generator's and billing life's
        self._open_by_matter: dict[int, list[dict]] | None = None  # rebuilt after each day

    # ----- hooks the billing life calls -------------------------------------------------

    def born(self, matter: dict, instant: int) -> None:
        """Fill a matter about to be created at `instant`: no tasks yet, the firm's group,
        its practice area's first stage, intake custom field values."""
        firm, rng = self.firm, self.rng
        matter["has_tasks"] = False
        groups = [g for g in firm.records("groups") if g["type"] == "AccountGroup"]
        matter["group"] = {"id": groups[0]["id"], "name": groups[0]["name"]} if groups else None
        stages = self._stages(matter)
        stamp = stamp_text(firm.next_instant(instant))
        if stages:
            matter["matter_stage"] = {"id": stages[0]["id"], "name": stages[0]["name"]}
            matter["matter_stage_updated_at"] = stamp
        values = []
        for field in self._fields("Matter"):
            if field["field_type"] in ("checkbox", "picklist", "currency") and rng.random() < 0.6:
                picked = draw(rng, field, day_of(instant), [], [])
                if picked is not None:
                    number = firm.next_id("custom_field_values")
                    values.append(value_record(firm, field, number, picked[0], stamp, picked[1]))
        matter["custom_field_values"] = values
        matter["account_balances"] = []

    def links(self, matter: dict, kind: str) -> dict:
        """Relations of a new activity: a description or a category, maybe a task."""
        rng = self.rng
        links: dict = {"activity_description": None, "expense_category": None, "task": None}
        if kind == "TimeEntry":
            descriptions = self.firm.records("activity_descriptions")
            if descriptions and rng.random() < 0.7:
                links["activity_description"] = casework.who(rng.choice(descriptions))
            tasks = self._tasks_of(matter["id"])
            if tasks and rng.random() < 0.25:
                links["task"] = {"id": rng.choice(tasks)["id"]}
        else:
            categories = self.firm.records("expense_categories")
            if categories and rng.random() < 0.8:
                links["expense_category"] = casework.who(rng.choice(categories))
        return links

    def logged(self, activity: dict) -> None:
        """A new time entry names its task: the task's time entries follow."""
        task = self.firm.tables["tasks"].get((activity.get("task") or {}).get("id"))
        if task is not None:
            task["time_entries"] = [*(task["time_entries"] or ()), {"id": activity["id"]}]
            task["time_entries_count"] = len(task["time_entries"])
            self.firm.touch("tasks", task)

    # ----- a day -------------------------------------------------------------------------

    def _tasks_of(self, matter_id: int) -> list[dict]:
        """Open tasks of a matter as the day began (time is logged against those)."""
        if self._open_by_matter is None:
            self._open_by_matter = {}
            for task in self._open_tasks():
                if task["matter"]:
                    self._open_by_matter.setdefault(task["matter"]["id"], []).append(task)
        return [t for t in self._open_by_matter.get(matter_id, ()) if t["id"] in self.firm.tables["tasks"]]

    def live(self, day: int) -> None:
        self._live(day)
        self._open_by_matter = None

    def _live(self, day: int) -> None:
        firm = self.firm
        size = max(len(firm.tables["bills"]), 30) / 730
        self._tasks(day, size)
        self._values(day, size)
        self._trust(day, size)
        self._calendar(day, size)
        self._notes(day, size)
        self._communications(day, size)
        self._relationships(day, size)
        self._stages_moved(day, size)

    def _tasks(self, day: int, size: float) -> None:
        firm, rng = self.firm, self.rng
        users = firm.records("users")
        matters = self._open_matters()
        types = [t for t in firm.records("task_types") if not t["deleted_at"]]
        for _ in range(_count(rng, max(size * 1.5, 0.5)) if matters and users else 0):
            matter = rng.choice(matters)
            status = rng.choices(("pending", "draft", "in_progress"), (80, 10, 10))[0]
            instant = at(rng, day)
            firm.create("tasks", casework.task(rng, matter, users, types, day, status), at=instant)
            if not matter["has_tasks"]:
                matter["has_tasks"] = True
                firm.touch("matters", matter, at=instant)
        open_tasks = self._open_tasks()
        for _ in range(_count(rng, max(size * 0.8, 0.3)) if open_tasks else 0):
            task = rng.choice(open_tasks)
            self._set_status(task, _NEXT_STATUS[task["status"]], day)
        due = [t for t in self._open_tasks() if t["due_at"] and t["due_at"] <= day_text(day + 3)]
        for task in rng.sample(due, min(len(due), _count(rng, max(size * 1.2, 0.5)))):
            self._set_status(task, "complete", day)
        if rng.random() < 0.15:
            idle = [t for t in firm.records("tasks") if not t["time_entries_count"]]
            if idle:
                self._delete_task(rng.choice(idle))

    def _set_status(self, task: dict, status: str, day: int) -> None:
        instant = at(self.rng, day)
        task["status"] = status
        task["completed_at"] = stamp_text(self.firm.next_instant(instant)) if status == "complete" else None
        self.firm.touch("tasks", task, at=instant)

    def _delete_task(self, task: dict) -> None:
        firm = self.firm
        firm.delete("tasks", task["id"])
        matter = firm.tables["matters"].get((task["matter"] or {}).get("id"))
        if matter is not None and not any(
            (t["matter"] or {}).get("id") == matter["id"] for t in firm.records("tasks")
        ):
            matter["has_tasks"] = False
            firm.touch("matters", matter)

    def _values(self, day: int, size: float) -> None:
        """Users editing custom field values of matters and clients."""
        firm, rng = self.firm, self.rng
        for _ in range(_count(rng, max(size * 0.8, 0.5))):
            table = "contacts" if rng.random() < 0.3 else "matters"
            fields = self._fields(PARENT_OF_TABLE[table])
            parents = firm.records(table)
            if table == "contacts":
                parents = [c for c in parents if c["is_client"]]
            if not fields or not parents:
                continue
            parent, field = rng.choice(parents), rng.choice(fields)
            if rng.random() < 0.1:
                set_value(firm, table, parent["id"], field["id"], None)
                continue
            contacts = [c for c in rng.sample(firm.records("contacts"), min(3, len(firm.records("contacts"))))
                        if c["id"] != parent["id"]]  # fmt: skip
            matters = [m for m in rng.sample(firm.records("matters"), min(3, len(firm.records("matters"))))
                       if m["id"] != parent["id"]]  # fmt: skip
            picked = draw(rng, field, day, contacts, matters)
            if picked is None:
                continue
            text, relation = picked
            raw = relation["id"] if relation else text
            with suppress(FirmRuleError):
                set_value(firm, table, parent["id"], field["id"], raw)

    # ----- trust ---------------------------------------------------------------------

    def _trust(self, day: int, size: float) -> None:
        account = next(
            (a for a in trust.trust_accounts(self.firm).values() if a.get("currency") == "USD"), None
        )
        if account is None:
            return
        rng = self.rng
        for _ in range(_count(rng, max(size * 0.3, 0.2))):
            self._deposit(account, day)
        payable = self._payable(account)
        for _ in range(_count(rng, max(size * 0.2, 0.15))):
            self._pay_from_trust(account, day, payable)
        if rng.random() < 0.15:
            self._refund(account, day)

    def _deposit(self, account: dict, day: int) -> None:
        rng = self.rng
        matters = [m for m in self._open_matters() if (m["currency"] or {}).get("code") == "USD"]
        if not matters:
            return
        short = [m for m in matters if m["evergreen_retainer"] and trust.balance_cents(m, account["id"])
                 < to_cents(m["evergreen_retainer"]["minimum_threshold"])]  # fmt: skip
        matter = rng.choice(short) if short and rng.random() < 0.7 else rng.choice(matters)
        cents = rng.randrange(5, 51) * 10_000
        if matter in short:  # top the evergreen retainer up above its minimum
            cents += to_cents(matter["evergreen_retainer"]["minimum_threshold"]) - trust.balance_cents(matter, account["id"])
        self._transaction(account, matter, day, funds_in=cents, source="Deposit",
                          description=f"Retainer deposit: {matter['display_number']}")  # fmt: skip

    def _payable(self, account: dict) -> list[tuple[dict, dict]]:
        """Unpaid single-matter USD bills whose matter holds their balance in trust."""
        firm, payable = self.firm, []
        for bill in firm.records("bills"):
            if (bill["state"] != "awaiting_payment" or bill["kind"] != "revenue_kind"
                    or len(bill["matters"] or ()) != 1 or (bill["currency"] or {}).get("code") != "USD"):  # fmt: skip
                continue
            matter = firm.tables["matters"].get(bill["matters"][0]["id"])
            if matter and 0 < to_cents(bill["balance"]) <= trust.balance_cents(matter, account["id"]):
                payable.append((bill, matter))
        return payable

    def _pay_from_trust(self, account: dict, day: int, payable: list[tuple[dict, dict]]) -> None:
        """An unpaid USD bill of one matter paid in full from that matter's trust money."""
        firm, rng = self.firm, self.rng
        payable[:] = [(b, m) for b, m in payable  # what an earlier payment today left payable
                      if b["state"] == "awaiting_payment" and to_cents(b["balance"]) <= trust.balance_cents(m, account["id"])]  # fmt: skip
        if not payable:
            return
        bill, matter = rng.choice(payable)
        operating = next((a for a in firm.records("bank_accounts")
                          if a["type"] == "Operating" and a["currency"] == "USD"), None)  # fmt: skip
        if operating is None:
            return
        cents = to_cents(bill["balance"])
        instant = at(rng, day)
        self._payments += 1
        allocation = firm.create("allocations", {
            "date": day_text(day), "amount": to_number(cents), "interest": False, "description": None,
            "has_online_payment": False, "destroyable": True, "payment_type": "Trust",
            "bill": {"id": bill["id"], "number": bill["number"]}, "matter": {"id": matter["id"]},
            "contact": dict(bill["client"]), "parent": {"id": self._payments, "type": "Payment"},
            "destination_bank_account": {"id": operating["id"]},
        }, at=instant)  # fmt: skip
        note = f"Trust applied to bill {bill['number']}"
        self._transaction(account, matter, day, funds_out=cents, source="Payment", description=note,
                          bill=bill, allocation=allocation, instant=instant)  # fmt: skip
        self._transaction(operating, matter, day, funds_in=cents, source="Payment",
                          description=f"Payment for bill {bill['number']}", bill=bill,
                          allocation=allocation, instant=instant)  # fmt: skip
        firm.create("trust_line_items", {
            "date": day_text(day), "total": to_number(cents), "note": note, "bill": {"id": bill["id"]},
            "matter": {"id": matter["id"]}, "client": {"id": bill["client"]["id"]},
        }, at=instant)  # fmt: skip
        billing.recompute(firm, bill)
        firm.touch("bills", bill, at=instant)

    def _refund(self, account: dict, day: int) -> None:
        closed = [m for m in self.firm.records("matters")
                  if m["status"] == "Closed" and trust.balance_cents(m, account["id"]) > 0]  # fmt: skip
        if closed:
            matter = self.rng.choice(closed)
            self._transaction(account, matter, day, funds_out=trust.balance_cents(matter, account["id"]),
                              source="Refund", description=f"Refund to client: {matter['display_number']}")  # fmt: skip

    def _transaction(
        self, account: dict, matter: dict, day: int, source: str, description: str,
        funds_in: int = 0, funds_out: int = 0, bill: dict | None = None,
        allocation: dict | None = None, instant: int | None = None,
    ) -> None:  # fmt: skip
        """A bank transaction naming `matter` and its client; the account and (on trust)
        the matter's and client's balances follow."""
        firm, rng = self.firm, self.rng
        instant = instant if instant is not None else at(rng, day)
        balance = to_cents(account["balance"]) + funds_in - funds_out
        count = (account.get("bank_transactions_count") or 0) + 1  # a hand-built bank may not say
        account.update(balance=to_number(balance), bank_transactions_count=count)
        code = account.get("currency") or "USD"
        tx = firm.create("bank_transactions", {
            "type": "BankTransaction", "bank_account_id": account["id"], "source": source,
            "confirmation": f"CNF-{rng.randrange(10**6, 10**7)}", "date": day_text(day),
            "amount": to_number(funds_in - funds_out), "currency": code,
            "currency_id": CURRENCIES.get(code, (1,))[0], "description": description,
            "exchange_rate": 1.0, "transaction_type": "Deposit" if funds_in else "Withdrawal",
            "funds_in": to_number(funds_in), "funds_out": to_number(funds_out),
            "clio_payments_transaction": False, "current_account_balance": to_number(balance),
            "read_only_confirmation": False, "client": {"id": matter["client_id"]},
            "matter": {"id": matter["id"]}, "bill": {"id": bill["id"]} if bill else None,
            "allocation": {"id": allocation["id"]} if allocation else None,
        }, at=instant)  # fmt: skip
        firm.touch("bank_accounts", account, at=instant)
        trust.apply(firm, tx, at=instant)

    # ----- calendar, notes, communications, relationships, stages ------------------------

    def _calendar(self, day: int, size: float) -> None:
        firm, rng = self.firm, self.rng
        matters, users = self._open_matters(), firm.records("users")
        for _ in range(_count(rng, max(size, 0.5)) if matters and users else 0):
            matter = rng.choice(matters)
            owner = firm.tables["users"].get((matter["responsible_attorney"] or {}).get("id")) or rng.choice(users)
            if owner.get("default_calendar_id") is None:
                continue
            client = firm.tables["contacts"].get(matter["client_id"])
            entry = casework.calendar_entry(rng, matter, owner, client, day + rng.randint(1, 30))
            firm.create("calendar_entries", entry, at=at(rng, day))
        entries = [e for e in firm.records("calendar_entries") if e["start_date"] and e["start_date"] > day_text(day)]
        for _ in range(_count(rng, max(size * 0.3, 0.2)) if entries else 0):
            self._reschedule(rng.choice(entries), day)
        if entries and rng.random() < 0.2:
            firm.delete("calendar_entries", rng.choice(entries)["id"])

    def _reschedule(self, entry: dict, day: int) -> None:
        shift = self.rng.choice((1, 2, 7)) * 86_400
        start = parse_day(entry["start_date"])
        for name in ("start_at", "end_at"):
            entry[name] = stamp_text(parse_instant(entry[name]) + shift)
        entry["start_date"] = day_text(start + shift // 86_400)
        entry["end_date"] = day_text(parse_day(entry["end_date"]) + shift // 86_400)
        self.firm.touch("calendar_entries", entry, at=at(self.rng, day))

    def _notes(self, day: int, size: float) -> None:
        firm, rng = self.firm, self.rng
        users = firm.records("users")
        matters = self._open_matters()
        clients = [c for c in firm.records("contacts") if c["is_client"]]
        for _ in range(_count(rng, max(size * 0.8, 0.4)) if users else 0):
            if matters and (rng.random() < 0.8 or not clients):
                made = casework.note(rng, "Matter", rng.choice(matters), rng.choice(users), day)
            elif clients:
                made = casework.note(rng, "Contact", rng.choice(clients), rng.choice(users), day)
            else:
                continue
            firm.create("notes", made, at=at(rng, day))
        notes = firm.records("notes")
        if notes and rng.random() < 0.3:
            firm.edit("notes", rng.choice(notes)["id"])
        if notes and rng.random() < 0.1:
            firm.delete("notes", rng.choice(notes)["id"])

    def _communications(self, day: int, size: float) -> None:
        firm, rng = self.firm, self.rng
        matters, users = self._open_matters(), firm.records("users")
        for _ in range(_count(rng, max(size * 1.2, 0.5)) if matters and users else 0):
            matter = rng.choice(matters)
            user = firm.tables["users"].get((matter["responsible_attorney"] or {}).get("id")) or rng.choice(users)
            instant = at(rng, day)
            client = firm.tables["contacts"].get(matter["client_id"])
            firm.create("communications", casework.communication(rng, matter, user, client, instant), at=instant)
        communications = firm.records("communications")
        if communications and rng.random() < 0.05:
            firm.delete("communications", rng.choice(communications)["id"])

    def _relationships(self, day: int, size: float) -> None:
        firm, rng = self.firm, self.rng
        matters, contacts = self._open_matters(), firm.records("contacts")
        for _ in range(_count(rng, max(size * 0.2, 0.1)) if matters and len(contacts) > 1 else 0):
            matter, contact = rng.choice(matters), rng.choice(contacts)
            if contact["id"] != matter["client_id"]:
                firm.create("relationships", casework.relationship(rng, matter, contact), at=at(rng, day))
        relationships = firm.records("relationships")
        if relationships and rng.random() < 0.05:
            firm.delete("relationships", rng.choice(relationships)["id"])

    def _stages_moved(self, day: int, size: float) -> None:
        firm, rng = self.firm, self.rng
        matters = [m for m in self._open_matters() if m["matter_stage"]]
        for _ in range(_count(rng, max(size * 0.3, 0.2)) if matters else 0):
            matter = rng.choice(matters)
            stages = self._stages(matter)
            order = [s["id"] for s in stages]
            at_ = order.index(matter["matter_stage"]["id"]) if matter["matter_stage"]["id"] in order else -1
            if 0 <= at_ < len(stages) - 1:
                stage = stages[at_ + 1]
                instant = at(rng, day)
                matter["matter_stage"] = {"id": stage["id"], "name": stage["name"]}
                matter["matter_stage_updated_at"] = stamp_text(firm.next_instant(instant))
                firm.touch("matters", matter, at=instant)

    # ----- helpers ------------------------------------------------------------------------

    def _open_matters(self) -> list[dict]:
        return [m for m in self.firm.records("matters") if m["status"] == "Open"]

    def _open_tasks(self) -> list[dict]:
        return [t for t in self.firm.records("tasks") if t["status"] != "complete"]

    def _fields(self, parent_type: str) -> list[dict]:
        return [f for f in self.firm.records("custom_fields")
                if f["parent_type"] == parent_type and not f["deleted"]]  # fmt: skip

    def _stages(self, matter: dict) -> list[dict]:
        area = str((matter.get("practice_area") or {}).get("id"))
        stages = [s for s in self.firm.records("matter_stages") if s["practice_area_id"] == area]
        return sorted(stages, key=lambda s: (s["order"] or 0, s["id"]))


def _count(rng: random.Random, mean: float) -> int:
    """A whole number of events whose average is `mean`."""
    whole = int(mean)
    return whole + (rng.random() < mean - whole)
