"""The sandbox's law firm: every record Clio would hold, in API shape, plus its clock.

`Firm.tables[endpoint][id]` is the record exactly as Clio's API would return it with every
field asked for (spec field names; money as 2-decimal numbers, dates `YYYY-MM-DD`,
timestamps with the firm's `-05:00` offset, absent values `None`). Nested relations are
stored on the record (`client: {id, name}`, `matters: [{id, display_number}]`, ...).

Time is simulated. `now()` starts at a fixed instant (2026-11-20 17:00 -05:00) so reports
over a generated firm are deterministic, and only moves when the firm changes: every
change (`advance`, `edit`, `delete`, `delete_bill`) is stamped strictly after every
earlier change and after any `now()` read before it, so `updated_since=<a now() read>`
(strictly after) sees every later change. A server that plays Clio should send `now()` as
its `Date`, not the wall clock.

`outstanding_client_balances` and `billable_matters` are derived from the other tables
on read (`receivables.py`, `unbilled.py`); matters' and contacts' `account_balances`
follow their trust transactions (`trust.py`).

Money conventions the generator and the life engine follow (see `billing.py`):
an overpayment is a payment whose bank transaction (`funds_in`) is larger than the bill's
balance; its allocation is capped at the balance and the excess stays unallocated on the
bank transaction (the client's credit). A voided allocation keeps its record with
`voided_at` set, counts towards nothing, and its bank money is reversed by a `funds_out`
transaction. Bill state moves (`deleted`, `void`) are `updated` events: the record stays.
"""

from __future__ import annotations

import copy
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pipelines.sandbox import billing, receivables, trust, unbilled
from pipelines.sandbox.clock import etag, parse_instant, stamp_text, to_datetime
from pipelines.sandbox.shapes import (
    DERIVED,
    ENDPOINTS,
    FIELDS,
    NESTED,
    REFERENCES,
    complete,
    stamped,
)

if TYPE_CHECKING:
    from pipelines.sandbox.life import FirmLife

Listener = Callable[[str, str, dict], None]
Scale = Literal["tiny", "small", "large", "xlarge"]
CustomFieldEdits = Literal["touch", "silent"]

# Tables whose records hang off a bill and are looked up by it.
_BILL_CHILDREN = ("line_items", "allocations", "interest_charges", "trust_line_items")
# The harmless field `edit` changes when told to just touch a record.
_TOUCH_FIELD = {
    "bills": "memo", "contacts": "title", "matters": "location", "activities": "note",
    "users": "phone_number", "practice_areas": "code", "line_items": "note",
    "allocations": "description", "credit_memos": "description",
    "interest_charges": "description", "bank_accounts": "holder",
    "bank_transactions": "description", "trust_line_items": "note",
    "tasks": "description", "calendar_entries": "location", "notes": "detail",
    "communications": "body", "relationships": "description",
    "activity_descriptions": "xero_service_code", "expense_categories": "xero_expense_code",
}  # fmt: skip
# Records deleted outright (the rest are voided, soft-deleted or never deleted).
_DELETABLE = (
    "contacts", "activities", "matters", "practice_areas", "tasks", "calendar_entries",
    "notes", "communications", "relationships",
)  # fmt: skip
# Fields no edit may set: they follow from other records (`set_custom_field_value` and the
# trust transactions change them).
_DERIVED_FIELDS = {"custom_field_values", "account_balances", "time_entries", "time_entries_count"}
# Which derived endpoint goes stale when a record of a table changes.
_FEEDS = {
    "bills": DERIVED[:1], "allocations": DERIVED[:1], "contacts": DERIVED,
    "activities": DERIVED[1:], "matters": DERIVED[1:], "bank_transactions": DERIVED[1:],
}  # fmt: skip


class FirmError(Exception):
    """A request the firm cannot honour (the server maps it to Clio's error body)."""


class RecordNotFound(FirmError):
    """No live record with that id in that endpoint."""


class FirmRuleError(FirmError):
    """Clio's rules forbid the change (e.g. deleting a paid bill)."""


