"""The next page of a walk requested while this one is parsed.

Clio's pages are linked: the next page's URL is in this page's body (`meta.paging.next`),
so a walk is a chain of requests, and parsing a page (a few milliseconds for 200 records)
would otherwise sit between one answer and the next request, with Clio idle meanwhile.
Clio writes `meta` after `data`, at the end of the body: the link is read off the body's
last bytes (`next_from_tail`, microseconds) and the next request goes out on a helper
thread while the page is parsed.

The tail's link is a guess until the page is parsed: the page's own `meta.paging.next`
decides. A response fetched for another URL (a body whose tail is not its top-level
`meta`, a page that was malformed and fetched again) is dropped and the right URL
requested, so a guess can cost a request, never a wrong page. Requests stay one at a
time per walk (the next goes out only once the one before it has answered), so pacing,
retries and the rate budget see the same sequence as a walk without it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import httpx

log = logging.getLogger(__name__)

# Where `meta` sits in a page Clio writes: the last key of the top-level object. Its
# value is small (a paging object, a record count): only the body's tail is read.
TAIL_BYTES = 4096
_KEY = re.compile(r'"meta"\s*:\s*')
_DECODER = json.JSONDecoder()


def next_from_tail(body: bytes) -> str | None:
    """The `meta.paging.next` a page's last bytes carry, if they end the body as its
    top-level `meta` object and it has one; None when they do not (no guess then)."""
    start = body.rfind(b'"meta"', max(0, len(body) - TAIL_BYTES))
    if start < 0:
        return None
    try:
        tail = body[start:].decode()
        key = _KEY.match(tail)
        if key is None:
            return None
        meta, end = _DECODER.raw_decode(tail, key.end())
    except ValueError:  # UnicodeDecodeError, JSONDecodeError
        return None
    if tail[end:].strip() != "}":  # not the object's last key
        return None
    paging = meta.get("paging") if isinstance(meta, dict) else None
    link = paging.get("next") if isinstance(paging, dict) else None
    return link if isinstance(link, str) and link else None


class PageAhead:
    """At most one request of a walk in flight on a helper thread: `start(url)` sends it,
    `take(url)` gives its answer if it was for `url` (else drops it), `settle()` waits for
    it. Use as a context manager: leaving waits for the request in flight (bounded by the
    client's timeouts and retries) and stops the thread."""

    def __init__(self, send: Callable[[str], httpx.Response]) -> None:
        self._send = send
        self._pool: ThreadPoolExecutor | None = None
        self._pending: tuple[str, Future[httpx.Response]] | None = None

    def __enter__(self) -> PageAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.settle()
        self._pending = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def start(self, url: str) -> None:
        """Request `url` on the helper thread, unless it is the one in flight already."""
        if self._pending is not None and self._pending[0] == url:
            return
        self.take(None)  # one request at a time: an earlier guess is settled and dropped
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clio-page-ahead")
        self._pending = (url, self._pool.submit(self._send, url))

    def take(self, url: str | None) -> httpx.Response | None:
        """The answer to the request in flight if it was for `url` (its error raised as
        the request's own), else None, once it has answered; it is then forgotten."""
        if self._pending is None:
            return None
        asked, future = self._pending
        self._pending = None
        if asked == url:
            return future.result()
        if future.exception() is not None:  # a guess that failed: the right request says why
            log.debug("A page requested ahead failed and was not needed")
        return None

    def settle(self) -> None:
        """Wait until the request in flight (if any) has answered; it stays taken-able."""
        if self._pending is not None:
            self._pending[1].exception()  # waits; the error, if any, is kept for `take`
