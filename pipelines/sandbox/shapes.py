"""The API shape of every endpoint the sandbox serves, as Clio's OpenAPI file defines it.

`FIELDS` lists every property of the endpoint's `*_base` schema (spec 2026-04-08), in the
spec's order: every stored record carries each of them (a value or `None`). `NESTED` lists
the relations stored on the record besides those, with the subfields kept; they cover what
the pipeline's catalog asks for (the sandbox plays Clio, so it shares facts, not code).
`DERIVED` endpoints are computed from the others on read (no stamps of their own).
"""

from __future__ import annotations

FIELDS: dict[str, tuple[str, ...]] = {
    "bills": (
        "id", "etag", "number", "issued_at", "created_at", "due_at", "tax_rate",
        "secondary_tax_rate", "updated_at", "subject", "purchase_order", "type", "memo",
        "start_at", "end_at", "balance", "state", "kind", "total", "paid", "paid_at",
        "pending", "due", "discount_services_only", "can_update", "credits_issued", "shared",
        "last_sent_at", "services_secondary_tax", "services_sub_total", "services_tax",
        "services_taxable_sub_total", "services_secondary_taxable_sub_total",
        "taxable_sub_total", "secondary_taxable_sub_total", "sub_total", "tax_sum",
        "secondary_tax_sum", "total_tax", "available_state_transitions",
    ),
    "line_items": (
        "id", "etag", "type", "description", "date", "price", "taxable", "kind", "note",
        "secondary_taxable", "total", "tax", "secondary_tax", "sub_total", "quantity",
        "group_ordering", "created_at", "updated_at",
    ),
    "activities": (
        "id", "etag", "type", "date", "quantity_in_hours", "rounded_quantity_in_hours",
        "quantity", "rounded_quantity", "quantity_redacted", "price", "note", "flat_rate",
        "billed", "on_bill", "total", "contingency_fee", "created_at", "updated_at",
        "reference", "non_billable", "non_billable_total", "no_charge", "tax_setting",
        "currency",
    ),
    "matters": (
        "id", "etag", "number", "display_number", "custom_number", "currency", "description",
        "status", "location", "client_reference", "client_id", "billable", "maildrop_address",
        "billing_method", "open_date", "close_date", "pending_date", "created_at",
        "updated_at", "shared", "has_tasks", "last_activity_date", "matter_stage_updated_at",
    ),
    "contacts": (
        "id", "etag", "name", "first_name", "middle_name", "last_name", "date_of_birth",
        "type", "created_at", "updated_at", "prefix", "title", "initials",
        "clio_connect_email", "locked_clio_connect_email", "client_connect_user_id",
        "primary_email_address", "secondary_email_address", "primary_phone_number",
        "secondary_phone_number", "ledes_client_id", "has_clio_for_clients_permission",
        "is_client", "is_clio_for_client_user", "is_co_counsel", "is_bill_recipient",
        "sales_tax_number", "currency",
    ),
    "users": (
        "account_owner", "clio_connect", "court_rules_default_attendee", "created_at",
        "default_calendar_id", "email", "enabled", "etag", "first_name", "id", "initials",
        "last_name", "name", "phone_number", "rate", "roles", "subscription_type",
        "time_zone", "updated_at",
    ),
    "allocations": (
        "id", "etag", "date", "amount", "interest", "voided_at", "created_at", "updated_at",
        "description", "has_online_payment", "destroyable", "payment_type",
    ),
    "credit_memos": (
        "id", "etag", "date", "amount", "description", "discount", "voided_at", "created_at",
        "updated_at",
    ),
    "interest_charges": ("id", "etag", "date", "description", "total", "created_at", "updated_at"),
    "practice_areas": ("id", "etag", "created_at", "updated_at", "name", "category", "code"),
    "bank_accounts": (
        "account_number", "balance", "bank_transactions_count", "clio_payment_page_link",
        "clio_payment_page_qr_code", "clio_payments_enabled", "controlled_account",
        "created_at", "currency", "currency_symbol", "currency_id", "default_account",
        "domicile_branch", "etag", "general_ledger_number", "holder", "id", "institution",
        "name", "swift", "transit_number", "type", "updated_at",
    ),
    "bank_transactions": (
        "id", "type", "etag", "created_at", "updated_at", "bank_account_id", "source",
        "confirmation", "date", "amount", "currency", "currency_id", "description",
        "exchange_rate", "transaction_type", "funds_in", "funds_out",
        "clio_payments_transaction", "current_account_balance", "read_only_confirmation",
    ),
    "trust_line_items": ("id", "etag", "date", "total", "note", "created_at", "updated_at"),
    "outstanding_client_balances": (
        "associated_matter_ids", "etag", "id", "last_payment_date", "last_shared_date",
        "newest_issued_bill_due_date", "pending_payments_total", "reminders_enabled",
        "total_outstanding_balance", "created_at", "updated_at",
    ),
    "custom_fields": (
        "id", "etag", "created_at", "updated_at", "name", "parent_type", "field_type",
        "displayed", "deleted", "required", "display_order",
    ),
    "custom_field_sets": ("id", "etag", "name", "parent_type", "displayed", "created_at", "updated_at"),
    "activity_descriptions": (
        "id", "etag", "name", "visible_to_co_counsel", "created_at", "updated_at", "default",
        "type", "utbms_activity_id", "utbms_task_name", "utbms_task_id", "xero_service_code",
        "accessible_to_user", "category_type", "currency",
    ),
    "expense_categories": (
        "id", "etag", "name", "rate", "entry_type", "created_at", "updated_at",
        "xero_expense_code", "accessible_to_user", "currency", "tax_setting",
    ),
    "activity_rates": (
        "id", "etag", "rate", "flat_rate", "created_at", "updated_at", "contact_id",
        "co_counsel_contact_id",
    ),
    "groups": ("client_connect_user", "etag", "id", "name", "type", "updated_at"),
    "matter_stages": ("id", "etag", "practice_area_id", "name", "order", "created_at", "updated_at"),
    "tasks": (
        "id", "etag", "name", "status", "description", "description_text_type", "priority",
        "due_at", "permission", "completed_at", "notify_completion", "statute_of_limitations",
        "time_estimated", "created_at", "updated_at", "time_entries_count",
    ),
    "task_types": ("id", "etag", "name", "deleted_at", "created_at", "updated_at"),
    "calendar_entries": (
        "id", "etag", "summary", "description", "location", "start_at", "start_date",
        "start_time", "end_at", "end_date", "end_time", "all_day", "recurrence_rule",
        "parent_calendar_entry_id", "court_rule", "created_at", "updated_at", "permission",
        "calendar_owner_id", "start_at_time_zone", "time_entries_count",
    ),
    "notes": (
        "id", "etag", "type", "subject", "detail", "detail_text_type", "date", "created_at",
        "updated_at", "time_entries_count",
    ),
    "communications": (
        "id", "etag", "subject", "body", "type", "date", "time_entries_count", "created_at",
        "updated_at", "received_at",
    ),
    "relationships": ("id", "etag", "description", "created_at", "updated_at"),
    "billable_matters": (
        "currency_code", "currency_id", "id", "unbilled_hours", "unbilled_amount",
        "amount_in_trust", "display_number",
    ),
}  # fmt: skip

