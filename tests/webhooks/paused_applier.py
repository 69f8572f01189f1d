"""`clio-sync ARGS` that stops at a chosen point of its first webhook batch, says so, and
waits there to be killed: the kill lands exactly where the test wants it.

    python paused_applier.py POINT ARGS...

POINT is `claimed` (events claimed, nothing written yet), `loaded` (rows merged into the
warehouse, not yet in the apply ledger: on the direct path, inside the batch's open
transaction; through dlt, loaded) or `logged` (in the ledger, not yet acknowledged in the
inbox). At that point it prints `paused POINT` and waits at most WAIT seconds.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from pipelines.cli import main
from pipelines.webhooks import direct, inbox
from pipelines.webhooks.loader import BatchLoader

WAIT = 60.0  # a test that never kills must not leave this process behind


def pause(point: str) -> None:
    print("paused", point, flush=True)
    threading.Event().wait(WAIT)
    os._exit(3)


def before(point: str, call: Callable[..., Any]) -> Callable[..., Any]:
    def paused(*args: Any, **kwargs: Any) -> Any:
        pause(point)
        return call(*args, **kwargs)
    return paused


def after(point: str, call: Callable[..., Any]) -> Callable[..., Any]:
    def paused(*args: Any, **kwargs: Any) -> Any:
        result = call(*args, **kwargs)
        pause(point)
        return result
    return paused


if __name__ == "__main__":
    point, args = sys.argv[1], sys.argv[2:]
    if point == "claimed":  # whichever write path the batch takes
        direct.prepare = before(point, direct.prepare)
        BatchLoader.write = before(point, BatchLoader.write)  # type: ignore[method-assign]
    elif point == "loaded":
        direct.write = after(point, direct.write)
        BatchLoader.write = after(point, BatchLoader.write)  # type: ignore[method-assign]
    elif point == "logged":
        inbox.acknowledge = before(point, inbox.acknowledge)
    else:
        sys.exit(f"unknown point {point!r}")
    sys.exit(main(args))
