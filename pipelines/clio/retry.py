"""What to do with an answer (one classifier, no sleeping) and how long to back off."""

from __future__ import annotations

import random
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import Enum

import httpx

# Transport failures worth another attempt: timeouts, refused/reset connections, a peer
# closing mid-response (RemoteProtocolError), truncated bodies.
RETRIABLE_TRANSPORT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


class Verdict(Enum):
    OK = "ok"
    RETRY = "retry"  # 429, 5xx: send again after a pause
    UNAUTHORIZED = "unauthorized"  # 401 the auth flow could not cure
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    FATAL = "fatal"  # any other 4xx: sending it again cannot help


@dataclass(frozen=True)
class Classified:
    verdict: Verdict
    retry_after: float | None = None  # seconds Clio asked us to wait (429/503)


class RetriableError(Exception):
    """Raised inside a request (e.g. by the auth flow) to ask the client for another attempt."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.status = status


def classify(response: httpx.Response) -> Classified:
    """Sort `response` into retriable or fatal, reading `Retry-After` when present."""
    status = response.status_code
    if status < 400:
        return Classified(Verdict.OK)
    if status == 429 or status >= 500:
        return Classified(Verdict.RETRY, retry_after(response.headers))
    return Classified({401: Verdict.UNAUTHORIZED, 403: Verdict.FORBIDDEN,
                       404: Verdict.NOT_FOUND}.get(status, Verdict.FATAL))


def retry_after(headers: httpx.Headers) -> float | None:
    """`Retry-After` in seconds (delta-seconds or an HTTP date), or None."""
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
        date = parsedate_to_datetime(headers["date"]) if "date" in headers else None
    except (TypeError, ValueError):
        return None
    if date is None:
        return None
    return max(0.0, (when - date).total_seconds())


def backoff(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds before the `attempt`-th retry (1-based): `base * 2**(attempt-1)`, capped at
    `cap`, then jittered down by up to half so that clients failing together spread out."""
    ceiling = min(cap, base * 2 ** (attempt - 1))
    return (rng or random).uniform(ceiling / 2, ceiling)
