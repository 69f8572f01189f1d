"""Checks shared by the Clio Manage and Clio Grow settings: numbers in range, and no
single wait of our own choosing longer than `max_wait`, each failure one clear paragraph
naming the environment variable to fix."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from dlt.common.configuration.specs import CredentialsConfiguration, configspec
from dlt.common.typing import TSecretStrValue

from pipelines.errors import ConfigError


@configspec
class OAuthAppCredentials(CredentialsConfiguration):
    """An OAuth app (client id and secret) and optional token seeds."""

    client_id: str | None = None
    client_secret: TSecretStrValue | None = None
    refresh_token: TSecretStrValue | None = None
    access_token: TSecretStrValue | None = None


def check_numbers(values: Mapping[str, Any], prefix: str, *,
                  ints: Mapping[str, tuple[int, int]], floats: Mapping[str, bool],
                  waits: Iterable[str] = (), rates: Iterable[str] = ()) -> None:
    """Raise ConfigError unless each of `ints` is a whole number in its (low, high) range,
    each of `floats` a finite number (> 0, or >= 0 where its flag says zero is fine), and
    no single wait longer than `values["max_wait"]`: neither one of `waits` (seconds) nor
    the spacing one of `rates` (per second) makes. `prefix` names the settings'
    environment variables."""
    for name, (low, high) in ints.items():
        value = values[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            _bad(prefix + name.upper(), value, f"a whole number from {low} to {high}")
    for name, zero_ok in floats.items():
        value = values[name]
        if (isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
                or value < 0 or (value == 0 and not zero_ok)):
            _bad(prefix + name.upper(), value,
                 "a finite number " + ("of 0 or more" if zero_ok else "greater than 0"))
    cap = values["max_wait"]
    spacing = {name: 1 / values[name] for name in rates}
    for name, seconds in [(name, values[name]) for name in waits] + list(spacing.items()):
        if seconds > cap:
            raise ConfigError(
                f"{prefix}{name.upper()} ({values[name]!r}) makes a single wait of "
                f"{seconds:g} s, longer than {prefix}MAX_WAIT ({cap:g} s), the longest "
                "clio-sync waits for anything. Lower the one or raise the other."
            )


def _bad(key: str, value: Any, expected: str) -> None:
    raise ConfigError(
        f"{key} must be {expected} (it is {value!r}); fix it in the "
        "environment or in .dlt/config.toml, or remove it to use the default."
    )
