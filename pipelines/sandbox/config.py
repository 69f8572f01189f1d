"""Settings of one sandbox server."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pipelines.sandbox.grow.options import GrowOptions

Region = Literal["us", "eu", "ca", "au"]
Api = Literal["manage", "platform"]
Scale = Literal["tiny", "small", "large", "xlarge"]
CustomFieldEdits = Literal["touch", "silent"]

REGIONS: tuple[str, ...] = ("us", "eu", "ca", "au")
MANAGE_RATE_LIMIT = (50, 60.0)  # per access token, per window (CLIO_API.md)
PLATFORM_RATE_LIMIT = (3, 1.0)  # per application


@dataclass
class SandboxConfig:
    """Everything `create_app` needs; the defaults are Clio Manage in the US region."""

    seed: int = 7
    scale: Scale = "tiny"
    region: Region = "us"
    api: Api = "manage"
    client_id: str = "sandbox"
    client_secret: str = "sandbox-secret"
    rate_limit: tuple[int, float] | None = MANAGE_RATE_LIMIT  # None: unlimited
    token_lifetime: int = 3600  # seconds an access token lives
    allow_http_webhooks: bool = False  # accept http:// webhook URLs on loopback hosts
    webhook_time_scale: float = 1.0  # multiplies retry delays (tests: 0.001)
    # Editing a custom field value moves its parent's updated_at ("touch") or not ("silent")
    custom_field_edits: CustomFieldEdits = "touch"
    fixture: dict | None = None  # Firm.from_records input instead of a generated firm
    fixture_now: str = "2026-11-20T17:00:00-05:00"
    grow: GrowOptions = field(default_factory=GrowOptions)  # Clio Grow beside Manage

    def __post_init__(self) -> None:
        if self.region not in REGIONS:
            raise ValueError(f"region must be one of {', '.join(REGIONS)}")
        if self.api not in ("manage", "platform"):
            raise ValueError("api must be manage or platform")
        if self.custom_field_edits not in ("touch", "silent"):
            raise ValueError("custom_field_edits must be touch or silent")
