"""The generator's second pass: everything beyond billing, on the firm it has built.

Trust money first (while the settlement's bank transactions are still being gathered):
every matter that pays a bill from trust got a retainer deposit before it, so no trust
balance ever goes below zero, and some open matters hold a retainer, a share of them
with an evergreen minimum. Then the reference data (`reference.py`), the casework
(`casework.py`: tasks, calendar entries, notes, communications, relationships), the
links of activities to activity descriptions, expense categories and tasks, matter
stages and groups, custom field values, and last `account_balances`.

It draws from its own random stream, so the billing firm of a seed is the one it was
before any of this existed. A matter's or contact's `updated_at` is moved to the last
change that touched it here (a trust transaction, a value, its stage), never past now.
"""

from __future__ import annotations

import random
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING

from pipelines.sandbox import casework, reference, trust
from pipelines.sandbox.clock import DAY, day_of, day_text, etag, parse_instant, stamp_text
from pipelines.sandbox.custom_values import draw, value_record
from pipelines.sandbox.directory import Directory
from pipelines.sandbox.money import to_cents, to_number

if TYPE_CHECKING:
    from pipelines.sandbox.firm import Firm
    from pipelines.sandbox.settlement import Settler

RETAINER_SHARE = 0.12  # open USD matters holding a retainer without any trust use
EVERGREEN_SHARE = 0.4  # of the matters holding trust money
TASKS_PER_MATTER = 3.0  # mean, for a matter that has tasks
CALENDAR_PER_MATTER = 1.5
MATTER_NOTES, CONTACT_NOTES = 1.2, 0.3
COMMUNICATIONS_PER_MATTER = 2.0
RELATIONSHIPS_PER_MATTER = 0.6
LINKED_TIME_SHARE = 0.25  # time entries logged against a task of their matter


