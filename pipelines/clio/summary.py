"""The summary of one sync run: printed at the end and kept in `clio._sync_runs`.

One row per resource and run:

    run_id, started_at, finished_at, status (ok | failed), error, destination,
    full_refresh, resource, records, pages, requests, retries, throttled_429,
    waits_seconds, seconds

`records` counts API records read (for a no-change incremental run, zero); `seconds` is
the time the resource spent waiting on Clio (requests, pacing, retries).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dlt.common.schema.typing import TTableSchemaColumns
from rich.console import Console
from rich.table import Table

from pipelines.clio.stats import ResourceStats

RUNS_TABLE = "_sync_runs"
log = logging.getLogger(__name__)

RUNS_COLUMNS: TTableSchemaColumns = {
    "run_id": {"data_type": "text", "nullable": False},
    "started_at": {"data_type": "timestamp", "timezone": True},
    "finished_at": {"data_type": "timestamp", "timezone": True},
    "status": {"data_type": "text"},
    "error": {"data_type": "text"},
    "destination": {"data_type": "text"},
    "full_refresh": {"data_type": "bool"},
    "resource": {"data_type": "text"},
    "records": {"data_type": "bigint"},
    "pages": {"data_type": "bigint"},
    "requests": {"data_type": "bigint"},
    "retries": {"data_type": "bigint"},
    "throttled_429": {"data_type": "bigint"},
    "waits_seconds": {"data_type": "double"},
    "seconds": {"data_type": "double"},
}


@dataclass
class RunSummary:
    """What a run did, per resource."""

    run_id: str
    started_at: datetime
    destination: str
    full_refresh: bool
    finished_at: datetime | None = None
    status: str = "running"
    error: str | None = None
    resources: dict[str, ResourceStats] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return sum(s.requests for s in self.resources.values())

    @property
    def records(self) -> int:
        return sum(s.records for s in self.resources.values())

    @property
    def elapsed(self) -> float:
        end = self.finished_at or self.started_at
        return (end - self.started_at).total_seconds()

    def rows(self) -> list[dict[str, Any]]:
        """The `_sync_runs` rows of this run."""
        common = {
            "run_id": self.run_id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "status": self.status,
            "error": self.error,
            "destination": self.destination,
            "full_refresh": self.full_refresh,
        }
        return [
            {
                **common,
                "resource": name,
                "records": s.records,
                "pages": s.pages,
                "requests": s.requests,
                "retries": s.retries,
                "throttled_429": s.throttled_429,
                "waits_seconds": round(s.waits_seconds, 3),
                "seconds": round(s.seconds, 3),
            }
            for name, s in self.resources.items()
        ]


def render_table(summary: RunSummary) -> Table:
    """The summary as a rich table (one line per resource, then the total)."""
    table = Table(title=f"clio-sync run {summary.status} in {summary.elapsed:.1f} s", title_justify="left")
    for name in ("resource", "records", "requests", "retries", "429s", "waits s", "seconds"):
        table.add_column(name, justify="left" if name == "resource" else "right")
    for name, s in summary.resources.items():
        table.add_row(name, *_numbers(s))
    total = ResourceStats()
    for s in summary.resources.values():
        for attr in ("records", "requests", "retries", "throttled_429", "waits_seconds", "seconds"):
            setattr(total, attr, getattr(total, attr) + getattr(s, attr))
    table.add_row("total", *_numbers(total), style="bold")
    return table


def _numbers(s: ResourceStats) -> list[str]:
    return [str(s.records), str(s.requests), str(s.retries), str(s.throttled_429),
            f"{s.waits_seconds:.1f}", f"{s.seconds:.1f}"]


def print_summary(summary: RunSummary, plain: bool) -> None:
    """Print the summary: a table on a terminal, one log line per resource for cron."""
    if not plain:
        Console(stderr=False).print(render_table(summary))
        return
    for name, s in summary.resources.items():
        log.info("%s: %d records, %d requests, %d retries, %d 429s, %.1f s",
                 name, s.records, s.requests, s.retries, s.throttled_429, s.seconds)
    log.info("run %s %s: %d records, %d requests in %.1f s", summary.run_id, summary.status,
             summary.records, summary.requests, summary.elapsed)
