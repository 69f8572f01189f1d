"""Where each incremental walk starts: the watermarks, kept in the warehouse itself.

A watermark moves only after the data read under it is loaded, never before (DESIGN
invariant 1, issue #8.3). dlt's resource state would not do: dlt commits it to its local
folder when extraction ends, so a load that fails afterwards leaves it ahead of the data,
and the next run skips what the failed one read. So a run reads its starting points
here, walks, loads, and only then saves the new ones, in the transaction that settles
the load (`load.settle`):

    clio._sync_watermarks   (resource, updated_since, rows_after, run_id, saved_at,
                             fields, full_read_at)

A watermark is only trusted while its table still holds what that run left: if the table
is gone, or empty although the run left rows in it (a warehouse restored from an old
copy, a table dropped by hand), the endpoint is read in full again. A warehouse without
the table (made before this version) is read in full once. So is an endpoint whose
catalog `fields` changed since its rows were read (a new column, a new child table:
rows read before would lack them), or whose watermark predates the `fields` column.

Endpoints marked `reread` (matters, contacts) are also read in full once their last full
read (`full_read_at`) is the re-read period older than their watermark (the previous
run's start, both in Clio's clock): Clio does not say whether editing a custom field
value moves its record's `updated_at`, so an incremental walk may miss it.

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
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipelines.clio.deletions import DATASET, existing_tables, table_columns
from pipelines.clio.destinations import SqlConnection
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
ALTER TABLE {dataset}.{TABLE} ADD COLUMN IF NOT EXISTS fields VARCHAR;
ALTER TABLE {dataset}.{TABLE} ADD COLUMN IF NOT EXISTS full_read_at TIMESTAMPTZ;
"""


DDL = ddl()
COLUMNS = {"resource", "updated_since", "rows_after", "run_id", "saved_at", "fields",
           "full_read_at"}

log = logging.getLogger(__name__)


@dataclass
class Watermarks:
    """The walks' starting points, and the points the next run will start from.

    `start` is read before the run; the source fills `advanced` as each walk ends (and
    `full` with the walks that read their index in full); the caller saves them once the
    load has succeeded.
    """

    start: dict[str, str] = field(default_factory=dict)
    advanced: dict[str, str] = field(default_factory=dict)
    full: set[str] = field(default_factory=set)

    def start_of(self, table: str) -> str | None:
        return self.start.get(table)

    def advance(self, table: str, updated_since: str) -> None:
        self.advanced[table] = updated_since
        if table not in self.start:
            self.full.add(table)

    def only(self, tables: Iterable[str]) -> Watermarks:
        """These marks narrowed to `tables` (what one load of a run settles)."""
        chosen = set(tables)
        return Watermarks(
            start={t: m for t, m in self.start.items() if t in chosen},
            advanced={t: m for t, m in self.advanced.items() if t in chosen},
            full=self.full & chosen,
        )


def ensure_table(con: SqlConnection, dataset: str = DATASET) -> None:
    """Create the table (or add the columns newer versions need) when missing, and only
    then: DDL takes an exclusive lock, which a reader's open transaction would hold up."""
    if not table_columns(con, dataset).get(TABLE, set()) >= COLUMNS:
        con.execute(ddl(dataset))


def read(con: SqlConnection, endpoints: Iterable[Endpoint],
         dataset: str = DATASET, reread_every: timedelta | None = None,
         check_fields: bool = False) -> dict[str, str]:
    """The trusted watermark of each incremental endpoint that has one.

    Args:
        reread_every: read `reread` endpoints in full when their last full read is this
            much older than their watermark (None: never for that reason).
        check_fields: distrust a watermark saved with other `fields` than the catalog's
            (or with none: saved before this version).
    """
    tables = existing_tables(con, dataset)
    if TABLE not in tables:
        return {}
    ensure_table(con, dataset)  # the columns newer versions added, on an older warehouse
    stored = {
        resource: (since, rows_after, fields, full_read_at)
        for resource, since, rows_after, fields, full_read_at in con.execute(
            f"select resource, updated_since, rows_after, fields, full_read_at "
            f"from {dataset}.{TABLE}"
        ).fetchall()
    }
    marks = {}
    for endpoint in endpoints:
        if not endpoint.incremental or endpoint.table not in stored:
            continue
        since, rows_after, fields, full_read_at = stored[endpoint.table]
        if check_fields and fields != endpoint.fields:
            log.info("%s: the catalog's fields changed since it was read: reading it in full",
                     endpoint.table)
        elif endpoint.reread and _due(full_read_at, since, reread_every):
            log.info("%s: last read in full %s: reading it in full again (custom field values "
                     "may change without moving updated_at)", endpoint.table, full_read_at)
        elif _still_holds(con, endpoint.table, tables, rows_after, dataset):
            marks[endpoint.table] = since.astimezone(UTC).isoformat()
    return marks


def _due(full_read_at: datetime | None, since: datetime, every: timedelta | None) -> bool:
    """Clio's clock on both sides (a sandbox's simulated time, a skewed host clock)."""
    return every is not None and (full_read_at is None or since - full_read_at >= every)


def _still_holds(con: SqlConnection, table: str, tables: set[str],
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


def save(con: SqlConnection, marks: Watermarks | dict[str, str], run_id: str,
         dataset: str = DATASET, endpoints: Iterable[Endpoint] = ()) -> None:
    """Store the advanced marks (in the caller's transaction), with each table's row count
    now, the `fields` of `endpoints` its rows were read with and, after a full read, its
    time (a plain dict of marks records neither)."""
    advanced = marks.advanced if isinstance(marks, Watermarks) else marks
    full = marks.full if isinstance(marks, Watermarks) else set()
    if not advanced:
        return
    ensure_table(con, dataset)
    tables = existing_tables(con, dataset)
    now = datetime.now(UTC)
    fields = {e.table: e.fields for e in endpoints}
    for resource, since in sorted(advanced.items()):
        rows = None
        if resource in tables:
            (rows,) = con.execute(f'select count(*) from {dataset}."{resource}"').fetchone() or (0,)
        moment = datetime.fromisoformat(since)
        con.execute(
            f"insert into {dataset}.{TABLE} (resource, updated_since, rows_after, run_id, "
            "saved_at, fields, full_read_at) values (?, ?, ?, ?, ?, ?, ?) "
            "on conflict (resource) do update set updated_since = excluded.updated_since, "
            "rows_after = excluded.rows_after, run_id = excluded.run_id, "
            "saved_at = excluded.saved_at, fields = excluded.fields, "
            f"full_read_at = coalesce(excluded.full_read_at, {TABLE}.full_read_at)",
            [resource, moment, rows, run_id, now, fields.get(resource),
             moment if resource in full else None],
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
