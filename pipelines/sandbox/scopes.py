"""Which permission (OAuth scope) each sandbox endpoint needs.

Clio grants access per permission group, read or read/write ("Billing" covers bills, line
items, interest charges, trust line items...). The sandbox names scopes
`<permission>:read` and `<permission>:write`; write implies read. A token minted with
`scopes=None` holds them all.
"""

from __future__ import annotations

PERMISSION_OF_ENDPOINT = {
    "bills": "billing", "line_items": "billing", "interest_charges": "billing",
    "trust_line_items": "billing", "outstanding_client_balances": "billing",
    "allocations": "billing", "credit_memos": "billing",
    "activities": "activities",
    "matters": "matters", "practice_areas": "matters",
    "contacts": "contacts",
    "users": "users",
    "bank_accounts": "accounts", "bank_transactions": "accounts",
    "webhooks": "webhooks",
    "billable_matters": "billing",
    "activity_descriptions": "activities", "expense_categories": "activities",
    "activity_rates": "activities",
    "matter_stages": "matters", "relationships": "matters", "notes": "matters",
    "groups": "users",
    "custom_fields": "custom_fields", "custom_field_sets": "custom_fields",
    "tasks": "tasks", "task_types": "tasks",
    "calendar_entries": "calendars",
    "communications": "communications",
}  # fmt: skip
WEBHOOK_MODEL_PERMISSION = {
    "activity": "activities", "bill": "billing", "contact": "contacts", "matter": "matters",
    "calendar_entry": "calendars", "communication": "communications", "task": "tasks",
    "document": "documents", "folder": "documents", "clio_payments_payment": "clio_payments",
}  # fmt: skip
ALL_SCOPES = frozenset(
    f"{p}:{mode}"
    for p in {*PERMISSION_OF_ENDPOINT.values(), *WEBHOOK_MODEL_PERMISSION.values()}
    for mode in ("read", "write")
)


def required_scope(permission: str, write: bool) -> str:
    return f"{permission}:{'write' if write else 'read'}"


def grants(scopes: frozenset[str] | None, needed: str) -> bool:
    """Whether `scopes` (None: all) include `needed`; `x:write` implies `x:read`."""
    if scopes is None:
        return True
    permission, _, mode = needed.partition(":")
    return needed in scopes or (mode == "read" and f"{permission}:write" in scopes)
