"""Pacing: wait before a request rather than provoke a 429.

`RateBudget` follows Manage's per-token window from the `X-RateLimit-Limit/Remaining/Reset`
headers (Reset is the window's end in the server's unix time; the `Date` header tells how
far the server's clock is from ours). When only `buffer` requests are left in the window,
the next request waits for the window to end. Requests in flight are counted against the
budget, so threads sharing one budget cannot overshoot it together.

`TokenBucket` spaces requests evenly for Platform's documented 3 requests/s per app, which
comes without headers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime

import httpx

SETTLE = 0.02  # seconds past the window's end before sending: the server must have rolled over


class RateBudget:
    """The request budget of one access token, fed by the rate-limit headers of every answer."""

    def __init__(self, buffer: int = 1, clock: Callable[[], float] = time.time) -> None:
        self.buffer = buffer  # requests left unused per window, for other users of the token
        self._clock = clock
        self._lock = threading.Lock()
        self._limit: int | None = None
        self._remaining: int | None = None
        self._reset_local: float | None = None  # window end on our clock
        self._offset: float | None = None  # server clock minus ours (a lower bound, see observe)
        self._in_flight = 0

    def reserve(self) -> float:
        """Seconds to wait before the next request may go; counts it as in flight.

        The caller sleeps that long, then sends, then calls `observe` (or `release`).
        """
        with self._lock:
            wait = self._wait_locked()
            self._in_flight += 1
            if self._remaining is not None:
                self._remaining -= 1
            return wait

    def release(self) -> None:
        """A reserved request ended without an answer (a transport error)."""
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)

    def observe(self, headers: httpx.Headers) -> None:
        """Update the budget from the headers of an answer to a reserved request."""
        received_at = self._clock()
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
            self._observe_date(headers.get("date"), received_at)
            limit = _number(headers.get("x-ratelimit-limit"))
            remaining = _number(headers.get("x-ratelimit-remaining"))
            reset = _number(headers.get("x-ratelimit-reset"))
            if limit is None or remaining is None:
                return
            self._limit = int(limit)
            # Requests still in flight were sent after this one was counted by the server.
            self._remaining = int(remaining) - self._in_flight
            if reset is not None:
                self._reset_local = reset - (self._offset or 0.0)

    def throttled(self, retry_after: float | None) -> None:
        """A 429 arrived: nothing is left until `retry_after` (or the known reset)."""
        with self._lock:
            self._remaining = 0
            if retry_after is not None:
                self._reset_local = max(self._reset_local or 0.0, self._clock() + retry_after)

    def _wait_locked(self) -> float:
        if self._remaining is None or self._remaining > self.buffer:
            return 0.0
        now = self._clock()
        if self._reset_local is None or self._reset_local + SETTLE <= now:
            self._roll_window()
            return 0.0
        wait = self._reset_local + SETTLE - now
        self._roll_window()
        return wait

    def _roll_window(self) -> None:
        """Assume a fresh window from its end on; the next answer corrects the guess."""
        self._remaining = (self._limit or 0) - self._in_flight
        self._reset_local = None

    def _observe_date(self, date: str | None, received_at: float) -> None:
        # `Date` has one-second precision: the server's clock read `date` somewhere between
        # sending and receiving, so `date - received_at` underestimates the offset by under
        # a second plus the round trip. The largest of these lower bounds is the best one,
        # and using a lower bound makes us wait slightly long, never too short.
        if not date:
            return
        try:
            server = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            return
        bound = server - received_at
        if self._offset is None or bound > self._offset:
            self._offset = bound


class TokenBucket:
    """At most `rate` requests per second, evenly spaced (Platform: 3/s per app)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / rate
        self._clock = clock
        self._lock = threading.Lock()
        self._next_slot = 0.0

    def reserve(self) -> float:
        """Seconds to wait before sending; the slot is taken."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self.interval
            return slot - now


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None