# A custom field value as stored on its matter or contact (`custom_field_values[]`).
CUSTOM_FIELD_VALUE = (
    "id", "etag", "field_name", "field_type", "field_required", "field_displayed",
    "field_display_order", "value", "soft_deleted", "created_at", "updated_at",
    "custom_field", "picklist_option", "matter", "contact",
)  # fmt: skip
ACCOUNT_BALANCE = ("id", "balance", "type", "name", "currency_id")
PARTICIPANT = ("id", "type", "name", "initials", "enabled")

NESTED: dict[str, dict[str, tuple[str, ...]]] = {
    "bills": {
        "client": ("id", "name"),
        "user": ("id", "name"),
        "matters": ("id", "display_number"),
        "balances": ("id", "type", "amount", "interest_amount", "due"),
        "discount": ("rate", "type", "note", "early_payment_rate", "early_payment_period"),
    },
    "line_items": {
        "bill": ("id",),
        "matter": ("id", "display_number"),
        "activity": ("id",),
        "user": ("id", "name"),
    },
    "activities": {
        "matter": ("id", "display_number"),
        "user": ("id", "name"),
        "bill": ("id",),
        "activity_description": ("id", "name"),
        "expense_category": ("id", "name"),
        "task": ("id",),
    },
    "matters": {
        "client": ("id", "name"),
        "practice_area": ("id", "name"),
        "responsible_attorney": ("id", "name"),
        "originating_attorney": ("id", "name"),
        "responsible_staff": ("id", "name"),
        "matter_stage": ("id", "name"),
        "group": ("id", "name"),
        "evergreen_retainer": ("id", "etag", "created_at", "updated_at", "minimum_threshold"),
        "account_balances": ACCOUNT_BALANCE,
        "custom_field_values": CUSTOM_FIELD_VALUE,
    },
    "contacts": {
        "company": ("id", "name"),
        "account_balances": ACCOUNT_BALANCE,
        "custom_field_values": CUSTOM_FIELD_VALUE,
    },
    "users": {},
    "allocations": {
        "bill": ("id", "number"),
        "matter": ("id",),
        "contact": ("id", "name"),
        "parent": ("id", "type"),
        "destination_bank_account": ("id",),
    },
    "credit_memos": {"user": ("id",), "contact": ("id", "name")},
    "interest_charges": {"bill": ("id",)},
    "practice_areas": {},
    "bank_accounts": {"user": ("id",)},
    "bank_transactions": {
        "client": ("id",),
        "matter": ("id",),
        "bill": ("id",),
        "allocation": ("id",),
    },
    "trust_line_items": {"bill": ("id",), "matter": ("id",), "client": ("id",)},
    "outstanding_client_balances": {"contact": ("id", "name"), "currency": ("id", "code")},
    "custom_fields": {
        "picklist_options": ("id", "etag", "option", "deleted_at", "created_at", "updated_at"),
    },
    "custom_field_sets": {"custom_fields": ("id", "name")},
    "activity_descriptions": {"rate": ("amount", "non_billable_amount", "type", "hierarchy")},
    "expense_categories": {},
    "activity_rates": {"user": ("id", "name"), "group": ("id", "name")},
    "groups": {"users": ("id", "name")},
    "matter_stages": {},
    "tasks": {
        "task_type": ("id", "name"),
        "assigner": ("id", "name"),
        "matter": ("id", "display_number"),
        "assignee": PARTICIPANT,
        "time_entries": ("id",),
    },
    "task_types": {},
    "calendar_entries": {
        "matter": ("id", "display_number"),
        "calendar_owner": ("id", "name", "type"),
        "attendees": ("id", "type", "name", "email"),
    },
    "notes": {
        "matter": ("id", "display_number"),
        "contact": ("id", "name"),
        "author": ("id", "name"),
    },
    "communications": {
        "user": ("id", "name"),
        "matter": ("id", "display_number"),
        "senders": PARTICIPANT,
        "receivers": PARTICIPANT,
    },
    "relationships": {"matter": ("id", "display_number"), "contact": ("id", "name")},
    "billable_matters": {"client": ("id", "name")},
}

