"""No wait is unbounded: a Retry-After or a rate-limit window longer than
SOURCES__CLIO__MAX_WAIT, or a buffer that leaves no request to use, fails the run at once."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from pipelines.clio.client import ClioClient
from pipelines.clio.errors import ClioRateLimited, ClioUnavailable
from pipelines.errors import ConfigError

PAGE = {"fields": "id,name", "limit": 5, "order": "id(asc)"}


class ShortSleeps:
    """The client's sleep: really sleeps, but refuses to sleep longer than `limit` seconds,
    so that code which would wait a day fails this test at once instead of hanging it."""

    def __init__(self, limit: float = 5.0) -> None:
        self.limit = limit
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if seconds > self.limit:
            raise AssertionError(f"the client went to sleep for {seconds:.0f} s")
        time.sleep(seconds)


def walk(client: ClioClient) -> list[int]:
    return [r["id"] for p in client.iter_pages("practice_areas.json", PAGE, resource="pa")
            for r in p.records]


class TestRetryAfter:
    def test_a_day_long_retry_after_fails_at_once(self, clio_sandbox, sandbox_settings,
                                                  statuses) -> None:
        sb = clio_sandbox()
        sb.faults(kind="429", retry_after=86400, path="practice_areas")
        sleeps = ShortSleeps()
        started = time.monotonic()
        with ClioClient(sandbox_settings(sb), sleep=sleeps) as client, \
                pytest.raises(ClioRateLimited) as info:
            walk(client)
        assert time.monotonic() - started < 5 and sleeps.waits == []
        assert statuses(sb) == [429]  # not sent again either
        message = str(info.value)
        assert "86400 s" in message and "SOURCES__CLIO__MAX_WAIT" in message
        assert "300 s" in message  # the default cap
        assert info.value.status == 429 and info.value.path == "/api/v4/practice_areas.json"

    def test_the_cap_is_configurable(self, clio_sandbox, sandbox_settings, monkeypatch) -> None:
        sb = clio_sandbox()
        sb.faults(kind="429", retry_after=3, path="practice_areas")
        monkeypatch.setenv("SOURCES__CLIO__MAX_WAIT", "2")
        with ClioClient(sandbox_settings(sb), sleep=ShortSleeps()) as client, \
                pytest.raises(ClioRateLimited, match=r"3 s .*SOURCES__CLIO__MAX_WAIT \(2 s\)"):
            walk(client)

    def test_a_retry_after_within_the_cap_is_honoured(self, clio_sandbox, sandbox_settings,
                                                      statuses) -> None:
        sb = clio_sandbox()
        sb.faults(kind="429", retry_after=1, path="practice_areas")
        sleeps = ShortSleeps()
        with ClioClient(sandbox_settings(sb, max_wait=1.5), sleep=sleeps) as client:
            assert walk(client) == list(range(1, 13))
        assert 1.0 in sleeps.waits and statuses(sb) == [429, 200, 200, 200]

    def test_a_503_asking_for_too_long_is_unavailable(self, make_settings) -> None:
        # The sandbox's 503 carries no Retry-After; Clio's may (an HTTP date here).
        def app(request: httpx.Request) -> httpx.Response:
            return httpx.Response(503, json={}, headers={
                "Date": "Sat, 28 Nov 2026 18:00:00 GMT",
                "Retry-After": "Sun, 29 Nov 2026 18:00:00 GMT"})

        sleeps = ShortSleeps()
        with ClioClient(make_settings(access_token="t"), sleep=sleeps,
                        transport=httpx.MockTransport(app)) as client, \
                pytest.raises(ClioUnavailable, match="86400 s") as info:
            client.get("bills.json")
        assert sleeps.waits == [] and info.value.status == 503


class TestRateLimitWindow:
    def test_a_window_longer_than_the_cap_fails_at_once(self, clio_sandbox, sandbox_settings,
                                                        statuses) -> None:
        sb = clio_sandbox(rate_limit=(2, 3600.0))
        sleeps = ShortSleeps()
        with ClioClient(sandbox_settings(sb), sleep=sleeps) as client, \
                pytest.raises(ClioRateLimited) as info:
            walk(client)
        assert sleeps.waits == [] and statuses(sb) == [200]
        message = str(info.value)
        assert "SOURCES__CLIO__MAX_WAIT (300 s)" in message and "rate limit" in message
        assert re.search(r"wait 360[01] s|wait 3599 s", message)

    @pytest.mark.parametrize("buffer", [3, 5])
    def test_a_buffer_that_leaves_nothing_fails_instead_of_waiting_forever(
            self, clio_sandbox, sandbox_settings, statuses, buffer) -> None:
        sb = clio_sandbox(rate_limit=(3, 60.0))
        sleeps = ShortSleeps()
        with ClioClient(sandbox_settings(sb, rate_limit_buffer=buffer), sleep=sleeps) as client, \
                pytest.raises(ConfigError) as info:
            walk(client)
        assert sleeps.waits == [] and statuses(sb) == [200]
        message = str(info.value)
        assert f"SOURCES__CLIO__RATE_LIMIT_BUFFER is {buffer}" in message
        assert "3 requests" in message and "below 3" in message

    def test_a_buffer_below_the_limit_still_paces(self, clio_sandbox, sandbox_settings,
                                                  statuses) -> None:
        sb = clio_sandbox(rate_limit=(3, 1.0))
        with ClioClient(sandbox_settings(sb, rate_limit_buffer=2), sleep=ShortSleeps()) as client:
            assert walk(client) == list(range(1, 13))
        assert 429 not in statuses(sb)

