"""One thread that owns the inbox's write connection and commits in groups.

Request handlers hand it work and await a future. Deliveries that arrive together are
appended in one transaction, so one fsync covers many of them (group commit) and the
event loop never blocks on the disk. A handler answers 200 only after its future
resolves, that is after the commit holding its delivery has been fsynced. A group's
futures are resolved with one wake-up of the event loop, not one each: at 2,000
deliveries/s a wake-up per delivery costs the loop (and the interpreter lock it must
take back) about as much as the commit's bookkeeping.

SQLite's automatic WAL checkpoint would run inside whichever commit crosses the
threshold, copying megabytes and fsyncing the database file while that group's
deliveries wait for their 200. A second thread checkpoints instead, every second, in
PASSIVE mode, which never blocks the writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from pipelines.webhooks import inbox, store

MAX_GROUP = 256  # deliveries per transaction
CHECKPOINT_EVERY = 1.0  # seconds between WAL checkpoints (off the commit path)

log = logging.getLogger(__name__)

_Waiter = tuple[asyncio.AbstractEventLoop, asyncio.Future[int]]
_Job = (tuple[inbox.Delivery, _Waiter]
        | tuple[Callable[[sqlite3.Connection], Any], Future[Any]])


class InboxWriter:
    """A daemon thread appending deliveries (and running other writes) in order."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="inbox-writer", daemon=True)
        self._checkpointer = threading.Thread(target=self._checkpoint, name="inbox-checkpoint",
                                              daemon=True)
        self._stopped = threading.Event()
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self) -> None:
        """Open the file in the writer thread and wait until it is usable."""
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        self._checkpointer.start()

    async def append(self, delivery: inbox.Delivery) -> int:
        """Queue a delivery; its sequence number once the commit holding it is fsynced.

        Call it on an event loop: the loop is woken once per group, not per delivery.
        """
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[int] = loop.create_future()
        self._jobs.put((delivery, (loop, waiter)))
        return await waiter

    def call(self, write: Callable[[sqlite3.Connection], Any]) -> Future[Any]:
        """Run `write(conn)` in the writer thread; the future gives its result."""
        future: Future[Any] = Future()
        self._jobs.put((write, future))
        return future

    def stop(self) -> None:
        """Finish every queued job, then close the file."""
        self._jobs.put(None)
        self._thread.join()
        self._stopped.set()
        if self._checkpointer.is_alive():
            self._checkpointer.join()

    def _run(self) -> None:
        try:
            conn = store.connect(self._path)
            conn.execute("PRAGMA wal_autocheckpoint=0")  # the checkpoint thread does it
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            while self._serve_batch(conn):
                pass
        finally:
            conn.close()

    def _checkpoint(self) -> None:
        conn = store.connect(self._path)
        try:
            while not self._stopped.wait(CHECKPOINT_EVERY):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error as exc:  # the next one catches up
                    log.warning("inbox checkpoint failed: %s", exc)
        finally:
            conn.close()

    def _serve_batch(self, conn: sqlite3.Connection) -> bool:
        """Take what is queued (blocking for the first job); False once told to stop."""
        jobs = [self._jobs.get()]
        while len(jobs) < MAX_GROUP:
            try:
                jobs.append(self._jobs.get_nowait())
            except queue.Empty:
                break
        stopping = None in jobs
        deliveries: list[tuple[inbox.Delivery, _Waiter]] = []
        for job in jobs:
            if job is not None and isinstance(job[0], inbox.Delivery):
                deliveries.append(job)
        if deliveries:
            _commit_group(conn, deliveries)
        for job in jobs:
            if job is not None and not isinstance(job[0], inbox.Delivery):
                _resolve(job[1], job[0], conn)
        return not stopping


def _commit_group(conn: sqlite3.Connection, group: list[tuple[inbox.Delivery, _Waiter]]
                  ) -> None:
    """Append `group` in one transaction; then wake each waiting loop once with the results."""
    try:
        outcomes: list[int | BaseException] = list(inbox.append(conn, [d for d, _ in group]))
    except Exception as exc:
        log.error("could not append %d deliveries to the inbox: %s", len(group), exc)
        outcomes = [exc] * len(group)
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[int], Any]]] = {}
    for (_, (loop, waiter)), outcome in zip(group, outcomes, strict=True):
        by_loop.setdefault(loop, []).append((waiter, outcome))
    for loop, settled in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits for these
            loop.call_soon_threadsafe(_settle, settled)


def _settle(settled: list[tuple[asyncio.Future[int], int | BaseException]]) -> None:
    """On the loop: hand each waiting request its sequence number (or the failure)."""
    for waiter, outcome in settled:
        if waiter.cancelled():  # the client went away; its delivery is stored all the same
            continue
        if isinstance(outcome, BaseException):
            waiter.set_exception(outcome)
        else:
            waiter.set_result(outcome)


def _resolve(future: Future[Any], write: Callable[[sqlite3.Connection], Any],
             conn: sqlite3.Connection) -> None:
    try:
        future.set_result(write(conn))
    except Exception as exc:
        future.set_exception(exc)
