"""The HTTP client of one run: auth, pacing, retries, paging and error diagnostics.

```python
with ClioClient(settings, stats=run_stats) as client:
    for page in client.iter_pages("bills.json", {"fields": "id,total", "limit": 200}, resource="bills"):
        page.records, page.date
```

Each request: wait for the rate budget (and Platform's token bucket), send with the auth
flow, classify the answer (`retry.classify`), and on 429/5xx/timeouts/dropped connections
back off (honouring `Retry-After`) and try again, at most `max_attempts` times in all.
No single wait exceeds `max_wait`: a longer `Retry-After` or rate-limit window fails the
request at once (a run holds the warehouse's writer lock while it waits), and so does a
`rate_limit_buffer` that leaves none of the limit Clio announces.
POST and PATCH are sent again only after a 429 or a connection that never opened: after a
5xx or a dropped answer Clio may have applied them (a duplicate webhook, say).
A malformed page is fetched again at most `bad_page_attempts` times in all: truncation is
usually transient, but a server that keeps sending garbage should stop the run quickly.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from pipelines import __version__
from pipelines.clio import arrow_pages, decoding, diagnostics
from pipelines.clio.arrow_pages import ArrowPage
from pipelines.clio.auth import REFRESHED, ClioAuth
from pipelines.clio.config import ClioSettings
from pipelines.clio.endpoints import Endpoint
from pipelines.clio.errors import (
    ClioApiError,
    ClioBadRequest,
    ClioBadResponse,
    ClioNotFound,
    ClioRateLimited,
    ClioUnavailable,
)
from pipelines.clio.pacing import Bucket, RateBudget, TokenBucket
from pipelines.clio.page_ahead import PageAhead, next_from_tail
from pipelines.clio.retry import RETRIABLE_TRANSPORT, RetriableError, Verdict, backoff, classify
from pipelines.clio.stats import RunStats
from pipelines.errors import ConfigError

log = logging.getLogger(__name__)


IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Failures that prove the request never left: safe to send again whatever the method.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class _Failure:
    """A retriable failure of one attempt."""

    reason: str  # e.g. "HTTP 503", "ReadTimeout"
    status: int | None = None
    retry_after: float | None = None  # seconds Clio asked for


class Page:
    """One page of an index: its records and the server's time when it answered.

    A page of a sync's walk comes typed already (`arrow`, see `arrow_pages.py`); its
    `records` are then decoded only if someone asks for them (from the body kept for it).
    """

    def __init__(self, records: list[dict[str, Any]] | None, date: datetime,
                 next_url: str | None = None, *, arrow: ArrowPage | None = None,
                 body: bytes = b"") -> None:
        self._records = records
        self.date = date  # UTC, from the `Date` header (our clock if it is missing)
        self.next_url = next_url
        self.arrow = arrow
        self._body = body

    @property
    def records(self) -> list[dict[str, Any]]:
        """The page's records as the API sent them (numbers with fractions as `Decimal`)."""
        if self._records is None:
            self._records = decoding.loads(self._body)["data"]
        return self._records


