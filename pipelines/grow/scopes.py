"""The Platform scopes the Grow source asks for, and the one each Grow path needs.

Scopes are requested with their `grow_` names; Grow's 403 messages name them without
it, so every message of ours names the full scope the developer portal lists.
"""

from __future__ import annotations

import re

PREFIX = "grow_"
ALL_LEADS = "grow_lead_inbox_all_read"  # without it, only this app's own leads are visible
CUSTOM_FIELDS = "grow_custom_field_read"
# Read access to everything the source syncs. `grow_lead_inbox_all_read` is needed to see
# leads other apps and the firm entered (most of them), and matters' `inbox_lead_id`.
DEFAULT_SCOPES: tuple[str, ...] = (
    "grow_contact_read", "grow_matter_read", "grow_lead_inbox_read", ALL_LEADS,
    CUSTOM_FIELDS, "grow_location_read", "grow_matter_type_read", "grow_user_read",
    "grow_contact_note_read", "grow_matter_note_read",
)  # fmt: skip
KNOWN_SCOPES = frozenset({
    *DEFAULT_SCOPES, "grow_lead_inbox_write", "grow_custom_action_read",
    "grow_custom_action_write", "grow_location_write", "grow_matter_note_write",
    "grow_matter_type_write", "grow_contact_note_write",
})  # fmt: skip
# first path segment (and "notes" below a record) -> the scope a read needs
_BY_PATH = {
    "contacts": "grow_contact_read", "matters": "grow_matter_read",
    "inbox_leads": "grow_lead_inbox_read", "matter_types": "grow_matter_type_read",
    "locations": "grow_location_read", "users": "grow_user_read",
    # not documented: the sandbox and this source take the lead inbox's [guess]
    "sources": "grow_lead_inbox_read",
}  # fmt: skip
_NOTES = {"contacts": "grow_contact_note_read", "matters": "grow_matter_note_read"}
_NAMED = re.compile(r"\b((?:grow_)?[a-z]+(?:_[a-z]+)*_(?:read|write))\b")


def scope_for(path: str) -> str | None:
    """The scope a GET of `path` (below the API root, e.g. `matters/12/notes`) needs."""
    parts = [p for p in path.split("?")[0].split("/") if p]
    if "grow" in parts:
        parts = parts[parts.index("grow") + 1:]
    if not parts:
        return None
    if len(parts) >= 3 and parts[2] == "notes":
        return _NOTES.get(parts[0])
    return _BY_PATH.get(parts[0])


def named_in(message: str) -> str | None:
    """The scope a Grow message names (`contact_read`), as the portal lists it."""
    found = _NAMED.search(message or "")
    if not found:
        return None
    name = found.group(1)
    return name if name.startswith(PREFIX) else PREFIX + name


def parse_scopes(text: str | None) -> tuple[str, ...]:
    """Space- or comma-separated scopes; the defaults when empty."""
    if not text or not text.strip():
        return DEFAULT_SCOPES
    return tuple(dict.fromkeys(s for s in re.split(r"[\s,]+", text.strip()) if s))
