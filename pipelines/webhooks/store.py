"""The webhook state file: one SQLite database beside the warehouse (`webhooks.sqlite`).

It holds the inbox of received deliveries and the registry of our webhooks with their
secrets, so it is created with mode 0600. SQLite rather than a table in the DuckDB
warehouse because the receiver must append while a sync or the applier holds DuckDB's
single writer, and it must survive kill -9: in WAL mode with `synchronous=FULL` every
commit is fsynced before it returns, and many processes (receiver, applier, `status`)
can read and write it at once.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from pipelines.webhooks.errors import InboxError

INBOX_FILE = "webhooks.sqlite"
BUSY_TIMEOUT_MS = 30_000  # a second writer (subscribe while the receiver appends) waits

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at  REAL    NOT NULL,          -- unix seconds, when the delivery arrived
    webhook_id   INTEGER NOT NULL,
    model        TEXT    NOT NULL,
    record_id    INTEGER NOT NULL,
    event        TEXT    NOT NULL,          -- created | updated | deleted | ...
    etag         TEXT,
    body         BLOB    NOT NULL,          -- the raw, verified delivery, kept for audit/replay
    duplicate_of INTEGER,                   -- seq of the first copy when this one is a repeat
    state        TEXT    NOT NULL,          -- pending | claimed | applied | duplicate | set_aside
    claimed_at   REAL,
    applied_at   REAL,
    outcome      TEXT,                      -- what the applier did (upserted, stale, ...)
    body_sha     TEXT                       -- SHA-256 of the body (hex): part of what a repeat is
);
CREATE INDEX IF NOT EXISTS events_by_state ON events (state, seq);
CREATE INDEX IF NOT EXISTS events_by_received ON events (received_at);

-- Authentic deliveries that cannot be applied (malformed.py), kept with why, never retried.
-- The applier's have a row in `events` too (state `set_aside`); the receiver's could not
-- be queued at all (an id no INTEGER holds), so their raw body is kept here instead.
CREATE TABLE IF NOT EXISTS set_aside (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    seq          INTEGER UNIQUE,            -- the event in `events`; NULL: never queued
    received_at  REAL    NOT NULL,
    webhook_id   INTEGER NOT NULL,
    model        TEXT    NOT NULL,
    record_id    TEXT,                      -- data.id as the delivery sent it (JSON)
    event        TEXT,
    reason       TEXT    NOT NULL,
    set_aside_at REAL    NOT NULL,
    body         BLOB                       -- the raw delivery when it is not in `events`
);

CREATE TABLE IF NOT EXISTS webhooks (
    token            TEXT PRIMARY KEY,      -- random last segment of our delivery URL
    webhook_id       INTEGER UNIQUE,        -- Clio's id, known once created
    model            TEXT NOT NULL,
    url              TEXT NOT NULL,
    fields           TEXT NOT NULL,
    fetch_records    INTEGER NOT NULL,      -- 1: deliveries carry ids only, fetch by ids[]
    secret           TEXT,
    status           TEXT NOT NULL,         -- creating | pending | enabled | suspended | expired | retired
    expires_at       TEXT,
    created_at       REAL NOT NULL,
    handshake_at     REAL,
    last_delivery_at REAL,
    retired_at       REAL
);

CREATE TABLE IF NOT EXISTS catchups (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    model       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    gap_from    REAL,                       -- last delivery seen before the gap (unix seconds)
    detected_at REAL NOT NULL,
    done_at     REAL
);
"""


# A repeat of a delivery has the same webhook, model, record, event, etag and body. The
# body counts because a custom field value can change with the record's etag unchanged
# (issue #9.3): such a delivery is news, not a repeat.
DEDUP_INDEX = """
CREATE UNIQUE INDEX IF NOT EXISTS events_dedup_body
    ON events (webhook_id, model, record_id, event, coalesce(etag, ''), coalesce(body_sha, ''))
    WHERE duplicate_of IS NULL
"""


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring an inbox of an earlier version to this one (its events without `body_sha`
    stay as they are: a repeat of one of them is queued again, which is harmless)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(events)")}
    indexes = {row[1] for row in conn.execute("PRAGMA index_list(events)")}
    if "body_sha" in columns and "events_dedup" not in indexes and "events_dedup_body" in indexes:
        return
    conn.execute("BEGIN IMMEDIATE")  # another process may be migrating it too
    try:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(events)")}
        if "body_sha" not in columns:
            conn.execute("ALTER TABLE events ADD COLUMN body_sha TEXT")
        conn.execute("DROP INDEX IF EXISTS events_dedup")
        conn.execute(DEDUP_INDEX)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def inbox_path(db: Path, inbox: str | os.PathLike[str] | None = None) -> Path:
    """The state file: `--inbox`, else `webhooks.sqlite` beside the warehouse."""
    return Path(inbox).expanduser().resolve() if inbox else db.parent / INBOX_FILE


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed, mode 0600) the state file with durable settings."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                               check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        conn.executescript(SCHEMA)
        _migrate(conn)
    except (OSError, sqlite3.Error) as exc:
        raise InboxError(
            f"Cannot open the webhook inbox {path}: {exc}. Check that the folder exists and "
            "is writable by this user, or point --inbox at another file."
        ) from None
    conn.row_factory = sqlite3.Row
    return conn
