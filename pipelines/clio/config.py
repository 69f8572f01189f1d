"""Settings of the Clio connection, read through dlt's config providers.

Every value comes from dlt's providers under the section `sources.clio`: environment
variables (`SOURCES__CLIO__REGION`, `SOURCES__CLIO__CREDENTIALS__CLIENT_ID`, ...), then
`.dlt/secrets.toml` and `.dlt/config.toml` in the working directory. Explicit arguments of
`load_settings` win over all of them. A firm profile (`load_settings(firm="acme")`) reads
the same keys from the section `firms.acme` instead (`FIRMS__ACME__REGION`, ...; see
`pipelines.firms.profiles`), and its default token store is its own.

```toml
# .dlt/secrets.toml
[sources.clio]
region = "us"              # us | eu | ca | au
api = "manage"             # manage | platform
[sources.clio.credentials]
client_id = "..."
client_secret = "..."
refresh_token = "..."      # optional seed; `clio-sync auth login` writes the token store instead
```
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar

from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.configuration.exceptions import (
    ConfigurationException,
    ConfigValueCannotBeCoercedException,
)
from dlt.common.configuration.specs import BaseConfiguration

from pipelines.clio.config_checks import OAuthAppCredentials, check_numbers
from pipelines.clio.config_keys import check_setting_names
from pipelines.clio.endpoints import API_VERSION
from pipelines.clio.regions import APIS, REGIONS, Api, Region, hosts_for
from pipelines.clio.token_location import default_token_store
from pipelines.errors import ConfigError

# Manage allows 50 requests per window at peak (more off-peak): a buffer must leave at
# least one of them. Whether this token gets 50 or 300 is known only from the first answer,
# so the client also refuses, at run time, a buffer that leaves none of the limit it sees.
MAX_RATE_LIMIT_BUFFER = 49
MAX_ATTEMPTS = 100  # per request; beyond this a retry loop is a stall, not patience
# Whole numbers: (smallest, largest).
_INTS = {"max_attempts": (1, MAX_ATTEMPTS), "bad_page_attempts": (1, MAX_ATTEMPTS),
         "rate_limit_buffer": (0, MAX_RATE_LIMIT_BUFFER)}
# Seconds or rates: may they be 0?
_FLOATS = {"timeout": False, "backoff_base": True, "backoff_cap": False,
           "platform_requests_per_second": False, "refresh_skew": True, "max_wait": False,
           "reread_hours": True}


_CURRENT_FIRM: ContextVar[str | None] = ContextVar("clio_sync_firm", default=None)


@contextmanager
def use_firm(firm: str | None) -> Iterator[None]:
    """Within the block, `load_settings()` reads firm `firm`'s profile (`clio-sync --firm`,
    so `auth` and `doctor` act on that firm's connection and token store)."""
    token = _CURRENT_FIRM.set(firm)
    try:
        yield
    finally:
        _CURRENT_FIRM.reset(token)


ClioCredentials = OAuthAppCredentials  # `sources.clio.credentials`


@configspec
class ClioConfiguration(BaseConfiguration):
    """`sources.clio`: where Clio is and how patiently to talk to it."""

    region: str = "us"
    base_url: str | None = None
    api: str = "manage"
    token_store: str | None = None
    credentials: ClioCredentials = None  # type: ignore[assignment]
    timeout: float = 30.0
    max_attempts: int = 6
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    rate_limit_buffer: int = 1
    platform_requests_per_second: float = 3.0
    bad_page_attempts: int = 3
    refresh_skew: float = 60.0
    max_wait: float = 300.0
    reread_hours: float = 24.0


