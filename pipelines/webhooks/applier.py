"""Apply claimed inbox events to the warehouse, in batches, under the writer lock.

One batch: read the stored versions of the records it touches, plan (`planner`),
fetch what must be fetched, then write tombstones, upserts, deletes and each event's
outcome and lag (`clio._webhook_applies`, the apply ledger) in one DuckDB transaction
(`direct`: rows typed and merged exactly as a sync stores them), then acknowledge the
events in the inbox. A batch that needs a table or column the warehouse lacks yet goes
through a dlt load instead (`loader`), and `WEBHOOKS__WRITE_PATH=dlt` sends every batch
that way. A crash before the commit leaves the events claimed and nothing written; the
next pass returns them to the queue and applies them again, which is idempotent. A crash
after it leaves them claimed and in the ledger; the next pass acknowledges them as logged
(`resume`). When Clio cannot be asked about a record (a fetch fails), only that record's
events wait for the next pass; the rest of the batch is applied. An event that cannot be
applied at all (a malformed field, `malformed.py`) is set aside in the inbox with its
reason before planning, and the rest of the batch is applied.
"""

from __future__ import annotations

import logging
import sqlite3
import statistics
import time
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines import warehouse
from pipelines.clio.write_paths import WritePath
from pipelines.errors import ClioSyncError
from pipelines.webhooks import direct, inbox, ledger, planner, resume
from pipelines.webhooks.changes import Change, read_changes
from pipelines.webhooks.fetcher import Fetch
from pipelines.webhooks.loader import BatchLoader

DEFAULT_BATCH = 1000  # events per batch

log = logging.getLogger(__name__)


@dataclass
class ApplyReport:
    """What a pass did: outcomes counted, and the lag of each applied event (seconds)."""

    outcomes: Counter[str] = field(default_factory=Counter)
    lags: list[float] = field(default_factory=list)
    batches: int = 0
    deferred: int = 0  # events left queued because Clio could not be asked about them
    set_aside: dict[int, str] = field(default_factory=dict)  # seq -> why it cannot be applied
    writes: Counter[str] = field(default_factory=Counter)  # batches by write path

    @property
    def events(self) -> int:
        return sum(self.outcomes.values())

    def summary(self) -> str:
        waiting = (f"; {self.deferred} events wait for Clio (a fetch failed)"
                   if self.deferred else "")
        if self.set_aside:
            waiting += (f"; {len(self.set_aside)} malformed events set aside "
                        "(`clio-sync webhooks status` shows why)")
        if not self.events:
            return "no events to apply" + waiting
        counts = ", ".join(f"{n} {what}" for what, n in sorted(self.outcomes.items()))
        lag = (f"; lag p50 {statistics.median(self.lags):.2f}s max {max(self.lags):.2f}s"
               if self.lags else "")
        return f"applied {self.events} events in {self.batches} batches ({counts}){lag}{waiting}"


def apply_pending(db: Path, inbox_conn: sqlite3.Connection, fetch: Fetch,
                  batch_size: int = DEFAULT_BATCH, max_batches: int | None = None,
                  lock_timeout: float = warehouse.DEFAULT_LOCK_TIMEOUT,
                  publish: bool = True) -> ApplyReport:
    """Apply queued events until the queue is empty (or `max_batches` were applied);
    `publish=False` leaves publishing the read snapshot to the caller (`follow`)."""
    report = ApplyReport()
    path = direct.write_path()
    with warehouse.writer_lock(db, "webhooks apply", timeout=lock_timeout, publish=publish):
        dead = resume.dead_claims(inbox_conn)
        inbox.release_claims(inbox_conn)  # claims of a dead applier: we hold the lock now
        # A fresh dlt pipeline under each hold of the lock: a `run` in between may have
        # changed its schema and state on disk, which a kept pipeline would not see.
        loader = BatchLoader(db)
        loader.prepare()
        while max_batches is None or report.batches < max_batches:
            events = inbox.claim(inbox_conn, batch_size)
            if not events:
                break
            outcomes = apply_batch(loader, events, fetch, report, path, dead)
            inbox.acknowledge(inbox_conn, outcomes, {e.seq: report.set_aside[e.seq]
                                                     for e in events if e.seq in report.set_aside})
            report.batches += 1
    return report


