"""Pacing: wait before a request rather than provoke a 429.

`RateBudget` follows Manage's per-token window from the `X-RateLimit-Limit/Remaining/Reset`
headers. When only `buffer` requests are left in the window, the next request waits for
the next window. Requests in flight count against the budget, so threads sharing one
budget cannot overshoot it together.

When the next window opens, on our clock, is the delicate part:

- The header proves it: `X-RateLimit-Reset` is the window's end in the server's unix time,
  rounded up to whole seconds, and `Date` bounds the server clock's offset from ours from
  below (the server read its clock before we got the answer). `Reset - offset_floor` is
  safe but wastes up to a second or two per window: too much for short windows. A `Date`
  far from `Reset` is some other clock (the sandbox sends its simulated firm time) and is
  ignored.
- Our own clock can do better, because a window opens with the first request after the
  previous one closed (the sandbox's model, and the usual fixed-window limiter). An answer
  says it opened a window when `Remaining == Limit - 1`. With `s`/`r` our send/receive
  times, an answer inside the window proves `W > s - r_open`, and the answer that opened
  the next window proves `W <= r - s_open` (counted only when that earlier window was
  itself opened right after a wait, as one opened after idle time may have started
  earlier on a clock-aligned limiter).
- The first request after a wait may go at a guess of `W`: the window length the header
  implies, rounded down to whole seconds (limiters count whole seconds), then a bisection
  between the bounds, then the proven bound once it is tight. A guess only goes when the
  buffer's spare request can absorb being early; that miss costs one wait for the header's
  end, never a 429. Without a spare request (`buffer = 0`) only the header's end is used.
- The guess counts `W` from when the window's opener was *sent*, not answered: a limiter
  counts a request when it arrives, before the page is built, so counting from the answer
  lost the server's time to build the first page of every window (about 60 ms a window
  against the sandbox). A request sent `W` after the opener arrives `W` after it, as the
  way there takes the same time. A server that counts a request only once it has built
  the page (or a guess of W that was short) makes a guess early: after the first miss
  the guesses count from the answer again, so this costs at most one miss a run.

Measured in `tests/clio/test_pacing.py` (simulated limiter on a fake clock): whole-second
windows cost under 3 % over `requests / limit × window`; a 2.5 s window about 20 %.

`TokenBucket` spaces requests evenly for Platform's documented 3 requests/s per app, which
comes without headers.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Protocol

import httpx

SETTLE = 0.01  # seconds past a safe window end before sending, for the server's rounding
MAX_WINDOW = 3600.0  # a Reset further than this past `Date` means they use different clocks
DATE_SLACK = 2.0  # `Date` may lag the clock by a second or two (whole seconds, cached)
PRECISE = 0.05  # seconds: once W is known this closely, stop guessing below the bound


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
        self._opened_on_time = False  # ...sent right after the previous window ended
        self._after_wait = False  # the next answer is for the first request after a roll
        self._offset_floor: float | None = None  # lower bound of server clock minus ours
        self._w_low, self._w_high = 0.0, math.inf  # bounds of the window length W
        self._learning = True
        self._anchor_sent = True  # count W from the opener's sending (until that misses)
        self._in_flight = 0

    @property
    def limit(self) -> int | None:
        """Requests per window as the last answer said (`X-RateLimit-Limit`), if known."""
        return self._limit

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

    def throttled(self, retry_after: float | None) -> None:
        """A 429 arrived: nothing is left until `retry_after` from now."""
        with self._lock:
            self._remaining = 0
            if retry_after is not None:
                self._reset = self._clock() + retry_after + self._floor()

    def _learn(self, opened: bool, sent_at: float, received_at: float) -> None:
        previous, previous_on_time = self._opened, self._opened_on_time
        on_time, self._after_wait = self._after_wait, False
        if on_time and not opened:
            # a guess went early: maybe W was guessed short, maybe this server counts a
            # request after building its answer; counting from the answer is safe for both
            self._anchor_sent = False
        if opened:
            self._opened, self._opened_on_time = (sent_at, received_at), on_time
        if previous is None or not self._learning:
            return
        if opened:
            # Only a window we opened right after the previous one ended started when our
            # request arrived; one opened after idle time may have started earlier (if
            # windows are aligned to the clock) and would understate W.
            if previous_on_time:
                self._w_high = min(self._w_high, received_at - previous[0])
        else:
            self._w_low = max(self._w_low, sent_at - previous[1])
        if self._w_low > self._w_high:
            self._learning = False

    def _wait_locked(self) -> float:
        if self._remaining is None or self._remaining > self.buffer:
            return 0.0
        now = self._clock()
        target = self._next_window_start()
        self._after_wait = True
        # Assume a fresh window from then on; the next answer corrects the guess.
        self._remaining = (self._limit or 0) - self._in_flight
        return 0.0 if target is None else max(0.0, target - now)

    def _next_window_start(self) -> float | None:
        """When to send the first request of the next window, on our clock.

        Only a request the buffer's spare slot can absorb goes at a learned guess; any
        other waits for the end the header proves.
        """
        safe = None if self._reset is None else self._reset - self._floor() + SETTLE
        spare = self.buffer >= 1 and self._remaining == self.buffer
        if not (spare and self._learning and self._opened):
            return safe
        sent, received = self._opened
        length = self._guess_window_length(sent)
        if length is None:
            return safe
        guess = (sent if self._anchor_sent else received) + length + SETTLE
        return guess if safe is None else min(guess, safe)

    def _guess_window_length(self, opened_sent_at: float) -> float | None:
        """The window length to try next: the proven bound once it is tight, else a guess."""
        high = self._w_high
        if math.isinf(high):  # nothing proven yet: trust the header, with our clock's offset
            if self._reset is None:
                return None
            high = self._reset - self.offset - opened_sent_at
        whole = math.floor(high)  # rate limiters count whole seconds: try that first
        if self._anchor_sent and self._w_low < whole:
            return float(whole)  # `high` counts one answer's time too much from a sending
        if high - self._w_low <= PRECISE or high - whole <= PRECISE:
            return high
        if self._w_low < whole:
            return float(whole)
        return (self._w_low + high) / 2

    @property
    def offset(self) -> float:
        """Best guess of the server clock minus ours: 0 within `Date`'s precision."""
        floor = self._offset_floor
        if floor is None or -DATE_SLACK <= floor <= 0:
            return 0.0
        return floor

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


class Bucket(Protocol):
    """Spaces requests: `reserve` takes the next slot and says how long to wait for it."""

    def reserve(self) -> float: ...


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
