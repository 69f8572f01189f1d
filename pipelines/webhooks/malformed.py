"""Why an authentic delivery cannot be applied; such an event is set aside, never retried.

A delivery whose signature checks out comes from Clio, so it is kept for audit even when
it cannot be applied: a record id its table cannot hold (an integer beyond BIGINT, or
a string where the model's ids are integers), an `updated_at` that is not a
timestamp with an offset, a field the catalog types as money, a date or an integer
holding something else, a relation that is not an object. The receiver checks what the
inbox needs to queue a delivery (`record_id`, `etag`, `event_name`); the applier checks
the rest before planning (`changes.read_changes`), typing each record exactly as the sync
types it (`typecheck.py`), so one bad event never stops a batch. This module imports
nothing heavy: the receiver uses it on every delivery.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1  # DuckDB's BIGINT and SQLite's INTEGER
SHOWN = 60  # characters of a bad value quoted in a reason
MAX_TEXT_ID = 255  # characters of a string id (calendar entries); Clio's are short


class Malformed(ValueError):
    """An authentic delivery that cannot be applied; the message says why."""


def record_id(value: Any, text: bool = False) -> int | str:
    """`data.id` when the `id` column can hold it: a JSON integer in BIGINT's range, or a
    non-empty string where the model's ids are strings (`text`: calendar entries).

    The same rule as the sync's typing: a value it would store is not malformed here.
    """
    if text:
        if type(value) is int:  # the table keeps it as text, as the sync does
            value = str(value)
        if not isinstance(value, str) or not value or len(value) > MAX_TEXT_ID:
            raise Malformed(f"data.id {show(value)} is not a string id of up to {MAX_TEXT_ID} "
                            "characters")
        return value
    if type(value) is not int:  # not a bool, a float or a numeric string
        raise Malformed(f"data.id {show(value)} is not an integer")
    if not BIGINT_MIN <= value <= BIGINT_MAX:
        raise Malformed(f"data.id {show(value)} is out of BIGINT's range, so no table can "
                        "hold it")
    return value


def etag(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise Malformed(f"data.etag {show(value)} is not a string")
    return value


def event_name(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise Malformed(f"meta.event {show(value)} is not an event name")
    return value


def check_updated_at(value: Any) -> None:
    """An `updated_at` orders versions, so it must be a timestamp with its UTC offset."""
    if value is None:
        return  # a deletion, or a short delivery: the record is fetched or deleted
    try:
        moment = datetime.fromisoformat(value)
        moment.timestamp()  # out of the platform's range raises too
    except (TypeError, ValueError, OverflowError):
        raise Malformed(f"updated_at {show(value)} is not an ISO-8601 timestamp") from None
    if moment.tzinfo is None:
        raise Malformed(f"updated_at {show(value)} has no UTC offset, so it cannot be ordered")


def show(value: Any) -> str:
    """A bad value, quoted and cut short for a log line."""
    try:
        text = json.dumps(value, default=repr)
    except (ValueError, RecursionError):  # circular or too deep: repr does
        text = repr(value)[:SHOWN]
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"
