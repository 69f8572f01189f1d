"""Keep the subscriptions alive: extend before expiry, re-create what Clio suspended.

A webhook that was suspended, expired or lost delivered nothing for a while. It is
re-created at once, and the gap is recorded in `catchups` (from its last delivery): an
incremental sync covers the records changed in the gap, and `reconcile` the records
deleted in it. `webhooks renew` and `serve` run that catch-up; `run` calls
`renew_if_subscribed` first and is itself the incremental part.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pipelines.webhooks import registry, store, subscriptions
from pipelines.webhooks.registry import Subscription

RENEW_WINDOW = timedelta(days=7)  # extend webhooks expiring within this

log = logging.getLogger(__name__)


@dataclass
class RenewReport:
    """What a renewal did, by model."""

    extended: list[str] = field(default_factory=list)
    recreated: list[str] = field(default_factory=list)
    catchups: list[int] = field(default_factory=list)  # ids of the gaps recorded

    def summary(self) -> str:
        parts = [f"extended {', '.join(self.extended) or 'none'}",
                 f"re-created {', '.join(self.recreated) or 'none'}"]
        if self.catchups:
            parts.append(f"{len(self.catchups)} catch-up(s) due")
        return "; ".join(parts)


def renew(conn: sqlite3.Connection, client: Any, now: datetime | None = None,
          window: timedelta = RENEW_WINDOW,
          handshake_wait: float = subscriptions.HANDSHAKE_WAIT) -> RenewReport:
    """Extend webhooks expiring within `window`; re-create suspended, expired or lost ones."""
    now = now or client.server_time()  # expiry is judged on Clio's clock, not ours
    report = RenewReport()
    subscriptions.refresh(conn, subscriptions.remote_hooks(client), now)
    for sub in registry.live(conn):
        if sub.status in ("suspended", "expired") or sub.webhook_id is None:
            _recreate(conn, client, sub, now, handshake_wait, report)
        elif subscriptions.expires_within(sub, now, window):
            subscriptions.extend(conn, client, sub, now)
            report.extended.append(sub.model)
    if report.extended or report.recreated:
        log.info("webhooks renewed: %s", report.summary())
    return report


def _recreate(conn: sqlite3.Connection, client: Any, sub: Subscription, now: datetime,
              handshake_wait: float, report: RenewReport) -> None:
    gap_from = sub.last_delivery_at or sub.handshake_at or sub.created_at
    report.catchups.append(record_gap(conn, sub.model, f"webhook {sub.status}", gap_from))
    subscriptions.retire(conn, client, sub)
    base_url = sub.url.rsplit("/", 1)[0]
    subscriptions.subscribe(conn, client, base_url, sub.model, now, handshake_wait)
    report.recreated.append(sub.model)
    log.warning("webhook %s for %s was %s: re-created; a catch-up sync covers the gap",
                sub.webhook_id, sub.model, sub.status)


def record_gap(conn: sqlite3.Connection, model: str, reason: str, gap_from: float) -> int:
    cur = conn.execute(
        "INSERT INTO catchups (model, reason, gap_from, detected_at) VALUES (?, ?, ?, ?)",
        (model, reason, gap_from, time.time()),
    )
    return int(cur.lastrowid or 0)


def due_catchups(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM catchups WHERE done_at IS NULL ORDER BY id").fetchall()


def finish_catchups(conn: sqlite3.Connection, ids: list[int]) -> None:
    conn.executemany("UPDATE catchups SET done_at = ? WHERE id = ?",
                     [(time.time(), i) for i in ids])


def renew_if_subscribed(settings: Any, db: Path) -> RenewReport | None:
    """For `run`: renew when this warehouse has webhooks; costs nothing when it has none."""
    path = store.inbox_path(db)
    if not path.exists():
        return None
    conn = store.connect(path)
    try:
        if not registry.live(conn):
            return None
        from pipelines.clio.client import ClioClient

        with ClioClient(settings) as client:
            return renew(conn, client)
    finally:
        conn.close()
