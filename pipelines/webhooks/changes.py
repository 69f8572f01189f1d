"""A claimed inbox event read as a change to one warehouse row (or set aside, and why)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipelines.clio import decoding
from pipelines.clio.endpoints import BY_WEBHOOK_MODEL, Endpoint
from pipelines.webhooks import malformed, typecheck
from pipelines.webhooks.inbox import Event
from pipelines.webhooks.malformed import Malformed


@dataclass(frozen=True)
class Change:
    """What one delivery says about one record."""

    seq: int
    webhook_id: int
    model: str
    table: str
    record_id: int | str  # as the table's `id` holds it (strings for calendar entries)
    event: str  # created | updated | deleted (matters also matter_opened, ...)
    data: dict
    etag: str | None
    updated_at: int | None  # microseconds since the epoch, comparable with DuckDB's epoch_us
    received_at: float
    complete: bool  # the data carries every catalog field, so it can be written as is

    @property
    def is_delete(self) -> bool:
        return self.event == "deleted"


def read_changes(events: Iterable[Event]) -> tuple[list[Change], dict[int, str]]:
    """The changes a batch describes, and why each malformed event is set aside (by seq).

    Events of models outside the catalog are in neither. A record an upsert may write is
    typed as the sync types it, all of a table's at once (`typecheck.typing_problems`);
    a deletion writes nothing of its data, so only its id, etag and `updated_at` count.
    """
    changes: list[Change] = []
    refused: dict[int, str] = {}
    for event in events:
        try:
            change = from_event(event)
        except Malformed as exc:
            refused[event.seq] = str(exc)
            continue
        if change is not None:
            changes.append(change)
    upserts: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)  # model -> seq -> record
    for change in changes:
        if not change.is_delete:
            upserts[change.model][change.seq] = change.data
    for model, records in upserts.items():
        refused.update(typecheck.typing_problems(BY_WEBHOOK_MODEL[model], records))
    return [c for c in changes if c.seq not in refused], refused


def from_event(event: Event) -> Change | None:
    """The change an event describes, or None when its model is not in the catalog.

    Raises:
        Malformed: the delivery cannot be applied (its id, etag or `updated_at`).
    """
    endpoint = BY_WEBHOOK_MODEL.get(event.model)
    if endpoint is None:
        return None
    try:
        data = decoding.loads(event.body)["data"]
    except (ValueError, TypeError, KeyError, RecursionError):
        raise Malformed("the body is not a JSON object with `data`") from None
    if not isinstance(data, dict):
        raise Malformed(f"data {malformed.show(data)} is not an object")
    text = endpoint.id_kind == "text"
    record_id = malformed.record_id(data.get("id"), text)
    if record_id != (str(event.record_id) if text else event.record_id):
        raise Malformed(f"data.id {data.get('id')} differs from the queued id {event.record_id}")
    malformed.etag(data.get("etag"))
    malformed.check_updated_at(data.get("updated_at"))
    return Change(
        seq=event.seq,
        webhook_id=event.webhook_id,
        model=event.model,
        table=endpoint.table,
        record_id=record_id,
        event=event.event,
        data=data,
        etag=data.get("etag"),
        updated_at=epoch_us(data.get("updated_at")),
        received_at=event.received_at,
        complete=_top_level_fields(endpoint) <= data.keys(),
    )


def epoch_us(stamp: str | None) -> int | None:
    """An ISO-8601 timestamp with offset as integer microseconds since the epoch."""
    if not stamp:
        return None
    moment = datetime.fromisoformat(stamp)
    if moment.tzinfo is None:
        return None  # Clio always sends an offset; a naive stamp cannot be ordered safely
    return int(moment.timestamp() * 1_000_000)


def _top_level_fields(endpoint: Endpoint) -> set[str]:
    return {*endpoint.scalars, *endpoint.nested, *(c.field for c in endpoint.children)}
