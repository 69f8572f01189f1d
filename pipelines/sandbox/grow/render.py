"""Grow records as the API answers them, for one caller.

What a caller sees depends on its grant: without `grow_lead_inbox_all_read`, a matter's
`inbox_lead_id` is hidden unless this app submitted the lead; without
`grow_custom_field_read`, `include=custom_field_values` gives `null`. A hidden field is
`null` and named in `redacted_fields`, a list Grow's docs mention but no schema declares
(GROW_API.md §7.9): the sandbox sends it only when something is hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pipelines.sandbox.clock import stamp_text
from pipelines.sandbox.grow.scopes import ALL_LEADS, CUSTOM_FIELDS, holds
from pipelines.sandbox.grow.world import GrowWorld

_COMMON = ("created_at", "updated_at")
_SIMPLE = {
    "locations": ("id", "name"),
    "matter_types": ("id", "name", "default"),
    "sources": ("id", "name", "category", "is_editable"),
    "contact_notes": ("id", "subject", "body"),
    "matter_notes": ("id", "subject", "body"),
}
_CONTACT = ("id", "global_id", "clio_id", "name", "first_name", "last_name", "emails",
            "phone_numbers", "type", "status")
_MATTER = ("id", "global_id", "clio_id", "description", "inbox_lead_id", "hired_date",
           "is_locked", "location", "type", "status", "status_category")
_LEAD = ("id", "first_name", "last_name", "email", "phone_number", "state")
_LEAD_CREATED = ("from_message", "from_source", "referring_url")


@dataclass(frozen=True)
class View:
    """Who is looking: the grant's scopes (None: everything), its app, and `include`."""

    scopes: frozenset[str] | None = None
    client_id: str | None = None
    custom_fields: bool = False  # include=custom_field_values
    timestamps: str = "utc"
    lead_rollout: bool = True


