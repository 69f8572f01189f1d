"""Close the gaps left by suspended or expired webhooks.

An incremental `run` fetches every record changed since the previous run began, so it
covers updates made during the gap; `reconcile` finds records deleted in it. A gap is
marked done only once both succeeded; until then it stays due (`webhooks status`).
"""

from __future__ import annotations

import logging
import sqlite3

from pipelines.webhooks import lifecycle
from pipelines.webhooks.jobs import JobRunner

log = logging.getLogger(__name__)


def run_catchups(conn: sqlite3.Connection, jobs: JobRunner) -> bool:
    """Run the catch-up for every due gap; True if none is left due."""
    due = lifecycle.due_catchups(conn)
    if not due:
        return True
    log.info("catching up %d webhook gap(s) (%s): incremental sync, then reconcile",
             len(due), ", ".join(sorted({row["model"] for row in due})))
    if jobs.run("run") and jobs.run("reconcile"):
        lifecycle.finish_catchups(conn, [row["id"] for row in due])
        return True
    log.warning("the catch-up did not finish; it stays due and is retried at the next renewal")
    return False

