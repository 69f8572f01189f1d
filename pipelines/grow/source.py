"""The dlt source of Clio Grow: one resource per Grow list, in schema `grow`.

Each resource walks its list by id (Grow's only order), `updated_since` its watermark,
following `meta.paging.next` however the last page says it has ended; leads are walked
once per inbox `state`. As for Manage, the watermark is the server's `Date` of the first
page minus a lag, saved by the caller only after the load, and rows merge on `id`
(Grow's `updated_since` is "on or after": the overlap is merged away).

A lead that becomes a matter leaves the inbox: no list shows it again, so its row keeps
the state it was last seen in. Its matter names it (`inbox_lead_id`): after the matters,
the leads walk asks for each lead a changed matter names that the warehouse does not hold
as `accepted` (one request per newly converted lead), so a lead that arrived and
converted between two runs is not lost and a converted one shows `accepted`. Where Grow
answers 404 for such a lead, the warehouse keeps what it had.

Notes are listed per contact and per matter: a contact or matter the warehouse did not
hold before this run has all its notes read, the others only what changed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import dlt
from dlt.extract.resource import DltResource

from pipelines.clio.client import Page
from pipelines.clio.errors import ClioNotFound, ClioPermissionError
from pipelines.clio.in_turn import in_turn
from pipelines.clio.load import endpoint_resource, typed_items
from pipelines.clio.read_ahead import read_ahead
from pipelines.clio.source import WalkOptions
from pipelines.clio.watermarks import Watermarks
from pipelines.grow.catalog import DATASET, RESOURCES, GrowResource
from pipelines.grow.client import GrowClient
from pipelines.grow.scopes import ALL_LEADS, CUSTOM_FIELDS

READ_AHEAD = 4


@dataclass
class Known:
    """What the warehouse held before the run (read by the caller), and what this run saw.

    Attributes:
        accepted_leads: ids of leads stored with state `accepted`.
        parents: ids of contacts and matters stored before the run (their notes were read).
        named_leads: lead ids named by the matters this run read.
        seen: ids of records this run read, per table.
    """

    accepted_leads: set[int] = field(default_factory=set)
    parents: dict[str, set[int]] = field(default_factory=dict)
    named_leads: set[int] = field(default_factory=set)
    seen: dict[str, set[int]] = field(default_factory=dict)


@dlt.source(name=DATASET, max_table_nesting=0)
def grow_source(
    client: GrowClient,
    resources: Sequence[GrowResource] = RESOURCES,
    options: WalkOptions = WalkOptions(),  # noqa: B008 - frozen
    marks: Watermarks | None = None,
    known: Known | None = None,
) -> Iterator[DltResource]:
    """Clio Grow. Resources: users, locations, matter_types, sources, contacts, matters,
    inbox_leads, contact_notes, matter_notes (merged on `id`). `marks` gives each walk's
    start (none: read in full) and receives the next; `known` is what the warehouse holds.
    """
    marks = marks if marks is not None else Watermarks()
    known = known if known is not None else Known()
    walks = in_turn(walk(client, resource, options, marks, known) for resource in resources)
    for resource, items in zip(resources, walks, strict=True):
        yield endpoint_resource(resource.endpoint, items, mode=options.mode)


def walk(client: GrowClient, resource: GrowResource, options: WalkOptions, marks: Watermarks,
         known: Known) -> Iterator[Any]:
    """Walk one resource, yield typed Arrow tables, then note where the next walk starts."""
    since = marks.start_of(resource.table)
    batch: list[dict[str, Any]] = []
    first_answer: datetime | None = None
    for page in _pages(client, resource, since, known):
        first_answer = first_answer or page.date
        records = [prepare(resource, record) for record in page.records]
        _note(resource, records, known)
        batch.extend(records)
        if options.on_page is not None:
            options.on_page(resource.table, page)
        if len(batch) >= options.batch_rows:
            yield from typed_items(resource.endpoint, batch, options.mode)
            batch = []
    if resource.table == "inbox_leads":
        batch.extend(_converted_leads(client, known))
    yield from typed_items(resource.endpoint, batch, options.mode)
    client.stats.add(resource.table, seconds=0.0)  # a resource with no request still shows up
    if first_answer is not None:
        marks.advance(resource.table, (first_answer - options.lag).isoformat())


def _pages(client: GrowClient, resource: GrowResource, since: str | None,
           known: Known) -> Iterator[Page]:
    if resource.parent is not None:
        yield from _note_pages(client, resource, since, known)
        return
    for state in resource.states:
        params: dict[str, Any] = {}
        if state is not None:
            params["state"] = state
        if since is not None:
            params["updated_since"] = since
        if resource.custom_fields:
            params["include"] = "custom_field_values"
        yield from read_ahead(client.iter_pages(resource.path, params, resource=resource.table),
                              READ_AHEAD)


def _note_pages(client: GrowClient, resource: GrowResource, since: str | None,
                known: Known) -> Iterator[Page]:
    """Each parent's notes: all of them for a parent new to the warehouse, else what changed."""
    parent = str(resource.parent)
    before = known.parents.get(parent, set())
    for parent_id in sorted(before | known.seen.get(parent, set())):
        params = {"updated_since": since} if since is not None and parent_id in before else {}
        path = resource.path.replace("{id}", str(parent_id))
        try:
            for page in client.iter_pages(path, params, resource=resource.table):
                for record in page.records:
                    record[f"{parent.removesuffix('s')}_id"] = parent_id
                yield page
        except ClioNotFound:
            continue  # deleted since: reconcile removes it and its notes


