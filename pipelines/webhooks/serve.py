"""`clio-sync serve`: the one long-running process of a small firm's server.

    main thread     uvicorn: the receiver (deliveries -> inbox, fsynced)
    applier thread  micro-batches from the inbox into DuckDB, woken by each commit
    schedule thread `clio-sync run` every N minutes, `reconcile` daily, webhook renewals
                    (and their catch-ups), each sync as a child process

SIGTERM (or Ctrl-C): uvicorn stops accepting and finishes the requests in flight (each
one's delivery is in the inbox before its 200); then the schedule stops (a running sync
child gets SIGTERM and commits nothing partial), the applier finishes its batch and
applies what is left, and the inbox closes. Whatever is still queued is applied at the
next start, so nothing is lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.errors import ClioSyncError, WarehouseLocked
from pipelines.webhooks import inbox, store
from pipelines.webhooks.applier import DEFAULT_BATCH, apply_pending
from pipelines.webhooks.catchup import run_catchups
from pipelines.webhooks.fetcher import ApiFetcher
from pipelines.webhooks.jobs import JobRunner

log = logging.getLogger(__name__)

APPLIER_LOCK_TIMEOUT = 5.0  # then retry, so a long external writer never blocks shutdown
DRAIN_LOCK_TIMEOUT = 30.0  # at shutdown, how long to wait to apply the remaining events


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8765
    path: str = "/webhooks/clio"
    sync_every: float = 3600.0  # seconds; 0 disables
    reconcile_every: float = 86400.0
    renew_every: float = 21600.0
    apply_interval: float = 0.2  # seconds between inbox polls when no commit wakes us
    batch_size: int = DEFAULT_BATCH
    base_url: str | None = None


class Applier(threading.Thread):
    """Applies inbox events in micro-batches until stopped, then drains the queue."""

    def __init__(self, db: Path, inbox_file: Path, fetch: ApiFetcher, jobs: JobRunner,
                 options: ServeOptions) -> None:
        super().__init__(name="applier", daemon=True)
        self.db, self.inbox_file, self.fetch, self.jobs = db, inbox_file, fetch, jobs
        self.options = options
        self.wake = threading.Event()
        self.stopping = threading.Event()

    def run(self) -> None:
        conn = store.connect(self.inbox_file)
        try:
            while not self.stopping.is_set():
                self.wake.wait(self.options.apply_interval)
                self.wake.clear()
                if not self.jobs.busy and inbox.pending(conn):
                    self._apply(conn, APPLIER_LOCK_TIMEOUT)
            if inbox.pending(conn):
                self._apply(conn, DRAIN_LOCK_TIMEOUT)
        finally:
            conn.close()
            self.fetch.close()

    def _apply(self, conn: Any, lock_timeout: float) -> None:
        try:
            report = apply_pending(self.db, conn, self.fetch, self.options.batch_size,
                                   lock_timeout=lock_timeout)
        except WarehouseLocked:
            return  # another writer; the events wait in the inbox
        except ClioSyncError as exc:
            log.error("applying webhook events failed (they stay queued): %s", exc)
            self.stopping.wait(5.0)
            return
        if report.events:
            log.info("%s", report.summary())

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
        self.join()


class Schedule(threading.Thread):
    """Runs the periodic sync, reconcile and renewals until stopped."""

    def __init__(self, inbox_file: Path, settings: Callable[[], Any], jobs: JobRunner,
                 options: ServeOptions) -> None:
        super().__init__(name="schedule", daemon=True)
        self.inbox_file, self.settings, self.jobs = inbox_file, settings, jobs
        self.options = options
        self.stopping = threading.Event()
        self.tasks: list[tuple[float, Callable[[], None]]] = [
            (options.renew_every, self._renew),
            (options.sync_every, lambda: self.jobs.run("run")),
            (options.reconcile_every, lambda: self.jobs.run("reconcile")),
        ]

    def run(self) -> None:
        due = {i: time.monotonic() for i, (every, _) in enumerate(self.tasks) if every > 0}
        while not self.stopping.is_set():
            for i, at in sorted(due.items(), key=lambda item: item[1]):
                if self.stopping.is_set() or at > time.monotonic():
                    continue
                every, task = self.tasks[i]
                self._safely(task)
                due[i] = time.monotonic() + every
            self.stopping.wait(max(0.1, min(due.values(), default=60.0) - time.monotonic()))

    def _renew(self) -> None:
        from pipelines.clio.client import ClioClient
        from pipelines.webhooks import registry
        from pipelines.webhooks.lifecycle import renew

        conn = store.connect(self.inbox_file)
        try:
            if registry.live(conn):
                with ClioClient(self.settings()) as client:
                    renew(conn, client)
            run_catchups(conn, self.jobs)
        finally:
            conn.close()

    def _safely(self, task: Callable[[], None]) -> None:
        try:
            task()
        except ClioSyncError as exc:
            log.error("%s", exc)
        except Exception:
            log.exception("a scheduled task failed; it runs again at its next time")

    def stop(self) -> None:
        self.stopping.set()
        self.jobs.stop()
        self.join()


def serve(db: Path, inbox_file: Path, settings: Callable[[], Any], options: ServeOptions) -> int:
    """Run until SIGTERM or Ctrl-C; returns the exit code."""
    import uvicorn

    from pipelines.webhooks.receiver import build_app

    jobs = JobRunner(db, options.base_url)
    applier = Applier(db, inbox_file, ApiFetcher(settings), jobs, options)
    schedule = Schedule(inbox_file, settings, jobs, options)

    def shutdown() -> None:
        log.info("stopping: schedule, then the applier (finishing its batch)")
        schedule.stop()
        applier.stop()
        log.info("serve stopped")

    app = build_app(inbox_file, options.path, on_commit=applier.wake.set, on_shutdown=shutdown)
    store.connect(inbox_file).close()  # fail early, before threads, on an unusable inbox
    applier.start()
    schedule.start()
    try:
        uvicorn.run(app, host=options.host, port=options.port, access_log=False,
                    log_config=None)
    finally:
        if applier.is_alive():  # uvicorn never started (port taken): stop the threads too
            shutdown()
    return 0  # after SIGTERM uvicorn re-raises the signal once shut down: exit status 143
