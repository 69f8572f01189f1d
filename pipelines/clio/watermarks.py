"""Where each incremental walk starts: the watermarks, kept in the warehouse itself.

A watermark moves only after the data read under it is loaded, never before (DESIGN
invariant 1, issue #8.3). dlt's resource state would not do: dlt commits it to its local
folder when extraction ends, so a load that fails afterwards leaves it ahead of the data,
and the next run skips what the failed one read. So a run reads its starting points
here, walks, loads, and only then saves the new ones, in the transaction that settles
the load (`load.settle`):

    clio._sync_watermarks   (resource, updated_since, rows_after, run_id, saved_at)

A watermark is only trusted while its table still holds what that run left: if the table
is gone, or empty although the run left rows in it (a warehouse restored from an old
copy, a table dropped by hand), the endpoint is read in full again. A warehouse without
the table (made before this version) is read in full once.

The Parquet lake has no transactions; its watermarks are a JSON file in dlt's folder,
replaced atomically after a successful load. Losing that file means one full read.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.clio.deletions import DATASET, existing_tables
from pipelines.clio.endpoints import Endpoint

TABLE = "_sync_watermarks"
QUALIFIED = f"{DATASET}.{TABLE}"


def ddl(dataset: str = DATASET) -> str:
    """The watermark table of a dataset (`clio`, or `grow` for the Grow source)."""
    return f"""
CREATE SCHEMA IF NOT EXISTS {dataset};
CREATE TABLE IF NOT EXISTS {dataset}.{TABLE} (
    resource VARCHAR PRIMARY KEY,
    updated_since TIMESTAMPTZ NOT NULL,
    rows_after BIGINT,
    run_id VARCHAR,
    saved_at TIMESTAMPTZ NOT NULL
);
"""


DDL = ddl()

log = logging.getLogger(__name__)


@dataclass
class Watermarks:
    """The walks' starting points, and the points the next run will start from.

    `start` is read before the run; the source fills `advanced` as each walk ends; the
    caller saves `advanced` once the load has succeeded.
    """

    start: dict[str, str] = field(default_factory=dict)
    advanced: dict[str, str] = field(default_factory=dict)

    def start_of(self, table: str) -> str | None:
        return self.start.get(table)

    def advance(self, table: str, updated_since: str) -> None:
        self.advanced[table] = updated_since


def read(con: duckdb.DuckDBPyConnection, endpoints: Iterable[Endpoint],
         dataset: str = DATASET) -> dict[str, str]:
    """The trusted watermark of each incremental endpoint that has one."""
    tables = existing_tables(con, dataset)
    if TABLE not in tables:
        return {}
    stored = {
        resource: (since, rows_after)
        for resource, since, rows_after in con.execute(
            f"select resource, updated_since, rows_after from {dataset}.{TABLE}"
        ).fetchall()
    }
    marks = {}
    for endpoint in endpoints:
        if not endpoint.incremental or endpoint.table not in stored:
            continue
        since, rows_after = stored[endpoint.table]
        if _still_holds(con, endpoint.table, tables, rows_after, dataset):
            marks[endpoint.table] = since.astimezone(UTC).isoformat()
    return marks


def _still_holds(con: duckdb.DuckDBPyConnection, table: str, tables: set[str],
                 rows_after: int | None, dataset: str = DATASET) -> bool:
    if table not in tables:
        log.warning("%s.%s is missing although a run loaded it: reading it in full",
                    dataset, table)
        return False
    if rows_after:
        (count,) = con.execute(f'select count(*) from {dataset}."{table}"').fetchone() or (0,)
        if count == 0:
            log.warning("%s.%s is empty although the last run left %d rows in it: reading it "
                        "in full", dataset, table, rows_after)
            return False
    return True


def save(con: duckdb.DuckDBPyConnection, marks: dict[str, str], run_id: str,
         dataset: str = DATASET) -> None:
    """Store `marks` (in the caller's transaction), with each table's row count now."""
    if not marks:
        return
    con.execute(ddl(dataset))
    tables = existing_tables(con, dataset)
    now = datetime.now(UTC)
    for resource, since in sorted(marks.items()):
        rows = None
        if resource in tables:
            (rows,) = con.execute(f'select count(*) from {dataset}."{resource}"').fetchone() or (0,)
        con.execute(
            f"insert or replace into {dataset}.{TABLE} values (?, ?, ?, ?, ?)",
            [resource, datetime.fromisoformat(since), rows, run_id, now],
        )


class FileWatermarks:
    """The lake's watermarks: one JSON object {resource: updated_since} in a file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self, endpoints: Iterable[Endpoint]) -> dict[str, str]:
        try:
            stored = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            log.warning("%s is unreadable: the lake's endpoints are read in full", self.path)
            return {}
        return {e.table: stored[e.table] for e in endpoints
                if e.incremental and isinstance(stored.get(e.table), str)}

    def save(self, marks: dict[str, str]) -> None:
        """Merge `marks` into the file, replacing it atomically."""
        if not marks:
            return
        current = {}
        if self.path.exists():
            try:
                current = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                current = {}
        current.update(marks)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".watermarks-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(current, handle, indent=2, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)
