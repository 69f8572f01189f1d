"""Progress of a sync: a live rich display per resource, or nothing (plain logs, quiet).

The display shows pages and records read per resource and the time spent waiting for
the rate limit (the client's own log line announces each long wait).
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from pipelines.clio.client import Page
from pipelines.clio.stats import RunStats


class SyncProgress:
    """A live display fed by `on_page`; a no-op when `enabled` is false."""

    def __init__(self, stats: RunStats, enabled: bool) -> None:
        self.stats = stats
        self.enabled = enabled
        self._tasks: dict[str, TaskID] = {}
        self._progress = Progress(
            SpinnerColumn(),
            TimeElapsedColumn(),
            TextColumn("[bold]{task.description}[/bold] {task.fields[pages]} pages, "
                       "{task.fields[records]} records {task.fields[waits]}"),
            console=Console(stderr=True),
            transient=False,
        )

    def __enter__(self) -> SyncProgress:
        if self.enabled:
            self._progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.enabled:
            self._progress.stop()

    def on_page(self, resource: str, page: Page) -> None:
        """Record one page of `resource` (called by the source after every page)."""
        if not self.enabled:
            return
        if resource not in self._tasks:
            for earlier in self._tasks.values():
                self._progress.stop_task(earlier)
            self._tasks[resource] = self._progress.add_task(
                resource, total=None, pages=0, records=0, waits=""
            )
        counts = self.stats.get(resource)
        waits = f"(rate-limit waits {counts.waits_seconds:.1f} s)" if counts.waits_seconds >= 0.05 else ""
        self._progress.update(
            self._tasks[resource], pages=counts.pages, records=counts.records, waits=waits
        )
