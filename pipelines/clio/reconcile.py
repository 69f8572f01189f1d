"""Reconciliation: find records deleted outright at Clio and delete them here.

Clio has no tombstone feed: a record deleted outright simply stops being listed. So each
endpoint's ids are listed (`fields=id`, the endpoint's largest page, by id, every state
filter), which costs ⌈N/limit⌉ requests, and the local rows whose id is not among them
are deleted with their child rows. Fully replaced endpoints are exact after every run
and are skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pipelines import warehouse
from pipelines.clio.client import ClioClient
from pipelines.clio.config import ClioSettings
from pipelines.clio.deletions import DATASET, delete_rows, existing_tables
from pipelines.clio.endpoints import Endpoint
from pipelines.clio.source import page_limit, walk_states
from pipelines.clio.stats import RunStats
from pipelines.clio.sync import select_endpoints

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reconciled:
    """The outcome for one endpoint."""

    table: str
    at_clio: int  # ids Clio lists
    local: int  # rows here before
    deleted: int  # rows deleted here
    requests: int


def remote_ids(client: ClioClient, endpoint: Endpoint, limit_cap: int | None = None) -> set[int]:
    """Every id Clio lists for `endpoint`, in every state filter the sync walks."""
    ids: set[int] = set()
    limit = page_limit(endpoint, limit_cap)
    for state in walk_states(endpoint):
        params: dict[str, object] = {"fields": "id", "limit": limit}
        if endpoint.takes_order:
            params["order"] = "id(asc)"
        if state is not None:
            params["state"] = state
        for page in client.iter_pages(endpoint.path, params, resource=endpoint.table):
            ids.update(int(record["id"]) for record in page.records)
    return ids


def local_ids(db: Path, endpoint: Endpoint) -> set[int]:
    """The ids stored in `clio.<table>` (empty when the table does not exist yet)."""
    con = warehouse.connect(db)
    try:
        if endpoint.table not in existing_tables(con):
            return set()
        rows = con.execute(f'select id from {DATASET}."{endpoint.table}"').fetchall()
        return {int(i) for (i,) in rows}
    finally:
        con.close()


def reconcile(
    db: Path,
    settings: ClioSettings,
    resources: Sequence[str] | None = None,
    limit_cap: int | None = None,
) -> list[Reconciled]:
    """Delete the local rows of records Clio no longer lists. The caller holds the writer lock.

    Args:
        db: the DuckDB warehouse.
        settings: the Clio connection.
        resources: catalog tables to check; all incremental ones when None.
        limit_cap: caps the page size (tests).
    """
    endpoints = [e for e in select_endpoints(resources) if e.incremental]
    stats = RunStats()
    results = []
    with ClioClient(settings, stats=stats) as client:
        for endpoint in endpoints:
            at_clio = remote_ids(client, endpoint, limit_cap)
            here = local_ids(db, endpoint)
            gone = sorted(here - at_clio)
            deleted = delete_rows(db, endpoint, gone)
            if deleted:
                log.info("%s: deleted %d rows gone at Clio", endpoint.table, deleted)
            results.append(Reconciled(endpoint.table, len(at_clio), len(here), deleted,
                                      stats.get(endpoint.table).requests))
    return results


def print_report(results: Sequence[Reconciled], plain: bool) -> None:
    """Print what reconciliation found: a table, or one log line per endpoint."""
    if plain:
        for r in results:
            log.info("%s: %d at Clio, %d here, %d deleted, %d requests",
                     r.table, r.at_clio, r.local, r.deleted, r.requests)
        return
    table = Table(title="clio-sync reconcile", title_justify="left")
    for name in ("resource", "at Clio", "here before", "deleted", "requests"):
        table.add_column(name, justify="left" if name == "resource" else "right")
    for r in results:
        table.add_row(r.table, str(r.at_clio), str(r.local), str(r.deleted), str(r.requests))
    Console().print(table)
