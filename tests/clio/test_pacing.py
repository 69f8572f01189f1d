"""RateBudget against a simulated fixed-window server on a fake clock.

The server behaves like the sandbox and Clio: a window opens with the first request after
the previous one ended, `X-RateLimit-Reset` is the window's end rounded up to whole
seconds of the *server's* clock, which may be offset from ours, and `Date` is whole
seconds (possibly a second stale, as uvicorn caches it).
"""

from __future__ import annotations

import math
from email.utils import formatdate

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.clio.client import ClioClient
from pipelines.clio.pacing import RateBudget, TokenBucket
from pipelines.clio.stats import RunStats


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_800_000_000.25

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class FixedWindowServer:
    def __init__(self, time_: FakeTime, limit: int, window: float, offset: float,
                 latency: float = 0.003, stale_date: float = 0.0, aligned: bool = False) -> None:
        self.time, self.limit, self.window, self.offset = time_, limit, window, offset
        self.latency, self.stale_date, self.aligned = latency, stale_date, aligned
        self.start: float | None = None
        self.used = 0
        self.statuses: list[int] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.time.now += self.latency / 2
        server_now = self.time.now + self.offset
        if self.start is None or server_now >= self.start + self.window:
            start = server_now - server_now % self.window if self.aligned else server_now
            self.start, self.used = start, 0
        self.used += 1
        reset = self.start + self.window
        status = 200 if self.used <= self.limit else 429
        self.statuses.append(status)
        headers = {
            "Date": formatdate(math.floor(server_now - self.stale_date), usegmt=True),
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.limit - self.used)),
            "X-RateLimit-Reset": str(math.ceil(reset)),
        }
        if status == 429:
            headers["Retry-After"] = str(max(1, math.ceil(reset - server_now)))
        self.time.now += self.latency / 2
        return httpx.Response(status, json={"data": []}, headers=headers)


def run(make_settings, server: FixedWindowServer, requests: int, buffer: int = 1) -> float:
    fake = server.time
    settings = make_settings(access_token="t", rate_limit_buffer=buffer)
    client = ClioClient(settings, RunStats(), transport=httpx.MockTransport(server),
                        sleep=fake.sleep, clock=fake.clock)
    started = fake.now
    with client:
        for _ in range(requests):
            client.get("bills.json", resource="bills")
    return fake.now - started


class TestRateBudget:
    @pytest.mark.parametrize("offset", [0.0, 0.4, -0.7, 7.3, -6.1])
    @pytest.mark.parametrize("stale_date", [0.0, 0.9])
    def test_never_provokes_a_429_whatever_the_clock_offset(self, make_settings, offset,
                                                             stale_date) -> None:
        server = FixedWindowServer(FakeTime(), limit=10, window=1.0, offset=offset,
                                   stale_date=stale_date)
        run(make_settings, server, requests=35)
        assert server.statuses.count(429) == 0
        assert len(server.statuses) == 35

    @pytest.mark.parametrize(("window", "requests", "target"), [
        (2.0, 600, 1.05), (2.0, 120, 1.0), (1.0, 35, 1.0), (60.0, 500, 1.03), (2.5, 600, 1.25)])
    def test_runs_stay_close_to_the_ideal(self, make_settings, window, requests, target) -> None:
        # Whole-second windows are found at once; a 2.5 s one costs a few bisection probes.
        server = FixedWindowServer(FakeTime(), limit=50, window=window, offset=0.0)
        elapsed = run(make_settings, server, requests=requests)
        ideal = requests / 50 * window  # what bench (b) compares with
        assert server.statuses.count(429) == 0
        assert elapsed / ideal <= target, elapsed / ideal

    def test_each_window_opens_as_soon_as_the_last_one_ends(self, make_settings) -> None:
        # 30 ms a page (the sandbox builds a page of 200 records in about that): counting
        # the window from the opener's answer lost that much every window (#12.3)
        server = FixedWindowServer(FakeTime(), limit=50, window=2.0, offset=0.0, latency=0.03)
        elapsed = run(make_settings, server, requests=49 * 20 + 1)  # 20 windows, then one
        assert server.statuses.count(429) == 0
        assert elapsed - 20 * 2.0 <= 20 * 0.012 + 0.03, elapsed

    @pytest.mark.parametrize("window", [1.0, 2.0, 60.0])
    def test_windows_aligned_to_the_clock_provoke_no_429(self, make_settings, window) -> None:
        server = FixedWindowServer(FakeTime(), limit=10, window=window, offset=0.0, aligned=True)
        run(make_settings, server, requests=200)
        assert server.statuses.count(429) == 0

    def test_without_headers_nothing_waits(self) -> None:
        budget = RateBudget(buffer=1)
        for _ in range(5):
            assert budget.reserve() == 0.0
            budget.observe(httpx.Headers({}), sent_at=0.0)

    def test_a_429_blocks_until_retry_after(self) -> None:
        fake = FakeTime()
        budget = RateBudget(buffer=0, clock=fake.clock)
        budget.reserve()
        budget.observe(httpx.Headers({"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0"}),
                       sent_at=fake.now)
        budget.throttled(3.0)
        assert budget.reserve() == pytest.approx(3.0, abs=0.05)


class TestTokenBucket:
    def test_spaces_requests_at_the_rate(self) -> None:
        fake = FakeTime()
        bucket = TokenBucket(3.0, clock=fake.clock)
        waits = [bucket.reserve() for _ in range(4)]
        assert waits == pytest.approx([0.0, 1 / 3, 2 / 3, 1.0])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    limit=st.integers(3, 60),
    window=st.one_of(st.sampled_from([1.0, 2.0, 5.0, 60.0]), st.floats(0.5, 10.0)),
    offset=st.floats(-30.0, 30.0),
    latency=st.floats(0.0005, 0.2),
    stale_date=st.sampled_from([0.0, 0.9]),
    aligned=st.booleans(),
    buffer=st.integers(0, 2),
    requests=st.integers(1, 150),
)
def test_no_limiter_shape_provokes_a_429(make_settings, limit, window, offset, latency,
                                         stale_date, aligned, buffer, requests) -> None:
    server = FixedWindowServer(FakeTime(), limit=limit, window=window, offset=offset,
                               latency=latency, stale_date=stale_date, aligned=aligned)
    run(make_settings, server, requests=requests, buffer=buffer)
    assert server.statuses.count(429) == 0
