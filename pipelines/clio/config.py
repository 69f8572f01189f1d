"""Settings of the Clio connection, read through dlt's config providers.

Every value comes from dlt's providers under the section `sources.clio`: environment
variables (`SOURCES__CLIO__REGION`, `SOURCES__CLIO__CREDENTIALS__CLIENT_ID`, ...), then
`.dlt/secrets.toml` and `.dlt/config.toml` in the working directory. Explicit arguments of
`load_settings` win over all of them.

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

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.configuration.exceptions import ConfigurationException
from dlt.common.configuration.specs import BaseConfiguration, CredentialsConfiguration
from dlt.common.typing import TSecretStrValue

from pipelines.clio.endpoints import API_VERSION
from pipelines.clio.regions import APIS, REGIONS, Api, Region, hosts_for
from pipelines.errors import ConfigError

DEFAULT_TOKEN_STORE = Path(".clio-sync") / "token.json"  # git-ignored, beside the working dir


@configspec
class ClioCredentials(CredentialsConfiguration):
    """The OAuth app (client id and secret) and optional token seeds."""

    client_id: str | None = None
    client_secret: TSecretStrValue | None = None
    refresh_token: TSecretStrValue | None = None
    access_token: TSecretStrValue | None = None


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


@dataclass(frozen=True)
class ClioSettings:
    """Resolved, validated settings of one Clio connection (secrets hidden from `repr`)."""

    region: Region
    base_url: str  # API host: the REST API is at f"{base_url}/api/v4"
    oauth_base: str  # OAuth endpoints are at f"{oauth_base}/oauth/..."
    api: Api
    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    token_store: Path = DEFAULT_TOKEN_STORE
    api_version: str = API_VERSION
    timeout: float = 30.0  # seconds per request (connect, read, write, pool)
    max_attempts: int = 6  # per request, first try included
    backoff_base: float = 0.5  # seconds; doubled per attempt, with full jitter
    backoff_cap: float = 30.0  # longest single backoff (a longer Retry-After is still honoured)
    rate_limit_buffer: int = 1  # requests left unused per window, for other users of the token
    platform_requests_per_second: float = 3.0  # Platform's documented per-app limit
    bad_page_attempts: int = 3  # a malformed page is fetched at most this often
    refresh_skew: float = 60.0  # refresh this many seconds before the access token expires

    @property
    def api_root(self) -> str:
        """Root of the REST API, e.g. `https://app.clio.com/api/v4`."""
        return f"{self.base_url}/api/v4"

    @property
    def token_url(self) -> str:
        return f"{self.oauth_base}/oauth/token"


def load_settings(
    base_url: str | None = None,
    region: str | None = None,
    api: str | None = None,
    token_store: str | Path | None = None,
    **overrides: Any,
) -> ClioSettings:
    """Resolve `sources.clio` through dlt's providers; explicit arguments win.

    Args:
        base_url: Overrides the region's host (the API at `{base_url}/api/v4`).
        region: us, eu, ca or au.
        api: manage or platform.
        token_store: Path of the token file.
        **overrides: Any other `ClioSettings` field (client_id, max_attempts, ...).

    Raises:
        ConfigError: A value is mistyped or a required one is missing.
    """
    try:
        config = resolve_configuration(ClioConfiguration(), sections=("sources", "clio"))
    except ConfigurationException as exc:
        raise ConfigError(
            f"A SOURCES__CLIO__* setting could not be read: {exc}. Fix it in the environment "
            "or in .dlt/config.toml / .dlt/secrets.toml (see docs/connecting-clio.md)."
        ) from None
    creds = config.credentials or ClioCredentials()
    unknown = set(overrides) - {f.name for f in fields(ClioSettings)}
    if unknown:
        raise TypeError(f"load_settings() got unknown settings: {sorted(unknown)}")
    chosen_region = _choice("region", region or config.region, REGIONS)
    chosen_api = _choice("api", api or config.api, APIS)
    chosen_base = base_url or config.base_url
    if chosen_base and not str(chosen_base).startswith(("http://", "https://")):
        raise ConfigError(
            f"SOURCES__CLIO__BASE_URL is {chosen_base!r}, which is not an http(s) URL. Give "
            "the host only, e.g. http://127.0.0.1:8750 (the API is then at /api/v4), or "
            "remove it to use the region's Clio host."
        )
    hosts = hosts_for(chosen_region, chosen_api, chosen_base)  # type: ignore[arg-type]
    values: dict[str, Any] = {
        "region": chosen_region,
        "api": chosen_api,
        "base_url": hosts.api_base,
        "oauth_base": hosts.oauth_base,
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
        "refresh_token": creds.refresh_token or None,
        "access_token": creds.access_token or None,
        "token_store": Path(token_store or config.token_store or DEFAULT_TOKEN_STORE)
        .expanduser().absolute(),
        "timeout": config.timeout,
        "max_attempts": config.max_attempts,
        "backoff_base": config.backoff_base,
        "backoff_cap": config.backoff_cap,
        "rate_limit_buffer": config.rate_limit_buffer,
        "platform_requests_per_second": config.platform_requests_per_second,
        "bad_page_attempts": config.bad_page_attempts,
        "refresh_skew": config.refresh_skew,
    }
    values.update(overrides)
    _require(values, "client_id", "the app's Client ID (developer portal, app Settings page)")
    _require(values, "client_secret", "the app's Client Secret (developer portal, app Settings page)")
    settings = ClioSettings(**values)
    _check_numbers(settings)
    return settings


def with_overrides(settings: ClioSettings, **changes: Any) -> ClioSettings:
    """A copy of `settings` with some fields changed (tests, benchmarks)."""
    return replace(settings, **changes)


def _choice(name: str, value: str, valid: tuple[str, ...]) -> str:
    normalized = str(value).strip().lower()
    if normalized not in valid:
        raise ConfigError(
            f"SOURCES__CLIO__{name.upper()} is {value!r}, which is not one of "
            f"{', '.join(valid)}. Fix it in the environment, or as `{name}` under "
            "[sources.clio] in .dlt/config.toml."
        )
    return normalized


def _require(values: dict[str, Any], name: str, what: str) -> None:
    if not values.get(name):
        raise ConfigError(
            f"SOURCES__CLIO__CREDENTIALS__{name.upper()} is not set: it is {what}. Put "
            f"`{name} = \"...\"` under [sources.clio.credentials] in .dlt/secrets.toml, or "
            f"export SOURCES__CLIO__CREDENTIALS__{name.upper()}. See docs/connecting-clio.md."
        )


def _check_numbers(settings: ClioSettings) -> None:
    positive = ("timeout", "max_attempts", "backoff_cap", "platform_requests_per_second",
                "bad_page_attempts")
    for name in positive:
        if not getattr(settings, name) > 0:
            raise ConfigError(
                f"SOURCES__CLIO__{name.upper()} must be greater than 0 "
                f"(it is {getattr(settings, name)!r}); fix it or remove it to use the default."
            )
    for name in ("rate_limit_buffer", "backoff_base", "refresh_skew"):
        if getattr(settings, name) < 0:
            raise ConfigError(
                f"SOURCES__CLIO__{name.upper()} must not be negative "
                f"(it is {getattr(settings, name)!r}); fix it or remove it to use the default."
            )
