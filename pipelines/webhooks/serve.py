"""`clio-sync serve`: the one long-running process of a small firm's server.

    main thread      uvicorn: the receiver (deliveries -> inbox, fsynced)
    applier process  `clio-sync webhooks apply --follow`: micro-batches from the inbox
                     into DuckDB (a process, not a thread: its dlt work would otherwise
                     hold the interpreter lock while deliveries wait for their 200)
    schedule thread  `clio-sync run` every N minutes, `reconcile` daily, webhook renewals
                     (and their catch-ups), each sync as a child process

SIGTERM (or Ctrl-C): uvicorn stops accepting and finishes the requests in flight (each
one's delivery is in the inbox before its 200); then the schedule stops (a running sync
child gets SIGTERM and commits nothing partial), the applier finishes its batch and
applies what is left, and the inbox closes. Whatever is still queued is applied at the
next start, so nothing is lost.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.errors import ClioSyncError
from pipelines.webhooks import store
from pipelines.webhooks.applier import DEFAULT_BATCH
from pipelines.webhooks.catchup import run_catchups
from pipelines.webhooks.jobs import JobRunner
from pipelines.webhooks.limits import Limits, run_server

log = logging.getLogger(__name__)

DRAIN_TIMEOUT = 120.0  # seconds the applier may take to apply what is queued at shutdown
RESTART_PAUSE = 2.0  # seconds before an applier that died is started again


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8765
    path: str = "/webhooks/clio"
    sync_every: float = 3600.0  # seconds; 0 disables
    reconcile_every: float = 86400.0
    renew_every: float = 21600.0
    apply_interval: float = 0.1  # seconds between the applier's polls of the inbox
    batch_size: int = DEFAULT_BATCH
    base_url: str | None = None
    limits: Limits = field(default_factory=Limits)  # the receiver's deadlines, connection cap


class ApplierProcess:
    """`clio-sync webhooks apply --follow` as a child process, restarted if it dies."""

    def __init__(self, db: Path, inbox_file: Path, options: ServeOptions) -> None:
        self.db, self.inbox_file, self.options = db, inbox_file, options
        self.proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()  # `stop` never races a restart
        self._stopping = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="applier-watch", daemon=True)

    def start(self) -> None:
        self._spawn()
        self._watcher.start()

    def _spawn(self) -> None:
        env = dict(os.environ)
        if self.options.base_url:
            env["SOURCES__CLIO__BASE_URL"] = self.options.base_url
        with self._lock:
            if self._stopping.is_set():
                return
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "pipelines", "--log-format", "plain", "webhooks",
                 "apply", "--follow", "--db", str(self.db), "--inbox", str(self.inbox_file),
                 "--interval", str(self.options.apply_interval),
                 "--batch-size", str(self.options.batch_size)], env=env)

    def _watch(self) -> None:
        """Restart the applier when it exits on its own (a crash, an OOM kill)."""
        while True:
            assert self.proc is not None
            code = self.proc.wait()
            if self._stopping.is_set():
                return
            log.error("the applier exited with %s; restarting it in %.0f s (events wait in "
                      "the inbox meanwhile)", code, RESTART_PAUSE)
            if self._stopping.wait(RESTART_PAUSE):
                return
            self._spawn()

    def is_alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = DRAIN_TIMEOUT) -> None:
        """SIGTERM: it finishes its batch and applies what is queued; killed after `timeout`."""
        with self._lock:
            self._stopping.set()
            proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("the applier did not finish within %.0fs; stopping it (its events "
                        "stay queued and are applied at the next start)", timeout)
            proc.kill()
            proc.wait()


class Schedule(threading.Thread):
    """Runs the periodic sync, reconcile and renewals until stopped."""

    def __init__(self, inbox_file: Path, settings: Callable[[], Any], jobs: JobRunner,
                 options: ServeOptions) -> None:
        super().__init__(name="schedule", daemon=True)
        self.inbox_file, self.settings, self.jobs = inbox_file, settings, jobs
        self.options = options
        self.stopping = threading.Event()
        self.tasks: list[tuple[float, Callable[[], object]]] = [
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

    def _safely(self, task: Callable[[], object]) -> None:
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
    from pipelines.webhooks.receiver import build_app

    jobs = JobRunner(db, options.base_url)
    applier = ApplierProcess(db, inbox_file, options)
    schedule = Schedule(inbox_file, settings, jobs, options)

    stopped = threading.Event()

    def shutdown() -> None:
        log.info("stopping: schedule, then the applier (finishing its batch)")
        schedule.stop()
        applier.stop()
        stopped.set()
        log.info("serve stopped")

    app = build_app(inbox_file, options.path, on_shutdown=shutdown,
                    body_timeout=options.limits.body_timeout)
    store.connect(inbox_file).close()  # fail early, before threads, on an unusable inbox
    applier.start()
    schedule.start()
    try:
        run_server(app, options.host, options.port, options.limits)
    finally:
        if not stopped.is_set():  # uvicorn never started (port taken): stop the others too
            shutdown()
    return 0  # after SIGTERM uvicorn re-raises the signal once shut down: exit status 143