class ClioClient:
    """One `httpx.Client` per run, with Clio's auth, pacing and retries."""

    def __init__(
        self, settings: ClioSettings, stats: RunStats | None = None, *,
        auth: ClioAuth | None = None, budget: RateBudget | None = None,
        bucket: Bucket | None = None,
        transport: httpx.BaseTransport | None = None, sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.stats = stats or RunStats()
        self.auth = auth or ClioAuth(settings)
        self.budget = budget or RateBudget(settings.rate_limit_buffer, clock=clock)
        self.bucket: Bucket | None = bucket or (
            TokenBucket(settings.platform_requests_per_second)
            if settings.api == "platform" else None)
        self._sleep = sleep
        self._clock = clock
        self._rng = random.Random()
        self._http = httpx.Client(
            base_url=settings.api_root + "/",
            auth=self.auth,
            timeout=settings.timeout,
            transport=transport,
            headers={
                # an API without versions (Grow answers its stable version) gets none
                **({"X-API-VERSION": settings.api_version} if settings.api_version else {}),
                "Accept": "application/json",
                "User-Agent": f"clio-sync/{__version__}",
            },
        )

    def __repr__(self) -> str:
        return f"ClioClient(api_root={self.settings.api_root!r}, api={self.settings.api!r})"

    def __enter__(self) -> ClioClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- requests ----------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None, *,
            resource: str | None = None, headers: Mapping[str, str] | None = None) -> httpx.Response:
        """GET `path` (relative to the API root, or an absolute next URL)."""
        return self.request("GET", path, params=params, resource=resource, headers=headers)

    def post(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return self.request("POST", path, json=json, **kw)

    def patch(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return self.request("PATCH", path, json=json, **kw)

    def put(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return self.request("PUT", path, json=json, **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", path, **kw)

    def request(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
        json: Any = None, headers: Mapping[str, str] | None = None, resource: str | None = None,
    ) -> httpx.Response:
        """Send with pacing and retries; return a 2xx/3xx answer or raise a `ClioApiError`."""
        started = time.monotonic()
        try:
            return self._request(method, path, params, json, headers, resource)
        finally:
            self.stats.add(resource, seconds=time.monotonic() - started)

    def get_json(self, path: str, params: Mapping[str, Any] | None = None, *,
                 resource: str | None = None) -> dict[str, Any]:
        """GET and decode a JSON object (a malformed body is fetched again, bounded)."""
        return self._fetch_json(path, params, resource)[1]

    def iter_pages(self, path: str, params: Mapping[str, Any] | None = None, *,
                   resource: str | None = None, typed: Endpoint | None = None,
                   page_ahead: bool = False) -> Iterator[Page]:
        """Walk an index: `params` go with the first request only, then `meta.paging.next`
        is followed verbatim (an opaque URL) until it is absent.

        `typed`: read each page straight into that catalog endpoint's Arrow tables
        (`Page.arrow`, `arrow_pages.py`) where Arrow takes it; the walk must then ask for
        the endpoint's own fields (a sync's walks do).
        `page_ahead`: request the next page while this one is parsed and handed on
        (`page_ahead.py`), for a walk that is read to its end (one request more when
        it is not)."""
        if typed is not None and (params or {}).get("fields") != typed.fields:
            raise ValueError(f"a walk typed as {typed.table} must ask for its catalog fields")
        url: str | None = path
        query: Mapping[str, Any] | None = params
        with PageAhead(lambda link: self.request("GET", link, resource=resource)) as ahead:
            while url is not None:
                response, page = self._fetch_page(url, query, resource, typed,
                                                  ahead if page_ahead else None)
                if page.next_url is not None:
                    page.next_url = self._checked_next(page.next_url, response)
                count = page.arrow.root.num_rows if page.arrow is not None else len(page.records)
                self.stats.add(resource, pages=1, records=count)
                yield page
                url, query = page.next_url, None

    def server_time(self) -> datetime:
        """The server's clock (UTC) from a cheap request's `Date` header."""
        response = self.get("users/who_am_i.json", params={"fields": "id"})
        return self._date_of(response)

    # -- internals ---------------------------------------------------------------------

    def _request(self, method: str, path: str, params: Mapping[str, Any] | None, json_body: Any,
                 headers: Mapping[str, str] | None, resource: str | None) -> httpx.Response:
        attempts = self.settings.max_attempts
        for attempt in range(1, attempts + 1):
            request = self._http.build_request(method, path, params=params, json=json_body,
                                               headers=headers)
            self._pace(request, resource)
            outcome = self._attempt(request, resource)
            if isinstance(outcome, httpx.Response):
                return outcome
            if attempt == attempts:
                raise self._exhausted(request, attempts, outcome)
            delay = outcome.retry_after
            if delay is None:
                delay = backoff(attempt, self.settings.backoff_base, self.settings.backoff_cap,
                                self._rng)
            elif delay > self.settings.max_wait:
                raise self._asked_to_wait_too_long(request, outcome, delay)
            log.warning("%s %s: %s; retrying in %.2f s (attempt %d of %d)", method,
                        _path_of(request), outcome.reason, delay, attempt + 1, attempts)
            self.stats.add(resource, retries=1)
            self._wait(resource, delay)
        raise ConfigError(f"SOURCES__CLIO__MAX_ATTEMPTS must be at least 1 (it is {attempts}).")

    def _attempt(self, request: httpx.Request, resource: str | None) -> httpx.Response | _Failure:
        """Send once: an accepted answer, a retriable failure, or a raised `ClioApiError`."""
        self.stats.add(resource, requests=1)
        sent_at = self._clock()
        try:
            response = self._http.send(request)
            response.read()
        except RETRIABLE_TRANSPORT as exc:
            self.budget.release()
            if request.method not in IDEMPOTENT and not isinstance(exc, NOT_SENT):
                raise self._maybe_applied(request, type(exc).__name__) from None
            return _Failure(type(exc).__name__)
        except RetriableError as exc:  # the token endpoint failed during a refresh
            self.budget.release()
            return _Failure(str(exc), exc.status)
        except httpx.HTTPError as exc:  # not worth retrying; its text may quote headers
            self.budget.release()
            raise ClioUnavailable(
                f"Could not send {request.method} {_path_of(request)} to Clio "
                f"({type(exc).__name__}). Check SOURCES__CLIO__BASE_URL and the network.",
                path=_path_of(request)) from None
        except BaseException:
            self.budget.release()
            raise
        self.budget.observe(response.headers, sent_at)
        verdict = classify(response)
        status = response.status_code
        if verdict.verdict is not Verdict.RETRY:
            return self._accept_or_raise(response, verdict.verdict)
        if status == 429:
            self.budget.throttled(verdict.retry_after)
            self.stats.add(resource, throttled_429=1)
        elif request.method not in IDEMPOTENT:
            raise self._maybe_applied(request, f"HTTP {status}", status)
        return _Failure(f"HTTP {status}", status, verdict.retry_after)

    def _pace(self, request: httpx.Request, resource: str | None) -> None:
        """Wait for the rate budget (and Platform's spacing), never longer than `max_wait`."""
        limit = self.budget.limit
        if limit is not None and limit <= self.budget.buffer:
            raise self._buffer_leaves_nothing(limit)
        wait = self.budget.reserve()
        if self.bucket is not None:
            wait = max(wait, self.bucket.reserve())
        if wait > self.settings.max_wait:
            self.budget.release()
            raise self._window_too_far(request, wait)
        if wait > 0:
            if wait >= 0.5:
                log.info("Rate limit: waiting %.1f s for the window to reset", wait)
            else:
                log.debug("Rate limit: waiting %.3f s", wait)
            self._wait(resource, wait)

    def _wait(self, resource: str | None, seconds: float) -> None:
        self.stats.add(resource, waits=1, waits_seconds=seconds)
        self._sleep(seconds)

    def _accept_or_raise(self, response: httpx.Response, verdict: Verdict) -> httpx.Response:
        if verdict is Verdict.OK:
            return response
        path = _path_of(response.request)
        if verdict is Verdict.UNAUTHORIZED:
            raise self._unauthorized(response)
        if verdict is Verdict.FORBIDDEN:
            raise self._forbidden(response)
        _, said = diagnostics.error_body(response)
        quoted = f' Clio said: "{said}".' if said else ""
        if verdict is Verdict.NOT_FOUND:
            raise ClioNotFound(f"Clio answered 404 Not Found for {path}: the record or endpoint "
                               f"does not exist (deleted meanwhile?).{quoted}", status=404, path=path)
        if response.status_code == 410:
            raise ClioBadRequest(
                f"Clio answered 410 Gone for {path}: it does not serve API version "
                f"{self.settings.api_version} any more. Upgrade clio-sync.{quoted}",
                status=410, path=path)
        raise ClioBadRequest(
            f"Clio rejected {response.request.method} {path} with {response.status_code}: "
            f"the request itself is wrong (a bug in clio-sync, or a field this account does "
            f"not have); sending it again cannot help.{quoted}",
            status=response.status_code, path=path)

    def _forbidden(self, response: httpx.Response) -> ClioApiError:
        """The error for a 403 (a subclass may name its API's scopes)."""
        return diagnostics.forbidden(response)

    def _unauthorized(self, response: httpx.Response) -> ClioApiError:
        return diagnostics.unauthorized(
            response,
            refreshed=bool(response.request.extensions.get(REFRESHED)),
            can_refresh=self.auth.can_refresh(),
            region=self.settings.region,
        )

    def _exhausted(self, request: httpx.Request, attempts: int, last: _Failure) -> ClioApiError:
        method, path = request.method, _path_of(request)
        if last.status == 429:
            return ClioRateLimited(
                f"Clio kept answering 429 Too Many Requests for {method} {path}: gave up after "
                f"{attempts} attempts. Another client may share this token's limit; wait a few "
                "minutes and run again, or raise SOURCES__CLIO__MAX_ATTEMPTS.",
                status=429, path=path, attempts=attempts)
        return ClioUnavailable(
            f"Clio did not answer {method} {path} properly after {attempts} attempts (last: "
            f"{last.reason}). Clio or the network is having trouble: try again later; if it "
            "persists, check connectivity to the Clio host or raise SOURCES__CLIO__TIMEOUT.",
            status=last.status, path=path, attempts=attempts)

    def _asked_to_wait_too_long(self, request: httpx.Request, failure: _Failure,
                                delay: float) -> ClioApiError:
        method, path = request.method, _path_of(request)
        said = ("429 Too Many Requests" if failure.status == 429 else failure.reason)
        message = (
            f"Clio answered {said} for {method} {path} and asked to wait {delay:.0f} s "
            f"(Retry-After), longer than SOURCES__CLIO__MAX_WAIT ({self.settings.max_wait:g} s), "
            "so clio-sync stopped at once rather than sit idle that long (a run holds the "
            f"warehouse's writer lock meanwhile). Run again after {self._after(delay)}, or "
            "raise SOURCES__CLIO__MAX_WAIT if such waits are expected."
        )
        error = ClioRateLimited if failure.status == 429 else ClioUnavailable
        return error(message, status=failure.status, path=path, attempts=1)

    def _window_too_far(self, request: httpx.Request, wait: float) -> ClioRateLimited:
        path = _path_of(request)
        return ClioRateLimited(
            f"Clio's rate limit for this token (X-RateLimit-* headers) would make "
            f"{request.method} {path} wait {wait:.0f} s for the next window, longer than "
            f"SOURCES__CLIO__MAX_WAIT ({self.settings.max_wait:g} s), so clio-sync stopped at "
            "once rather than sit idle that long (a run holds the warehouse's writer lock "
            "meanwhile). Another client may be spending this token's budget, or Clio's window "
            f"is unusually long: run again after {self._after(wait)}, or raise "
            "SOURCES__CLIO__MAX_WAIT.",
            status=None, path=path, attempts=0)

    def _buffer_leaves_nothing(self, limit: int) -> ConfigError:
        return ConfigError(
            f"Clio allows this token {limit} requests per window (X-RateLimit-Limit), and "
            f"SOURCES__CLIO__RATE_LIMIT_BUFFER is {self.budget.buffer}, which keeps all of "
            "them unused: clio-sync would wait for a window that never comes. Set "
            f"SOURCES__CLIO__RATE_LIMIT_BUFFER below {limit} (the default is 1)."
        )

    def _after(self, seconds: float) -> str:
        when = datetime.fromtimestamp(self._clock() + seconds, UTC)
        return f"{when:%Y-%m-%d %H:%M} UTC"

    def _maybe_applied(self, request: httpx.Request, reason: str,
                       status: int | None = None) -> ClioUnavailable:
        path = _path_of(request)
        return ClioUnavailable(
            f"{request.method} {path} failed ({reason}) after Clio may have applied it, so it "
            "was not sent again (it is not idempotent). Check the result at Clio before "
            "trying again.",
            status=status, path=path, attempts=1)

    def _fetch_page(self, path: str, params: Mapping[str, Any] | None, resource: str | None,
                    typed: Endpoint | None, ahead: PageAhead | None = None,
                    ) -> tuple[httpx.Response, Page]:
        """One page of a walk, typed as Arrow where `arrow_pages` takes it (`typed`)."""
        response, body = self._fetch(path, params, resource, require_data=True, typed=typed,
                                     ahead=ahead)
        date = self._date_of(response)
        if isinstance(body, ArrowPage):
            return response, Page(None, date, body.next_url, arrow=body, body=response.content)
        return response, Page(body["data"], date, _next_url(body))

    def _fetch_json(self, path: str, params: Mapping[str, Any] | None, resource: str | None,
                    require_data: bool = False) -> tuple[httpx.Response, dict[str, Any]]:
        response, body = self._fetch(path, params, resource, require_data)
        assert isinstance(body, dict)
        return response, body

    def _fetch(self, path: str, params: Mapping[str, Any] | None, resource: str | None,
               require_data: bool = False, typed: Endpoint | None = None,
               ahead: PageAhead | None = None,
               ) -> tuple[httpx.Response, dict[str, Any] | ArrowPage]:
        """GET a JSON object: typed by `typed`'s catalog entry if `arrow_pages` takes the
        page, else decoded; a malformed body is fetched again (`bad_page_attempts`).
        With `ahead`, the answer may be one requested ahead, and the next page (as the
        body's tail links it) is requested ahead while this one is parsed."""
        attempts = self.settings.bad_page_attempts
        for attempt in range(1, attempts + 1):
            response = self._get_page(path, params, resource, ahead, again=attempt > 1)
            if typed is not None and (page := arrow_pages.parse(typed, response.content)) is not None:
                return response, page
            problem, body = _decode(response, require_data)
            if problem is None:
                return response, body
            log.warning("Malformed answer for %s (%s); attempt %d of %d",
                        _path_of(response.request), problem, attempt, attempts)
            if attempt < attempts:
                self.stats.add(resource, retries=1)
        path_only = _path_of(response.request)
        raise ClioBadResponse(
            f"Clio answered {path_only} with a malformed page ({problem}) {attempts} times in a "
            "row, so clio-sync stopped rather than load a partial page. This is usually a "
            "transient problem at Clio or a proxy in between: run again later.",
            status=response.status_code, path=path_only, attempts=attempts)

    def _get_page(self, path: str, params: Mapping[str, Any] | None, resource: str | None,
                  ahead: PageAhead | None, again: bool) -> httpx.Response:
        """GET `path`: the answer requested ahead for it if any (not when asked `again`
        after a malformed one), then the next page is requested ahead (with `ahead`)."""
        if ahead is None:
            return self.request("GET", path, params=params, resource=resource)
        response = ahead.take(path) if params is None and not again else None
        ahead.settle()  # one request at a time: a page asked ahead answers first
        if response is None:
            response = self.request("GET", path, params=params, resource=resource)
        self._request_next_ahead(ahead, response)
        return response

    def _request_next_ahead(self, ahead: PageAhead, response: httpx.Response) -> None:
        """Request the page `response`'s tail links to, if it links one on Clio's host."""
        link = next_from_tail(response.content)
        if link is None:
            return
        try:
            ahead.start(self._checked_next(link, response))
        except ClioBadResponse:
            return  # a link elsewhere: the page's parse raises it, in order

    def _checked_next(self, next_url: str, response: httpx.Response) -> str:
        """`next_url` as is if absolute on Clio's host, resolved if relative; never elsewhere."""
        origin = response.request.url
        if next_url.startswith(f"{origin.scheme}://{origin.netloc.decode('ascii')}/"):
            # Clio's own form, known without parsing it (0.1 ms, twice a page when paging
            # ahead): the host ends at that "/", so no user info or longer name follows
            return next_url
        target = httpx.URL(next_url)
        if target.is_relative_url:
            return str(origin.join(next_url))
        if (target.scheme, target.host, target.port) != (origin.scheme, origin.host, origin.port):
            raise ClioBadResponse(
                f"Clio's next-page link for {origin.path} points to another host "
                f"({target.host}); refusing to send the token there.",
                status=response.status_code, path=origin.path)
        return next_url

    def _date_of(self, response: httpx.Response) -> datetime:
        return _parse_date(response.headers.get("date")) or datetime.now(UTC)


def _decode(response: httpx.Response, require_data: bool) -> tuple[str | None, dict[str, Any]]:
    """(problem, body): problem is None for a JSON object (with a `data` list if required)."""
    try:
        body = decoding.loads(response.content)  # money exactly, as Decimal
    except ValueError:
        return "invalid or truncated JSON", {}
    if not isinstance(body, dict):
        return "not a JSON object", {}
    if require_data and not isinstance(body.get("data"), list):
        return "no `data` list", {}
    return None, body


def _next_url(body: dict[str, Any]) -> str | None:
    meta = body.get("meta")
    paging = meta.get("paging") if isinstance(meta, dict) else None
    next_url = paging.get("next") if isinstance(paging, dict) else None
    return next_url or None


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).astimezone(UTC)
    except (TypeError, ValueError):
        return None


def _path_of(request: httpx.Request) -> str:
    return request.url.path
