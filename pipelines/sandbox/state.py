"""What one running sandbox holds: the firm, tokens, limits, faults, stats, schedules."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipelines.sandbox.config import SandboxConfig
from pipelines.sandbox.faults import FaultPlan
from pipelines.sandbox.firm import Firm, RecordNotFound
from pipelines.sandbox.ratelimit import RateLimiter
from pipelines.sandbox.tokens import TokenRegistry
from pipelines.sandbox.webhooks import WebhookService

log = logging.getLogger(__name__)


def build_firm(config: SandboxConfig) -> Firm:
    """The configured firm: the fixture if given, else generated from seed and scale."""
    if config.fixture is not None:
        firm = Firm.from_records(config.fixture, config.fixture_now)
    else:
        firm = Firm.generate(config.seed, config.scale)
    firm.custom_field_edits = config.custom_field_edits
    return firm


@dataclass
class Stats:
    """Every Clio-path request this sandbox answered (control paths are not counted)."""

    requests: list[dict] = field(default_factory=list)
    by_path: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    def record(self, method: str, path: str, status: int, query: str) -> None:
        self.requests.append({"method": method, "path": path, "status": status, "query": query})
        self.by_path[path][str(status)] += 1

    def as_json(self) -> dict[str, Any]:
        return {"requests": self.requests, "by_path": {p: dict(c) for p, c in self.by_path.items()}}


@dataclass
class Scheduled:
    """A change to apply when the `remaining`-th next API request arrives."""

    remaining: int
    apply: Callable[[], Any]


class SandboxState:
    """Shared by every handler of one app (reached as `request.app.state.sandbox`)."""

    def __init__(self, config: SandboxConfig, firm: Firm | None = None) -> None:
        self.config = config
        self.firm = firm if firm is not None else build_firm(config)
        self.tokens = TokenRegistry(config.region, config.token_lifetime)
        limit, window = config.rate_limit or (None, 60.0)
        self.limiter = RateLimiter(limit, window)
        self.faults = FaultPlan.empty()
        self.stats = Stats()
        self.scheduled: list[Scheduled] = []
        self.codes: dict[str, dict] = {}  # authorization codes -> their request
        self.webhooks = WebhookService(self)

    def lookup(self, table: str, record_id: Any) -> dict | None:
        """A live record or None (used to serve nested subfields)."""
        try:
            return self.firm.get(table, record_id)
        except (RecordNotFound, KeyError, TypeError):
            return None

    def count_api_request(self) -> None:
        """Apply the scheduled changes whose turn this API request is."""
        due = []
        for item in self.scheduled:
            item.remaining -= 1
            if item.remaining <= 0:
                due.append(item)
        self.scheduled = [s for s in self.scheduled if s.remaining > 0]
        for item in due:
            try:
                item.apply()
            except Exception as exc:  # a failed scheduled change must not fail the request
                log.warning("scheduled sandbox change failed: %s", exc)

    def reset(self) -> None:
        """A fresh firm; no webhooks, faults, stats or schedules. Minted tokens stay valid."""
        self.webhooks.stop()
        self.firm = build_firm(self.config)
        self.webhooks = WebhookService(self)
        limit, window = self.config.rate_limit or (None, 60.0)
        self.limiter.configure(limit, window)
        self.faults.clear()
        self.stats = Stats()
        self.scheduled.clear()

    def close(self) -> None:
        """Stop background work (the webhook delivery thread)."""
        self.webhooks.stop()
