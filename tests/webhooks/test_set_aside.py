"""Authentic (validly signed) deliveries that cannot be applied are set aside, with why.

They are kept for audit, never retried, never block the queue, and never make the
receiver answer 500; the rest of their batch is applied.
"""

from __future__ import annotations

import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from world import World

from pipelines.webhooks import inbox, registry, store
from pipelines.webhooks.signature import SIGNATURE_HEADER, sign

SECRET = "s3cr3t-for-tests"
BILL = {"id": 42, "etag": '"abc"', "updated_at": "2026-11-20T09:15:02-05:00", "total": 10.0}
STAMP = "2026-11-20T09:15:02-05:00"


def set_aside_rows(inbox_file: Path) -> list[dict]:
    conn = store.connect(inbox_file)
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM set_aside ORDER BY id")]
    finally:
        conn.close()


class TestReceiver:
    @pytest.mark.parametrize("record_id, why", [
        (10**30, "out of BIGINT's range"), (2**63, "out of BIGINT's range"),
        (-(2**63) - 1, "out of BIGINT's range"), ("abc", "not an integer"),
        ("42", "not an integer"), (4.5, "not an integer"), (True, "not an integer"),
        (None, "not an integer"),
    ])
    def test_an_id_no_table_can_hold_is_set_aside_with_a_200(self, receiver, kit, record_id,
                                                              why):
        token = kit.register(7, "bill", SECRET)
        body = kit.body(7, "updated", {**BILL, "id": record_id})
        resp = kit.post_signed(receiver.url(token), body, SECRET)
        assert resp.status_code == 200
        assert kit.rows() == []  # never queued
        (row,) = set_aside_rows(kit.inbox_file)
        assert (row["seq"], row["webhook_id"], row["model"], row["event"], row["body"]) == (
            None, 7, "bill", "updated", body)
        assert why in row["reason"] and "data.id" in row["reason"]

    @pytest.mark.parametrize("data, meta, why", [
        ({**BILL, "etag": {"not": "a string"}}, {}, "etag"),
        (BILL, {"event": ["updated"]}, "meta.event"),
    ])
    def test_other_fields_the_inbox_needs_are_checked_too(self, receiver, kit, data, meta, why):
        token = kit.register(7, "bill", SECRET)
        body = json.dumps({"data": data, "meta": {"event": "updated", "webhook_id": 7,
                                                  **meta}}).encode()
        assert kit.post_signed(receiver.url(token), body, SECRET).status_code == 200
        assert kit.rows() == []
        assert why in set_aside_rows(kit.inbox_file)[0]["reason"]

    @pytest.mark.parametrize("record_id", [2**63 - 1, -(2**63), 0, -5])
    def test_an_id_a_bigint_holds_is_queued_as_the_sync_would_store_it(self, receiver, kit,
                                                                        record_id):
        token = kit.register(7, "bill", SECRET)
        body = kit.body(7, "updated", {**BILL, "id": record_id})
        assert kit.post_signed(receiver.url(token), body, SECRET).status_code == 200
        assert [r["record_id"] for r in kit.rows()] == [record_id]
        assert set_aside_rows(kit.inbox_file) == []

    def test_malformed_deliveries_among_good_ones_fail_none_of_them(self, receiver, kit):
        """Deliveries arriving together share a transaction: a bad one must not sink it."""
        token = kit.register(7, "bill", SECRET)
        good = [kit.body(7, "updated", {**BILL, "id": n}) for n in range(1, 41)]
        bad = [kit.body(7, "updated", {**BILL, "id": 10**30 + n}) for n in range(40)]
        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(lambda b: kit.post_signed(receiver.url(token), b, SECRET),
                                    [b for pair in zip(good, bad, strict=True) for b in pair]))
        assert [r.status_code for r in answers] == [200] * 80
        assert sorted(r["record_id"] for r in kit.rows()) == list(range(1, 41))
        assert len(set_aside_rows(kit.inbox_file)) == 40

    def test_a_body_nested_too_deep_to_parse_is_a_400_not_a_500(self, receiver, kit):
        token = kit.register(7, "bill", SECRET)
        body = b'{"data": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
        assert kit.post_signed(receiver.url(token), body, SECRET).status_code == 400
        assert kit.rows() == []

    def test_health_counts_what_was_set_aside(self, receiver, kit):
        token = kit.register(7, "bill", SECRET)
        kit.post_signed(receiver.url(token), kit.body(7, "updated", {**BILL, "id": 2**64}),
                        SECRET)
        health = httpx.get(f"{receiver.base_url}/healthz").json()
        assert health == {"status": "ok", "pending": 0, "set_aside": 1}


