"""The inbox queue: dedup, claims, acknowledgements, replay; and the file's mode."""

from __future__ import annotations

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
