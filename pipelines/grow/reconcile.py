"""Reconciliation for Grow: find records deleted at Grow and delete them here, for good.

Grow has no tombstones or deleted filter: a deleted record just stops being listed. So
each list is walked in full (Grow returns whole records, ⌈N/200⌉ requests; notes once per
contact or matter), and the local rows whose id is not listed are deleted with their child
rows and recorded in `grow._tombstones`, so no later load brings them back.

A lead that became a matter is not listed either, yet it is not deleted: a lead named by
a stored matter that Grow still lists is kept; any other unlisted lead is asked for
(`GET /inbox_leads/{id}`, then `GET /matters?inbox_lead_id=`, one or two requests each,
for leads converted since the last sync). Only a lead Grow knows nothing of is deleted.

As for Manage, a list that suddenly misses most of a table is taken for a faulty listing
and left alone unless the caller allows it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from pipelines import warehouse
from pipelines.clio.deletions import delete_rows, existing_tables
from pipelines.clio.errors import ClioNotFound
from pipelines.clio.load import finish_pending, settle
from pipelines.clio.reconcile import MASS_DELETE_FLOOR, MASS_DELETE_SHARE, Reconciled
from pipelines.clio.stats import RunStats
from pipelines.grow.advice import grow_advice
from pipelines.grow.catalog import DATASET, ENDPOINTS, GrowResource
from pipelines.grow.client import GrowClient
from pipelines.grow.config import GrowSettings
from pipelines.grow.sync import PREFIX, grow_pipeline, select_resources

log = logging.getLogger(__name__)


def listed_ids(client: GrowClient, resource: GrowResource,
               parents: dict[str, set[int]]) -> set[int]:
    """Every id Grow lists for `resource` (notes: under every listed contact or matter)."""
    ids: set[int] = set()
    if resource.parent is not None:
        parent = resource.parent
        if parent not in parents:
            parents[parent] = _walk_ids(client, parent, {}, resource.table)
        for parent_id in sorted(parents[parent]):
            path = resource.path.replace("{id}", str(parent_id))
            try:
                ids |= _walk_ids(client, path, {}, resource.table)
            except ClioNotFound:
                continue  # deleted since the parents were listed: its notes are gone too
        return ids
    for state in resource.states:
        ids |= _walk_ids(client, resource.path, {"state": state} if state else {}, resource.table)
    if resource.table in ("contacts", "matters"):
        parents[resource.table] = set(ids)
    return ids


def _walk_ids(client: GrowClient, path: str, params: dict[str, str], table: str) -> set[int]:
    return {int(record["id"]) for page in client.iter_pages(path, params, resource=table)
            for record in page.records}


def local_ids(db: Path, table: str) -> set[int]:
    con = warehouse.connect(db)
    try:
        if table not in existing_tables(con, DATASET):
            return set()
        return {int(i) for (i,) in con.execute(f'select id from {DATASET}."{table}"').fetchall()}
    finally:
        con.close()


def named_by(db: Path, matters: set[int]) -> set[int]:
    """Leads named by the stored matters among `matters` (those Grow still lists)."""
    con = warehouse.connect(db)
    try:
        if "matters" not in existing_tables(con, DATASET):
            return set()
        rows = con.execute(
            f"select inbox_lead_id from {DATASET}.matters where inbox_lead_id is not null "
            "and id in (select unnest(?::bigint[]))", [sorted(matters)]).fetchall()
        return {int(i) for (i,) in rows}
    finally:
        con.close()


def still_a_matter(client: GrowClient, lead_id: int) -> bool:
    """Whether Grow still has lead `lead_id`, shown by itself or through its matter."""
    try:
        client.get_json(f"inbox_leads/{lead_id}", resource="inbox_leads")
        return True
    except ClioNotFound:
        pass
    found = client.get_json("matters", {"inbox_lead_id": lead_id}, resource="inbox_leads")
    return bool(found.get("data"))


def reconcile_grow(db: Path, settings: GrowSettings, resources: Sequence[str] | None = None,
                   allow_mass_delete: bool = False) -> list[Reconciled]:
    """Delete (and tombstone) the local rows of records Grow no longer has. The caller
    holds the writer lock."""
    chosen = select_resources(resources, notes=True)
    pipeline = grow_pipeline(db)
    if pipeline.has_pending_data:  # rows a killed run left count as here
        finish_pending(pipeline)
        settle(pipeline, db, endpoints=ENDPOINTS)
    stats = RunStats()
    results = []
    parents: dict[str, set[int]] = {}
    with grow_advice(), GrowClient(settings, stats=stats) as client:
        for resource in chosen:
            here = local_ids(db, resource.table)
            if not here and resource.parent is not None:
                continue  # notes never synced: nothing to compare
            at_grow = listed_ids(client, resource, parents)
            gone = sorted(here - at_grow)
            if resource.table == "inbox_leads" and gone:
                if "matters" not in parents:
                    parents["matters"] = _walk_ids(client, "matters", {}, "matters")
                converted = named_by(db, parents["matters"])
                gone = [i for i in gone if i not in converted and not still_a_matter(client, i)]
            held_back = 0
            if gone and not allow_mass_delete and _suspicious(len(gone), len(here)):
                log.warning(
                    "grow.%s: Grow no longer lists %d of the %d rows here; that many deletions "
                    "look like a faulty listing, so none were made. Check the records in Grow; "
                    "if they really are gone, run `clio-sync reconcile --allow-mass-delete`.",
                    resource.table, len(gone), len(here))
                gone, held_back = [], len(gone)
            deleted = delete_rows(db, resource.endpoint, gone, source="reconcile", dataset=DATASET)
            if deleted:
                log.info("grow.%s: deleted %d rows gone at Grow", resource.table, deleted)
            results.append(Reconciled(PREFIX + resource.table, len(at_grow), len(here), deleted,
                                      stats.get(resource.table).requests, held_back))
    return results


def _suspicious(gone: int, here: int) -> bool:
    return here >= MASS_DELETE_FLOOR and gone > here * MASS_DELETE_SHARE
