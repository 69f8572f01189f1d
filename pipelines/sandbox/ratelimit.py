"""Fixed-window rate limits per access token (Manage) or per application (Platform)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

UNLIMITED = 1_000_000  # what the headers announce when limits are off


@dataclass
class Window:
    start: float
    used: int = 0


@dataclass
class Verdict:
    """The outcome for one request and the headers to send with any answer."""

    allowed: bool
    limit: int
    remaining: int
    reset: float  # unix time of the window's end
    retry_after: int  # seconds, >= 1, meaningful when not allowed

    def headers(self) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(self.reset)),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers


@dataclass
class RateLimiter:
    """`limit` requests per `window` seconds per key; `limit=None` never refuses."""

    limit: int | None
    window: float
    windows: dict[str, Window] = field(default_factory=dict)

    def configure(self, limit: int | None, window: float) -> None:
        self.limit, self.window = limit, window
        self.windows.clear()

    def hit(self, key: str) -> Verdict:
        """Count one request for `key` (refused requests count too, as at Clio)."""
        now = time.time()
        window = self.windows.get(key)
        if window is None or now >= window.start + self.window:
            window = self.windows[key] = Window(now)
        window.used += 1
        reset = window.start + self.window
        limit = UNLIMITED if self.limit is None else self.limit
        allowed = window.used <= limit
        retry = max(1, math.ceil(reset - now))
        return Verdict(allowed, limit, max(0, limit - window.used), reset, retry)

    def peek(self, key: str) -> Verdict:
        """The headers for a request that does not count (e.g. refused before auth)."""
        now = time.time()
        limit = UNLIMITED if self.limit is None else self.limit
        window = self.windows.get(key)
        if window is None or now >= window.start + self.window:
            return Verdict(True, limit, limit, now + self.window, 1)
        reset = window.start + self.window
        return Verdict(True, limit, max(0, limit - window.used), reset, 1)
