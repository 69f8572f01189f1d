"""One Grow sync run: Grow -> dlt -> schema `grow` of the warehouse, its summary kept in
`grow._sync_runs`.

The same guarantees as the Manage sync (`pipelines.clio.sync`), through the same pieces:
watermarks in `grow._sync_watermarks`, moved in the transaction that settles the load;
tombstones in `grow._tombstones`, purged after every load; a full refresh replaces each
table in one transaction. Its own dlt pipeline (`clio_sync_grow`) keeps its state apart.
The caller holds the writer lock. Grow loads into the DuckDB warehouse only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import dlt
import duckdb

from pipelines import warehouse
from pipelines.clio import watermarks
from pipelines.clio.client import Page
from pipelines.clio.deletions import existing_tables
from pipelines.clio.hints import LoadMode
from pipelines.clio.load import make_pipeline, run_pipeline, settle
from pipelines.clio.progress import SyncProgress
from pipelines.clio.run_record import record_run
from pipelines.clio.source import WalkOptions
from pipelines.clio.stats import RunStats
from pipelines.clio.summary import RunSummary
from pipelines.clio.watermarks import Watermarks
from pipelines.errors import ClioSyncError, ConfigError
from pipelines.grow.advice import grow_advice
from pipelines.grow.catalog import BY_TABLE, DATASET, ENDPOINTS, NOTES, RESOURCES, GrowResource
from pipelines.grow.client import GrowClient
from pipelines.grow.config import GrowSettings
from pipelines.grow.source import Known, grow_source

PIPELINE_NAME = "clio_sync_grow"
PREFIX = "grow."  # how `--resources` names Grow's tables


def select_resources(names: Iterable[str] | None, notes: bool = False) -> tuple[GrowResource, ...]:
    """The Grow resources named (`matters` or `grow.matters`); all but the notes when None
    (the notes too with `notes`)."""
    if not names:
        return tuple(r for r in RESOURCES if notes or r not in NOTES)
    wanted = {n.strip().removeprefix(PREFIX) for n in names if n.strip()}
    unknown = sorted(wanted - set(BY_TABLE))
    if unknown:
        raise ConfigError(
            f"Unknown Grow resource(s) {', '.join(PREFIX + u for u in unknown)} in --resources. "
            f"Grow's are: {', '.join(PREFIX + t for t in BY_TABLE)} (comma-separated)."
        )
    return tuple(r for r in RESOURCES if r.table in wanted)


def grow_pipeline(db: Path) -> dlt.Pipeline:
    return make_pipeline(db, dataset=DATASET, name=PIPELINE_NAME)


def grow_sync(
    db: Path,
    settings: GrowSettings,
    *,
    resources: Sequence[str] | None = None,
    full_refresh: bool = False,
    options: WalkOptions = WalkOptions(),  # noqa: B008 - frozen
    show_progress: bool = False,
) -> RunSummary:
    """Sync the chosen Grow resources into schema `grow` of the warehouse `db`.

    Raises:
        ClioSyncError: the run failed; nothing of it was loaded.
    """
    chosen = select_resources(resources, settings.notes)
    warehouse.make_folders(db)
    warehouse.connect(db).close()  # a file held by a notebook fails here, clearly
    stats = RunStats()
    summary = RunSummary(run_id=uuid.uuid4().hex[:12], started_at=datetime.now(UTC),
                         destination="duckdb", full_refresh=full_refresh)
    pipeline = grow_pipeline(db)
    endpoints = [r.endpoint for r in chosen]
    con = warehouse.connect(db)
    try:
        stored = {} if full_refresh else watermarks.read(con, endpoints, DATASET)
        known = Known() if full_refresh else read_known(con)
    finally:
        con.close()
    marks = Watermarks(start=stored)
    mode: LoadMode = "replace" if full_refresh else "merge"
    try:
        with grow_advice(), GrowClient(settings, stats=stats) as client, \
                SyncProgress(stats, show_progress) as shown:
            hooks = [hook for hook in (options.on_page, shown.on_page) if hook is not None]

            def on_page(resource: str, page: Page) -> None:
                for hook in hooks:
                    hook(resource, page)

            walk = replace(options, on_page=on_page, mode=mode)
            run_pipeline(pipeline, grow_source(client, chosen, walk, marks, known))
        settle(pipeline, db, endpoints=ENDPOINTS,
               then=lambda c: watermarks.save(c, marks.advanced, summary.run_id, DATASET))
        summary.status = "ok"
    except BaseException as exc:
        summary.status = "failed"
        summary.error = str(exc) if isinstance(exc, ClioSyncError) else type(exc).__name__
        raise
    finally:
        summary.finished_at = datetime.now(UTC)
        summary.resources = {PREFIX + r.table: stats.get(r.table) for r in chosen}
        record_run(pipeline, summary)
    return summary


def read_known(con: duckdb.DuckDBPyConnection) -> Known:
    """The converted leads and the contacts and matters the warehouse already holds."""
    tables = existing_tables(con, DATASET)
    known = Known()
    if "inbox_leads" in tables:
        known.accepted_leads = {i for (i,) in con.execute(
            f"select id from {DATASET}.inbox_leads where state = 'accepted'").fetchall()}
    for parent in ("contacts", "matters"):
        if parent in tables:
            known.parents[parent] = {i for (i,) in con.execute(
                f"select id from {DATASET}.{parent}").fetchall()}
    return known
