"""The inbox queue: dedup, claims, acknowledgements, replay; and the file's mode."""

from __future__ import annotations

import sqlite3
import stat

import pytest

from pipelines.webhooks import inbox, store


@pytest.fixture
def conn(inbox_file):
    c = store.connect(inbox_file)
    yield c
    c.close()


def delivery(record_id: int, etag: str = '"a"', event: str = "updated", at: float = 100.0):
    return inbox.Delivery(received_at=at, webhook_id=1, model="bill", record_id=record_id,
                          event=event, etag=etag, body=b'{"x": %d}' % record_id)


def test_the_file_is_private_to_its_owner(conn, inbox_file):
    assert stat.S_IMODE(inbox_file.stat().st_mode) == 0o600


def test_duplicates_are_kept_for_audit_but_queued_once(conn):
    inbox.append(conn, [delivery(1), delivery(1), delivery(1, etag='"b"'),
                        delivery(1, event="deleted")])
    assert inbox.counts(conn) == {"pending": 3, "duplicate": 1}


def test_the_same_etag_with_another_body_is_a_change_not_a_duplicate(conn):
    """A custom field value edit that moves neither `updated_at` nor `etag` (#9.3)."""
    first = delivery(1)
    edited = inbox.Delivery(**{**first.__dict__, "body": b'{"x": 1, "value": "new"}'})
    inbox.append(conn, [first, edited, edited])
    assert inbox.counts(conn) == {"pending": 2, "duplicate": 1}


def test_an_inbox_of_an_earlier_version_dedups_by_body_too(inbox_file):
    old = sqlite3.connect(inbox_file)
    old.executescript("""
        CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, received_at REAL NOT NULL,
            webhook_id INTEGER NOT NULL, model TEXT NOT NULL, record_id INTEGER NOT NULL,
            event TEXT NOT NULL, etag TEXT, body BLOB NOT NULL, duplicate_of INTEGER,
            state TEXT NOT NULL, claimed_at REAL, applied_at REAL, outcome TEXT);
        CREATE UNIQUE INDEX events_dedup ON events (webhook_id, model, record_id, event,
            coalesce(etag, '')) WHERE duplicate_of IS NULL;
    """)
    old.close()
    conn = store.connect(inbox_file)
    first = delivery(1)
    inbox.append(conn, [first, inbox.Delivery(**{**first.__dict__, "body": b"{}"}), first])
    assert inbox.counts(conn) == {"pending": 2, "duplicate": 1}
    conn.close()


def test_claims_are_oldest_first_and_acknowledged(conn):
    inbox.append(conn, [delivery(i) for i in range(5)])
    first = inbox.claim(conn, 3)
    assert [e.record_id for e in first] == [0, 1, 2]
    assert [e.record_id for e in inbox.claim(conn, 3)] == [3, 4]
    inbox.acknowledge(conn, {e.seq: "upserted" for e in first})
    assert inbox.counts(conn) == {"applied": 3, "claimed": 2}


def test_claims_of_a_dead_applier_go_back_to_the_queue(conn):
    inbox.append(conn, [delivery(1)])
    inbox.claim(conn, 10)
    assert inbox.release_claims(conn) == 1
    assert [e.record_id for e in inbox.claim(conn, 10)] == [1]


def test_replay_requeues_applied_events_since_a_time(conn):
    inbox.append(conn, [delivery(1, at=100.0), delivery(2, at=200.0), delivery(2, at=250.0)])
    inbox.acknowledge(conn, {e.seq: "upserted" for e in inbox.claim(conn, 10)})
    assert inbox.replay(conn, since=150.0) == 1
    assert [e.record_id for e in inbox.claim(conn, 10)] == [2]
