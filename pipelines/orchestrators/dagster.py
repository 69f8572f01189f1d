"""Dagster definitions of clio-sync: each firm's raw tables as dlt assets, the SQL models
below them, a schedule for the sync and a nightly reconcile.

    pip install 'clio-sync[dagster]'
    dagster dev -m pipelines.orchestrators.dagster

One asset group per firm profile (`firms.<name>`, see `pipelines.firms.profiles`), or one
group `clio` for `sources.clio` when no profile is configured. Each group has
`<raw>/<table>`, one asset per Clio endpoint, all loaded by one dagster-dlt run
(`@dlt_assets`, `DagsterDltResource`) of `clio_source(firm=...)` into the firm's raw
schema (`clio_acme`, or `clio`). Each group also has `<reports>/<model>` (`reports_acme`,
or `reports`), one asset per report model (`sql/reports/`), built together in the firm's
schemas by `pipelines.reports.runner.build_models` (as `clio-sync --firm NAME models`
does) downstream of the raw tables each reads.

Jobs and schedules: `clio_sync` materializes every asset (hourly by default);
`clio_reconcile`, one op per firm, removes the records deleted at Clio (an incremental
sync cannot see those), nightly. Schedules start stopped, as Dagster's do.

The watermarks are the source's own (`pipelines.clio.state_marks`): kept in dlt's
state, promoted only once the package that carried their data is loaded, so a failed or
killed materialization re-reads from the earlier points; dagster-dlt drops the local
pipeline folder before each run and dlt restores the state from the destination. The
DuckDB warehouse has one writer at a time: each step holds its writer lock, as the CLI
does, so firms' steps take turns on it; each firm's steps are in the concurrency pool
`clio_sync_<group>` (limit it to 1: one step of a firm at a time).

The warehouse is `DESTINATION__DUCKDB__CREDENTIALS` or `data/clio_sync.duckdb`, as for
the CLI. Loading these definitions reads no secret and touches no file: credentials are
resolved when a step runs, so one firm's missing settings fail that firm's steps only.
"""

# No `from __future__ import annotations` here: dagster reads the `context` parameter's
# annotation as an object, and a string annotation fails its check.

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import dlt
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSelection,
    AssetSpec,
    Definitions,
    MaterializeResult,
    OpDefinition,
    OpExecutionContext,
    ScheduleDefinition,
    define_asset_job,
    job,
    multi_asset,
    op,
)
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData
from dlt.extract.resource import DltResource

from pipelines import warehouse
from pipelines.clio.client import ClioClient
from pipelines.clio.config import ClioSettings
from pipelines.clio.deletions import DATASET
from pipelines.clio.endpoints import ENDPOINTS
from pipelines.clio.load import expected_cause, make_pipeline, settle
from pipelines.clio.run_record import record_run
from pipelines.clio.source import clio_source
from pipelines.clio.stats import RunStats
from pipelines.clio.summary import RunSummary
from pipelines.firms.profiles import FirmSchemas, firm_names, schemas

SYNC_JOB, RECONCILE_JOB = "clio_sync", "clio_reconcile"
SYNC_CRON = "0 * * * *"  # hourly: an incremental run with no change costs a request per endpoint
RECONCILE_CRON = "30 2 * * *"  # nightly: it lists every id of every endpoint
DEFAULT_GROUP = "clio"  # the group of `sources.clio` when no firm profile is configured


@dataclass(frozen=True)
class Firm:
    """One asset group: a firm profile (`name`), or `sources.clio` (`name` None)."""

    name: str | None
    db: Path
    schemas: FirmSchemas = field(default_factory=FirmSchemas)

    @property
    def group(self) -> str:
        return self.name or DEFAULT_GROUP

    @property
    def pool(self) -> str:
        """The Dagster concurrency pool of the firm's steps: with a limit of 1, one of them
        at a time (its watermarks are one state, its token one rate limit)."""
        return f"clio_sync_{self.group}"

    def raw_key(self, table: str) -> AssetKey:
        return AssetKey([self.schemas.raw, table])


