"""Pacing against the sandbox's real fixed windows: no 429 is ever provoked."""

from __future__ import annotations

import time

import pytest

from pipelines.clio.client import ClioClient
from pipelines.clio.stats import RunStats


@pytest.mark.slow
def test_headers_pace_35_requests_through_a_10_per_second_window(clio_sandbox, sandbox_settings,
                                                                   statuses) -> None:
    sb = clio_sandbox(rate_limit=(10, 1.0))
    stats = RunStats()
    started = time.monotonic()
    with ClioClient(sandbox_settings(sb), stats) as client:
        for _ in range(35):
            client.get("practice_areas.json", params={"fields": "id", "limit": 1}, resource="pa")
    elapsed = time.monotonic() - started
    assert 429 not in statuses(sb)
    assert stats.get("pa").throttled_429 == 0 and stats.get("pa").waits >= 3
    assert 3.0 <= elapsed <= 35 / 10 * 1.0 * 1.5  # paced, yet not wasting windows


def test_platform_mode_paces_at_three_requests_per_second(clio_sandbox, sandbox_settings) -> None:
    sb = clio_sandbox(api="platform")
    settings = sandbox_settings(sb, token_kwargs={"api": "platform"}, api="platform")
    started = time.monotonic()
    with ClioClient(settings) as client:
        for _ in range(4):
            client.get("practice_areas.json", params={"fields": "id", "limit": 1})
    assert time.monotonic() - started >= 1.0  # 4 requests at 3/s: the 4th waits a second
