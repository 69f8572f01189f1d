"""Grow's records in the sandbox: tables, ids, stamps, and the links to the Manage firm.

Records are stored in Grow's API shape with a few differences the renderer (`render.py`)
irons out: `created_at`/`updated_at` are epoch seconds (rendered as `Z` or with the
firm's offset, an option), a matter names its contact by `client_id`, a lead its source,
matter type and location by id, and keys starting with `_` are the sandbox's own
(`_custom`: custom field values, `_parent`: a note's contact or matter, `_submitted_by`:
the app that posted a lead).

Time is the Manage firm's clock: once seeded (`live`), every change is stamped through
`Firm.tick`, strictly after every earlier change of either product and after any `now()`
read, so `updated_since` built from a response's `Date` sees every later change.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable

from pipelines.sandbox.firm import Firm, RecordNotFound

TABLES = (
    "users", "locations", "matter_types", "sources", "inbox_leads", "contacts", "matters",
    "contact_notes", "matter_notes",
)  # fmt: skip
NOTE_PARENT = {"contact_notes": "contacts", "matter_notes": "matters"}
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid(rng: random.Random, instant: int) -> str:
    """A ULID-shaped `global_id`: 10 characters of time, 16 of randomness."""
    millis = instant * 1000
    head = "".join(_CROCKFORD[(millis >> (5 * i)) & 31] for i in reversed(range(10)))
    return head + "".join(rng.choice(_CROCKFORD) for _ in range(16))


class GrowWorld:
    """Every Grow record of the sandbox's firm, and the primitives that change them."""

    def __init__(self, firm: Firm) -> None:
        self.firm = firm
        self.lock = firm.lock
        self.tables: dict[str, dict[int, dict]] = {table: {} for table in TABLES}
        self.custom_fields: dict[int, dict] = {}  # definitions (served only inside values)
        self.account = {"id": 1, "firm_name": ""}
        self.live = False  # False while seeding history: stamps are given, not ticked
        self.tally: Counter[str] = Counter()
        self.by_clio_contact: dict[int, int] = {}  # Manage contact id -> Grow contact id
        self.by_clio_matter: dict[int, int] = {}  # Manage matter id -> Grow matter id
        self._max_ids: dict[str, int] = dict.fromkeys((*TABLES, "custom_field_values"), 0)
        self._ordered: dict[str, list[dict] | None] = dict.fromkeys(TABLES)
        self._matters_by_contact: dict[int, dict[int, None]] = {}

    # ----- reading ---------------------------------------------------------------

    def records(self, table: str) -> list[dict]:
        """Records of `table` in id order (cached until one comes or goes)."""
        ordered = self._ordered[table]
        if ordered is None:
            rows = self.tables[table]
            ordered = self._ordered[table] = [rows[i] for i in sorted(rows)]
        return ordered

    def get(self, table: str, record_id: int) -> dict:
        try:
            return self.tables[table][record_id]
        except KeyError:
            raise RecordNotFound(f"no Grow {table} record with id {record_id}") from None

    def matters_of(self, contact_id: int) -> list[dict]:
        """The contact's matters in id order."""
        matters = self.tables["matters"]
        return [matters[i] for i in sorted(self._matters_by_contact.get(contact_id, ()))]

    def notes_of(self, table: str, parent_id: int) -> list[dict]:
        return [n for n in self.records(table) if n["_parent"] == parent_id]

    def counts(self) -> dict[str, int]:
        return {table: len(rows) for table, rows in self.tables.items()}

    # ----- changing ----------------------------------------------------------------

    def stamp(self, at: int | None, after: int = 0) -> int:
        """The instant of a change: the firm's next tick once live, else `at` (kept after
        `after`, the record's previous stamp)."""
        if self.live:
            return self.firm.tick(at)
        if at is None:
            raise ValueError("a change while seeding needs its instant")
        return max(at, after + 1)

    def next_id(self, table: str) -> int:
        self._max_ids[table] += 1
        return self._max_ids[table]

    def create(self, table: str, record: dict, at: int | None) -> dict:
        """Store a new record (id assigned), stamped created and updated at once."""
        record["id"] = self.next_id(table)
        record["created_at"] = record["updated_at"] = self.stamp(at)
        self.tables[table][record["id"]] = record
        self._ordered[table] = None
        if table == "matters":
            self._matters_by_contact.setdefault(record["client_id"], {})[record["id"]] = None
        self.tally[table] += 1
        return record

    def touch(self, table: str, record: dict, at: int | None = None) -> None:
        """Stamp a changed record with a new `updated_at`."""
        record["updated_at"] = self.stamp(at, record["updated_at"])
        self.tally[table] += 1

    def remove(self, table: str, record_id: int) -> dict:
        """Delete a record outright (Grow has no tombstones: it just stops being listed)."""
        record = self.tables[table].pop(record_id)
        self._ordered[table] = None
        if table == "matters":
            self._matters_by_contact.get(record["client_id"], {}).pop(record_id, None)
        if self.live:
            self.firm.tick()
        self.tally[table] += 1
        return record

    def delete(self, table: str, record_id: int, at: int | None = None) -> None:
        """Delete a record and what hangs off it: a matter takes its notes and the lead it
        came from; a contact its notes and its matters. `at`: when, while seeding."""
        with self.lock:
            record = self.get(table, record_id)
            if table == "contacts":
                for matter in self.matters_of(record_id):
                    self.delete("matters", matter["id"], at)
            if table in ("contacts", "matters"):
                notes = "contact_notes" if table == "contacts" else "matter_notes"
                for note in self.notes_of(notes, record_id):
                    self.remove(notes, note["id"])
            if table == "matters":
                self._forget_matter(record, at)
            if table == "contacts" and record.get("clio_id") is not None:
                self.by_clio_contact.pop(record["clio_id"], None)
            self.remove(table, record_id)

    def _forget_matter(self, matter: dict, at: int | None) -> None:
        if matter.get("clio_id") is not None:
            self.by_clio_matter.pop(matter["clio_id"], None)
        lead_id = matter.get("inbox_lead_id")
        if lead_id in self.tables["inbox_leads"]:
            self.remove("inbox_leads", lead_id)
        contact = self.tables["contacts"].get(matter["client_id"])
        if contact is not None:
            self.refresh_contact_status(contact, exclude=matter["id"], at=at)

    def refresh_contact_status(self, contact: dict, exclude: int | None = None,
                               at: int | None = None) -> None:
        """Recompute a contact's status from its matters (its `matters` list changed too)."""
        categories = {m["status_category"] for m in self.matters_of(contact["id"])
                      if m["id"] != exclude}
        status = ("Hired" if "hired" in categories else "Intake" if "intake" in categories
                  else "Did Not Hire" if "declined" in categories else "Unassigned")
        contact["status"] = status
        self.touch("contacts", contact, at)

    def touch_all(self, table: str, records: Iterable[dict], at: int | None = None) -> None:
        for record in records:
            self.touch(table, record, at)

    def take_tally(self) -> dict[str, int]:
        """Changes per table since the last call (for the control API's `advance`)."""
        counts = {f"grow.{table}": count for table, count in self.tally.items() if count}
        self.tally.clear()
        return counts
