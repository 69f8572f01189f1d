"""Settings of the sandbox's Grow API, including the answers to Grow's open questions.

Where the public material leaves a behaviour open and a client must survive either answer
(GROW_API.md §7), the sandbox picks a default and an option plays the other one:

    end_of_list       last page: `paging: {}` (absent `next`), `"next": null`, `"next": ""`,
                      or no `meta` at all
    timestamps        `utc` (`2026-11-20T22:00:00Z`, the spec's examples) or `offset`
                      (the firm's `-05:00`, as Manage sends them)
    who_am_i          `{"data": user}` (the spec) or the bare user
    converted_leads   `GET /inbox_leads/{id}` of a lead that became a matter: `show` (200,
                      state `accepted`) or `404`
    lead_rollout      leads carry `matter_type`/`matter_location` (on the phased rollout) or not
    missing_scope     `403` naming the scope, or `redirect` (a 302 to the auth host, seen by
                      third parties)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pipelines.sandbox.grow.scopes import ALL_SCOPES

EndOfList = Literal["absent", "null", "empty", "no_meta"]
Timestamps = Literal["utc", "offset"]

CHOICES: dict[str, tuple[str, ...]] = {
    "end_of_list": ("absent", "null", "empty", "no_meta"),
    "timestamps": ("utc", "offset"),
    "who_am_i": ("wrapped", "bare"),
    "converted_leads": ("show", "404"),
    "missing_scope": ("403", "redirect"),
}
PLATFORM_RATE_LIMIT = (3, 1.0)  # requests per window, per application (DOC-rate)


@dataclass
class GrowOptions:
    """Everything about the Grow side of one sandbox; the defaults follow GROW_API.md."""

    client_id: str = "grow-sandbox"  # the Platform app's App Key
    client_secret: str = "grow-sandbox-secret"
    app_scopes: frozenset[str] = ALL_SCOPES  # scopes enabled on the app in the portal
    pkce_required: bool = False  # the app's "Use PKCE" toggle
    token_lifetime: int = 86_400  # seconds: Platform access tokens last 24 hours
    rate_limit: tuple[int, float] | None = PLATFORM_RATE_LIMIT  # None: unlimited
    page_size: int = 200  # records per page (Grow: 200, not chosen by the client)
    end_of_list: EndOfList = "absent"
    timestamps: Timestamps = "utc"
    who_am_i: Literal["wrapped", "bare"] = "wrapped"
    converted_leads: Literal["show", "404"] = "show"
    lead_rollout: bool = True
    missing_scope: Literal["403", "redirect"] = "403"
    extra_apps: dict[str, str] = field(default_factory=dict)  # more App Keys -> secrets

    def __post_init__(self) -> None:
        for name, allowed in CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"grow option {name} must be one of {', '.join(allowed)}")
        if self.page_size < 1:
            raise ValueError("grow option page_size must be at least 1")

    def secret_of(self, client_id: str | None) -> str | None:
        """The secret of a registered app, or None for an unknown App Key."""
        if client_id == self.client_id:
            return self.client_secret
        return self.extra_apps.get(client_id or "")


def parse_option(text: str) -> tuple[str, Any]:
    """`KEY=VALUE` of `sandbox serve --grow-option` as a GrowOptions field and value (its
    type depends on the field; GrowOptions checks the choices)."""
    key, sep, value = text.partition("=")
    key = key.strip().replace("-", "_")
    if not sep:
        raise ValueError(f"--grow-option takes KEY=VALUE, not {text!r}")
    if key in CHOICES:
        return key, value.strip()
    if key in ("pkce_required", "lead_rollout"):
        return key, value.strip().lower() in ("1", "true", "yes", "on")
    if key in ("page_size", "token_lifetime"):
        return key, int(value)
    if key == "rate_limit":
        if value.strip() in ("0", "off", "none"):
            return key, None
        limit, _, window = value.partition("/")
        return key, (int(limit), float(window or 1.0))
    raise ValueError(f"unknown --grow-option {key!r}")
