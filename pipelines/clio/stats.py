"""Per-resource counters of one run, shared by the HTTP client and the run summary."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, fields

UNNAMED = "(other)"  # requests made without naming a resource (server_time, doctor, ...)


@dataclass
class ResourceStats:
    """What one resource cost: HTTP requests, pages, records, retries and waits."""

    requests: int = 0  # HTTP requests sent, retries and token refreshes included
    pages: int = 0
    records: int = 0
    retries: int = 0  # requests sent again after a retriable failure
    throttled_429: int = 0  # 429 answers received
    waits: int = 0  # pauses before sending: pacing, Retry-After and backoff
    waits_seconds: float = 0.0
    seconds: float = 0.0  # wall time spent in the client for this resource

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


class RunStats:
    """Thread-safe counters keyed by resource name (the catalog table, e.g. "bills")."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._resources: dict[str, ResourceStats] = {}
        self._waited = False

    @property
    def waited(self) -> bool:
        """Whether any request has waited before sending yet (cheap: the walk-ahead
        helper asks before every page it queues)."""
        return self._waited

    def add(self, resource: str | None, **counts: float) -> None:
        """Add `counts` (field name -> increment) to `resource`'s counters."""
        with self._lock:
            entry = self._resources.setdefault(resource or UNNAMED, ResourceStats())
            for name, amount in counts.items():
                setattr(entry, name, getattr(entry, name) + amount)
            if counts.get("waits"):
                self._waited = True

    def get(self, resource: str) -> ResourceStats:
        """A copy of the counters of `resource` (zeros if it made no request)."""
        with self._lock:
            return ResourceStats(**asdict(self._resources.get(resource, ResourceStats())))

    def by_resource(self) -> dict[str, ResourceStats]:
        """A copy of every resource's counters, in first-use order."""
        with self._lock:
            return {name: ResourceStats(**asdict(s)) for name, s in self._resources.items()}

    def total(self) -> ResourceStats:
        """The sum over every resource."""
        total = ResourceStats()
        for entry in self.by_resource().values():
            for f in fields(ResourceStats):
                setattr(total, f.name, getattr(total, f.name) + getattr(entry, f.name))
        return total