@dataclass
class FirmTranslator(DagsterDltTranslator):
    """Asset keys `<raw schema>/<table>` in the firm's group, so firms never collide."""

    firm: Firm

    def get_asset_spec(self, data: DltResourceTranslatorData) -> AssetSpec:
        spec = super().get_asset_spec(data)
        # dagster-dlt's default deps name a made-up upstream asset per resource: none here
        return spec.replace_attributes(key=self.firm.raw_key(data.resource.name), deps=[],
                                       group_name=self.firm.group, kinds={"dlt", "duckdb"})


@dlt.source(name=DATASET, max_table_nesting=0)
def catalog_shape() -> Iterator[DltResource]:
    """The resources of `clio_source`, by name, without a connection: the asset specs are
    made from it when the definitions load (no secret needed then); each run passes the
    real source, whose resources carry the same names."""
    for endpoint in ENDPOINTS:
        yield dlt.resource([], name=endpoint.table)


def firms(db: Path | None = None) -> list[Firm]:
    """Every firm profile, or `sources.clio` alone when there is none."""
    where = warehouse.resolve_db(db)
    names = firm_names()
    if not names:
        return [Firm(None, where)]
    return [Firm(name, where, schemas(name)) for name in names]


def sync_assets(firm: Firm) -> AssetsDefinition:
    """The raw tables of `firm`, loaded by one dagster-dlt run of its `clio_source`."""
    translator = FirmTranslator(firm=firm)

    @dlt_assets(
        dlt_source=catalog_shape(),
        # No pipeline object at load time (dlt would make its folder and start its
        # telemetry): each run passes the real one, `make_pipeline`'s, as dagster-dlt allows.
        dlt_pipeline=None,  # type: ignore[arg-type]
        name=f"sync_{firm.group}",
        dagster_dlt_translator=translator,
        pool=firm.pool,
    )
    def load_raw_tables(context: AssetExecutionContext, dlt: DagsterDltResource) -> Iterator[Any]:
        yield from run_sync(context, dlt, firm, translator)

    return load_raw_tables


def run_sync(context: AssetExecutionContext, dlt_resource: DagsterDltResource, firm: Firm,
             translator: DagsterDltTranslator) -> list[Any]:
    """Load `firm`'s selected endpoints and settle the load, under the writer lock; the
    run goes into the firm's `_sync_runs`, as the CLI's do."""
    settings = _settings(firm)
    stats = RunStats()
    summary = RunSummary(run_id=context.run_id[:12], started_at=datetime.now(UTC),
                         destination="duckdb", full_refresh=False)
    with warehouse.writer_lock(firm.db, f"dagster {context.run_id[:8]} sync {firm.group}"):
        pipeline = make_pipeline(firm.db, dataset=firm.schemas.raw, name=firm.schemas.pipeline)
        try:
            with ClioClient(settings, stats=stats) as client:
                events = list(dlt_resource.run(context=context,
                                               dlt_source=clio_source(client=client),
                                               dlt_pipeline=pipeline,
                                               dagster_dlt_translator=translator))
            # as after the CLI's loads: purge what the tombstones say is gone, empty staging
            settle(pipeline, firm.db, endpoints=ENDPOINTS)
            summary.status = "ok"
        except Exception as exc:
            expected = expected_cause(exc)  # a ClioSyncError says cause and fix in one paragraph
            summary.status = "failed"
            summary.error = str(expected) if expected is not None else type(exc).__name__
            if expected is None:
                raise
            raise expected from None
        finally:
            summary.finished_at = datetime.now(UTC)
            summary.resources = {e.table: stats.get(e.table) for e in ENDPOINTS
                                 if firm.raw_key(e.table) in context.selected_asset_keys}
            record_run(pipeline, summary)
    return events


def model_assets(firm: Firm) -> AssetsDefinition:
    """`firm`'s report models, built together by `build_models`, each downstream of the
    raw tables it reads (through the staging and intermediate models)."""
    from pipelines.reports.runner import discover_models

    found = discover_models()
    by_key = {m.key: m for m in found}
    specs = [
        AssetSpec(
            key=AssetKey([firm.schemas.reports, m.name]),
            group_name=firm.group,
            deps=[firm.raw_key(t) for t in sorted(_raw_tables(m.key, by_key))],
            description=f"`{firm.schemas.reports}.{m.name}` (sql/reports/{m.name}.sql)",
            kinds={"sql", "duckdb"},
        )
        for m in found if m.schema == "reports"
    ]

    @multi_asset(specs=specs, name=f"models_{firm.group}", pool=firm.pool)
    def build_reports(context: AssetExecutionContext) -> Iterator[MaterializeResult]:
        built = build_firm_models(context, firm)
        for spec in specs:
            yield MaterializeResult(asset_key=spec.key, metadata={"models_built": len(built)})

    return build_reports


