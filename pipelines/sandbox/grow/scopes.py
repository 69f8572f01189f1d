"""The Platform's Grow scopes (the developer portal's 17, SCOPE-T in GROW_API.md) and the
scope each Grow path needs.

Requests and grants use the `grow_` names; Grow's error messages name a scope without
the prefix ("a 403 for `location_read` means the grow_location_read consent is
missing"). Which scope gates `/sources` is not documented: the sandbox asks for
`grow_lead_inbox_read`, since sources are the leads' marketing sources [guess].
"""

from __future__ import annotations

ALL_SCOPES = frozenset({
    "grow_lead_inbox_read", "grow_lead_inbox_all_read", "grow_lead_inbox_write",
    "grow_custom_action_read", "grow_custom_action_write", "grow_custom_field_read",
    "grow_location_read", "grow_location_write", "grow_matter_read",
    "grow_matter_note_read", "grow_matter_note_write", "grow_matter_type_read",
    "grow_matter_type_write", "grow_contact_read", "grow_contact_note_read",
    "grow_contact_note_write", "grow_user_read",
})  # fmt: skip
PREFIX = "grow_"

# (resource, write) -> the scope a request needs
READ_SCOPE = {
    "contacts": "grow_contact_read",
    "contact_notes": "grow_contact_note_read",
    "matters": "grow_matter_read",
    "matter_notes": "grow_matter_note_read",
    "inbox_leads": "grow_lead_inbox_read",
    "sources": "grow_lead_inbox_read",
    "matter_types": "grow_matter_type_read",
    "locations": "grow_location_read",
    "users": "grow_user_read",
}
WRITE_SCOPE = {
    "contact_notes": "grow_contact_note_write",
    "matter_notes": "grow_matter_note_write",
    "inbox_leads": "grow_lead_inbox_write",
}
ALL_LEADS = "grow_lead_inbox_all_read"  # without it, only the app's own leads are visible
CUSTOM_FIELDS = "grow_custom_field_read"


def holds(scopes: frozenset[str] | None, needed: str) -> bool:
    """Whether a grant holds `needed` (None: a control-API token holding every scope).
    Reading the inbox is allowed by either lead-inbox read scope."""
    if scopes is None:
        return True
    if needed == "grow_lead_inbox_read":
        return bool({needed, ALL_LEADS} & scopes)
    return needed in scopes


def bare(scope: str) -> str:
    """`grow_location_read` -> `location_read`, as Grow's messages name it."""
    return scope.removeprefix(PREFIX)