def stamp(instant: int, style: str) -> str:
    """`2026-11-20T22:00:00Z`, or the firm's offset (`2026-11-20T17:00:00-05:00`)."""
    if style == "offset":
        return stamp_text(instant)
    return datetime.fromtimestamp(instant, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render(world: GrowWorld, table: str, record: dict, view: View, created: bool = False) -> dict:
    """The record of `table` as the API shows it to `view` (`created`: the lead create answer)."""
    if table == "contacts":
        body = _contact(world, record, view)
    elif table == "matters":
        body = _matter(world, record, view)
    elif table == "inbox_leads":
        body = _lead(world, record, view, created)
    elif table == "users":
        body = {key: record[key] for key in ("id", "first_name", "last_name", "email")}
        body["account"] = dict(world.account)
    else:
        body = {key: record[key] for key in _SIMPLE[table]}
    for key in _COMMON:
        body[key] = stamp(record[key], view.timestamps)
    if table == "users":  # the spec lists `account` last
        body["account"] = body.pop("account")
    redacted = body.pop("_redacted", None)
    if redacted:
        body["redacted_fields"] = redacted
    return body


def _contact(world: GrowWorld, record: dict, view: View) -> dict:
    body: dict[str, Any] = {key: record[key] for key in _CONTACT}
    body["emails"], body["phone_numbers"] = list(body["emails"]), list(body["phone_numbers"])
    body["matters"] = [{"id": m["id"]} for m in world.matters_of(record["id"])]
    body["addresses"] = [dict(a) for a in record["addresses"]]
    _custom(world, record, body, view)
    return body


def client_summary(contact: dict | None) -> dict | None:
    """A matter's `client` (and deprecated `primary_contact`): the contact in brief."""
    if contact is None:
        return None
    return {
        "id": contact["id"], "full_name": contact["name"],
        "phone_number": (contact["phone_numbers"] or [None])[0],
        "primary_email": (contact["emails"] or [None])[0],
        "address": dict(contact["addresses"][0]) if contact["addresses"] else None,
    }  # fmt: skip


def _matter(world: GrowWorld, record: dict, view: View) -> dict:
    body: dict[str, Any] = {key: record[key] for key in _MATTER}
    lead = world.tables["inbox_leads"].get(record["inbox_lead_id"] or 0)
    visible = holds(view.scopes, ALL_LEADS) or (lead is not None and view.client_id is not None
                                                and lead["_submitted_by"] == view.client_id)
    if record["inbox_lead_id"] is not None and not visible:
        body["inbox_lead_id"] = None
        body.setdefault("_redacted", []).append("inbox_lead_id")
    summary = client_summary(world.tables["contacts"].get(record["client_id"]))
    body["client"] = summary
    body["primary_contact"] = dict(summary) if summary else None
    body["matter_assignee_ids"] = list(record["matter_assignee_ids"])
    _custom(world, record, body, view)
    return body


def _lead(world: GrowWorld, record: dict, view: View, created: bool) -> dict:
    body: dict[str, Any] = {key: record[key] for key in _LEAD}
    if created:
        body.update({key: record[key] for key in _LEAD_CREATED})
    body["marketing_source"] = _named(world, "sources", record["marketing_source_id"])
    if view.lead_rollout:
        body["matter_type"] = _named(world, "matter_types", record["matter_type_id"])
        body["matter_location"] = _named(world, "locations", record["location_id"])
    return body


def _named(world: GrowWorld, table: str, record_id: int | None) -> dict | None:
    found = world.tables[table].get(record_id or 0)
    return {"id": found["id"], "name": found["name"]} if found else None


def _custom(world: GrowWorld, record: dict, body: dict, view: View) -> None:
    if not view.custom_fields:
        return
    if not holds(view.scopes, CUSTOM_FIELDS):
        body["custom_field_values"] = None
        body.setdefault("_redacted", []).append("custom_field_values")
        return
    values = []
    for value in record["_custom"]:
        field = world.custom_fields[value["field_id"]]
        if field["deleted"]:  # values of a deleted definition are not returned
            continue
        values.append(custom_value(world, record, field, value, view.timestamps))
    body["custom_field_values"] = values


def custom_value(world: GrowWorld, record: dict, field: dict, value: dict, style: str) -> dict:
    kind, raw = field["field_type"], value["raw_value"]
    options = field["picklist_options"] or []
    body = {
        "id": value["id"], "global_id": value["global_id"],
        # a value synced to Manage is known there by its type and per-type row
        "clio_id": f"{kind}-{value['id'] + 7000}" if record.get("clio_id") else None,
        "field_name": field["name"], "field_type": kind, "value": _coerce(kind, raw),
        "raw_value": raw, "custom_field": _definition(field, style),
    }  # fmt: skip
    if kind == "picklist":
        chosen = options[value["option"]] if value["option"] is not None else None
        body["picklist_option"] = dict(chosen) if chosen else None
    body["created_at"] = stamp(value["created_at"], style)
    body["updated_at"] = stamp(value["updated_at"], style)
    return body


def _definition(field: dict, style: str) -> dict:
    body = {key: field[key] for key in ("id", "global_id", "clio_id", "name", "field_type",
                                        "parent_type", "displayed", "deleted")}
    if field["field_type"] == "picklist":
        body["picklist_options"] = [dict(o) for o in field["picklist_options"]]
    body["created_at"] = stamp(field["created_at"], style)
    body["updated_at"] = stamp(field["updated_at"], style)
    return body


def _coerce(kind: str, raw: str | None) -> Any:
    if raw is None:
        return None
    if kind == "checkbox":
        return {"true": True, "false": False}.get(raw)
    if kind in ("numeric", "currency"):
        try:
            return float(raw)
        except ValueError:
            return None
    return raw


def truth(world: GrowWorld, table: str, style: str = "utc", lead_rollout: bool = True) -> list[dict]:
    """Every record of `table` as an all-seeing caller would get it, custom field values
    included; notes carry their parent's id (`contact_id` / `matter_id`)."""
    view = View(scopes=None, custom_fields=True, timestamps=style, lead_rollout=lead_rollout)
    rows = []
    for record in world.records(table):
        body = render(world, table, record, view)
        if table.endswith("_notes"):
            body[f"{table.removesuffix('_notes')}_id"] = record["_parent"]
        rows.append(body)
    return rows
