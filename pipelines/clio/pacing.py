"""Pacing: wait before a request rather than provoke a 429.

`RateBudget` follows Manage's per-token window from the `X-RateLimit-Limit/Remaining/Reset`
headers. When only `buffer` requests are left in the window, the next request waits until
the window ends. Requests in flight count against the budget, so threads sharing one
budget cannot overshoot it together.

Where the window ends, on our clock, is the delicate part:

- `X-RateLimit-Reset` is the window's end in the server's unix time, in whole seconds
  (rounded up), and the server's clock may be offset from ours. `Date` (whole seconds,
  perhaps cached a second) only bounds that offset from below, so `Reset - offset_floor`
  is a safe end but wastes up to a second or two per window. A `Date` far from `Reset`
  is some other clock (the sandbox sends its simulated firm time) and is ignored.
- Windows open with the first request after the previous one closed, so the window's
  length `W` can be learned on our own clock. A request opened the window if its answer
  says `Remaining == Limit - 1`. With `s`/`r` our send/receive times: an answer that did
  not open a new window proves `W > s - r_open`; one that opened the next window proves
  `W <= r - s_open`. Once `W` is pinned down, the window ends by `r_open + W_max`.
- While the bounds are far apart and `buffer >= 1`, the first request after a wait is
  sent at the middle of the interval (a bisection): if it is early it only spends the
  spare request the buffer keeps, and either way the interval halves. Should the bounds
  ever contradict each other (windows aligned to the clock, another client on the token),
  learning stops and the header alone is used.

`TokenBucket` spaces requests evenly for Platform's documented 3 requests/s per app, which
comes without headers.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime

import httpx

SETTLE = 0.01  # seconds past a safe window end before sending, for the server's rounding
MAX_WINDOW = 3600.0  # a Reset further than this past `Date` means they use different clocks
DATE_SLACK = 2.0  # `Date` may lag the clock by a second or two (whole seconds, cached)
PRECISE = 0.05  # once W is known this closely, stop bisecting and use the safe end


class RateBudget:
    """The request budget of one access token, fed by the rate-limit headers of every answer."""

    def __init__(self, buffer: int = 1, clock: Callable[[], float] = time.time) -> None:
        self.buffer = buffer  # requests left unused per window, for other users of the token
        self._clock = clock
        self._lock = threading.Lock()
        self._limit: int | None = None
        self._remaining: int | None = None
        self._reset: float | None = None  # Reset header of the current window
        self._opened: tuple[float, float] | None = None  # (s, r) of the request that opened it
        self._offset_floor: float | None = None  # lower bound of server clock minus ours
        self._w_low, self._w_high = 0.0, math.inf  # bounds of the window length W
        self._learning = True
        self._probing = False  # the request after a wait was sent at a bisection guess
        self._in_flight = 0

    @property
    def window_bounds(self) -> tuple[float, float]:
        """What is known of the window length: (exclusive low, inclusive high) seconds."""
        return self._w_low, self._w_high

    def reserve(self) -> float:
        """Seconds to wait before the next request may go; counts it as in flight.

        The caller sleeps that long, sends, and then calls `observe` (or `release`).
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

    def observe(self, headers: httpx.Headers, sent_at: float) -> None:
        """Update the budget from the headers of an answer; `sent_at` is our clock at sending."""
        received_at = self._clock()
        with self._lock:
            others = max(0, self._in_flight - 1)
            self._in_flight = others
            reset = _number(headers.get("x-ratelimit-reset"))
            self._observe_date(headers.get("date"), reset, received_at)
            limit = _number(headers.get("x-ratelimit-limit"))
            remaining = _number(headers.get("x-ratelimit-remaining"))
            if limit is None or remaining is None:
                return
            self._limit, self._remaining = int(limit), int(remaining) - others
            self._reset = reset
            opened = int(remaining) == int(limit) - 1
            if others == 0:
                self._learn(opened, sent_at, received_at)
            self._probing = False

    def throttled(self, retry_after: float | None) -> None:
        """A 429 arrived: nothing is left until `retry_after` from now."""
        with self._lock:
            self._remaining = 0
            if retry_after is not None:
                self._reset = self._clock() + retry_after + self._floor()

    def _learn(self, opened: bool, sent_at: float, received_at: float) -> None:
        previous = self._opened
        if opened:
            self._opened = (sent_at, received_at)
        if previous is None or not self._learning:
            return
        if opened:
            self._w_high = min(self._w_high, received_at - previous[0])
        else:
            self._w_low = max(self._w_low, sent_at - previous[1])
            if self._probing is False and sent_at >= previous[1] + self._w_high:
                self._learning = False  # sent after the "safe" end yet still in the window
        if self._w_low > self._w_high:
            self._learning = False

    def _wait_locked(self) -> float:
        if self._remaining is None or self._remaining > self.buffer:
            return 0.0
        now = self._clock()
        target, self._probing = self._next_window_start()
        # Assume a fresh window from then on; the next answer corrects the guess.
        self._remaining = (self._limit or 0) - self._in_flight
        return 0.0 if target is None else max(0.0, target - now)

    def _next_window_start(self) -> tuple[float | None, bool]:
        """When the next window opens on our clock, and whether that is a bisection guess."""
        safe = None if self._reset is None else self._reset - self._floor() + SETTLE
        spare = self.buffer >= 1 and self._remaining == self.buffer
        if not self._learning or self._opened is None:
            return safe, False
        if math.isinf(self._w_high):  # first window: guess that the clocks agree
            guess = None if self._reset is None else self._reset + SETTLE
            if spare and guess is not None and safe is not None and guess < safe:
                return guess, True
            return safe, False
        sent, received = self._opened
        learned = received + self._w_high + SETTLE
        safe = learned if safe is None else min(safe, learned)
        # A guess below the safe end is taken only when the remaining spare request would
        # absorb being early, and only if this window's opening was ours to measure.
        if spare and self._w_high - self._w_low > PRECISE:
            guess = sent + (self._w_low + self._w_high) / 2
            if guess < safe:
                return guess, True
        return safe, False

    def _floor(self) -> float:
        return 0.0 if self._offset_floor is None else self._offset_floor

    def _observe_date(self, date: str | None, reset: float | None, received_at: float) -> None:
        if not date or reset is None:
            return
        try:
            server = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            return
        if not -DATE_SLACK <= reset - server <= MAX_WINDOW:
            return  # this `Date` is not the rate limiter's clock (the sandbox's firm clock)
        bound = server - received_at  # the server read its clock before we received
        if self._offset_floor is None or bound > self._offset_floor:
            self._offset_floor = bound


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