def test_typing_finds_each_refused_record_among_many_and_names_its_field():
    from pipelines.clio.endpoints import BY_TABLE
    from pipelines.webhooks.typecheck import typing_problems

    good = {"etag": '"e"', "updated_at": STAMP, "total": 12.5, "issued_at": "2026-11-01",
            "client": {"id": 3, "name": "A"}, "matters": [{"id": 1, "display_number": "x"}]}
    records = {n: {**good, "id": n} for n in range(1, 201)}
    records[17] = {**good, "id": 17, "issued_at": "2026-13-45"}
    records[150] = {**good, "id": 150, "client": {"id": 2**64}}
    records[151] = {**good, "id": 151, "matters": [7]}
    problems = typing_problems(BY_TABLE["bills"], records)
    assert sorted(problems) == [17, 150, 151]
    assert problems[17].startswith('field issued_at "2026-13-45" cannot be typed as date')
    assert problems[150].startswith("field client ")
    assert problems[151] == "field matters [7] is not a list of objects"
    assert typing_problems(BY_TABLE["bills"], {1: {**good, "id": 1}}) == {}


def test_a_custom_field_value_whose_field_is_not_an_object_is_refused():
    from pipelines.clio.endpoints import BY_TABLE
    from pipelines.webhooks.typecheck import typing_problems

    value = {"id": "numeric-1", "value": "5", "custom_field": {"id": 2}}
    good = {"id": 1, "etag": '"e"', "updated_at": STAMP, "custom_field_values": [value]}
    bad = {**good, "id": 2, "custom_field_values": [{**value, "custom_field": 2}]}
    problems = typing_problems(BY_TABLE["matters"], {1: good, 2: bad})
    assert list(problems) == [2]
    assert problems[2].startswith("field custom_field_values[].custom_field 2 is not an object")


# The inbox schema before set-aside events existed (an inbox file users already have).
OLD_SCHEMA = """
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, received_at REAL NOT NULL,
    webhook_id INTEGER NOT NULL, model TEXT NOT NULL, record_id INTEGER NOT NULL,
    event TEXT NOT NULL, etag TEXT, body BLOB NOT NULL, duplicate_of INTEGER,
    state TEXT NOT NULL, claimed_at REAL, applied_at REAL, outcome TEXT
);
CREATE INDEX events_by_state ON events (state, seq);
CREATE INDEX events_by_received ON events (received_at);
CREATE UNIQUE INDEX events_dedup ON events (webhook_id, model, record_id, event,
    coalesce(etag, '')) WHERE duplicate_of IS NULL;
CREATE TABLE webhooks (
    token TEXT PRIMARY KEY, webhook_id INTEGER UNIQUE, model TEXT NOT NULL, url TEXT NOT NULL,
    fields TEXT NOT NULL, fetch_records INTEGER NOT NULL, secret TEXT, status TEXT NOT NULL,
    expires_at TEXT, created_at REAL NOT NULL, handshake_at REAL, last_delivery_at REAL,
    retired_at REAL
);
CREATE TABLE catchups (
    id INTEGER PRIMARY KEY AUTOINCREMENT, model TEXT NOT NULL, reason TEXT NOT NULL,
    gap_from REAL, detected_at REAL NOT NULL, done_at REAL
);
"""


def test_an_inbox_made_by_the_previous_version_opens_and_sets_events_aside(inbox_file):
    old = sqlite3.connect(inbox_file)
    old.executescript(OLD_SCHEMA)
    old.execute("INSERT INTO events (received_at, webhook_id, model, record_id, event, etag,"
                " body, state) VALUES (1.0, 7, 'bill', 42, 'updated', 'e', ?, 'pending')",
                (json.dumps({"data": {**BILL, "updated_at": "not-a-date"}}).encode(),))
    old.commit()
    old.close()
    conn = store.connect(inbox_file)
    (event,) = inbox.claim(conn, 10)
    inbox.acknowledge(conn, {}, set_aside={event.seq: "updated_at 'not-a-date' is wrong"})
    assert inbox.counts(conn) == {"set_aside": 1}
    assert inbox.pending(conn) == 0
    count, latest = inbox.set_aside_summary(conn)
    assert count == 1 and latest[0]["reason"] == "updated_at 'not-a-date' is wrong"
    assert latest[0]["record_id"] == "42" and latest[0]["seq"] == event.seq
    conn.close()
    assert store.connect(inbox_file).execute("SELECT count(*) FROM events").fetchone()[0] == 1


