"""Where the token store lives when `SOURCES__CLIO__TOKEN_STORE` does not say.

One store per OS user and authorization, in the user's config dir:
`$XDG_CONFIG_HOME/clio-sync/tokens/<name>.json` (`~/.config/...` when `XDG_CONFIG_HOME` is
unset or not absolute, as the XDG spec asks). The name is derived from what identifies an
authorization: the API, the region, the API host when it is not the region's own, and
the app's client id. So every process of this user configured for the same app and Clio
host shares one store, whatever its working directory or `--db`: a cron job started
elsewhere cannot seed a second store from a refresh token that Platform has since rotated.

`.clio-sync/token.json` in the working directory was the default before; `TokenStore`
adopts it (moves it here) when the new store does not exist yet.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.clio.regions import Api, Region, hosts_for
from pipelines.errors import ConfigError

if TYPE_CHECKING:
    from pipelines.clio.config import ClioSettings

LEGACY_TOKEN_STORE = Path(".clio-sync") / "token.json"  # the old default, per working dir
APP_DIR = "clio-sync"


def config_home() -> Path:
    """`$XDG_CONFIG_HOME`, or `~/.config` when it is unset, empty or relative."""
    configured = os.environ.get("XDG_CONFIG_HOME", "")
    if configured and os.path.isabs(configured):
        return Path(configured)
    try:
        return Path.home() / ".config"
    except RuntimeError:  # no HOME and no passwd entry (a bare container)
        raise ConfigError(
            "Cannot find a place for the token store: neither XDG_CONFIG_HOME nor HOME is "
            "set. Set SOURCES__CLIO__TOKEN_STORE to the path of the token file (a folder "
            "only this user can read), or set HOME."
        ) from None


def default_token_store(api: Api, region: Region, base_url: str, client_id: str) -> Path:
    """The token file of this authorization in the user's config dir (see the module doc)."""
    region_host = hosts_for(region, api).api_base
    host = "" if base_url.rstrip("/") == region_host else base_url.rstrip("/")
    identity = "\n".join((api, region, host, client_id))
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    parts = [api, region] + ([_slug(host)] if host else []) + [digest]
    return config_home() / APP_DIR / "tokens" / ("-".join(parts) + ".json")


def describe_store(settings: ClioSettings) -> str:
    """The token store's path and why that one (`auth status`, `doctor`)."""
    why = ("the default for this app, region and host" if settings.uses_default_token_store
           else "from SOURCES__CLIO__TOKEN_STORE")
    missing = "" if settings.token_store.exists() else "; not created yet"
    return f"{settings.token_store} ({why}{missing})"


def _slug(url: str) -> str:
    """`http://127.0.0.1:8750` -> `127.0.0.1_8750`: readable, safe in a file name."""
    without_scheme = url.split("://", 1)[-1]
    return re.sub(r"[^A-Za-z0-9.-]+", "_", without_scheme).strip("_")[:60]