class WholeFirm:
    """Builds the whole-firm records of one generated firm."""

    def __init__(self, firm: Firm, directory: Directory, today: int) -> None:
        self.firm, self.dir, self.today = firm, directory, today
        self.rng = random.Random(f"whole:{firm.seed}")
        self.now = firm.now_instant()
        self.touched: dict[tuple[str, int], int] = {}  # (table, id) -> latest instant
        self.tables: dict[str, list[dict]] = {}
        self.tasks_by_matter: dict[int, list[dict]] = defaultdict(list)
        self.contact_created: list[int] = []  # creation instants in id (= creation) order
        self.matter_created: list[int] = []
        self.ends: dict[int, int] = {}  # matter id -> the last instant its casework may have
        self.numbers = 0  # custom field values numbered so far

    # ----- trust, before the settlement's rows get their ids --------------------------

    def fund_trust(self, settler: Settler) -> None:
        """Retainer deposits so that no matter's trust balance ever dips below zero; more
        retainers on open matters; evergreen minimums on a share of the holders."""
        account = self.dir.bank_accounts.get(("Trust", "USD"))
        if account is None:
            return
        matters = {m["id"]: m for m in self.dir.matters}
        moves: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for tx in settler.bank_transactions:
            if tx["_account"] is account:
                moves[tx["matter"]["id"]].append((tx["_created"], to_cents(tx["amount"])))
        for matter_id, txs in sorted(moves.items()):
            txs.sort()
            running, lowest = 0, 0
            for _, cents in txs:
                running += cents
                lowest = min(lowest, running)
            if lowest < 0:
                need = _round_up(-lowest, 10_000) + self._buffer()
                first = txs[0][0]
                opened = parse_instant(matters[matter_id]["created_at"])
                self._deposit(settler, account, matters[matter_id], need, self._between(opened, first))
        holders = set(moves)
        candidates = [m for m in self.dir.matters if m["status"] == "Open"
                      and m["currency"]["code"] == "USD" and m["id"] not in holders]  # fmt: skip
        retained = [m for m in candidates if self.rng.random() < RETAINER_SHARE]
        for matter in retained or candidates[:1]:  # every firm has an open matter on retainer
            opened = parse_instant(matter["created_at"])
            cents = self.rng.randrange(10, 101) * 10_000
            self._deposit(settler, account, matter, cents, self._between(opened, self.now - DAY))
        self._evergreen(settler, account, matters)

    def _buffer(self) -> int:
        return 0 if self.rng.random() < 0.4 else self.rng.randrange(5, 31) * 10_000

    def _between(self, low: int, high: int) -> int:
        return self.rng.randint(low + 60, high - 60) if high - low > 120 else (low + high) // 2

    def _deposit(self, settler: Settler, account: dict, matter: dict, cents: int, instant: int) -> None:
        settler.bank_transactions.append({
            "type": "BankTransaction", "bank_account_id": account["id"], "source": "Deposit",
            "confirmation": f"DEP-{self.rng.randrange(10**6, 10**7)}", "date": day_text(day_of(instant)),
            "amount": to_number(cents), "currency": account["currency"], "currency_id": account["currency_id"],
            "description": f"Retainer deposit: {matter['display_number']}", "exchange_rate": 1.0,
            "transaction_type": "Deposit", "funds_in": to_number(cents), "funds_out": 0.0,
            "clio_payments_transaction": False, "read_only_confirmation": False,
            "client": {"id": matter["client_id"]}, "matter": {"id": matter["id"]}, "bill": None,
            "allocation": None, "_account": account, "_created": instant, "_updated": instant,
        })  # fmt: skip

    def _evergreen(self, settler: Settler, account: dict, matters: dict[int, dict]) -> None:
        held: dict[int, int] = defaultdict(int)
        last: dict[int, int] = {}
        for tx in settler.bank_transactions:
            if tx["_account"] is account:
                held[tx["matter"]["id"]] += to_cents(tx["amount"])
                last[tx["matter"]["id"]] = max(last.get(tx["matter"]["id"], 0), tx["_created"])
        eligible = [m for m in sorted(held) if held[m] > 0 and matters[m]["status"] != "Closed"]
        chosen = [m for m in eligible if self.rng.random() < EVERGREEN_SHARE] or eligible[:1]
        short = True  # the first evergreen matter is below its minimum: every firm has one
        for matter_id in chosen:
            matter = matters[matter_id]
            cents = held[matter_id] + 100_000 if short else self.rng.randrange(2, 11) * 50_000
            short = False
            instant = self._between(last[matter_id], self.now - DAY)
            stamp = stamp_text(instant)
            matter["evergreen_retainer"] = {
                "id": matter_id, "etag": etag(self.firm.seed, "evergreen_retainers", matter_id, 0),
                "created_at": stamp, "updated_at": stamp, "minimum_threshold": to_number(cents),
            }  # fmt: skip
            self._touch("matters", matter_id, instant)
        for tx in settler.bank_transactions:
            if tx["_account"] is account:
                self._touch("matters", tx["matter"]["id"], tx["_created"])
                self._touch("contacts", tx["client"]["id"], tx["_created"])

    # ----- everything else, once bills are settled and matters closed ----------------------

    def build(self, activities: list[dict]) -> None:
        """Reference data, casework and the activities' links (before activities load)."""
        found = parse_instant(self.dir.users[0]["created_at"])
        self.tables = reference.build(
            self.rng, found, self.today, self.dir.users, self.dir.practice_areas, self.dir.clients
        )
        # creation instants in id (= creation) order, to bisect on
        self.contact_created = [parse_instant(c["created_at"]) for c in self.dir.contacts]
        self.matter_created = [parse_instant(m["created_at"]) for m in self.dir.matters]
        self.ends = {m["id"]: self._end(m) for m in self.dir.matters}
        self._tasks()
        self._link(activities)
        self._calendar()
        self._notes()
        self._communications()
        self._relationships()
        self._stages_and_groups()
        self._custom_values()

    def _end(self, matter: dict) -> int:
        """The last instant casework of `matter` can be created at."""
        if matter["status"] == "Closed":
            return parse_instant(matter["updated_at"])
        return self.now - 3600

    def _window(self, matter: dict) -> tuple[int, int]:
        start = self.matter_created[matter["id"] - 1]
        return start, max(start, self.ends[matter["id"]])

    def _tasks(self) -> None:
        rng, rows = self.rng, []
        users, types = self.dir.users, [t for t in self.tables["task_types"] if not t["deleted_at"]]
        forced = list(casework.TASK_STATUSES)  # the first open matters show every status
        for matter in self.dir.matters:
            if not matter["has_tasks"]:
                continue
            start, end = self._window(matter)
            count = 1 + int(rng.expovariate(1 / (TASKS_PER_MATTER - 1)))
            for index in range(count):
                created = start if index == 0 else rng.randint(start, end)
                status = self._status(matter, created, forced)
                to_client = rng.random() < 0.08 or not rows  # the first task: the client's
                contact = self._contact(matter) if to_client else None
                row = casework.task(rng, matter, users, types, day_of(created), status, contact)
                self._stamp(row, created)
                if status == "complete":
                    due = parse_instant(row["due_at"] + "T17:00:00-05:00") if row["due_at"] else created + 7 * DAY
                    done = min(max(created + 600, due - rng.randint(0, 10) * DAY), end)
                    row["completed_at"] = stamp_text(max(done, created))
                    row["_updated"] = max(done, created)
                rows.append(row)
        # a few tasks on no matter, in whichever statuses the matters left unseen
        for _ in range(max(2, len(self.dir.matters) // 50, len(forced))):
            created = rng.randint(self.now - 120 * DAY, self.now - 2 * DAY)
            status = forced.pop(0) if forced else rng.choice(("pending", "in_progress"))
            row = casework.task(rng, None, users, types, day_of(created), status)
            self._stamp(row, created)
            if status == "complete":
                row["_updated"] = created + DAY
                row["completed_at"] = stamp_text(row["_updated"])
            rows.append(row)
        self._number("tasks", rows)
        for row in rows:
            if row["matter"]:
                self.tasks_by_matter[row["matter"]["id"]].append(row)

    def _status(self, matter: dict, created: int, forced: list[str]) -> str:
        if matter["status"] == "Closed":
            return "complete"
        if forced:
            return forced.pop(0)
        if created < self.now - 120 * DAY and self.rng.random() < 0.8:
            return "complete"
        return self.rng.choices(casework.TASK_STATUSES, casework.OPEN_TASK_WEIGHTS)[0]

    def _contact(self, matter: dict) -> dict:
        return self.dir.contacts[matter["client_id"] - 1]

    def _link(self, activities: list[dict]) -> None:
        """Descriptions on time entries, categories on expenses, some time on tasks."""
        rng = self.rng
        descriptions = self.tables["activity_descriptions"]
        categories = self.tables["expense_categories"]
        for activity in activities:
            activity.setdefault("task", None)
            if activity["type"] == "TimeEntry":
                picked = rng.choice(descriptions) if rng.random() < 0.7 else None
                activity["activity_description"] = picked and {"id": picked["id"], "name": picked["name"]}
                activity["expense_category"] = None
                tasks = self.tasks_by_matter.get(activity["matter"]["id"])
                if tasks and rng.random() < LINKED_TIME_SHARE:
                    open_ = [t for t in tasks if t["_created"] <= activity["_created"]]
                    if open_:  # activities already have their ids
                        task = rng.choice(open_)
                        activity["task"] = {"id": task["id"]}
                        task["time_entries"].append({"id": activity["id"]})
                        task["_updated"] = max(task["_updated"], activity["_created"])
            else:
                picked = rng.choice(categories) if rng.random() < 0.8 else None
                activity["expense_category"] = picked and {"id": picked["id"], "name": picked["name"]}
                activity["activity_description"] = None

    def _calendar(self) -> None:
        rng, rows = self.rng, []
        users = self.dir.users
        for matter in self.dir.matters:
            start, end = self._window(matter)
            for _ in range(_count(rng, CALENDAR_PER_MATTER * (1.3 if matter["status"] == "Open" else 0.7))):
                created = rng.randint(start, end)
                owner = self._owner(matter) if rng.random() < 0.7 else rng.choice(users)
                day = day_of(created) + rng.randint(0, 45)
                row = casework.calendar_entry(rng, matter, owner, self._contact(matter), day)
                rows.append(self._stamp(row, created))
        self._number("calendar_entries", rows)

    def _owner(self, matter: dict) -> dict:
        return self.dir.users[matter["responsible_attorney"]["id"] - 1]

    def _notes(self) -> None:
        rng, rows = self.rng, []
        users = self.dir.users
        for matter in self.dir.matters:
            start, end = self._window(matter)
            for _ in range(_count(rng, MATTER_NOTES)):
                created = rng.randint(start, end)
                rows.append(self._stamp(casework.note(rng, "Matter", matter, rng.choice(users), day_of(created)), created))
        for contact in self.dir.clients:
            for _ in range(_count(rng, CONTACT_NOTES)):
                created = rng.randint(parse_instant(contact["created_at"]), self.now - 3600)
                rows.append(self._stamp(casework.note(rng, "Contact", contact, rng.choice(users), day_of(created)), created))
        self._number("notes", rows)

    def _communications(self) -> None:
        rng, rows = self.rng, []
        for matter in self.dir.matters:
            start, end = self._window(matter)
            for _ in range(_count(rng, COMMUNICATIONS_PER_MATTER)):
                created = rng.randint(start, end)
                row = casework.communication(rng, matter, self._owner(matter), self._contact(matter), created)
                rows.append(self._stamp(row, created))
        self._number("communications", rows)

    def _relationships(self) -> None:
        rng, rows = self.rng, []
        contacts = self.dir.contacts  # in id order, which is creation order
        for matter in self.dir.matters:
            start, end = self._window(matter)
            older = bisect_left(self.contact_created, start)
            for _ in range(_count(rng, RELATIONSHIPS_PER_MATTER) if older > 1 else 0):
                contact = contacts[rng.randrange(older)]
                if contact["id"] == matter["client_id"]:
                    continue
                rows.append(self._stamp(casework.relationship(rng, matter, contact), rng.randint(start, end)))
        self._number("relationships", rows)

    def _stages_and_groups(self) -> None:
        rng = self.rng
        stages: dict[str, list[dict]] = defaultdict(list)
        for stage in self.tables["matter_stages"]:
            stages[stage["practice_area_id"]].append(stage)
        teams = [g for g in self.tables["groups"] if g["type"] in ("AccountGroup", "TeamGroup")]
        for matter in self.dir.matters:
            group = teams[0] if rng.random() < 0.7 or len(teams) == 1 else rng.choice(teams[1:])
            matter["group"] = {"id": group["id"], "name": group["name"]}
            own = stages.get(str(matter["practice_area"]["id"]))
            if not own:
                continue
            stage = own[-1] if matter["status"] == "Closed" else rng.choice(own[:-1] or own)
            start, end = self._window(matter)
            moved = rng.randint(start, end)
            matter["matter_stage"] = {"id": stage["id"], "name": stage["name"]}
            matter["matter_stage_updated_at"] = stamp_text(moved)
            self._touch("matters", matter["id"], moved)

    def _custom_values(self) -> None:
        """Values on matters and client contacts; values of retired fields soft-deleted."""
        rng = self.rng
        retired = reference.retired_instant(self.today)
        self.numbers = 0
        parents = (("Matter", "matters", self.dir.matters), ("Contact", "contacts", self.dir.clients))
        for parent_type, table, records in parents:
            fields = [f for f in self.tables["custom_fields"] if f["parent_type"] == parent_type]
            unheld = {f["id"] for f in fields}
            for record in records:
                record["custom_field_values"] = []
                created = parse_instant(record["created_at"])
                for field in fields:
                    eligible = not field["deleted"] or created < retired
                    drawn = eligible and rng.random() < reference.VALUE_SHARE[field["name"]]
                    if drawn and self._add_value(field, record, created, retired, table):
                        unheld.discard(field["id"])
            # every field holds a value somewhere, so even a tiny firm shows every type
            for field in fields:
                for record in records if field["id"] in unheld else ():
                    created = parse_instant(record["created_at"])
                    if (not field["deleted"] or created < retired) and self._add_value(field, record, created, retired, table):
                        break
        self.firm.note_id("custom_field_values", self.numbers)

    def _add_value(self, field: dict, record: dict, created: int, retired: int, table: str) -> bool:
        picked = draw(self.rng, field, day_of(created), *self._targets(field, record, created))
        if picked is None:
            return False
        self.numbers += 1
        record["custom_field_values"].append(
            self._value_at(field, record, self.numbers, picked, created, retired, table)
        )
        return True

    def _targets(self, field: dict, record: dict, created: int) -> tuple[list[dict], list[dict]]:
        """Contacts and matters a value of `field` on `record` may name (created before it)."""
        rng, kind = self.rng, field["field_type"]
        if kind == "contact":
            contacts = self.dir.contacts
            older = bisect_left(self.contact_created, created)
            picks = [contacts[rng.randrange(older)] for _ in range(3)] if older else []
            own = record.get("client_id", record["id"])
            return [c for c in picks if c["id"] != own], []
        if kind == "matter":
            own = self.dir.matters_by_client.get(record.get("client_id"), [])
            older = [m for m in own if m["id"] != record["id"] and self.matter_created[m["id"] - 1] < created]
            if not older:
                count = bisect_left(self.matter_created, created)
                older = [self.dir.matters[rng.randrange(count)]] if count else []
            return [], [m for m in older if m["id"] != record["id"]]
        return [], []

    def _value_at(
        self, field: dict, record: dict, number: int, picked: tuple[str, dict | None], created: int,
        retired: int, table: str,
    ) -> dict:  # fmt: skip
        text, relation = picked
        value = value_record(self.firm, field, number, text, record["created_at"], relation)
        last = parse_instant(record["updated_at"])
        if field["deleted"]:  # soft-deleted when its field was retired
            updated = retired + number % 3600
            value["updated_at"] = stamp_text(updated)
            self._touch(table, record["id"], updated)
        elif last > created and self.rng.random() < 0.2:  # edited since
            value["updated_at"] = stamp_text(self.rng.randint(created, last))
        return value

    # ----- loading --------------------------------------------------------------------

    def load(self, load: Callable[[str, dict], None]) -> None:
        """Hand every table built here to the generator's loader (ids and instants set)."""
        for task in self.tables.get("tasks", ()):
            task["time_entries"].sort(key=lambda entry: entry["id"])
            task["time_entries_count"] = len(task["time_entries"])
        for table, rows in self.tables.items():
            for row in rows:
                load(table, row)

    def settle_directory(self) -> None:
        """Move matters' and contacts' `updated_at` to the last change made to them here."""
        for (table, record_id), instant in self.touched.items():
            records = self.dir.matters if table == "matters" else self.dir.contacts
            record = records[record_id - 1]
            if parse_instant(record["updated_at"]) < instant:
                record["updated_at"] = stamp_text(min(instant, self.now - 1))

    def finish(self) -> None:
        """After every table is loaded: the matters' and contacts' `account_balances`."""
        trust.fill(self.firm)

    # ----- helpers --------------------------------------------------------------------

    def _stamp(self, row: dict, created: int) -> dict:
        row["_created"] = row["_updated"] = created
        return row

    def _touch(self, table: str, record_id: int, instant: int) -> None:
        key = (table, record_id)
        self.touched[key] = max(self.touched.get(key, 0), instant)

    def _number(self, table: str, rows: list[dict]) -> None:
        rows.sort(key=lambda row: row["_created"])
        for index, row in enumerate(rows):
            row["id"] = index + 1
        self.tables[table] = rows


def _count(rng: random.Random, mean: float) -> int:
    """A whole number of things whose average is `mean` (Poisson-like, cheap)."""
    whole = int(mean)
    count = whole + (rng.random() < mean - whole)
    return count + (rng.random() < 0.2) - (count > 0 and rng.random() < 0.2)


def _round_up(cents: int, step: int) -> int:
    return -(-cents // step) * step



