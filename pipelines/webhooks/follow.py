"""`clio-sync webhooks apply --follow`: apply in micro-batches until SIGTERM, then drain.

`serve` runs this as a child process rather than a thread: the applier's work (dlt,
Arrow, DuckDB) is mostly Python, and sharing one interpreter lock with the receiver
would make deliveries wait behind it for their 200. The inbox is the only link between
the two: the follower polls its queue (an indexed count) every `interval` seconds.

One batch per writer-lock hold, so a scheduled `run` waiting for the lock gets it
between batches. SIGTERM or SIGINT: finish the batch, apply what is still queued (the
receiver has stopped by then), exit; what a held lock prevents stays queued for the
next start, never lost.

Readers see the read snapshot (`pipelines.snapshot`), which the follower publishes on its
own schedule rather than inside each batch: at once when the queue is empty, else after a
batch once `PUBLISH_EVERY` seconds have passed, and no more than about `PUBLISH_SHARE` of
its time (a copy of a large warehouse takes seconds; bench/results/readers.md). It holds
the publisher lease meanwhile, so readers wait for its next publish instead of copying
the file themselves.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from pathlib import Path

from pipelines import snapshot, warehouse
from pipelines.errors import ClioSyncError, WarehouseLocked
from pipelines.webhooks import inbox, store
from pipelines.webhooks.applier import DEFAULT_BATCH, apply_pending
from pipelines.webhooks.fetcher import Fetch

LOCK_WAIT = 30.0  # per try: a long `run` logs one "waiting" line per 30 s, SIGTERM waits <= 30 s
DRAIN_LOCK_WAIT = 30.0  # at shutdown, how long to wait for the lock to apply the rest
ERROR_PAUSE = 5.0  # after a failed batch, or one whose fetches from Clio failed
PUBLISH_EVERY = 1.0  # seconds between snapshot publishes while events keep coming...
PUBLISH_SHARE = 0.5  # ...and at most about this share of its time spent publishing

log = logging.getLogger(__name__)


def follow(db: Path, inbox_file: Path, fetch: Fetch, interval: float = 0.1,
           batch_size: int = DEFAULT_BATCH) -> int:
    """Apply queued events as they come until told to stop; returns the exit code.

    The work runs in a second thread and the main thread only takes the signals: dlt
    installs its own SIGTERM handler around a load when it runs on the main thread, and
    would abort the batch in flight instead of letting it finish.
    """
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    outcome: list[int] = []

    def work() -> None:
        try:
            outcome.append(_follow(db, inbox_file, fetch, interval, batch_size, stop))
        except Exception:
            log.exception("the applier failed; its events stay queued")
            outcome.append(1)

    worker = threading.Thread(target=work, name="applier")
    worker.start()
    while worker.is_alive():
        worker.join(0.5)  # short waits keep the main thread free to run signal handlers
    return outcome[0] if outcome else 1


class _Publisher:
    """When to publish the read snapshot: coalesced, its cost measured, never waited for."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.unpublished = False  # the warehouse may have changed since the last publish
        self.last = 0.0
        self.cost = 0.0

    def writing(self) -> None:
        self.unpublished = True

    def after_batch(self, drained: bool) -> None:
        wait = max(PUBLISH_EVERY, self.cost / PUBLISH_SHARE)
        if self.unpublished and (drained or time.monotonic() - self.last >= wait):
            self.publish()

    def publish(self) -> None:
        """Publish now, unless another writer holds the lock: it publishes when it is done."""
        if not self.unpublished:
            return
        started = time.monotonic()
        try:
            with warehouse.writer_lock(self.db, "webhooks apply (publishing the snapshot)",
                                       timeout=0, publish=False):
                snapshot.publish(self.db)
        except WarehouseLocked:
            return
        except ClioSyncError as exc:  # readers keep the previous state; tried again later
            log.warning("the read snapshot was not published: %s", exc)
            self.last = time.monotonic()
            return
        self.last = time.monotonic()
        self.cost = self.last - started
        self.unpublished = False


def _follow(db: Path, inbox_file: Path, fetch: Fetch, interval: float, batch_size: int,
            stop: threading.Event) -> int:
    publisher = _Publisher(db)
    with snapshot.publisher_lease(db):
        try:
            return _apply_until_stopped(db, inbox_file, fetch, interval, batch_size, stop,
                                        publisher)
        finally:
            publisher.publish()


def _apply_until_stopped(db: Path, inbox_file: Path, fetch: Fetch, interval: float,
                         batch_size: int, stop: threading.Event, publisher: _Publisher) -> int:
    conn = store.connect(inbox_file)
    try:
        while True:
            stopping = stop.is_set()
            if not inbox.pending(conn):
                if stopping:
                    return 0
                stop.wait(interval)
                continue
            publisher.writing()
            try:
                report = apply_pending(db, conn, fetch, batch_size,
                                       max_batches=None if stopping else 1,
                                       lock_timeout=DRAIN_LOCK_WAIT if stopping else LOCK_WAIT,
                                       publish=False)
            except WarehouseLocked as exc:
                if stopping:
                    log.warning("%s %d events stay queued for the next start.", exc,
                                inbox.pending(conn))
                    return 0
                continue
            except ClioSyncError as exc:
                log.error("applying webhook events failed (they stay queued): %s", exc)
                if stopping:
                    return 1
                stop.wait(ERROR_PAUSE)
                continue
            if report.events or report.deferred or report.set_aside:
                log.info("%s", report.summary())
            publisher.after_batch(drained=not inbox.pending(conn))
            if report.deferred:
                if stopping:
                    log.warning("%d events stay queued for the next start (Clio could not be "
                                "asked about their records)", report.deferred)
                    return 0
                stop.wait(ERROR_PAUSE)  # Clio is failing: do not ask again at once
    finally:
        conn.close()