def build_firm_models(context: AssetExecutionContext | OpExecutionContext, firm: Firm) -> list[str]:
    from pipelines.reports.engine import as_engine
    from pipelines.reports.runner import build_models
    from pipelines.reports.schemas import ModelSchemas

    with warehouse.writer_lock(firm.db, f"dagster {context.run_id[:8]} models {firm.group}"):
        engine = as_engine(warehouse.connect(firm.db), ModelSchemas.for_firm(firm.name))
        try:
            return build_models(engine)
        finally:
            engine.close()


def _raw_tables(key: str, by_key: dict[str, Any], seen: frozenset[str] = frozenset()) -> set[str]:
    """The catalog endpoints (roots of child tables) model `key` reads, transitively."""
    model = by_key[key]
    tables = {_endpoint_of(ref.split(".", 1)[1]) for ref in model.raw_refs if ref.startswith("clio.")}
    for ref in model.refs - seen - {key}:
        if ref in by_key:
            tables |= _raw_tables(ref, by_key, seen | {key})
    return {t for t in tables if t is not None}


def _endpoint_of(table: str) -> str | None:
    for endpoint in ENDPOINTS:
        if table == endpoint.table or table.startswith(f"{endpoint.table}__"):
            return endpoint.table
    return None


def reconcile_op(firm: Firm) -> OpDefinition:
    """An op that lists `firm`'s ids at Clio and deletes the rows of records gone there
    (in the firm's schema: `reconcile` reads it from the settings' firm)."""

    @op(name=f"reconcile_{firm.group}", pool=firm.pool)
    def reconcile_firm(context: OpExecutionContext) -> None:
        from pipelines.clio.reconcile import reconcile

        settings = _settings(firm)
        with warehouse.writer_lock(firm.db, f"dagster {context.run_id[:8]} reconcile {firm.group}"):
            results = reconcile(firm.db, settings)
        for r in results:
            context.log.info(f"{firm.group} {r.table}: {r.at_clio} at Clio, {r.local} here, "
                             f"{r.deleted} deleted, {r.held_back} held back")

    return reconcile_firm


def _settings(firm: Firm) -> ClioSettings:
    from pipelines.clio.config import load_settings

    return load_settings(firm=firm.name)  # a ConfigError names the missing setting


def build_definitions(db: Path | None = None, sync_cron: str = SYNC_CRON,
                      reconcile_cron: str = RECONCILE_CRON) -> Definitions:
    """The definitions of every firm in the warehouse `db` (default: as the CLI's)."""
    chosen = firms(db)
    assets = [sync_assets(firm) for firm in chosen]
    assets += [model_assets(firm) for firm in chosen]
    reconciles = [reconcile_op(firm) for firm in chosen]
    sync_job = define_asset_job(SYNC_JOB, selection=AssetSelection.all(),
                                description="Sync every firm from Clio, then build its models.")

    @job(name=RECONCILE_JOB, description="Remove the rows of records deleted at Clio, per firm.")
    def reconcile_job() -> None:
        for reconcile_firm in reconciles:
            reconcile_firm()

    schedules = [
        ScheduleDefinition(name=f"{SYNC_JOB}_schedule", job=sync_job, cron_schedule=sync_cron),
        ScheduleDefinition(name=f"{RECONCILE_JOB}_schedule", job=reconcile_job,
                           cron_schedule=reconcile_cron),
    ]
    return Definitions(assets=assets, jobs=[sync_job, reconcile_job], schedules=schedules,
                       resources={"dlt": DagsterDltResource()})


# `defs` is built on first access, not at import: building reads the firm profiles from
# dlt's config and may fail on a bad one, and importing the package must neither fail for
# that nor change anything in the host process (tests/packaging/test_import_state.py).
@cache
def _defs() -> Definitions:
    return build_definitions()


def __getattr__(name: str) -> Any:
    if name == "defs":
        return _defs()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), "defs"])

