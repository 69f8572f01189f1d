"""Retries against the sandbox over HTTP: 429 storms, 5xx, dropped and truncated answers."""

from __future__ import annotations

import time

import pytest

from pipelines.clio.client import ClioClient
from pipelines.clio.errors import ClioBadResponse, ClioRateLimited, ClioUnavailable
from pipelines.clio.stats import RunStats

PAGE = {"fields": "id,name", "limit": 5, "order": "id(asc)"}


def walk(client: ClioClient) -> list[int]:
    return [r["id"] for p in client.iter_pages("practice_areas.json", PAGE, resource="pa")
            for r in p.records]


class TestRetries:
    def test_a_429_storm_converges_honouring_retry_after(self, clio_sandbox, sandbox_settings,
                                                         statuses) -> None:
        sb = clio_sandbox()
        sb.faults(kind="429", count=2, retry_after=1, path="practice_areas")
        stats = RunStats()
        started = time.monotonic()
        with ClioClient(sandbox_settings(sb), stats) as client:
            assert walk(client) == list(range(1, 13))
        assert time.monotonic() - started >= 2.0  # two Retry-After: 1 honoured
        assert statuses(sb) == [429, 429, 200, 200, 200]
        assert (stats.get("pa").throttled_429, stats.get("pa").retries) == (2, 2)

    @pytest.mark.parametrize("kind", ["500", "502", "503", "drop", "truncated", "slow"])
    def test_each_transient_failure_converges(self, clio_sandbox, sandbox_settings, statuses,
                                              kind) -> None:
        sb = clio_sandbox()
        sb.faults(kind=kind, count=2, after=1, delay=1.0, path="practice_areas")
        settings = sandbox_settings(sb, timeout=0.5 if kind == "slow" else 5.0)
        stats = RunStats()
        with ClioClient(settings, stats) as client:
            assert walk(client) == list(range(1, 13))
        assert stats.get("pa").retries == 2
        if kind != "slow":  # a timed-out request is logged by the sandbox only when it ends
            assert len(statuses(sb)) == 3 + 2  # three pages plus two retries

    def test_attempts_are_bounded_and_the_error_says_so(self, clio_sandbox, sandbox_settings,
                                                        statuses) -> None:
        sb = clio_sandbox()
        sb.faults(kind="429", count=50, retry_after=1)
        settings = sandbox_settings(sb, max_attempts=2)
        with ClioClient(settings) as client, pytest.raises(ClioRateLimited) as info:
            client.get("practice_areas.json")
        assert len(statuses(sb)) == 2
        assert info.value.attempts == 2 and info.value.path == "/api/v4/practice_areas.json"
        assert "2 attempts" in str(info.value)

    def test_5xx_exhaustion_names_path_attempts_and_status(self, clio_sandbox,
                                                           sandbox_settings) -> None:
        sb = clio_sandbox()
        sb.faults(kind="503", count=50)
        with ClioClient(sandbox_settings(sb, max_attempts=3)) as client, \
                pytest.raises(ClioUnavailable) as info:
            client.get("practice_areas.json", params={"fields": "id"})
        assert info.value.status == 503
        assert "practice_areas.json properly after 3 attempts (last: HTTP 503)" in str(info.value)

    def test_a_malformed_page_is_fetched_again_at_most_twice(self, clio_sandbox,
                                                             sandbox_settings, statuses) -> None:
        sb = clio_sandbox()
        sb.faults(kind="invalid_json", count=10, after=1, path="practice_areas")
        with ClioClient(sandbox_settings(sb)) as client, pytest.raises(ClioBadResponse) as info:
            walk(client)
        assert len(statuses(sb)) == 1 + 3  # the good first page, then 3 attempts at page 2
        assert "malformed page" in str(info.value)

    def test_one_malformed_page_is_survived(self, clio_sandbox, sandbox_settings) -> None:
        sb = clio_sandbox()
        sb.faults(kind="invalid_json", count=1, after=1, path="practice_areas")
        with ClioClient(sandbox_settings(sb)) as client:
            assert walk(client) == list(range(1, 13))
