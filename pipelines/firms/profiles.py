"""Firm profiles: one config section `firms.<name>` per firm, with the keys of `sources.clio`.

```toml
# .dlt/secrets.toml
[firms.acme]
region = "us"
[firms.acme.credentials]
client_id = "..."
client_secret = "..."
refresh_token = "..."
```

or `FIRMS__ACME__REGION`, `FIRMS__ACME__CREDENTIALS__CLIENT_ID`, ... in the environment.
A firm's data lives in its own schemas (`clio_acme` raw, `staging_acme`,
`intermediate_acme`, `reports_acme`), its dlt pipeline keeps its own state
(`clio_sync_acme`), and its default token store is its own file. Without a firm the names
stay `clio`, `staging`, `intermediate`, `reports` and `clio_sync`.

A firm name is a lower-case identifier (it becomes part of schema names and of
environment variable names, where `__` separates sections), so `Acme`, `acme-law` or
`acme__law` are refused rather than silently read under another name.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import dlt
from dlt.common.configuration.providers.doc import BaseDocProvider

from pipelines.clio.config import ClioSettings, load_settings
from pipelines.errors import ConfigError

SECTION = "firms"
ENV_PREFIX = "FIRMS__"
MAX_NAME = 40  # schema names stay within PostgreSQL's 63 characters (`intermediate_<name>`)
_NAME = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
RAW, STAGING, INTERMEDIATE, REPORTS = "clio", "staging", "intermediate", "reports"
PIPELINE = "clio_sync"


@dataclass(frozen=True)
class FirmSchemas:
    """The schemas (dlt datasets) of one firm, or of the single-firm warehouse."""

    raw: str = RAW
    staging: str = STAGING
    intermediate: str = INTERMEDIATE
    reports: str = REPORTS
    pipeline: str = PIPELINE  # the dlt pipeline's name: its state is per firm


def schemas(firm: str | None = None) -> FirmSchemas:
    """`clio_<firm>`, `staging_<firm>`, ... for a firm; `clio`, `staging`, ... without one."""
    if not firm:
        return FirmSchemas()
    check_name(firm)
    return FirmSchemas(*(f"{base}_{firm}" for base in (RAW, STAGING, INTERMEDIATE, REPORTS, PIPELINE)))


@dataclass(frozen=True)
class FirmProfile:
    """A firm: its name, its Clio connection and its schemas."""

    name: str
    settings: ClioSettings
    schemas: FirmSchemas


def check_name(name: str, where: str = "") -> str:
    """`name` if it is a valid firm name.

    Raises:
        ConfigError: it is not a lower-case identifier of at most `MAX_NAME` characters.
    """
    if not _NAME.fullmatch(name) or len(name) > MAX_NAME:
        found = f" (found in {where})" if where else ""
        raise ConfigError(
            f"{name!r} is not a valid firm name{found}: a firm name is a lower-case "
            f"identifier of at most {MAX_NAME} characters (letters, digits and single "
            "underscores, starting with a letter), because it becomes part of schema names "
            "and of FIRMS__<NAME>__ variables. Rename the profile, e.g. `acme_law`."
        )
    return name


def firm_names() -> list[str]:
    """The names of the firm profiles configured, sorted: the `firms.<name>` sections of the
    TOML files dlt reads and the `FIRMS__<NAME>__...` environment variables.

    Raises:
        ConfigError: a profile's name is not a valid firm name.
    """
    return sorted(set(_names_in_env()) | set(_names_in_toml()))


def _names_in_env() -> Iterator[str]:
    for variable in os.environ:
        if not variable.upper().startswith(ENV_PREFIX):
            continue
        raw = variable[len(ENV_PREFIX):].split("__", 1)[0]
        if not raw.isupper() and not raw.isdigit():
            # dlt reads upper-case variable names only: this one would be ignored
            raise ConfigError(
                f"The environment variable {variable} names a firm in lower or mixed case; "
                "dlt reads only upper-case variables, so the profile would be ignored. Write "
                f"it as {ENV_PREFIX}{raw.upper()}__... (the firm is then `{raw.lower()}`)."
            )
        yield check_name(raw.lower(), f"the environment variable {variable}")


def _names_in_toml() -> Iterator[str]:
    for provider in dlt.config.config_providers:
        if not isinstance(provider, BaseDocProvider):
            continue
        table, _ = provider.get_value(SECTION, Any, "")
        if isinstance(table, Mapping):
            for name, value in table.items():
                if isinstance(value, Mapping):
                    yield check_name(str(name), f"[{SECTION}.{name}] in {provider.name}")


def require_firm(name: str) -> str:
    """`name` if a profile of that name is configured.

    Raises:
        ConfigError: the name is invalid, or no profile has it (a close one is suggested).
    """
    check_name(name)
    known = firm_names()
    if name in known:
        return name
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    listed = ", ".join(known) if known else "none"
    raise ConfigError(
        f"No firm profile named {name!r} is configured (configured: {listed}).{hint} Add "
        f"a [{SECTION}.{name}] section to .dlt/secrets.toml, or FIRMS__{name.upper()}__* "
        "environment variables (see docs/many-firms.md)."
    )


def firm_settings(name: str, **overrides: Any) -> ClioSettings:
    """The Clio connection of firm `name`, read from `firms.<name>` (same keys and checks
    as `sources.clio`: a mistyped key is a ConfigError).

    Raises:
        ConfigError: no such profile, or a setting is missing, mistyped or misspelt.
    """
    return load_settings(firm=require_firm(name), **overrides)


def profile(name: str, **overrides: Any) -> FirmProfile:
    """Firm `name`'s profile: its settings (validated) and schemas."""
    return FirmProfile(name=name, settings=firm_settings(name, **overrides), schemas=schemas(name))


def profiles() -> list[FirmProfile]:
    """Every configured firm's profile, in name order."""
    return [profile(name) for name in firm_names()]
