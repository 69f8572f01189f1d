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
from pipelines.clio.rows import arrow_schema, child_columns, child_table, flatten
from pipelines.webhooks.malformed import Malformed, show

# What typing a bad value raises (a money value that does not fit raises a ValueError).
TYPING_ERRORS = (ValueError, TypeError, ArithmeticError, pa.ArrowException)


def typing_problems(endpoint: Endpoint, records: Mapping[int, Mapping[str, Any]]
                    ) -> dict[int, str]:
    """Why each record that the sync's typing refuses is refused, by the caller's key.

    The records are typed together first (the common case: all fine, in one pass);
    only when that fails is each one typed alone, then each of its fields, to say which.
    """
    problems: dict[int, str] = {}
    for key, record in records.items():
        try:
            _check_shape(endpoint, record)
        except Malformed as exc:
            problems[key] = str(exc)
    typable = [r for key, r in records.items() if key not in problems]
    try:
        _type(endpoint, typable)
    except TYPING_ERRORS:
        for key, record in records.items():
            if key not in problems and (why := _refusal(endpoint, record)):
                problems[key] = why
    return problems


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


def _type(endpoint: Endpoint, records: Sequence[Mapping[str, Any]]) -> None:
    """Type `records` as a sync stores them: `flatten`, then the warehouse's Arrow types."""
    typed = [flatten(endpoint, r) for r in records]
    pa.Table.from_pylist([root for root, _ in typed], schema=arrow_schema(endpoint.columns))
    for child in endpoint.children:
        name = child_table(endpoint, child)
        pa.Table.from_pylist([row for _, children in typed for row in children[name]],
                             schema=arrow_schema(child_columns(child), child.parent_key))


def _refusal(endpoint: Endpoint, record: Mapping[str, Any]) -> str | None:
    """Why `record` cannot be typed, naming the first field that cannot (None: it can)."""
    try:
        _type(endpoint, [record])
    except TYPING_ERRORS as exc:
        whole = exc
    else:
        return None
    for field in record:
        if field == "id":
            continue
        try:
            _type(endpoint, [{"id": record.get("id"), field: record[field]}])
        except TYPING_ERRORS as exc:
            kind = endpoint.columns.get(field)
            as_what = f" as {kind}" if kind else ""
            return f"field {field} {show(record[field])} cannot be typed{as_what}: {_say(exc)}"
    return f"the record cannot be typed as the catalog types it: {_say(whole)}"


def _say(exc: BaseException) -> str:
    """An exception's message, or its name when the message says nothing (decimal's)."""
    text = str(exc)
    return text if text and not text.startswith("[<class") else type(exc).__name__
