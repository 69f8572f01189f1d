"""Clio's hosts per region and API (CLIO_API.md, "Hosts and regions")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Region = Literal["us", "eu", "ca", "au"]
Api = Literal["manage", "platform"]

REGIONS: tuple[Region, ...] = ("us", "eu", "ca", "au")
APIS: tuple[Api, ...] = ("manage", "platform")

_PREFIX: dict[str, str] = {"us": "", "eu": "eu.", "ca": "ca.", "au": "au."}


@dataclass(frozen=True)
class Hosts:
    """Where the REST API and the OAuth endpoints of one Clio deployment live."""

    api_base: str  # the REST API is at f"{api_base}/api/v4"
    oauth_base: str  # OAuth endpoints are at f"{oauth_base}/oauth/..."


def hosts_for(region: Region, api: Api, base_url: str | None = None) -> Hosts:
    """The hosts of `region`/`api`, or `base_url` for both (the sandbox, a proxy)."""
    if base_url:
        base = base_url.rstrip("/")
        return Hosts(api_base=base, oauth_base=base)
    prefix = _PREFIX[region]
    if api == "platform":
        return Hosts(f"https://{prefix}api.clio.com", f"https://{prefix}auth.api.clio.com")
    manage = f"https://{prefix}app.clio.com"
    return Hosts(manage, manage)
