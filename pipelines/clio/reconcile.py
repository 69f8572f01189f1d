"""Reconciliation: find records deleted outright at Clio and delete them here.

Clio has no tombstone feed: a record deleted outright simply stops being listed. So each
endpoint's ids are listed (`fields=id`, the endpoint's largest page, by id, every state
filter), which costs ⌈N/limit⌉ requests, and the local rows whose id is not among them
are deleted with their child rows, and recorded in the tombstone ledger the webhook
applier uses, so a late delivery, a replay or an older copy cannot bring them back.
Fully replaced endpoints are exact after every run and are skipped.

A tombstone is final, so a listing that suddenly misses most of a table (an outage at
Clio answering empty pages, a permission change) must not be taken at its word: a table
where more than `MASS_DELETE_SHARE` of the rows would go is left alone and reported,
unless the caller allows it (`--allow-mass-delete`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import dlt
from rich.console import Console
from rich.table import Table

from pipelines.clio import destinations, values
from pipelines.clio.client import ClioClient
from pipelines.clio.config import ClioSettings
from pipelines.clio.deletions import DATASET, RecordId, delete_rows, existing_tables
from pipelines.clio.endpoints import Endpoint
from pipelines.clio.load import finish_pending, held_open, make_pipeline, settle
from pipelines.clio.source import page_limit, page_params
from pipelines.clio.stats import RunStats
from pipelines.clio.sync import select_endpoints
from pipelines.errors import ConfigError
from pipelines.firms.profiles import schemas

log = logging.getLogger(__name__)

MASS_DELETE_SHARE = 0.5  # of a table's rows; more than this is held back as suspicious
MASS_DELETE_FLOOR = 20  # tables this small may lose every row without suspicion


@dataclass(frozen=True)
class Reconciled:
    """The outcome for one endpoint."""

    table: str
    at_clio: int  # ids Clio lists
    local: int  # rows here before
    deleted: int  # rows deleted here
    requests: int
    held_back: int = 0  # rows that would have gone, kept because they were too many


def remote_ids(client: ClioClient, endpoint: Endpoint, limit_cap: int | None = None) -> set[RecordId]:
    """Every id Clio lists for `endpoint`, in every walk the sync makes (typed as stored)."""
    ids: set[RecordId] = set()
    limit = page_limit(endpoint, limit_cap)
    for filters in endpoint.walks:
        params = page_params(endpoint, limit, None, filters, fields="id")
        for page in client.iter_pages(endpoint.path, params, resource=endpoint.table):
            ids.update(values.scalar(endpoint.id_kind, record["id"]) for record in page.records)
    return ids


def local_ids(db: Path, endpoint: Endpoint, pipeline: dlt.Pipeline | None = None) -> set[RecordId]:
    """The ids stored in `clio.<table>` (empty when the table does not exist yet), in the
    warehouse `db`, or where `pipeline` loads (its destination and dataset)."""
    dataset = pipeline.dataset_name if pipeline is not None else DATASET
    opened = destinations.connect(db) if pipeline is None else destinations.connect_pipeline(
        pipeline, db)
    with opened as con:
        if endpoint.table not in existing_tables(con, dataset):
            return set()
        rows = con.execute(f'select id from {dataset}."{endpoint.table}"').fetchall()
        return {i for (i,) in rows}


def reconcile(
    db: Path,
    settings: ClioSettings,
    resources: Sequence[str] | None = None,
    limit_cap: int | None = None,
    allow_mass_delete: bool = False,
    destination: str = destinations.DUCKDB,
) -> list[Reconciled]:
    """Delete (and tombstone) the local rows of records Clio no longer lists (in the firm's
    schema for a firm profile's settings). The caller holds the writer lock.

    Args:
        db: the DuckDB warehouse.
        settings: the Clio connection.
        resources: catalog tables to check; all incremental ones when None.
        limit_cap: caps the page size (tests).
        allow_mass_delete: delete even when most of a table seems gone.
        destination: where the raw tables are (`duckdb`, or a dlt server destination).
    """
    endpoints = [e for e in select_endpoints(resources) if e.incremental]
    names = schemas(settings.firm)
    if destination == destinations.FILESYSTEM:
        raise ConfigError(
            "reconcile deletes rows in place, which a Parquet lake cannot do: reconcile the "
            "warehouse (--destination duckdb) or a SQL destination (e.g. postgres), or rebuild "
            "the lake with `clio-sync run --destination filesystem --full-refresh`.")
    pipeline = make_pipeline(db, destinations.check_destination(destination),
                             dataset=names.raw, name=names.pipeline)
    if destinations.is_server(destination):
        with destinations.connect_pipeline(pipeline, db):
            pass  # no credentials, no server: said now, before Clio is read
    _finish_interrupted_load(pipeline, db)
    stats = RunStats()
    results = []
    with held_open(pipeline), ClioClient(settings, stats=stats) as client:
        for endpoint in endpoints:
            at_clio = remote_ids(client, endpoint, limit_cap)
            here = local_ids(db, endpoint, pipeline)
            gone = sorted(here - at_clio)
            held_back = 0
            if gone and not allow_mass_delete and _suspicious(len(gone), len(here)):
                log.warning(
                    "%s: Clio no longer lists %d of the %d rows here; that many deletions look "
                    "like a faulty listing, so none were made. Check the records at Clio; if "
                    "they really are gone, run `clio-sync reconcile --allow-mass-delete`.",
                    endpoint.table, len(gone), len(here))
                gone, held_back = [], len(gone)
            deleted = delete_rows(db, endpoint, gone, source="reconcile",
                                  dataset=pipeline.dataset_name, destination=destination)
            if deleted:
                log.info("%s: deleted %d rows gone at Clio", endpoint.table, deleted)
            results.append(Reconciled(endpoint.table, len(at_clio), len(here), deleted,
                                      stats.get(endpoint.table).requests, held_back))
    return results


def _suspicious(gone: int, here: int) -> bool:
    return here >= MASS_DELETE_FLOOR and gone > here * MASS_DELETE_SHARE


def _finish_interrupted_load(pipeline: dlt.Pipeline, db: Path) -> None:
    """Load what a killed writer left before comparing ids: its rows count as here."""
    if pipeline.has_pending_data:
        finish_pending(pipeline)
        settle(pipeline, db)


def print_report(results: Sequence[Reconciled], plain: bool) -> None:
    """Print what reconciliation found: a table, or one log line per endpoint."""
    if plain:
        for r in results:
            held = f", {r.held_back} held back" if r.held_back else ""
            log.info("%s: %d at Clio, %d here, %d deleted%s, %d requests",
                     r.table, r.at_clio, r.local, r.deleted, held, r.requests)
        return
    table = Table(title="clio-sync reconcile", title_justify="left")
    for name in ("resource", "at Clio", "here before", "deleted", "held back", "requests"):
        table.add_column(name, justify="left" if name == "resource" else "right")
    for r in results:
        table.add_row(r.table, str(r.at_clio), str(r.local), str(r.deleted), str(r.held_back),
                      str(r.requests))
    Console().print(table)
