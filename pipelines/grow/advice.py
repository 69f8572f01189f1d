"""Grow's names in advice given by the pieces it shares with the Manage source.

The HTTP client, auth flow, token store and diagnostics of `pipelines.clio` name Manage's
settings and commands in the fixes they suggest. Around Grow's work, `grow_advice()`
rewrites an expected error's message to Grow's (`SOURCES__GROW__...`, `auth login
--grow`, docs/connecting-grow.md), so every message names what the user must change.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pipelines.errors import ClioSyncError

_RENAMES = (
    ("SOURCES__CLIO__", "SOURCES__GROW__"),
    ("[sources.clio", "[sources.grow"),
    ("docs/connecting-clio.md", "docs/connecting-grow.md"),
    ("`clio-sync auth login`", "`clio-sync auth login --grow`"),
    ("`clio-sync auth login --no-browser`", "`clio-sync auth login --grow --no-browser`"),
)


def for_grow(message: str) -> str:
    for manage, grow in _RENAMES:
        message = message.replace(manage, grow)
    return message


@contextmanager
def grow_advice() -> Iterator[None]:
    """Re-raise expected errors with Grow's settings and commands named in their advice."""
    try:
        yield
    except ClioSyncError as exc:
        exc.message = for_grow(exc.message)
        exc.args = (exc.message, *exc.args[1:])
        raise