class Firm:
    """A seeded law firm whose records the sandbox serves and mutates."""

    START = parse_instant("2026-11-20T17:00:00-05:00")

    def __init__(self, seed: int = 0, now: int = START) -> None:
        self.seed = seed
        self.tables: dict[str, dict[int, dict]] = {endpoint: {} for endpoint in ENDPOINTS}
        self.lock = threading.RLock()  # held by every change; a server may hold it to read
        self._now = now
        self._changes = 0  # versions etags
        self._ordered: dict[str, list[dict] | None] = dict.fromkeys(ENDPOINTS)
        self._instants: dict[str, dict[int, tuple[int, int]]] = {e: {} for e in ENDPOINTS}
        self._by_bill: dict[str, dict[int, list[int]]] = {e: {} for e in _BILL_CHILDREN}
        self._listeners: list[Listener] = []
        self.day_hooks: list[Callable[[int], None]] = []  # called after each day of life
        self._tally: Counter[str] = Counter()
        self._stale = set(DERIVED)
        self._life: FirmLife | None = None
        # ids are never reused, even after a deletion; custom field values count apart
        self._max_ids = dict.fromkeys((*ENDPOINTS, "custom_field_values"), 0)
        # Whether editing a custom field value moves its parent's updated_at and etag
        # ("touch") or only the value's own ("silent"): Clio does not document it.
        self.custom_field_edits: CustomFieldEdits = "touch"

    # ----- construction ------------------------------------------------------------

    @classmethod
    def generate(cls, seed: int, scale: Scale = "tiny") -> Firm:
        """A plausible firm, identical for identical `seed` and `scale`."""
        from pipelines.sandbox.generator import generate

        return generate(cls(seed), scale)

    @classmethod
    def from_records(cls, records: dict[str, list[dict]], now: str) -> Firm:
        """A firm holding exactly `records` (API-shaped, hand-built), at simulated `now`.

        Missing spec fields become `None`; missing `etag`, `created_at`, `updated_at` are
        filled in, and matters' and contacts' `account_balances` from the trust
        transactions. Relations that point at a table present in `records` must point at
        an existing record (FirmRuleError otherwise).
        """
        firm = cls(0, parse_instant(now))
        for endpoint, rows in records.items():
            if endpoint not in FIELDS:  # a derived endpoint's rows are derived again on read
                raise FirmRuleError(f"unknown endpoint {endpoint!r} in the fixture")
            for row in rows:
                record = complete(endpoint, row)
                if stamped(endpoint):
                    record["created_at"] = record["created_at"] or now
                    record["updated_at"] = record["updated_at"] or record["created_at"]
                else:
                    record["updated_at"] = record["updated_at"] or now
                record["etag"] = record["etag"] or etag(0, endpoint, record["id"], 0)
                firm.load(endpoint, record)
        firm._check_references(records)
        trust.fill(firm, only_missing=True)
        numbers = (str(v.get("id", "")).rsplit("-", 1)[-1] for v in _values_of(firm))
        firm.note_id("custom_field_values", max((int(n) for n in numbers if n.isdigit()), default=0))
        return firm

    def load(self, endpoint: str, record: dict, instants: tuple[int, int] | None = None) -> None:
        """Store a complete record as it is, without stamping or notifying (bulk building).
        `instants`: its (created_at, updated_at) as epoch seconds, when the caller knows them."""
        table = self.tables[endpoint]
        if record["id"] in table:
            raise FirmRuleError(f"duplicate id {record['id']} in {endpoint}")
        table[record["id"]] = record
        self._max_ids[endpoint] = max(self._max_ids[endpoint], record["id"])
        self._index(endpoint, record, instants)
        self._ordered[endpoint] = None

    def _check_references(self, records: dict[str, list[dict]]) -> None:
        for endpoint in records:
            for record in self.tables[endpoint].values():
                for target_endpoint, target_id in references(endpoint, record):
                    if target_endpoint in records and target_id not in self.tables[target_endpoint]:
                        raise FirmRuleError(
                            f"{endpoint} {record['id']} points at {target_endpoint} "
                            f"{target_id}, which the fixture does not contain"
                        )

    # ----- reading -----------------------------------------------------------------

    def now(self) -> datetime:
        """The simulated instant (aware, firm offset); later changes are stamped after it."""
        return to_datetime(self._now)

    def now_instant(self) -> int:
        """`now()` as epoch seconds."""
        return self._now

    def records(self, endpoint: str) -> list[dict]:
        """Live records of `endpoint` in id order (cached until a record comes or goes)."""
        if endpoint in DERIVED:
            self._refresh(endpoint)
        ordered = self._ordered[endpoint]
        if ordered is None:
            table = self.tables[endpoint]
            ordered = self._ordered[endpoint] = [table[i] for i in sorted(table)]
        return ordered

    def get(self, endpoint: str, record_id: int) -> dict:
        """One live record; RecordNotFound if absent."""
        if endpoint in DERIVED:
            self._refresh(endpoint)
        try:
            return self.tables[endpoint][record_id]
        except KeyError:
            raise RecordNotFound(f"no {endpoint} record with id {record_id}") from None

    def changed_since(
        self, endpoint: str, since: datetime, field: Literal["updated_at", "created_at"] = "updated_at"
    ) -> list[dict]:
        """Records whose `field` is strictly after `since`, in id order (Clio's `*_since`)."""
        if endpoint in DERIVED:
            self._refresh(endpoint)
        threshold = since.timestamp()
        slot = 1 if field == "updated_at" else 0
        instants = self._instants[endpoint]
        return [r for r in self.records(endpoint) if instants[r["id"]][slot] > threshold]

    def created_since(self, endpoint: str, since: datetime) -> list[dict]:
        """Records created strictly after `since`, in id order."""
        return self.changed_since(endpoint, since, "created_at")

    def children(self, endpoint: str, bill_id: int) -> list[dict]:
        """Records of a bill-child table (line items, allocations, ...) that name `bill_id`."""
        table = self.tables[endpoint]
        return [table[i] for i in self._by_bill[endpoint].get(bill_id, ())]

    def outstanding_client_balances(self) -> list[dict]:
        """Per contact and currency, what its awaiting_payment revenue bills still owe."""
        return self.records("outstanding_client_balances")

    def counts(self) -> dict[str, int]:
        """Live records per endpoint."""
        for endpoint in DERIVED:
            self._refresh(endpoint)
        return {endpoint: len(table) for endpoint, table in self.tables.items()}

    # ----- changing ----------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        """Call `listener(endpoint, event, record)` after every change (record is a copy)."""
        self._listeners.append(listener)

    def advance(self, days: int = 1) -> dict[str, int]:
        """Live `days` simulated days of firm life; the number of changes per endpoint."""
        from pipelines.sandbox.life import FirmLife

        with self.lock:
            if self._life is None:
                self._life = FirmLife(self)
            self._tally.clear()
            self._life.advance(days)
            return dict(self._tally)

    def edit(self, endpoint: str, record_id: int, changes: dict | None = None) -> dict:
        """Change fields of a record (or, with no changes, touch a harmless one)."""
        with self.lock:
            record = self.get(endpoint, record_id)
            if changes is None:
                field = _TOUCH_FIELD.get(endpoint)
                if field is None:
                    raise FirmRuleError(f"{endpoint} records cannot be edited")
                changes = {field: f"Touched at change {self._changes + 1}"}
            unknown = set(changes) - set(FIELDS[endpoint]) - set(NESTED[endpoint])
            fixed = {"id", "etag", "created_at", "updated_at", *_DERIVED_FIELDS}
            if endpoint in DERIVED or unknown or fixed & set(changes):
                raise FirmRuleError(
                    f"cannot set {sorted(set(changes))} on {endpoint} (custom field values "
                    "change through set_custom_field_value, balances and counts follow "
                    "other records)"
                )
            record.update(copy.deepcopy(changes))
            self.touch(endpoint, record)
            return copy.deepcopy(record)

    def delete(self, endpoint: str, record_id: int) -> None:
        """Delete a record outright, as Clio does for anything but bills and money records."""
        with self.lock:
            record = self.get(endpoint, record_id)
            if endpoint not in _DELETABLE:
                raise FirmRuleError(f"{endpoint} records cannot be deleted outright")
            if endpoint == "activities" and record.get("bill"):
                raise FirmRuleError(f"activity {record_id} is on bill {record['bill']['id']}")
            if endpoint == "tasks" and record.get("time_entries_count"):
                raise FirmRuleError(f"task {record_id} has time entries")
            holder = self._first_reference(endpoint, record_id)
            if holder:
                raise FirmRuleError(f"{endpoint} {record_id} is still referenced by {holder}")
            self.remove(endpoint, record_id)
            if endpoint == "activities" and record.get("task"):
                self._unlink_time_entry(record)

    def delete_bill(self, bill_id: int) -> dict:
        """Clio's DELETE on a bill: draft or awaiting approval -> deleted; issued and
        unpaid without valid allocations -> void; anything else is refused."""
        with self.lock:
            bill = self.get("bills", bill_id)
            state = bill["state"]
            if state in ("draft", "awaiting_approval"):
                bill["state"] = "deleted"
            elif state == "awaiting_payment" and not any(
                not a["voided_at"] for a in self.children("allocations", bill_id)
            ):
                bill["state"] = "void"
            else:
                raise FirmRuleError(
                    f"bill {bill_id} is {state}; only drafts, bills awaiting approval and "
                    "unpaid bills without payments can be deleted"
                )
            self._release_activities(bill_id)
            billing.recompute(self, bill)
            self.touch("bills", bill)
            return copy.deepcopy(bill)

    def _unlink_time_entry(self, activity: dict) -> None:
        """A deleted time entry leaves its task's `time_entries` (the task changes)."""
        task = self.tables["tasks"].get(activity["task"]["id"])
        if task is None:
            return
        task["time_entries"] = [t for t in task["time_entries"] or () if t["id"] != activity["id"]]
        task["time_entries_count"] = len(task["time_entries"])
        self.touch("tasks", task)

    def custom_field_values_changed(self, endpoint: str, record: dict) -> None:
        """After a value of `record` changed: touch it, or (silent) only tell the listeners,
        as the `custom_field_edits` option says."""
        if self.custom_field_edits == "touch":
            self.touch(endpoint, record)
        else:
            self._announce(endpoint, "custom_field_values", record)

    def _release_activities(self, bill_id: int) -> None:
        """Activities of a deleted or voided bill become unbilled again (Clio frees them)."""
        activities = self.tables["activities"]
        for item in self.children("line_items", bill_id):
            activity = activities.get((item.get("activity") or {}).get("id") or 0)
            if activity and (activity.get("bill") or {}).get("id") == bill_id:
                activity.update(bill=None, billed=False, on_bill=False)
                self.touch("activities", activity)

    # ----- primitives the generator and the life engine build on -------------------

    def tick(self, at_least: int | None = None) -> int:
        """The instant of the next change: strictly after every earlier one and `now()`."""
        self._now = max(self._now + 1, at_least or 0)
        return self._now

    def next_instant(self, at: int | None = None) -> int:
        """The instant `tick(at)` would give, without taking it (to stamp a part of a
        record before the record itself is created or touched at `at`)."""
        return max(self._now + 1, at or 0)

    def note_id(self, endpoint: str, highest: int) -> None:
        """Record that ids up to `highest` are taken (built in bulk, outside `next_id`)."""
        self._max_ids[endpoint] = max(self._max_ids[endpoint], highest)

    def next_id(self, endpoint: str) -> int:
        """An id above every id the endpoint has used."""
        self._max_ids[endpoint] += 1
        return self._max_ids[endpoint]

    def create(self, endpoint: str, record: dict, at: int | None = None) -> dict:
        """Store a new record (id assigned if missing), stamped now, and announce it."""
        record = complete(endpoint, record)
        if record["id"] is None:
            record["id"] = self.next_id(endpoint)
        stamp = self.tick(at)
        record["updated_at"] = stamp_text(stamp)
        if stamped(endpoint):
            record["created_at"] = record["updated_at"]
        record["etag"] = self._next_etag(endpoint, record["id"])
        self.load(endpoint, record, (stamp, stamp))
        self._announce(endpoint, "created", record)
        return record

    def touch(self, endpoint: str, record: dict, at: int | None = None) -> None:
        """Stamp a changed record with a new `updated_at` and `etag`, and announce it."""
        record["updated_at"] = stamp_text(self.tick(at))
        record["etag"] = self._next_etag(endpoint, record["id"])
        self._index(endpoint, record)
        self._announce(endpoint, "updated", record)

    def remove(self, endpoint: str, record_id: int) -> None:
        """Delete a record outright and announce it."""
        record = self.tables[endpoint].pop(record_id)
        del self._instants[endpoint][record_id]
        bill_id = (record.get("bill") or {}).get("id")
        if endpoint in self._by_bill and bill_id in self._by_bill[endpoint]:
            self._by_bill[endpoint][bill_id].remove(record_id)
        self._ordered[endpoint] = None
        self._stale.update(_FEEDS.get(endpoint, ()))
        self.tick()
        self._announce(endpoint, "deleted", record)

    def new_version(self) -> int:
        """A number no earlier change used (versions etags, of values too)."""
        self._changes += 1
        return self._changes

    def _next_etag(self, endpoint: str, record_id: int) -> str:
        return etag(self.seed, endpoint, record_id, self.new_version())

    def _index(self, endpoint: str, record: dict, instants: tuple[int, int] | None = None) -> None:
        previous = self._instants[endpoint].get(record["id"])
        if instants is None:
            updated = parse_instant(record["updated_at"])
            created = record.get("created_at")
            # groups carry no created_at: they keep the instant they were first stored at
            instants = (parse_instant(created) if created else (previous or (updated,))[0], updated)
        self._instants[endpoint][record["id"]] = instants
        if endpoint in self._by_bill and previous is None and record.get("bill"):
            self._by_bill[endpoint].setdefault(record["bill"]["id"], []).append(record["id"])
        feeds = _FEEDS.get(endpoint)
        if feeds:
            self._stale.update(feeds)

    def _announce(self, endpoint: str, event: str, record: dict) -> None:
        self._tally[endpoint] += 1
        for listener in self._listeners:
            listener(endpoint, event, copy.deepcopy(record))

    def _first_reference(self, endpoint: str, record_id: int) -> str | None:
        """`'<endpoint> <id>'` of some record that points at the given one, if any."""
        holder = self._first_pointer(endpoint, record_id)
        if holder is None and endpoint in ("contacts", "matters"):  # a custom field's value
            relation = endpoint[:-1]
            for parent in ("matters", "contacts"):
                for record in self.tables[parent].values():
                    for value in record.get("custom_field_values") or ():
                        if (value.get(relation) or {}).get("id") == record_id:
                            return f"{parent} {record['id']} (custom field value {value['id']})"
        return holder

    def _first_pointer(self, endpoint: str, record_id: int) -> str | None:
        for other, relations in _POINTERS[endpoint].items():
            for record in self.tables[other].values():
                for relation in relations:
                    value = record.get(relation)
                    if not value:
                        continue
                    if isinstance(value, int):
                        found = value == record_id
                    else:
                        found = any(item.get("id") == record_id for item in (value if isinstance(value, list) else (value,)))
                    if found:
                        return f"{other} {record['id']}"
        return None

    def _refresh(self, endpoint: str) -> None:
        """Derive `endpoint` again if a record it follows changed since it was derived."""
        if endpoint not in self._stale:
            return
        self._stale.discard(endpoint)
        if endpoint == "outstanding_client_balances":
            rows = receivables.outstanding_client_balances(self)
            instants = {
                row["id"]: (parse_instant(row["created_at"]), parse_instant(row["updated_at"]))
                for row in rows
            }
        else:  # billable_matters: no stamps (and no updated_since) at Clio
            rows = unbilled.billable_matters(self)
            instants = {row["id"]: (self._now, self._now) for row in rows}
        self.tables[endpoint] = {row["id"]: row for row in rows}
        self._instants[endpoint] = instants
        self._ordered[endpoint] = None


