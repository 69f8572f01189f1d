"""The Grow catalog: one resource per Grow list, typed with the Manage catalog's `Endpoint`.

Raw tables live in schema `grow`, named after the list; Grow's field names are kept and
nested objects flatten the dlt way (`client__full_name`). Lists of records become child
tables carrying their parent's id (`contacts__matters`, `matters__assignees` from
`matter_assignee_ids`, `*__custom_field_values`); lists of plain values (`emails`,
`phone_numbers`, `addresses`, `redacted_fields`) are kept as JSON text. Notes are listed
per contact or matter and carry `contact_id` / `matter_id`. Grow has no money fields.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.clio.endpoints import Child, ColumnType, Endpoint

DATASET = "grow"
_STAMPS: dict[str, ColumnType] = {"created_at": "timestamp", "updated_at": "timestamp"}
_CUSTOM_SUBFIELDS = (
    "id", "global_id", "clio_id", "field_name", "field_type", "value", "raw_value",
    "custom_field_id", "picklist_option_label", "created_at", "updated_at",
)  # fmt: skip


def _custom(parent_key: str) -> Child:
    """Custom field values (`include=custom_field_values`); `value` as Grow sends it, as
    text (JSON for numbers and booleans); `raw_value` as stored."""
    return Child("custom_field_values", _CUSTOM_SUBFIELDS, parent_key,
                 {"id": "bigint", "custom_field_id": "bigint", **_STAMPS})


def _types(bigint: str = "id", **kinds: str) -> dict[str, ColumnType]:
    types: dict[str, ColumnType] = {name: "bigint" for name in bigint.split()}
    for kind, names in kinds.items():
        types.update(dict.fromkeys(names.split(), kind))  # type: ignore[arg-type]
    return {**types, **_STAMPS}


@dataclass(frozen=True)
class GrowResource:
    """One Grow list and how it is walked.

    Attributes:
        endpoint: table, path and typed columns (the Manage catalog's shape).
        states: values of a required filter walked one after the other (leads' `state`).
        parent: for notes, the table whose records they are listed under.
        custom_fields: ask `include=custom_field_values`.
    """

    endpoint: Endpoint
    states: tuple[str | None, ...] = (None,)
    parent: str | None = None
    custom_fields: bool = False

    @property
    def table(self) -> str:
        return self.endpoint.table

    @property
    def path(self) -> str:
        return self.endpoint.path


USERS = GrowResource(Endpoint(
    table="users", path="users",
    scalars=("id", "first_name", "last_name", "email", "created_at", "updated_at"),
    nested={"account": ("id", "firm_name")}, types=_types(),
))
LOCATIONS = GrowResource(Endpoint(
    table="locations", path="locations", scalars=("id", "name", "created_at", "updated_at"),
    types=_types(),
))
MATTER_TYPES = GrowResource(Endpoint(
    table="matter_types", path="matter_types",
    scalars=("id", "name", "default", "created_at", "updated_at"), types=_types(bool="default"),
))
SOURCES = GrowResource(Endpoint(
    table="sources", path="sources",
    scalars=("id", "name", "category", "is_editable", "created_at", "updated_at"),
    types=_types(bool="is_editable"),
))
CONTACTS = GrowResource(Endpoint(
    table="contacts", path="contacts",
    scalars=("id", "global_id", "clio_id", "name", "first_name", "last_name", "emails",
             "phone_numbers", "type", "status", "addresses", "redacted_fields", "created_at",
             "updated_at"),
    children=(Child("matters", ("id",), "contact_id"), _custom("contact_id")),
    types=_types("id clio_id"),
), custom_fields=True)
MATTERS = GrowResource(Endpoint(
    table="matters", path="matters",
    scalars=("id", "global_id", "clio_id", "description", "inbox_lead_id", "hired_date",
             "is_locked", "location", "type", "status", "status_category", "redacted_fields",
             "created_at", "updated_at"),
    nested={"client": ("id", "full_name", "phone_number", "primary_email", "address"),
            "primary_contact": ("id",)},
    children=(Child("assignees", ("id",), "matter_id"), _custom("matter_id")),
    types=_types("id clio_id inbox_lead_id", date="hired_date", bool="is_locked"),
), custom_fields=True)
INBOX_LEADS = GrowResource(Endpoint(
    table="inbox_leads", path="inbox_leads",
    scalars=("id", "first_name", "last_name", "email", "phone_number", "state", "created_at",
             "updated_at"),
    nested={"marketing_source": ("id", "name"), "matter_type": ("id", "name"),
            "matter_location": ("id", "name")},
    types=_types(),
), states=("untriaged", "ignored"))
CONTACT_NOTES = GrowResource(Endpoint(
    table="contact_notes", path="contacts/{id}/notes",
    scalars=("id", "contact_id", "subject", "body", "created_at", "updated_at"),
    types=_types("id contact_id"),
), parent="contacts")
MATTER_NOTES = GrowResource(Endpoint(
    table="matter_notes", path="matters/{id}/notes",
    scalars=("id", "matter_id", "subject", "body", "created_at", "updated_at"),
    types=_types("id matter_id"),
), parent="matters")

# Walk order: matters before inbox_leads (a matter names the leads that left the inbox),
# contacts and matters before their notes.
RESOURCES: tuple[GrowResource, ...] = (
    USERS, LOCATIONS, MATTER_TYPES, SOURCES, CONTACTS, MATTERS, INBOX_LEADS, CONTACT_NOTES,
    MATTER_NOTES,
)
NOTES = (CONTACT_NOTES, MATTER_NOTES)  # a request per contact or matter: synced when asked
BY_TABLE: dict[str, GrowResource] = {r.table: r for r in RESOURCES}
ENDPOINTS: tuple[Endpoint, ...] = tuple(r.endpoint for r in RESOURCES)
