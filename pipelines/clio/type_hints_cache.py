"""dlt's schema checks with the type hints of its schema types computed once.

dlt checks the table schema of every item a resource yields against its TypedDict
(`dlt.common.validation.validate_dict`), and asks `get_type_hints` for the TypedDict's
fields on every call, uncached (a TODO in dlt's own code says so). A sync yields an
Arrow table per few thousand rows, each checked with its columns: on a large firm's full
sync that was 2.3 s of the run's thread (of 16 s), holding the GIL while pages waited to
be read. A TypedDict's hints do not change while a process runs, so they are computed
once for each, and the check itself still runs on every item.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dlt.common import validation

_uncached = validation.get_type_hints
_hints: dict[tuple[Any, bool], dict[str, Any]] = {}


def _cached_type_hints(obj: Any, globalns: dict[str, Any] | None = None,
                       localns: Mapping[str, Any] | None = None,
                       include_extras: bool = False) -> dict[str, Any]:
    """`get_type_hints`, remembered per class (as dlt calls it: its globals are the ones
    of the class's module); anything else is passed through."""
    if localns is not None or not isinstance(obj, type):
        return _uncached(obj, globalns, localns, include_extras)
    key = (obj, include_extras)
    if key not in _hints:
        _hints[key] = _uncached(obj, globalns, localns, include_extras)
    return dict(_hints[key])  # a copy: a caller may change what it is given


def cache_type_hints() -> None:
    """Make dlt's schema checks use the remembered hints (once per process)."""
    validation.get_type_hints = _cached_type_hints
