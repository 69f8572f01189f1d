"""`clio-sync ARGS` that stops at a chosen point of its run, says so, and waits there to be
killed: the kill lands exactly where the test wants it.

    python paused_run.py POINT ARGS...

POINT is `mid-extract` (the fifth page was read; later pages are still to come) or
`loading` (one load job has written its file into the warehouse, the others have not
started). At that point it prints `paused POINT` and waits at most WAIT seconds.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from typing import Any

from dlt.common.destination.client import RunnableLoadJob

from pipelines.cli import main
from pipelines.clio import source

WAIT = 60.0  # a test that never kills must not leave this process behind
PAGES = 5


_SAID = threading.Lock()  # several load jobs can reach the point at once: one line only


def pause(point: str) -> None:
    if _SAID.acquire(blocking=False):
        print(f"paused {point}", flush=True)
    threading.Event().wait(WAIT)
    os._exit(3)


def pause_at_page(read_ahead: Any) -> Any:
    pages = 0

    def counted(walk: Iterator[Any], depth: int) -> Iterator[Any]:
        nonlocal pages
        for page in read_ahead(walk, depth):
            pages += 1
            if pages == PAGES:
                pause("mid-extract")
            yield page

    return counted


def pause_after_first_job(run_managed: Any) -> Any:
    first_done = threading.Event()
    started = 0
    lock = threading.Lock()

    def managed(job: RunnableLoadJob, *args: Any) -> None:
        nonlocal started
        with lock:
            started += 1
            first = started == 1
        if first:
            run_managed(job, *args)
            first_done.set()
            return
        first_done.wait(WAIT)
        pause("loading")

    return managed


if __name__ == "__main__":
    point, args = sys.argv[1], sys.argv[2:]
    if point == "mid-extract":
        source.read_ahead = pause_at_page(source.read_ahead)
    elif point == "loading":
        RunnableLoadJob.run_managed = pause_after_first_job(  # type: ignore[method-assign]
            RunnableLoadJob.run_managed)
    else:
        sys.exit(f"unknown point {point!r}")
    sys.exit(main(args))