@dataclass(frozen=True)
class ClioSettings:
    """Resolved, validated settings of one Clio connection (secrets hidden from `repr`)."""

    region: Region
    base_url: str  # API host: the REST API is at f"{base_url}/api/v4"
    oauth_base: str  # OAuth endpoints are at f"{oauth_base}/oauth/..."
    api: Api
    token_store: Path  # absolute; see `token_location` for the default
    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    api_version: str = API_VERSION
    timeout: float = 30.0  # seconds per request (connect, read, write, pool)
    max_attempts: int = 6  # per request, first try included
    backoff_base: float = 0.5  # seconds; doubled per attempt, with full jitter
    backoff_cap: float = 30.0  # longest single backoff (a longer Retry-After is still honoured)
    rate_limit_buffer: int = 1  # requests left unused per window, for other users of the token
    platform_requests_per_second: float = 3.0  # Platform's documented per-app limit
    bad_page_attempts: int = 3  # a malformed page is fetched at most this often
    refresh_skew: float = 60.0  # refresh this many seconds before the access token expires
    # Longest single sleep (a Retry-After, the next rate-limit window, a backoff):
    # Manage's windows last 60 s, so a longer wait means a quota or a proxy, not pacing, and
    # the run holds the warehouse's writer lock (the webhook applier waits) while it waits.
    max_wait: float = 300.0
    # Matters and contacts are read in full (no `updated_since`) when their last full read
    # is older than this: Clio does not say whether editing a custom field value (or a
    # trust balance) moves the record's `updated_at`. 0: on every run.
    reread_hours: float = 24.0
    firm: str | None = None  # the firm profile these settings came from (None: sources.clio)

    @property
    def api_root(self) -> str:
        """Root of the REST API, e.g. `https://app.clio.com/api/v4`."""
        return f"{self.base_url}/api/v4"

    @property
    def token_url(self) -> str:
        return f"{self.oauth_base}/oauth/token"

    @property
    def uses_default_token_store(self) -> bool:
        """True when the token store is this authorization's default one (no setting)."""
        return self.token_store == _default_store(self.api, self.region, self.base_url,
                                                  self.client_id, self.firm)


def load_settings(
    base_url: str | None = None,
    region: str | None = None,
    api: str | None = None,
    token_store: str | Path | None = None,
    *,
    firm: str | None = None,
    **overrides: Any,
) -> ClioSettings:
    """Resolve `sources.clio` (or the profile `firms.<firm>`) through dlt's providers;
    explicit arguments win.

    Args:
        base_url: Overrides the region's host (the API at `{base_url}/api/v4`).
        region: us, eu, ca or au.
        api: manage or platform.
        token_store: Path of the token file (default: one per authorization in the user's
            config dir, see `token_location`; a firm's default is its own file there).
        firm: a firm profile's name: read `firms.<firm>` instead of `sources.clio`
            (default: the one `use_firm` set, if any).
        **overrides: Any other `ClioSettings` field (client_id, max_attempts, ...).

    Raises:
        ConfigError: A value is mistyped, out of range or missing, or a name is mistyped.
    """
    firm = firm or _CURRENT_FIRM.get()
    sections = settings_sections(firm)
    prefix = env_prefix(firm)
    check_setting_names(ClioConfiguration, sections)
    try:
        config = resolve_configuration(ClioConfiguration(), sections=sections)
    except ConfigValueCannotBeCoercedException as exc:
        raise ConfigError(
            f"{prefix}{exc.field_name.upper()} is not a {_kind(exc.hint)}. Fix it in "
            "the environment or in .dlt/config.toml, or remove it to use the default (see "
            "docs/connecting-clio.md)."
        ) from None
    except ConfigurationException as exc:
        raise ConfigError(
            f"A {prefix}* setting could not be read: {exc}. Fix it in the environment "
            "or in .dlt/config.toml / .dlt/secrets.toml (see docs/connecting-clio.md)."
        ) from None
    creds = config.credentials or ClioCredentials()
    unknown = set(overrides) - {f.name for f in fields(ClioSettings)}
    if unknown:
        raise TypeError(f"load_settings() got unknown settings: {sorted(unknown)}")
    chosen_region = _choice("region", region or config.region, REGIONS, firm)
    chosen_api = _choice("api", api or config.api, APIS, firm)
    chosen_base = base_url or config.base_url
    if chosen_base and not str(chosen_base).startswith(("http://", "https://")):
        raise ConfigError(
            f"{prefix}BASE_URL is {chosen_base!r}, which is not an http(s) URL. Give "
            "the host only, e.g. http://127.0.0.1:8750 (the API is then at /api/v4), or "
            "remove it to use the region's Clio host."
        )
    hosts = hosts_for(chosen_region, chosen_api, chosen_base)
    values: dict[str, Any] = {
        "region": chosen_region,
        "api": chosen_api,
        "base_url": hosts.api_base,
        "oauth_base": hosts.oauth_base,
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
        "refresh_token": creds.refresh_token or None,
        "access_token": creds.access_token or None,
        "token_store": _token_store_path(token_store or config.token_store, chosen_api,
                                         chosen_region, hosts.api_base,
                                         overrides.get("client_id") or creds.client_id, firm),
        "timeout": config.timeout,
        "max_attempts": config.max_attempts,
        "backoff_base": config.backoff_base,
        "backoff_cap": config.backoff_cap,
        "rate_limit_buffer": config.rate_limit_buffer,
        "platform_requests_per_second": config.platform_requests_per_second,
        "bad_page_attempts": config.bad_page_attempts,
        "refresh_skew": config.refresh_skew,
        "max_wait": config.max_wait,
        "reread_hours": config.reread_hours,
        "firm": firm,
    }
    values.update(overrides)
    _require(values, "client_id", "the app's Client ID (developer portal, app Settings page)",
             firm)
    _require(values, "client_secret",
             "the app's Client Secret (developer portal, app Settings page)", firm)
    check_numbers(values, prefix, ints=_INTS, floats=_FLOATS, waits=("backoff_cap",),
                  rates=("platform_requests_per_second",))
    return ClioSettings(**values)