ENDPOINTS: tuple[str, ...] = tuple(FIELDS)
DERIVED: tuple[str, ...] = ("outstanding_client_balances", "billable_matters")

# Which table a nested relation's id points at, where it points at a served endpoint.
REFERENCES: dict[str, str] = {
    "client": "contacts",
    "contact": "contacts",
    "company": "contacts",
    "user": "users",
    "matter": "matters",
    "matters": "matters",
    "bill": "bills",
    "activity": "activities",
    "practice_area": "practice_areas",
    "responsible_attorney": "users",
    "originating_attorney": "users",
    "responsible_staff": "users",
    "destination_bank_account": "bank_accounts",
    "allocation": "allocations",
    "matter_stage": "matter_stages",
    "group": "groups",
    "activity_description": "activity_descriptions",
    "expense_category": "expense_categories",
    "task": "tasks",
    "task_type": "task_types",
    "assigner": "users",
    "author": "users",
    "users": "users",
    "custom_fields": "custom_fields",
}

# Clio's bill state machine: the transitions a bill in each state still allows.
STATE_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("awaiting_approval", "awaiting_payment", "deleted"),
    "awaiting_approval": ("awaiting_payment", "deleted"),
    "awaiting_payment": ("paid", "void"),
    "paid": (),
    "void": (),
    "deleted": (),
}


def complete(endpoint: str, record: dict) -> dict:
    """Return `record` with every spec field of `endpoint` present (missing ones `None`,
    or `[]` for the lists Clio sends empty)."""
    full = _TEMPLATES[endpoint].copy()  # built hundreds of thousands of times: kept cheap
    full.update(record)
    for relation in _LISTS_OF.get(endpoint, ()):
        if full[relation] is None:
            full[relation] = []
    return full


# Lists Clio sends empty rather than null on a record that has none.
_EMPTY_LISTS = frozenset({"custom_field_values", "account_balances"})
_TEMPLATES = {e: {**dict.fromkeys(FIELDS[e]), **dict.fromkeys(NESTED[e])} for e in FIELDS}
_LISTS_OF = {e: tuple(r for r in NESTED[e] if r in _EMPTY_LISTS) for e in FIELDS}
_LISTS_OF = {e: lists for e, lists in _LISTS_OF.items() if lists}


def stamped(endpoint: str) -> bool:
    """Whether the endpoint's records carry `created_at` (groups only have `updated_at`)."""
    return "created_at" in FIELDS[endpoint]
