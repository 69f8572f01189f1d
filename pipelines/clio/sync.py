"""One sync run: Clio -> dlt -> the warehouse, with its summary kept in `clio._sync_runs`.

The caller holds the writer lock (`warehouse.writer_lock`); `run` in `commands.py` does.

A run reads each endpoint from its watermark (kept in the warehouse, `watermarks.py`),
loads, and only then, in the transaction that settles the load, moves the watermarks:
they never get ahead of the data. Whatever fails (a bad page, a killed process, a load
that cannot finish), the next run starts from the old watermarks and reads it again;
dlt finishes a package whose load was interrupted before anything else, and the merge
on `id` makes the overlap harmless. A full refresh replaces each group's tables in one
transaction (into DuckDB without dlt's load, `direct_replace.py`; elsewhere dlt's
`insert-from-staging`), so no table is ever seen empty.

A run that reads endpoints in full loads them in a few groups (`walk_plan.py`), each
loaded and settled with its watermarks as soon as its walks end, while a helper thread
pages the next group (`walk_ahead.py`): each group commits all or nothing, and a later
group's failure keeps the groups before it. An incremental run is one group. A run that
merges loads a group in packages of bounded size (`walk_slices.py`), each settled with
the watermarks of the walks it ends.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import dlt

from pipelines import warehouse
from pipelines.clio import destinations, direct_replace, watermarks
from pipelines.clio.client import ClioClient, Page
from pipelines.clio.config import ClioSettings
from pipelines.clio.endpoints import BY_TABLE, ENDPOINTS, Endpoint
from pipelines.clio.hints import LoadMode
from pipelines.clio.load import (
    PIPELINE_NAME,
    Destination,
    Released,
    finish_pending,
    make_pipeline,
    run_pipeline,
    settle,
)
from pipelines.clio.progress import SyncProgress
from pipelines.clio.run_record import empty_runs_table, lacks_runs_table, record_run
from pipelines.clio.source import PageHook, WalkOptions
from pipelines.clio.stats import RunStats
from pipelines.clio.summary import RunSummary
from pipelines.clio.walk_ahead import WalkAhead, plan_walks
from pipelines.clio.walk_plan import load_groups
from pipelines.clio.walk_slices import SlicedWalks
from pipelines.clio.watermarks import FileWatermarks, Watermarks
from pipelines.errors import ClioSyncError, ConfigError
from pipelines.firms.profiles import schemas

log = logging.getLogger(__name__)


def select_endpoints(names: Iterable[str] | None) -> tuple[Endpoint, ...]:
    """The catalog endpoints named in `names` (all when None), in catalog order."""
    if not names:
        return ENDPOINTS
    wanted = {n.strip() for n in names if n.strip()}
    unknown = sorted(wanted - set(BY_TABLE))
    if unknown:
        raise ConfigError(
            f"Unknown resource(s) {', '.join(unknown)} in --resources. Valid names: "
            f"{', '.join(BY_TABLE)} (comma-separated)."
        )
    return tuple(e for e in ENDPOINTS if e.table in wanted)


def sync(
    db: Path,
    settings: ClioSettings,
    *,
    resources: Sequence[str] | None = None,
    full_refresh: bool = False,
    destination: Destination = "duckdb",
    options: WalkOptions = WalkOptions(),  # noqa: B008 - frozen
    show_progress: bool = False,
    released: Released | None = None,
) -> RunSummary:
    """Sync the chosen endpoints of Clio into the warehouse `db` (or the lake).

    A firm profile's settings (`settings.firm`) sync into that firm's schema
    (`clio_<firm>`), with its own dlt pipeline, watermarks and `_sync_runs`.

    Args:
        db: the DuckDB warehouse (its folder also holds dlt's state and the default lake).
        settings: the Clio connection.
        resources: catalog table names to sync; all when None.
        full_refresh: read these resources in full and replace their tables (each in one
            transaction; the lake's tables are emptied first).
        destination: `duckdb` (the warehouse), `filesystem` (Parquet files) or any dlt
            destination configured the dlt way (`postgres`...; the folder of `db` then
            keeps dlt's state only).
        options: how resources walk their indexes.
        show_progress: draw the live per-resource display.
        released: entered while reading Clio (see `load.run_pipeline`): the caller's
            writer lock is let go meanwhile.

    Returns:
        The run's summary (also written to `clio._sync_runs`).

    Raises:
        ClioSyncError: the run failed; nothing of it was loaded.
    """
    endpoints = select_endpoints(resources)
    destinations.check_destination(destination)
    warehouse.make_folders(db)  # owner-only: they hold the firm's data
    if destination == destinations.DUCKDB:
        warehouse.connect(db).close()  # a file held by a notebook fails here, clearly
    stats = RunStats()
    summary = RunSummary(
        run_id=uuid.uuid4().hex[:12],
        started_at=datetime.now(UTC),
        destination=destination,
        full_refresh=full_refresh,
    )
    names = schemas(settings.firm)
    pipeline = make_pipeline(db, destination, dataset=names.raw, name=names.pipeline)
    if destinations.is_server(destination):
        with destinations.connect_pipeline(pipeline, db):
            pass  # no credentials, no server: said now, before Clio is read
    lake = destination == destinations.FILESYSTEM
    reread = timedelta(hours=settings.reread_hours)
    marks = Watermarks(start={} if full_refresh
                       else _stored_marks(pipeline, db, endpoints, lake, reread))
    mode: LoadMode = "append" if lake else "replace" if full_refresh else "merge"
    # a full refresh of the warehouse replaces its groups without dlt's load, where it can
    direct = mode == "replace" and destination == destinations.DUCKDB \
        and direct_replace.replace_path() == "direct"
    if destination == destinations.DUCKDB:
        direct_replace.clear_leftovers(pipeline, db)  # whatever a killed refresh left
    groups = load_groups(endpoints, marks, full=full_refresh)
    walked = [e for group in groups for e in group]
    try:
        with ClioClient(settings, stats=stats) as client, \
                SyncProgress(stats, show_progress) as shown, \
                WalkAhead(client, plan_walks(walked, marks, options.page_limit)) as ahead, \
                SlicedWalks(cast(ClioClient, ahead),  # the stand-in pages ahead: a client
                            replace(options, on_page=_each([hook for hook in (
                                options.on_page, shown.on_page) if hook is not None]), mode=mode),
                            marks) as walks:
            position = 0
            first = True
            if direct:  # an interrupted run's package first, then the tables the run lacks
                _create_lacking(pipeline, db, walked, mode, released)
                first = False
            while position < len(groups):
                # loaded and settled (with its watermarks) as soon as its walks end, while
                # the helper pages the next groups; a merge in packages of bounded size
                group, position = _next_group(groups, position, ahead)
                if direct and direct_replace.fits(pipeline, db, group):
                    _replace_directly(pipeline, db, group, walks, marks, summary.run_id, released)
                    continue
                while pending := walks.pending(group):
                    source = walks.source(pending)
                    if first and lacks_runs_table(pipeline):
                        source.resources.add(empty_runs_table())  # for `record_run`, below
                    run_pipeline(
                        pipeline,
                        source,
                        refresh="drop_data" if full_refresh and lake else None,
                        loader_file_format="parquet" if lake else None,
                        released=released,
                        finish_first=first,
                    )
                    first = False
                    ended = [e.table for e in pending if e not in walks.pending(pending)]
                    _save_marks(pipeline, db, marks.only(ended), summary.run_id, lake, pending)
        summary.status = "ok"
    except BaseException as exc:
        summary.status = "failed"
        summary.error = str(exc) if isinstance(exc, ClioSyncError) else type(exc).__name__
        raise
    finally:
        summary.finished_at = datetime.now(UTC)
        summary.resources = {e.table: stats.get(e.table) for e in endpoints}
        record_run(pipeline, summary)
    return summary


def _next_group(groups: Sequence[tuple[Endpoint, ...]], position: int,
                ahead: WalkAhead) -> tuple[tuple[Endpoint, ...], int]:
    """The group at `position` with the groups after it that load with it, and the
    position after them.

    A later group joins when it is paged already (a small firm, a fast server), or when
    Clio has not made the run wait by the time the first group has loaded: then the run
    is the slower side, nothing waits for a load to fill the time, and each load apart
    would only add dlt's steps (about a second each), so the rest loads once, at the end.
    """
    group = groups[position]
    position += 1
    while position < len(groups) and (ahead.has_paged(groups[position])
                                      or (position > 1 and not ahead.waited)):
        group += groups[position]
        position += 1
    return group, position


def _create_lacking(pipeline: dlt.Pipeline, db: Path, endpoints: Sequence[Endpoint],
                    mode: LoadMode, released: Released | None) -> None:
    """Finish what an interrupted run left, then have dlt create, empty, the tables of
    `endpoints` the warehouse has none of (a first run's: all), so that every group is
    replaced directly; `_sync_runs` too, for `record_run`."""
    lacking = direct_replace.lacking(pipeline, db, endpoints)
    resources = direct_replace.empty_resources(lacking, mode)
    if lacks_runs_table(pipeline):
        resources.append(empty_runs_table())
    if not resources:
        finish_pending(pipeline)
        return
    run_pipeline(pipeline, direct_replace.tables_source(resources), released=released)
    settle(pipeline, db)


def _replace_directly(pipeline: dlt.Pipeline, db: Path, group: Sequence[Endpoint],
                      walks: SlicedWalks, marks: Watermarks, run_id: str,
                      released: Released | None) -> None:
    """Replace the tables of `group` in one transaction with their watermarks
    (`direct_replace.py`)."""
    dataset = pipeline.dataset_name
    direct_replace.replace(pipeline, db, group, walks.whole, released=released, then=lambda con:
                           watermarks.save(con, marks.only([e.table for e in group]), run_id,
                                           dataset, endpoints=group))


def _stored_marks(pipeline: dlt.Pipeline, db: Path, endpoints: Sequence[Endpoint], lake: bool,
                  reread: timedelta) -> dict[str, str]:
    """The watermarks where `pipeline` loads: its dataset in the warehouse or the server."""
    if lake:
        return _lake_marks(db, pipeline.pipeline_name.removesuffix("_lake")).read(endpoints)
    with destinations.connect_pipeline(pipeline, db) as con:
        return watermarks.read(con, endpoints, pipeline.dataset_name, reread_every=reread,
                               check_fields=True)


def _save_marks(pipeline: dlt.Pipeline, db: Path, marks: Watermarks, run_id: str,
                lake: bool, endpoints: Sequence[Endpoint]) -> None:
    """Move the watermarks of `endpoints`, now that their data is loaded (with the load's
    settlement, which purges the tombstoned rows of the tables it loaded)."""
    if lake:
        _lake_marks(db, pipeline.pipeline_name.removesuffix("_lake")).save(marks.advanced)
        return
    settle(pipeline, db, then=lambda con: watermarks.save(
        con, marks, run_id, pipeline.dataset_name, endpoints=endpoints), endpoints=endpoints)


def _lake_marks(db: Path, pipeline_name: str) -> FileWatermarks:
    own = "" if pipeline_name == PIPELINE_NAME else f"_{pipeline_name}"  # a firm's
    return FileWatermarks(warehouse.pipelines_dir(db) / f"lake_watermarks{own}.json")


def _each(hooks: list[PageHook]) -> PageHook:
    def call(resource: str, page: Page) -> None:
        for hook in hooks:
            hook(resource, page)

    return call


def renew_webhooks_if_subscribed(settings: ClioSettings, db: Path) -> None:
    """Extend this warehouse's webhook subscriptions, when the webhooks area is installed
    and has any; a failure is logged (the sync itself does not need webhooks)."""
    try:
        from pipelines.webhooks.lifecycle import renew_if_subscribed
    except ImportError:
        return
    try:
        renew_if_subscribed(settings, db)
    except ClioSyncError as exc:
        log.warning("Could not renew the webhook subscriptions: %s", exc)


def build_models_if_present(
    db: Path, destination: str = destinations.DUCKDB, lock_timeout: float = 10.0,
    firm: str | None = None,
) -> list[str] | None:
    """Rebuild the SQL models where the raw tables are, when the reports area is installed:
    the DuckDB file, or a server destination the models run on (PostgreSQL); a firm's
    (`reports_<firm>`... from `clio_<firm>`) when `firm` is given, else schema `reports`...
    None when nothing was built (no reports area, the lake, another server)."""
    try:
        from pipelines.reports.engine import as_engine, open_destination, runs_models
        from pipelines.reports.runner import build_models
        from pipelines.reports.schemas import ModelSchemas
    except ImportError:
        return None
    if destination != destinations.DUCKDB and not destinations.is_server(destination):
        return None
    if destination != destinations.DUCKDB and not runs_models(destination):
        log.warning("The SQL models run on DuckDB and PostgreSQL: none built on --destination %s",
                    destination)
        return None
    engine = (as_engine(warehouse.connect(db)) if destination == destinations.DUCKDB
              else open_destination(destination, lock_timeout=lock_timeout))
    try:
        return build_models(as_engine(engine, ModelSchemas.for_firm(firm)))
    finally:
        engine.close()