def settings_sections(firm: str | None = None) -> tuple[str, str]:
    """Where the settings live: `sources.clio`, or `firms.<firm>` for a firm profile."""
    return ("firms", firm) if firm else ("sources", "clio")


def env_prefix(firm: str | None = None) -> str:
    """`SOURCES__CLIO__`, or `FIRMS__<FIRM>__`: how the messages name a setting."""
    return "__".join(settings_sections(firm)).upper() + "__"


def credential_overrides(credentials: ClioCredentials | None) -> dict[str, Any]:
    """The values `credentials` sets, as `load_settings` overrides."""
    if credentials is None:
        return {}
    names = ("client_id", "client_secret", "refresh_token", "access_token")
    return {name: getattr(credentials, name) for name in names if getattr(credentials, name)}


def with_overrides(settings: ClioSettings, **changes: Any) -> ClioSettings:
    """A copy of `settings` with some fields changed (tests, benchmarks)."""
    return replace(settings, **changes)


_Choice = TypeVar("_Choice", bound=str)  # a region or an API


def _choice(name: str, value: str, valid: tuple[_Choice, ...], firm: str | None) -> _Choice:
    normalized = str(value).strip().lower()
    for choice in valid:
        if normalized == choice:
            return choice
    raise ConfigError(
        f"{env_prefix(firm)}{name.upper()} is {value!r}, which is not one of "
        f"{', '.join(valid)}. Fix it in the environment, or as `{name}` under "
        f"[{'.'.join(settings_sections(firm))}] in .dlt/config.toml."
    )


def _require(values: dict[str, Any], name: str, what: str, firm: str | None) -> None:
    if not values.get(name):
        prefix, section = env_prefix(firm), ".".join(settings_sections(firm))
        raise ConfigError(
            f"{prefix}CREDENTIALS__{name.upper()} is not set: it is {what}. Put "
            f"`{name} = \"...\"` under [{section}.credentials] in .dlt/secrets.toml, or "
            f"export {prefix}CREDENTIALS__{name.upper()}. See docs/connecting-clio.md."
        )


def _token_store_path(configured: str | Path | None, api: Api, region: Region, api_base: str,
                      client_id: str | None, firm: str | None) -> Path:
    if configured:
        return Path(configured).expanduser().absolute()
    return _default_store(api, region, api_base, client_id or "", firm)


def _default_store(api: Api, region: Region, api_base: str, client_id: str,
                   firm: str | None) -> Path:
    """The authorization's default store; a firm's is its own: an integrator's one app
    authorizes many firms, each with its own tokens."""
    path = default_token_store(api, region, api_base, client_id)
    return path.with_name(f"firm-{firm}-{path.name}") if firm else path


def _kind(hint: Any) -> str:
    return {int: "whole number", float: "number"}.get(hint, getattr(hint, "__name__", str(hint)))