def _pointers() -> dict[str, dict[str, tuple[str, ...]]]:
    """Per endpoint: which tables can point at its records, through which fields."""
    pointers: dict[str, dict[str, list[str]]] = {endpoint: {} for endpoint in ENDPOINTS}
    for other, relations in NESTED.items():
        for relation in relations:
            if relation in REFERENCES and other not in DERIVED:
                pointers[REFERENCES[relation]].setdefault(other, []).append(relation)
    pointers["contacts"].setdefault("matters", []).append("client_id")
    pointers["bank_accounts"].setdefault("bank_transactions", []).append("bank_account_id")
    return {e: {o: tuple(r) for o, r in tables.items()} for e, tables in pointers.items()}


_POINTERS = _pointers()


def _values_of(firm: Firm) -> Iterable[dict]:
    for parent in ("matters", "contacts"):
        for record in firm.tables[parent].values():
            yield from record.get("custom_field_values") or ()


def references(endpoint: str, record: dict) -> Iterable[tuple[str, int]]:
    """`(endpoint, id)` of every served record this record's relations point at."""
    for relation in NESTED[endpoint]:
        target = REFERENCES.get(relation)
        value = record.get(relation)
        if target is None or not value:
            continue
        for item in value if isinstance(value, list) else (value,):
            if item.get("id") is not None:
                yield target, item["id"]
    if endpoint == "matters" and record.get("client_id") is not None:
        yield "contacts", record["client_id"]
    if endpoint == "bank_transactions" and record.get("bank_account_id") is not None:
        yield "bank_accounts", record["bank_account_id"]
