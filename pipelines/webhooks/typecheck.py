"""Type records as the sync types them, to find the ones it would refuse, and say why.

The applier writes an upsert through the sync's typing (`pipelines.clio.rows`, then the
warehouse's Arrow types); a value that typing refuses would fail the whole batch's load,
again at every pass. So each batch's records are typed first, and a record refused is
set aside (`malformed.py`) with the field that could not be typed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from pipelines.clio.endpoints import Endpoint
from pipelines.clio.rows import arrow_batch
from pipelines.webhooks.malformed import Malformed, show

# What typing a bad value raises (a money value that does not fit raises a ValueError).
TYPING_ERRORS = (ValueError, TypeError, ArithmeticError, pa.ArrowException)


def typing_problems(endpoint: Endpoint, records: Mapping[int, Mapping[str, Any]]
                    ) -> dict[int, str]:
    """Why each record that the sync's typing refuses is refused, by the caller's key.

    The records are typed together first (the common case: all fine, in one pass); when
    that fails, halves are typed until the refused records are found, and each of those
    field by field, to say which field.
    """
    problems: dict[int, str] = {}
    for key, record in records.items():
        try:
            _check_shape(endpoint, record)
        except Malformed as exc:
            problems[key] = str(exc)
    typable = [(key, r) for key, r in records.items() if key not in problems]
    for key in _refused(endpoint, typable):
        problems[key] = _refusal(endpoint, records[key])
    return problems


def _refused(endpoint: Endpoint, items: Sequence[tuple[int, Mapping[str, Any]]]) -> list[int]:
    """The keys of the records typing refuses, found by halving (few typings for a few)."""
    try:
        _type(endpoint, [record for _, record in items])
    except TYPING_ERRORS:
        if len(items) == 1:
            return [items[0][0]]
        half = len(items) // 2
        return _refused(endpoint, items[:half]) + _refused(endpoint, items[half:])
    return []


def _check_shape(endpoint: Endpoint, record: Mapping[str, Any]) -> None:
    """Relations are objects and lists are lists of objects (or null), as typing assumes."""
    for relation in endpoint.nested:
        value = record.get(relation)
        if value is not None and not isinstance(value, Mapping):
            raise Malformed(f"field {relation} {show(value)} is not an object")
    for child in endpoint.children:
        items = record.get(child.field)
        if items is not None and (not isinstance(items, list)
                                  or not all(isinstance(i, Mapping) for i in items)):
            raise Malformed(f"field {child.field} {show(items)} is not a list of objects")
        for item in items or ():
            for relation in child.nested:
                value = item.get(relation)
                if value is not None and not isinstance(value, Mapping):
                    raise Malformed(f"field {child.field}[].{relation} {show(value)} is not "
                                    "an object")


def _type(endpoint: Endpoint, records: Sequence[Mapping[str, Any]]) -> None:
    """Type `records` as a sync (and the applier) stores them: the Arrow tables of
    `rows.arrow_batch`, column by column (a few times faster than record by record)."""
    arrow_batch(endpoint, records, tombstones=False)


def _refusal(endpoint: Endpoint, record: Mapping[str, Any]) -> str:
    """Why typing refuses `record`, naming the first field it refuses."""
    whole = "it is refused"  # typed alone (as `_refused` found it), so this is replaced
    try:
        _type(endpoint, [record])
    except TYPING_ERRORS as exc:
        whole = _say(exc)
    for field in record:
        if field == "id":
            continue
        try:
            _type(endpoint, [{"id": record.get("id"), field: record[field]}])
        except TYPING_ERRORS as exc:
            kind = endpoint.columns.get(field)
            as_what = f" as {kind}" if kind else ""
            return f"field {field} {show(record[field])} cannot be typed{as_what}: {_say(exc)}"
    return f"the record cannot be typed as the catalog types it: {whole}"


def _say(exc: BaseException) -> str:
    """An exception's message, or its name when the message says nothing (decimal's)."""
    text = str(exc)
    return text if text and not text.startswith("[<class") else type(exc).__name__