def apply_batch(loader: BatchLoader, events: list[inbox.Event], fetch: Fetch,
                report: ApplyReport, path: WritePath = "direct",
                dead: Collection[int] = ()) -> dict[int, str]:
    """Write one batch of events to the warehouse; returns each event's outcome by seq.

    Malformed events get no outcome: they go to `report.set_aside`, with their reason.
    Events of `dead` claims that the ledger holds were committed by the dead applier:
    they keep their logged outcome and are not applied again (`resume`).
    """
    con = warehouse.connect(loader.db)
    try:
        ledger.ensure_tables(con)
        done = resume.committed(con, [e.seq for e in events if e.seq in dead])
        outcomes = _apply(con, loader, [e for e in events if e.seq not in done], fetch,
                          report, path)
    finally:
        con.close()
    return {**done, **outcomes}


def _apply(con: duckdb.DuckDBPyConnection, loader: BatchLoader, events: list[inbox.Event],
           fetch: Fetch, report: ApplyReport, path: WritePath) -> dict[int, str]:
    changes, set_aside = read_changes(events)
    for event in (e for e in events if e.seq in set_aside):
        log.warning("set aside event %d (%s %s %s): %s", event.seq, event.model,
                    event.record_id, event.event, set_aside[event.seq])
    report.set_aside.update(set_aside)
    outcomes = {e.seq: "unknown model" for e in events if e.seq not in set_aside}
    stored, tombstones = _known_state(con, changes)
    plan = planner.plan(changes, stored, tombstones)
    deferred: set[int] = set()
    if plan.fetches:
        try:
            fetched = {table: fetch(table, ids) for table, ids in plan.fetches.items()}
        except ClioSyncError as exc:
            deferred = _defer(plan, exc)
        else:
            planner.resolve(plan, fetched, stored)
    outcomes = {seq: why for seq, why in outcomes.items() if seq not in deferred}
    outcomes.update(plan.outcomes)
    settled = [c for c in changes if c.seq not in deferred]
    batch = direct.prepare(con, plan.upserts, plan.deletes) if path == "direct" else None
    if batch is not None:
        with warehouse.transaction(con):  # rows and ledger together: all of the batch or none
            direct.write(con, batch, plan.deletes)
            applied_at = time.time()
            ledger.record_applies(con, settled, outcomes, applied_at)
        report.writes["direct"] += 1
    else:
        con.close()  # dlt opens the file itself
        _write(loader, plan)
        applied_at = time.time()
        after = warehouse.connect(loader.db)
        try:
            ledger.record_applies(after, settled, outcomes, applied_at)
        finally:
            after.close()
        report.writes["dlt"] += 1
    report.outcomes.update(outcomes.values())
    report.lags.extend(applied_at - c.received_at for c in settled)
    report.deferred += len(deferred)
    return outcomes


def _defer(plan: planner.Plan, exc: ClioSyncError) -> set[int]:
    """Leave the records that needed Clio for a later pass; the rest of the batch goes on.

    Their events stay claimed (not acknowledged) until the next pass returns them to the
    queue. Applying the others first is safe: each record's outcome depends only on its
    own events and row, and a fetch returns Clio's current version whenever it happens.
    """
    seqs = {c.seq for group in plan.waiting.values() for c in group}
    log.warning("could not fetch %d record(s) from Clio (%s); their %d event(s) wait for "
                "the next pass", len(plan.waiting), exc, len(seqs))
    plan.waiting.clear()
    plan.fetches.clear()
    return seqs


def _known_state(
    con: duckdb.DuckDBPyConnection, changes: list[Change],
) -> tuple[dict[planner.Key, planner.Version], set[planner.Key]]:
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
