"""The classifier (no sleeping) and the backoff schedule."""

from __future__ import annotations

import random

import httpx
import pytest

from pipelines.clio.retry import Verdict, backoff, classify, retry_after


@pytest.mark.parametrize(("status", "verdict"), [
    (200, Verdict.OK), (304, Verdict.OK), (429, Verdict.RETRY), (500, Verdict.RETRY),
    (503, Verdict.RETRY), (401, Verdict.UNAUTHORIZED), (403, Verdict.FORBIDDEN),
    (404, Verdict.NOT_FOUND), (400, Verdict.FATAL), (410, Verdict.FATAL), (422, Verdict.FATAL)])
def test_classify(status, verdict) -> None:
    assert classify(httpx.Response(status)).verdict is verdict


@pytest.mark.parametrize(("headers", "seconds"), [
    ({"Retry-After": "7"}, 7.0),
    ({"Retry-After": "Sat, 28 Nov 2026 18:00:30 GMT", "Date": "Sat, 28 Nov 2026 18:00:00 GMT"}, 30.0),
    ({"Retry-After": "soon"}, None),
    ({}, None),
])
def test_retry_after(headers, seconds) -> None:
    assert retry_after(httpx.Headers(headers)) == seconds


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    rng = random.Random(1)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (8, 5.0)]:
        delays = [backoff(attempt, 0.5, 5.0, rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert max(delays) - min(delays) > 0  # jittered, so clients spread out