def post_to(world: World, model: str, event: str, data: dict) -> httpx.Response:
    """A delivery signed with the secret Clio gave our webhook of `model` (so authentic)."""
    conn = store.connect(world.inbox)
    try:
        (sub,) = [s for s in registry.live(conn) if s.model == model]
    finally:
        conn.close()
    body = json.dumps({"data": data, "meta": {"event": event,
                                              "webhook_id": sub.webhook_id}}).encode()
    return httpx.post(world.receiver.url(sub.token), content=body, timeout=10,
                      headers={SIGNATURE_HEADER: sign(body, sub.secret or "")})


MALFORMED = [  # (model, data, what the reason names); each validly signed
    ("contact", {"id": 4, "etag": '"m1"', "updated_at": "not-a-date", "name": "X"},
     "updated_at"),
    ("contact", {"id": 5, "etag": '"m2"', "updated_at": "2026-11-20T09:00:00", "name": "X"},
     "offset"),
    ("activity", {"id": 1, "etag": '"m3"', "updated_at": STAMP, "total": "abc"}, "total"),
    ("activity", {"id": 2, "etag": '"m4"', "updated_at": STAMP, "date": "2026-13-45"}, "date"),
    ("activity", {"id": 5, "etag": '"m5"', "updated_at": STAMP, "matter": "not an object"},
     "matter"),
    ("bill", {"id": 1, "etag": '"m6"', "updated_at": STAMP, "matters": "abc"}, "matters"),
    ("bill", {"id": 2, "etag": '"m7"', "updated_at": STAMP, "client": {"id": 10**30}},
     "client"),
    ("bill", {"id": 3, "etag": '"m8"', "updated_at": STAMP, "matters": [{"id": 10**30}]},
     "matters"),
]


@pytest.mark.slow
def test_a_batch_mixing_malformed_and_good_events_applies_the_good_ones(world):
    world.sync()
    world.subscribe(("contact", "activity", "bill"))
    world.edit("contacts", 3, name="Applied despite its neighbours")
    world.new_activity("A good activity")
    world.flush()
    for model, data, _ in MALFORMED:
        assert post_to(world, model, "updated", data).status_code == 200
    for bad_id in (10**30, 2**63):  # set aside by the receiver itself
        assert post_to(world, "contact", "updated",
                       {"id": bad_id, "etag": '"x"', "updated_at": STAMP}).status_code == 200
    world.edit("contacts", 6, name="Queued after the malformed ones")
    world.flush()
    queued = world.inbox_rows("duplicate_of IS NULL")
    assert len(queued) == len(MALFORMED) + 3

    world.cli("webhooks", "apply", "--db", str(world.db))  # one batch; exits 0

    states = {(e["model"], e["record_id"]): e["state"] for e in world.inbox_rows()}
    assert [states[(m, d["id"])] for m, d, _ in MALFORMED] == ["set_aside"] * len(MALFORMED)
    assert states[("contact", 3)] == states[("contact", 6)] == "applied"
    world.assert_truth()  # the good events are in; nothing of the malformed ones is
    aside = set_aside_rows(world.inbox)
    assert len(aside) == len(MALFORMED) + 2
    by_record = {(r["model"], r["record_id"]): r["reason"] for r in aside}
    for model, data, named in MALFORMED:
        assert named in by_record[(model, str(data["id"]))], by_record[(model, str(data["id"]))]
    assert "set aside" in world.log()

    world.cli("webhooks", "apply", "--db", str(world.db))  # nothing is retried
    assert world.inbox_rows("state != 'applied' AND state != 'set_aside'") == []
    assert len(set_aside_rows(world.inbox)) == len(MALFORMED) + 2
    world.cli("webhooks", "status", "--db", str(world.db), "--offline")
    status = world.log().split("webhook id")[-1]
    assert f"set aside: {len(MALFORMED) + 2}" in status
    assert "out of BIGINT's range" in status and "cannot be typed" in status
