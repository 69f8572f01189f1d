"""Apply claimed inbox events to the warehouse, in batches, under the writer lock.

One batch: read the stored versions of the records it touches, plan (`planner`),
fetch what must be fetched, write tombstones, merge upserts and deletes the sync's way
(`loader`: one dlt load per batch, so rows have exactly the polled columns and types),
log each event's outcome and lag in `clio._webhook_applies`, then acknowledge the events
in the inbox. A crash anywhere before the acknowledgement leaves the events claimed;
the next pass returns them to the queue and applies them again, which is idempotent.
"""

from __future__ import annotations

import logging
import sqlite3
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines import warehouse
from pipelines.webhooks import inbox, ledger, planner
from pipelines.webhooks.changes import Change, from_event
from pipelines.webhooks.fetcher import Fetch
from pipelines.webhooks.loader import BatchLoader

DEFAULT_BATCH = 1000  # events per batch; one dlt load per batch

log = logging.getLogger(__name__)


@dataclass
class ApplyReport:
    """What a pass did: outcomes counted, and the lag of each applied event (seconds)."""

    outcomes: Counter = field(default_factory=Counter)
    lags: list[float] = field(default_factory=list)
    batches: int = 0

    @property
    def events(self) -> int:
        return sum(self.outcomes.values())

    def summary(self) -> str:
        if not self.events:
            return "no events to apply"
        counts = ", ".join(f"{n} {what}" for what, n in sorted(self.outcomes.items()))
        lag = (f"; lag p50 {statistics.median(self.lags):.2f}s max {max(self.lags):.2f}s"
               if self.lags else "")
        return f"applied {self.events} events in {self.batches} batches ({counts}){lag}"


def apply_pending(db: Path, inbox_conn: sqlite3.Connection, fetch: Fetch,
                  batch_size: int = DEFAULT_BATCH, max_batches: int | None = None,
                  lock_timeout: float = warehouse.DEFAULT_LOCK_TIMEOUT) -> ApplyReport:
    """Apply queued events until the queue is empty (or `max_batches` were applied)."""
    report = ApplyReport()
    with warehouse.writer_lock(db, "webhooks apply", timeout=lock_timeout):
        inbox.release_claims(inbox_conn)  # claims of a dead applier: we hold the lock now
        # A fresh dlt pipeline under each hold of the lock: a `run` in between may have
        # changed its schema and state on disk, which a kept pipeline would not see.
        loader = BatchLoader(db)
        loader.finish_interrupted()
        while max_batches is None or report.batches < max_batches:
            events = inbox.claim(inbox_conn, batch_size)
            if not events:
                break
            outcomes = apply_batch(loader, events, fetch, report)
            inbox.acknowledge(inbox_conn, outcomes)
            report.batches += 1
    return report


def apply_batch(loader: BatchLoader, events: list[inbox.Event], fetch: Fetch,
                report: ApplyReport) -> dict[int, str]:
    """Write one batch of events to the warehouse; returns each event's outcome by seq."""
    db = loader.db
    changes = [c for c in map(from_event, events) if c is not None]
    outcomes = {e.seq: "unknown model" for e in events}
    con = warehouse.connect(db)
    try:
        ledger.ensure_tables(con)
        stored, tombstones = _known_state(con, changes)
    finally:
        con.close()
    plan = planner.plan(changes, stored, tombstones)
    if plan.fetches:
        fetched = {table: fetch(table, ids) for table, ids in plan.fetches.items()}
        planner.resolve(plan, fetched, stored)
    _write(loader, plan)
    applied_at = time.time()
    outcomes.update(plan.outcomes)
    con = warehouse.connect(db)
    try:
        ledger.record_applies(con, changes, outcomes, applied_at)
    finally:
        con.close()
    report.outcomes.update(outcomes.values())
    report.lags.extend(applied_at - c.received_at for c in changes)
    return outcomes


def _known_state(con: duckdb.DuckDBPyConnection,
                 changes: list[Change]) -> tuple[dict, set]:
    stored: dict[planner.Key, planner.Version] = {}
    tombstones: set[planner.Key] = set()
    for table in {c.table for c in changes}:
        ids = {c.record_id for c in changes if c.table == table}
        stored.update(ledger.stored_versions(con, table, ids))
        tombstones |= ledger.tombstoned(con, table, ids)
    return stored, tombstones


def _write(loader: BatchLoader, plan: planner.Plan) -> None:
    """Tombstones first, so a crash before the merge still blocks a late older update."""
    if plan.deletes:
        con = warehouse.connect(loader.db)
        try:
            for table, deletes in plan.deletes.items():
                ledger.add_tombstones(con, table, deletes)
        finally:
            con.close()
    loader.write(plan.upserts, {table: list(ids) for table, ids in plan.deletes.items()})
