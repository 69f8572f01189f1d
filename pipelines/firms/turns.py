"""The writer lock, let go while a firm reads Clio: loads take turns, reads run in parallel.

`run --all-firms --parallel N` runs each firm in its own process; with DuckDB they all
write one file, which has one writer at a time. A firm's run holds the lock (the usual
`warehouse.writer_lock`) for what touches the warehouse (reading its watermarks,
finishing a load left by a killed run, loading, settling, recording the run) and lets
it go while it only reads Clio and writes dlt's own folder (extraction and
normalization), which is most of a run's time, since Clio's rate limit paces it. The
read snapshot is not published per firm: the parent publishes once, after every firm.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import TracebackType

from pipelines import warehouse


class WriterTurns:
    """`with WriterTurns(db, command) as turns:` holds the writer lock, except inside
    `with turns.released():`."""

    def __init__(self, db: Path, command: str, timeout: float) -> None:
        self.db = db
        self.command = command
        self.timeout = timeout
        self._held: ExitStack | None = None
        self._since = 0.0
        self.held_seconds = 0.0  # how long this run kept other firms' loads waiting

    def __enter__(self) -> WriterTurns:
        self._hold()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._let_go()

    @contextmanager
    def released(self) -> Iterator[None]:
        """Let the lock go for the block; take it again after (waiting up to `timeout`)."""
        self._let_go()
        try:
            yield
        finally:
            self._hold()

    def _hold(self) -> None:
        stack = ExitStack()
        stack.enter_context(warehouse.writer_lock(self.db, self.command, self.timeout,
                                                  publish=False))
        self._held = stack
        self._since = time.monotonic()

    def _let_go(self) -> None:
        if self._held is not None:
            held, self._held = self._held, None
            self.held_seconds += time.monotonic() - self._since
            held.close()
