"""The inbox: every verified delivery, appended durably, queued for the applier.

Rows are never deleted and their raw body never changes (audit, replay). Only the queue
columns move: `pending` -> `claimed` (by the applier, under the warehouse writer lock)
-> `applied`. A repeat of a delivery already received, same (webhook, model, id, event,
etag, body), is kept as `duplicate` and never queued. `replay` puts applied events back to
`pending`; applying is idempotent, so that is always safe. An authentic delivery that
cannot be applied (`malformed.py`) is set aside: recorded with its reason in `set_aside`
and never queued again (`replay` leaves it alone).
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Delivery:
    """A verified delivery as the receiver hands it to the inbox."""

    received_at: float
    webhook_id: int
    model: str
    record_id: int | str  # a string for models whose ids are strings (calendar entries)
    event: str
    etag: str | None
    body: bytes


@dataclass(frozen=True)
class Refused:
    """An authentic delivery the receiver cannot queue (its record id, say), and why."""

    received_at: float
    webhook_id: int
    model: str
    record_id: str  # data.id as sent, as JSON text
    event: str | None
    reason: str
    body: bytes


@dataclass(frozen=True)
class Event:
    """A queued event as the applier claims it."""

    seq: int
    received_at: float
    webhook_id: int
    model: str
    record_id: int | str  # SQLite gives a numeric string id back as an integer
    event: str
    etag: str | None
    body: bytes


def append(conn: sqlite3.Connection, deliveries: Iterable[Delivery]) -> list[int]:
    """Append deliveries in one fsynced transaction; returns their sequence numbers."""
    seqs = []
    last: dict[int, float] = {}  # webhook id -> its latest delivery in this group
    conn.execute("BEGIN IMMEDIATE")
    try:
        for d in deliveries:
            seqs.append(_append_one(conn, d))
            last[d.webhook_id] = max(d.received_at, last.get(d.webhook_id, 0.0))
        conn.executemany("UPDATE webhooks SET last_delivery_at = ? WHERE webhook_id = ?",
                         [(at, webhook_id) for webhook_id, at in last.items()])
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return seqs


def _append_one(conn: sqlite3.Connection, d: Delivery) -> int:
    sha = hashlib.sha256(d.body).hexdigest()
    values = (d.received_at, d.webhook_id, d.model, d.record_id, d.event, d.etag, d.body, sha)
    cur = conn.execute(
        "INSERT OR IGNORE INTO events (received_at, webhook_id, model, record_id, event, etag,"
        " body, body_sha, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending')",
        values,
    )
    if cur.rowcount:
        return int(cur.lastrowid or 0)
    first = conn.execute(
        "SELECT seq FROM events WHERE webhook_id = ? AND model = ? AND record_id = ?"
        " AND event = ? AND coalesce(etag, '') = coalesce(?, '') AND body_sha = ?"
        " AND duplicate_of IS NULL",
        (d.webhook_id, d.model, d.record_id, d.event, d.etag, sha),
    ).fetchone()[0]
    cur = conn.execute(
        "INSERT INTO events (received_at, webhook_id, model, record_id, event, etag, body,"
        " body_sha, duplicate_of, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'duplicate')",
        (*values, first),
    )
    return int(cur.lastrowid or 0)


def release_claims(conn: sqlite3.Connection) -> int:
    """Return events claimed by an applier that died to the queue; call under the writer lock."""
    return conn.execute("UPDATE events SET state = 'pending' WHERE state = 'claimed'").rowcount


def claim(conn: sqlite3.Connection, limit: int) -> list[Event]:
    """Mark up to `limit` pending events, oldest first, as claimed and return them."""
    rows = conn.execute(
        "UPDATE events SET state = 'claimed', claimed_at = ? WHERE seq IN ("
        " SELECT seq FROM events WHERE state = 'pending' ORDER BY seq LIMIT ?)"
        " RETURNING seq, received_at, webhook_id, model, record_id, event, etag, body",
        (time.time(), limit),
    ).fetchall()
    return sorted((Event(**dict(r)) for r in rows), key=lambda e: e.seq)


def acknowledge(conn: sqlite3.Connection, outcomes: Mapping[int, str],
                set_aside: Mapping[int, str] | None = None) -> None:
    """Mark claimed events applied, with what the applier did to each, and set aside the
    ones that cannot be applied (`set_aside`: seq -> reason), in one transaction."""
    now = time.time()
    aside = set_aside or {}
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany(
            "UPDATE events SET state = 'applied', applied_at = ?, outcome = ? WHERE seq = ?",
            [(now, outcome, seq) for seq, outcome in outcomes.items()],
        )
        conn.executemany("UPDATE events SET state = 'set_aside', applied_at = ?,"
                         " outcome = 'set aside' WHERE seq = ?", [(now, seq) for seq in aside])
        conn.executemany(
            "INSERT OR REPLACE INTO set_aside (seq, received_at, webhook_id, model, record_id,"
            " event, reason, set_aside_at) SELECT seq, received_at, webhook_id, model,"
            " CAST(record_id AS TEXT), event, ?, ? FROM events WHERE seq = ?",
            [(reason, now, seq) for seq, reason in aside.items()],
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def refuse(conn: sqlite3.Connection, refused: Refused) -> None:
    """Keep an authentic delivery that cannot be queued, with its reason (fsynced)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "INSERT INTO set_aside (received_at, webhook_id, model, record_id, event, reason,"
            " set_aside_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (refused.received_at, refused.webhook_id, refused.model, refused.record_id,
             refused.event, refused.reason, time.time(), refused.body),
        )
        conn.execute("UPDATE webhooks SET last_delivery_at = max(coalesce(last_delivery_at, 0),"
                     " ?) WHERE webhook_id = ?", (refused.received_at, refused.webhook_id))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def set_aside_summary(conn: sqlite3.Connection, latest: int = 5
                      ) -> tuple[int, list[sqlite3.Row]]:
    """How many deliveries were set aside, and the `latest` received (newest first)."""
    count = set_aside_count(conn)
    rows = conn.execute(
        "SELECT seq, received_at, webhook_id, model, record_id, event, reason FROM set_aside"
        " ORDER BY received_at DESC, id DESC LIMIT ?", (latest,),
    ).fetchall()
    return count, rows


def replay(conn: sqlite3.Connection, since: float) -> int:
    """Queue again every first-copy event received at or after `since` (unix seconds)."""
    return conn.execute(
        "UPDATE events SET state = 'pending', claimed_at = NULL WHERE received_at >= ?"
        " AND duplicate_of IS NULL AND state = 'applied'",
        (since,),
    ).rowcount


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Number of events per state."""
    rows = conn.execute("SELECT state, count(*) AS n FROM events GROUP BY state").fetchall()
    return {r["state"]: r["n"] for r in rows}


def pending(conn: sqlite3.Connection) -> int:
    """Events waiting for the applier (pending or orphaned claims)."""
    return conn.execute(
        "SELECT count(*) FROM events WHERE state IN ('pending', 'claimed')"
    ).fetchone()[0]


def set_aside_count(conn: sqlite3.Connection) -> int:
    """Authentic deliveries kept aside because they cannot be applied."""
    return int(conn.execute("SELECT count(*) FROM set_aside").fetchone()[0])
