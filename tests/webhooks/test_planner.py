"""The planner's rules, and a property: any delivery order converges to Clio's state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.clio.endpoints import BY_WEBHOOK_MODEL
from pipelines.webhooks.changes import Change, epoch_us
from pipelines.webhooks.planner import Version, children_of, plan, resolve

FULL = {name: None for name in BY_WEBHOOK_MODEL["matter"].columns} | {
    "client": None, "practice_area": None, "responsible_attorney": None,
    "originating_attorney": None, "responsible_staff": None,
}


def change(seq: int, event: str, ts: int | None, etag: str, record_id: int = 1,
           table: str = "matters", complete: bool = True) -> Change:
    data = {**FULL, "id": record_id, "etag": etag, "updated_at": _iso(ts)} if complete else {
        "id": record_id, "etag": etag}
    return Change(seq=seq, webhook_id=1, model="matter", table=table, record_id=record_id,
                  event=event, data=data, etag=etag, updated_at=ts, received_at=0.0,
                  complete=complete)


class TestPlan:
    def test_the_newest_of_several_updates_is_upserted(self):
        p = plan([change(1, "updated", 20, "b"), change(2, "updated", 10, "a")], {}, set())
        assert p.upserts["matters"][1]["etag"] == "b"
        assert p.outcomes == {1: "upserted", 2: "superseded"}

    def test_an_update_older_than_the_stored_row_is_stale(self):
        p = plan([change(1, "updated", 10, "a")], {("matters", 1): Version(20, "b")}, set())
        assert not p.upserts["matters"] and p.outcomes == {1: "stale"}

    def test_the_same_version_again_is_unchanged(self):
        p = plan([change(1, "updated", 20, "b")], {("matters", 1): Version(20, "b")}, set())
        assert p.outcomes == {1: "unchanged"} and not p.fetches

    def test_a_tie_with_another_etag_is_fetched(self):
        p = plan([change(1, "updated", 20, "c")], {("matters", 1): Version(20, "b")}, set())
        assert p.fetches == {"matters": {1}}
        resolve(p, {"matters": {1: {"id": 1, "etag": "c", "updated_at":
                                    "1970-01-01T00:00:00.000020+00:00"}}},
                {("matters", 1): Version(20, "b")})
        assert p.upserts["matters"][1]["etag"] == "c" and p.outcomes == {1: "fetched"}

    def test_two_events_tied_in_one_batch_are_fetched(self):
        p = plan([change(1, "updated", 20, "b"), change(2, "updated", 20, "c")], {}, set())
        assert p.fetches == {"matters": {1}}

    def test_an_incomplete_delivery_is_fetched(self):
        p = plan([change(1, "updated", 20, "b", complete=False)], {}, set())
        assert p.fetches == {"matters": {1}}

    def test_a_delete_wins_and_an_event_after_it_is_ignored(self):
        p = plan([change(1, "updated", 30, "z"), change(2, "deleted", None, "y")], {}, set())
        assert set(p.deletes["matters"]) == {1} and p.outcomes[2] == "deleted"
        p = plan([change(3, "updated", 40, "late")], {}, {("matters", 1)})
        assert p.outcomes == {3: "tombstoned"} and not p.upserts["matters"]

    def test_a_deleted_bill_still_listed_by_clio_is_upserted_not_removed(self):
        bill = change(1, "deleted", None, "x", table="bills")
        p = plan([bill], {}, set())
        assert p.fetches == {"bills": {1}}
        resolve(p, {"bills": {1: {"id": 1, "etag": "x", "state": "deleted",
                                  "updated_at": "2026-01-01T00:00:00Z"}}}, {})
        assert p.upserts["bills"][1]["state"] == "deleted" and not p.deletes

    def test_a_deleted_bill_clio_no_longer_lists_is_removed(self):
        p = plan([change(1, "deleted", None, "x", table="bills")], {}, set())
        resolve(p, {"bills": {}}, {})
        assert set(p.deletes["bills"]) == {1}


def value(value_id: str, text: str, field_id: int = 41) -> dict:
    return {"id": value_id, "field_name": "Source", "field_type": "text_line", "value": text,
            "soft_deleted": False, "created_at": "2026-01-02T10:00:00Z",
            "updated_at": "2026-01-02T10:00:00Z", "custom_field": {"id": field_id},
            "picklist_option": None}


def with_values(c: Change, *values: dict) -> Change:
    data = {**c.data, "custom_field_values": list(values), "account_balances": []}
    return Change(**{**c.__dict__, "data": data})


class TestCustomFieldValues:
    """Editing a custom field value may leave the matter's `updated_at` and `etag` as they
    were (#9.3): the webhook watches the values, so the delivery carries the new ones."""

    def stored(self, *values: dict) -> dict:
        record = {"id": 1, "custom_field_values": list(values)}
        return {("matters", 1): Version(20, "b", children_of("matters", record))}

    def test_the_stored_version_with_other_values_is_fetched_and_written(self):
        stored = self.stored(value("41-1", "Referral"))
        p = plan([with_values(change(1, "updated", 20, "b"), value("41-1", "Web"))], stored, set())
        assert p.fetches == {"matters": {1}}
        current = with_values(change(1, "updated", 20, "b"), value("41-1", "Web")).data
        resolve(p, {"matters": {1: current}}, stored)
        assert p.upserts["matters"][1] is current and p.outcomes == {1: "fetched"}

    def test_the_stored_version_with_the_same_values_is_unchanged(self):
        stored = self.stored(value("41-1", "Referral"))
        p = plan([with_values(change(1, "updated", 20, "b"), value("41-1", "Referral"))],
                 stored, set())
        assert p.outcomes == {1: "unchanged"} and not p.fetches

    def test_a_fetched_record_with_the_stored_values_is_not_written(self):
        stored = self.stored(value("41-1", "Referral"))
        p = plan([with_values(change(1, "updated", 20, "b"), value("41-1", "Web"))], stored, set())
        same = with_values(change(1, "updated", 20, "b"), value("41-1", "Referral")).data
        resolve(p, {"matters": {1: same}}, stored)  # the delivery was older than the store
        assert not p.upserts["matters"] and p.outcomes == {1: "unchanged"}

    def test_an_older_version_with_other_values_stays_stale(self):
        stored = self.stored(value("41-1", "Referral"))
        p = plan([with_values(change(1, "updated", 10, "a"), value("41-1", "Web"))], stored, set())
        assert p.outcomes == {1: "stale"} and not p.fetches


class TestTextIds:
    def test_calendar_entries_keep_string_ids_through_newest_wins_and_deletes(self):
        def entry(seq: int, event: str, ts: int | None, etag: str) -> Change:
            data = {"id": "ce-7", "etag": etag, "updated_at": _iso(ts)}
            return Change(seq=seq, webhook_id=2, model="calendar_entry", table="calendar_entries",
                          record_id="ce-7", event=event, data=data, etag=etag, updated_at=ts,
                          received_at=0.0, complete=True)

        p = plan([entry(1, "updated", 20, "b"), entry(2, "updated", 10, "a")],
                 {("calendar_entries", "ce-7"): Version(15, "x")}, set())
        assert p.upserts["calendar_entries"]["ce-7"]["etag"] == "b"
        p = plan([entry(3, "deleted", None, "c")], {}, set())
        assert set(p.deletes["calendar_entries"]) == {"ce-7"}  # no state keeps it listed
        p = plan([entry(4, "updated", 40, "late")], {}, {("calendar_entries", "ce-7")})
        assert p.outcomes == {4: "tombstoned"}


# Property: Clio produces versions 1..n of a record (then maybe deletes it); the webhook
# delivers every event, duplicated and shuffled, in batches of any size; a batch's plan is
# applied to a dict standing in for the warehouse. The result is Clio's final state.

@st.composite
def histories(draw):
    n = draw(st.integers(1, 5))
    times = sorted(draw(st.lists(st.integers(1, 6), min_size=n, max_size=n)))
    events = [("created" if i == 0 else "updated", times[i], f"e{i}") for i in range(n)]
    deleted = draw(st.booleans())
    if deleted:
        events.append(("deleted", None, f"e{n}"))
    copies = draw(st.lists(st.integers(0, len(events) - 1), max_size=4))
    deliveries = events + [events[i] for i in copies]
    order = draw(st.permutations(range(len(deliveries))))
    cuts = draw(st.lists(st.integers(1, len(deliveries)), max_size=3))
    return events, [deliveries[i] for i in order], sorted(set(cuts)), deleted


@settings(max_examples=300, deadline=None)
@given(histories())
def test_any_delivery_order_converges_to_the_final_version(history):
    events, deliveries, cuts, deleted = history
    final = None if deleted else events[-1]
    rows: dict[int, tuple[int, str]] = {}
    tombstones: set = set()
    bounds = [0, *cuts, len(deliveries)]
    seq = 0
    for start, end in pairwise(bounds):
        batch = []
        for event, ts, etag in deliveries[start:end]:
            seq += 1
            batch.append(change(seq, event, ts, etag))
        stored = {("matters", 1): Version(*rows[1])} if 1 in rows else {}
        p = plan(batch, stored, tombstones)
        truth = {} if final is None else {1: {"id": 1, "etag": final[2], "updated_at":
                                             _iso(final[1])}}
        resolve(p, {"matters": truth}, stored)
        for rid, record in p.upserts["matters"].items():
            rows[rid] = (_us(record), record["etag"])
        for rid in p.deletes["matters"]:
            rows.pop(rid, None)
            tombstones.add(("matters", rid))
    if final is None:
        assert rows == {}
    else:
        assert rows == {1: (final[1], final[2])}


def _iso(us: int | None) -> str | None:
    if us is None:
        return None
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)).isoformat()


def _us(record: dict) -> int:
    return epoch_us(record["updated_at"])
