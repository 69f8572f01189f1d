"""A claimed inbox event read as a change to one warehouse row."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from pipelines.clio.endpoints import BY_WEBHOOK_MODEL, Endpoint
from pipelines.webhooks.inbox import Event


@dataclass(frozen=True)
class Change:
    """What one delivery says about one record."""

    seq: int
    webhook_id: int
    model: str
    table: str
    record_id: int
    event: str  # created | updated | deleted (matters also matter_opened, ...)
    data: dict
    etag: str | None
    updated_at: int | None  # microseconds since the epoch, comparable with DuckDB's epoch_us
    received_at: float
    complete: bool  # the data carries every catalog field, so it can be written as is

    @property
    def is_delete(self) -> bool:
        return self.event == "deleted"


def from_event(event: Event) -> Change | None:
    """The change an event describes, or None when its model is not in the catalog."""
    endpoint = BY_WEBHOOK_MODEL.get(event.model)
    if endpoint is None:
        return None
    data = json.loads(event.body)["data"]
    return Change(
        seq=event.seq,
        webhook_id=event.webhook_id,
        model=event.model,
        table=endpoint.table,
        record_id=event.record_id,
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
