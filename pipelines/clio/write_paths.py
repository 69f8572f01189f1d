"""The settings that choose a write path: `direct` (the default, one DuckDB transaction
without dlt's load) or `dlt` (dlt's load, slower, kept for comparison and as a way out).
The webhook applier's (`WEBHOOKS__WRITE_PATH`) and a full refresh's
(`WAREHOUSE__REPLACE_PATH`) are read here, with the same check of their value."""

from __future__ import annotations

from typing import Any, Literal

import dlt

from pipelines.errors import ConfigError

WritePath = Literal["direct", "dlt"]


def write_path(key: str, direct_does: str, dlt_does: str,
               default: WritePath = "direct") -> WritePath:
    """The path setting `key` (`webhooks.write_path`...) chooses; `default` when unset.

    Raises:
        ConfigError: the value is neither `direct` nor `dlt` (the message says what each
            does: `direct_does`, `dlt_does`).
    """
    value: Any = dlt.config.get(key)
    if value is None:
        return default
    if value == "direct":
        return "direct"
    if value == "dlt":
        return "dlt"
    name = key.upper().replace(".", "__")
    raise ConfigError(
        f"{name} is {value!r}; it must be `direct` ({direct_does}) or `dlt` ({dlt_does}); "
        f"unset, it is `{default}`. Fix or unset it."
    )
