"""Settings of the Grow connection, read through dlt's providers under `sources.grow`.

```toml
# .dlt/secrets.toml
[sources.grow]
region = "us"                 # us | eu | ca | au: each region has its own apps and hosts
# api_url = "https://api.clio.com/grow"        # the region's by default
# auth_url = "https://auth.api.clio.com"       # OAuth at {auth_url}/oauth/...
# base_url = "http://127.0.0.1:8750"           # the sandbox: API at /grow, OAuth at /platform
# scopes = "grow_contact_read grow_matter_read ..."   # default: read access to everything
[sources.grow.credentials]
client_id = "..."             # the Platform app's App Key
client_secret = "..."
refresh_token = "..."         # optional seed; `clio-sync auth login --grow` writes the store
```

Grow is configured when `SOURCES__GROW__CREDENTIALS__CLIENT_ID` (or `client_id` above) is
set; `clio-sync run`, `reconcile` and `doctor` then cover it too.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.configuration.exceptions import (
    ConfigurationException,
    ConfigValueCannotBeCoercedException,
)
from dlt.common.configuration.specs import BaseConfiguration

from pipelines.clio.config import ClioSettings
from pipelines.clio.config_checks import OAuthAppCredentials, check_numbers
from pipelines.clio.config_keys import check_setting_names
from pipelines.clio.regions import REGIONS, Region
from pipelines.clio.token_location import APP_DIR, config_home
from pipelines.errors import ConfigError
from pipelines.grow.scopes import KNOWN_SCOPES, parse_scopes

SECTIONS = ("sources", "grow")
ENV = "SOURCES__GROW__"
_PREFIX = {"us": "", "eu": "eu.", "ca": "ca.", "au": "au."}
_INTS = {"max_attempts": (1, 100), "bad_page_attempts": (1, 100)}
_FLOATS = {"timeout": False, "backoff_base": True, "backoff_cap": False,
           "requests_per_second": False, "refresh_skew": True, "max_wait": False}


GrowCredentials = OAuthAppCredentials  # `sources.grow.credentials`: the Platform app


@configspec
class GrowConfiguration(BaseConfiguration):
    """`sources.grow`: where Grow is, which scopes, how patiently to talk to it."""

    region: str = "us"
    base_url: str | None = None
    api_url: str | None = None
    auth_url: str | None = None
    token_store: str | None = None
    pacing_file: str | None = None
    scopes: str | None = None
    notes: bool = False
    credentials: GrowCredentials = None  # type: ignore[assignment]
    timeout: float = 30.0
    max_attempts: int = 6
    backoff_base: float = 1.0
    backoff_cap: float = 16.0
    requests_per_second: float = 3.0
    bad_page_attempts: int = 3
    refresh_skew: float = 60.0
    max_wait: float = 300.0


@dataclass(frozen=True)
class GrowSettings(ClioSettings):
    """Resolved Grow settings. `base_url` is the Grow API root (`https://api.clio.com/grow`),
    `oauth_base` the Platform's OAuth host (endpoints at `{oauth_base}/oauth/...`); `api` is
    always `platform` (rotating refresh tokens), and no API version header is sent."""

    scopes: tuple[str, ...] = ()
    notes: bool = False  # also sync contact and matter notes (a request per contact/matter)
    requests_per_second: float = 3.0  # the whole application's budget, on this machine
    pacing_file: Path | None = None  # the app's shared budget (default: in the config dir)

    @property
    def api_root(self) -> str:
        return self.base_url

    @property
    def authorize_url(self) -> str:
        return f"{self.oauth_base}/oauth/authorize"

    @property
    def revoke_url(self) -> str:
        return f"{self.oauth_base}/oauth/revoke"

    @property
    def uses_default_token_store(self) -> bool:
        return self.token_store == default_token_store(self.region, self.base_url, self.client_id)


def grow_hosts(region: str, base_url: str | None = None, api_url: str | None = None,
               auth_url: str | None = None) -> tuple[str, str]:
    """(Grow API root, Platform OAuth host) of a region, a sandbox `base_url`, or overrides."""
    prefix = _PREFIX[region]
    api, auth = f"https://{prefix}api.clio.com/grow", f"https://{prefix}auth.api.clio.com"
    if base_url:
        base = base_url.rstrip("/")
        api, auth = f"{base}/grow", f"{base}/platform"
    return (api_url or api).rstrip("/"), (auth_url or auth).rstrip("/")


def default_token_store(region: str, api_url: str, client_id: str) -> Path:
    """One store per user, region, Grow host and app, beside the Manage stores."""
    region_api, _ = grow_hosts(region)
    host = "" if api_url.rstrip("/") == region_api else api_url.rstrip("/")
    digest = hashlib.sha256("\n".join(("grow", region, host, client_id)).encode()).hexdigest()[:16]
    parts = ["grow", region] + ([_slug(host)] if host else []) + [digest]
    return config_home() / APP_DIR / "tokens" / ("-".join(parts) + ".json")


def _slug(url: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "_", url.split("://", 1)[-1]).strip("_")[:60]


def _resolve() -> GrowConfiguration:
    check_setting_names(GrowConfiguration, SECTIONS)
    try:
        return resolve_configuration(GrowConfiguration(), sections=SECTIONS)
    except ConfigValueCannotBeCoercedException as exc:
        kind = {int: "whole number", float: "number", bool: "true or false"}.get(exc.hint, "value")
        raise ConfigError(
            f"{ENV}{exc.field_name.upper()} is not a {kind}. Fix it in the environment or in "
            ".dlt/config.toml, or remove it to use the default (see docs/connecting-grow.md)."
        ) from None
    except ConfigurationException as exc:
        raise ConfigError(
            f"A {ENV}* setting could not be read: {exc}. Fix it in the environment or in "
            ".dlt/config.toml / .dlt/secrets.toml (see docs/connecting-grow.md)."
        ) from None


def grow_configured() -> bool:
    """Whether Grow is set up here (an App Key is configured)."""
    config = _resolve()
    return bool(config.credentials and config.credentials.client_id)


def load_grow_settings(base_url: str | None = None, region: str | None = None,
                       token_store: str | Path | None = None, **overrides: Any) -> GrowSettings:
    """Resolve `sources.grow` through dlt's providers; explicit arguments win.

    Raises:
        ConfigError: A value is mistyped, out of range or missing, or a name is mistyped.
    """
    config = _resolve()
    creds = config.credentials or GrowCredentials()
    unknown = set(overrides) - {f.name for f in fields(GrowSettings)}
    if unknown:
        raise TypeError(f"load_grow_settings() got unknown settings: {sorted(unknown)}")
    chosen_region = str(region or config.region).strip().lower()
    if chosen_region not in REGIONS:
        raise ConfigError(
            f"{ENV}REGION is {chosen_region!r}, which is not one of {', '.join(REGIONS)}. "
            "A Platform app belongs to one region: use the region of the app in the developer "
            "portal (and of the firm's Grow account)."
        )
    for name, value in (("BASE_URL", base_url or config.base_url), ("API_URL", config.api_url),
                        ("AUTH_URL", config.auth_url)):
        if value and not str(value).startswith(("http://", "https://")):
            raise ConfigError(f"{ENV}{name} is {value!r}, which is not an http(s) URL; fix it "
                              "or remove it to use the region's Clio host.")
    api_root, oauth = grow_hosts(chosen_region, base_url or config.base_url, config.api_url,
                                 config.auth_url)
    scopes = parse_scopes(config.scopes)
    unknown_scopes = sorted(set(scopes) - KNOWN_SCOPES)
    if unknown_scopes:
        raise ConfigError(
            f"{ENV}SCOPES names {', '.join(unknown_scopes)}, which the Clio Platform does not "
            "have (scopes are the grow_... names of the developer portal, e.g. "
            "grow_matter_read). Fix the list, or remove it to ask for read access to everything."
        )
    client_id = overrides.get("client_id") or creds.client_id
    store = token_store or config.token_store
    values: dict[str, Any] = {
        "region": chosen_region, "api": "platform", "base_url": api_root, "oauth_base": oauth,
        "client_id": creds.client_id, "client_secret": creds.client_secret,
        "refresh_token": creds.refresh_token or None, "access_token": creds.access_token or None,
        "token_store": Path(store).expanduser().absolute() if store
        else default_token_store(chosen_region, api_root, client_id or ""),
        "api_version": "", "scopes": scopes, "notes": bool(config.notes),
        "pacing_file": Path(config.pacing_file).expanduser().absolute()
        if config.pacing_file else None,
        "timeout": config.timeout, "max_attempts": config.max_attempts,
        "backoff_base": config.backoff_base, "backoff_cap": config.backoff_cap,
        "requests_per_second": config.requests_per_second,
        "platform_requests_per_second": config.requests_per_second,
        "rate_limit_buffer": 0, "bad_page_attempts": config.bad_page_attempts,
        "refresh_skew": config.refresh_skew, "max_wait": config.max_wait,
    }  # fmt: skip
    values.update(overrides)
    for name, what in (("client_id", "the Platform app's App Key"),
                       ("client_secret", "the Platform app's secret")):
        if not values.get(name):
            raise ConfigError(
                f"{ENV}CREDENTIALS__{name.upper()} is not set: it is {what} (developer portal "
                f"of your region, the app's page). Put `{name} = \"...\"` under "
                f"[sources.grow.credentials] in .dlt/secrets.toml, or export "
                f"{ENV}CREDENTIALS__{name.upper()}. See docs/connecting-grow.md."
            )
    check_numbers(values, ENV, ints=_INTS, floats=_FLOATS, waits=("backoff_cap",),
                  rates=("requests_per_second",))
    return GrowSettings(**values)


__all__ = ["GrowSettings", "Region", "grow_configured", "grow_hosts", "load_grow_settings"]
