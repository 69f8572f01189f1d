"""Our record of each Clio webhook: its delivery URL token, secret, status and expiry.

Each webhook gets its own URL, `<base>/<token>`, with a random token. The token is how
the receiver knows, before trusting any byte of a body, which webhook a request claims
to come from and so which secret to check it with; it also ties the handshake (whose
body Clio does not document) to the webhook being created.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Subscription:
    """One row of the `webhooks` table."""

    token: str
    webhook_id: int | None
    model: str
    url: str
    fields: str
    fetch_records: bool
    secret: str | None
    status: str
    expires_at: str | None
    created_at: float
    handshake_at: float | None
    last_delivery_at: float | None
    retired_at: float | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Subscription:
        values = dict(row)
        values["fetch_records"] = bool(values["fetch_records"])
        return cls(**values)


LIVE = ("creating", "pending", "enabled", "suspended", "expired")


def new_token() -> str:
    """A URL-safe random path segment (128 bits)."""
    return secrets.token_urlsafe(16)


def add(conn: sqlite3.Connection, token: str, model: str, url: str, fields: str,
        fetch_records: bool) -> None:
    """Register a webhook about to be created (so its handshake can be recognised)."""
    conn.execute(
        "INSERT INTO webhooks (token, model, url, fields, fetch_records, status, created_at)"
        " VALUES (?, ?, ?, ?, ?, 'creating', ?)",
        (token, model, url, fields, int(fetch_records), time.time()),
    )


def by_token(conn: sqlite3.Connection, token: str) -> Subscription | None:
    row = conn.execute("SELECT * FROM webhooks WHERE token = ?", (token,)).fetchone()
    return Subscription.from_row(row) if row else None


def live(conn: sqlite3.Connection, models: tuple[str, ...] | None = None) -> list[Subscription]:
    """Webhooks not retired, oldest first, optionally only these models."""
    rows = conn.execute(
        f"SELECT * FROM webhooks WHERE status IN ({','.join('?' * len(LIVE))})"
        " ORDER BY created_at", LIVE,
    ).fetchall()
    subs = [Subscription.from_row(r) for r in rows]
    return [s for s in subs if models is None or s.model in models]


def update(conn: sqlite3.Connection, token: str, **values: object) -> None:
    """Set columns of one webhook row (names are this module's, never user input)."""
    assignments = ", ".join(f"{name} = ?" for name in values)
    conn.execute(f"UPDATE webhooks SET {assignments} WHERE token = ?", (*values.values(), token))


def record_handshake(conn: sqlite3.Connection, token: str, secret: str) -> bool:
    """Accept a handshake secret for a known webhook; False if it must be refused.

    The create response (read over our authenticated API connection) is the authority:
    a handshake may set the secret only while none is known, and must match it after.
    """
    sub = by_token(conn, token)
    if sub is None or sub.status == "retired":
        return False
    if sub.secret is not None and sub.secret != secret:
        return False
    conn.execute(
        "UPDATE webhooks SET secret = ?, handshake_at = ?,"
        " status = CASE WHEN status IN ('creating', 'pending') THEN 'enabled' ELSE status END"
        " WHERE token = ?",
        (secret, time.time(), token),
    )
    return True
