"""Mistyped setting names: dlt reads only the names it knows and ignores the rest silently,
so `SOURCES__CLIO__RATE_LIMT_BUFER=1000` would run with the default buffer and nobody told.

Every name under `sources.clio` in the environment and in the TOML files dlt reads is
compared with the fields of the configuration spec: a name close to a known one is
refused with a "did you mean"; any other unknown name is only logged (dlt itself may read
a few, such as resource settings). Values are never quoted: a typo lands on a secret as
easily as on a number.
"""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Iterator, Mapping
from typing import Any

import dlt
from dlt.common.configuration.providers.doc import BaseDocProvider
from dlt.common.configuration.specs import BaseConfiguration

from pipelines.errors import ConfigError

log = logging.getLogger(__name__)

SECTIONS = ("sources", "clio")
ENV_PREFIX = "SOURCES__CLIO__"
SIMILAR = 0.75  # difflib ratio above which an unknown name is taken for a typo


def check_setting_names(spec: type[BaseConfiguration], sections: tuple[str, str] = SECTIONS) -> None:
    """Refuse mistyped names under `sources.clio` (or `sections`, e.g. `sources.grow`) in the
    environment and TOML files.

    Raises:
        ConfigError: A name is unknown but close to a known one.
    """
    known = sorted(_field_paths(spec))
    prefix = "__".join(sections).upper() + "__"
    typos = [_typo_in_env(name, known, prefix) for name in os.environ if name.startswith(prefix)]
    typos += [_typo_in_toml(path, where, known, sections)
              for path, where in _toml_paths(sections)]
    found = [typo for typo in typos if typo]
    if found:
        raise ConfigError(
            f"Unknown setting{'s' if len(found) > 1 else ''}: {'; '.join(found)}. A misspelt "
            "name would be ignored without a word and its default used instead, so fix the "
            "spelling (every setting is listed in docs/connecting-clio.md)."
        )


def _field_paths(spec: type[BaseConfiguration], prefix: str = "") -> Iterator[str]:
    """`region`, ..., `credentials`, `credentials__client_id`, ... of `spec`."""
    for name, hint in spec.get_resolvable_fields().items():
        yield prefix + name
        if isinstance(hint, type) and issubclass(hint, BaseConfiguration):
            yield from _field_paths(hint, f"{prefix}{name}__")


def _typo_in_env(name: str, known: list[str], prefix: str = ENV_PREFIX) -> str | None:
    path = name[len(prefix):].lower()
    if path in known:
        return None
    meant = _closest(path, known)
    if meant is None:
        log.warning("%s is not a clio-sync setting (see docs/connecting-clio.md)", name)
        return None
    return f"{name} (did you mean {prefix}{meant.upper()}?)"


def _typo_in_toml(path: str, where: str, known: list[str],
                  sections: tuple[str, str] = SECTIONS) -> str | None:
    if path in known:
        return None
    table, _, key = (f"{sections[-1]}__" + path).rpartition("__")
    section = ".".join((sections[0], *table.split("__")))
    meant = _closest(path, known)
    if meant is None:
        log.warning("`%s` under [%s] in %s is not a clio-sync setting", key, section, where)
        return None
    return f"`{key}` under [{section}] in {where} (did you mean {meant.rpartition('__')[2]}?)"


def _closest(path: str, known: list[str]) -> str | None:
    matches = difflib.get_close_matches(path, known, n=1, cutoff=SIMILAR)
    return matches[0] if matches else None


def _toml_paths(sections: tuple[str, str] = SECTIONS) -> Iterator[tuple[str, str]]:
    """(`rate_limit_buffer` or `credentials__client_id`, file name) of every TOML key."""
    for provider in dlt.config.config_providers:
        if not isinstance(provider, BaseDocProvider):
            continue
        table, _ = provider.get_value(sections[-1], Any, "", *sections[:-1])
        if isinstance(table, Mapping):
            for path in _flatten(table):
                yield path, provider.name


def _flatten(table: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for key, value in table.items():
        yield prefix + key
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{prefix}{key}__")