def prepare(resource: GrowResource, record: dict[str, Any]) -> dict[str, Any]:
    """A record as the catalog types it (flat child fields), after checking nothing the
    sync needs was hidden from it."""
    redacted = record.get("redacted_fields") or ()
    if "inbox_lead_id" in redacted:
        raise ClioPermissionError(
            f"Clio Grow hid the lead of matter {record.get('id')} (redacted_fields): the "
            f"authorization lacks the Platform scope {ALL_LEADS}, without which only the "
            "leads this app submitted are visible, so leads and their sources would be "
            "missing. Enable it on the app in the developer portal and run `clio-sync auth "
            "login --grow` again.", path=f"/{resource.path}")
    if "custom_field_values" in redacted:
        raise ClioPermissionError(
            f"Clio Grow withheld custom field values of {resource.table} {record.get('id')}: "
            f"the authorization lacks the Platform scope {CUSTOM_FIELDS}. Enable it on the app "
            "in the developer portal and run `clio-sync auth login --grow` again.",
            path=f"/{resource.path}")
    if resource.table == "matters":
        record["assignees"] = [{"id": i} for i in record.get("matter_assignee_ids") or ()]
    for value in record.get("custom_field_values") or ():
        value["custom_field_id"] = (value.get("custom_field") or {}).get("id")
        value["picklist_option_label"] = (value.get("picklist_option") or {}).get("option")
    return record


def _note(resource: GrowResource, records: list[dict[str, Any]], known: Known) -> None:
    known.seen.setdefault(resource.table, set()).update(int(r["id"]) for r in records)
    if resource.table == "matters":
        known.named_leads.update(int(r["inbox_lead_id"]) for r in records if r.get("inbox_lead_id"))


def _converted_leads(client: GrowClient, known: Known) -> list[dict[str, Any]]:
    """Leads this run's matters name that neither the inbox nor the warehouse showed as
    accepted: read one by one (a 404 leaves the warehouse as it was)."""
    wanted = known.named_leads - known.seen.get("inbox_leads", set()) - known.accepted_leads
    found = []
    for lead_id in sorted(wanted):
        try:
            body = client.get_json(f"inbox_leads/{lead_id}", resource="inbox_leads")
        except ClioNotFound:
            continue
        lead = body.get("data")
        if isinstance(lead, dict):
            found.append(lead)
    return found
