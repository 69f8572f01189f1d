"""Fetch current versions of records by id (`ids[]`), as the sync would read them.

Used when a delivery cannot be written as is: an `updated_at` tie with another etag,
a webhook subscribed with a short field list, or a deleted bill that Clio may still list
in state `deleted` or `void` (which the plain index hides).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from pipelines.clio import values
from pipelines.clio.endpoints import BY_TABLE

IDS_PER_REQUEST = 100  # keeps the query string short; Clio's page limit is 200


class PagingClient(Protocol):
    def iter_pages(self, path: str, params: dict, resource: str) -> Iterable: ...


RecordId = int | str
Fetch = Callable[[str, set[RecordId]], dict[RecordId, dict]]


def fetch_records(client: PagingClient, table: str, ids: set[RecordId]) -> dict[RecordId, dict]:
    """The records among `ids` that Clio still has, by id (typed as the table keeps it),
    with the catalog's fields."""
    endpoint = BY_TABLE[table]
    found: dict[RecordId, dict] = {}
    for filters in ({}, *endpoint.extra_filters):
        missing = sorted(ids - found.keys())
        for start in range(0, len(missing), IDS_PER_REQUEST):
            chunk = missing[start : start + IDS_PER_REQUEST]
            params: dict = {"ids[]": chunk, "fields": endpoint.fields, "limit": len(chunk)}
            params.update(filters)
            for page in client.iter_pages(endpoint.path, params, resource=table):
                found.update((values.scalar(endpoint.id_kind, r["id"]), r) for r in page.records)
    return found


class ApiFetcher:
    """A `Fetch` that opens one Clio client on first use (most batches never need one)."""

    def __init__(self, settings_factory: Callable[[], Any]) -> None:
        self._settings_factory = settings_factory
        self._client: Any = None

    def __call__(self, table: str, ids: set[RecordId]) -> dict[RecordId, dict]:
        if self._client is None:
            from pipelines.clio.client import ClioClient

            self._client = ClioClient(self._settings_factory()).__enter__()
        return fetch_records(self._client, table, ids)

    def close(self) -> None:
        if self._client is not None:
            self._client.__exit__(None, None, None)
            self._client = None

    def __enter__(self) -> ApiFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
