"""Walking ahead: the next endpoints are paged while the ones before them load.

A sync that reads endpoints in full loads them in groups as it goes (`walk_plan.py`,
`sync.py`), and dlt's pipeline does one step at a time on one thread: while it
normalizes and loads a group, nobody would read Clio, and under a rate limit every
window not used is lost. So one helper thread pages the run's walks, all of them, in the
order the source asks for them, up to `depth` pages ahead of the source: the requests go
on while the pipeline loads, and the source finds the next group's first pages waiting.
dlt itself is only ever called from the run's own thread.

`WalkAhead` stands in for the `ClioClient` the source is given. Its plan is the walks the
source will start, each a (path, query) as `source.page_params` builds it; a walk the
source asks for that is not the next one planned (a change of the source's walk order or
queries) stops the helper and is paged directly, with a warning: slower, never wrong.

A failed page reaches the source in order, after every page before it: the groups
before it load and settle, then the run fails on it.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipelines.clio.client import ClioClient, Page
from pipelines.clio.endpoints import Endpoint
from pipelines.clio.source import page_limit, page_params, typed_by
from pipelines.clio.watermarks import Watermarks

# Pages held ahead of the source once Clio has made the run wait (a rate limit): enough
# to keep paging through the load of a large group under a fast limit (50 requests per
# 2 s: 25 pages a second for a 5 s load), far more than a real Clio token's limit lets
# through during any load (50 a minute). Until then, fewer: without a limit the source
# is mostly the slower side, but with the next page requested while one is parsed
# (`page_ahead.py`) the helper outruns it while a group loads, and a queue of 8 stalled
# it for most of the first group's load; 40 let the paging go on (a large firm's full
# sync 28.7 s against 30.6, peak RSS +3 MB: a page of 200 typed records and its body
# are a few hundred KB).
DEPTH = 150
SHALLOW = 40
POLL = 0.1  # seconds between looks at the stop flag while the queue is full or empty
JOIN_TIMEOUT = 5.0  # seconds to wait for the helper to notice a stop (it never blocks long)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannedWalk:
    """One walk of an index as the source will ask for it."""

    path: str
    params: dict[str, Any]
    resource: str
    typed: Endpoint | None  # the endpoint its pages are read into as Arrow, if any


def plan_walks(endpoints: Sequence[Endpoint], marks: Watermarks,
               cap: int | None = None) -> list[PlannedWalk]:
    """The walks `source.sync_endpoint` starts for `endpoints`, in order."""
    plan = []
    for endpoint in endpoints:
        since = marks.start_of(endpoint.table) if endpoint.incremental else None
        limit = page_limit(endpoint, cap)
        for filters in endpoint.walks:
            plan.append(PlannedWalk(endpoint.path, page_params(endpoint, limit, since, filters),
                                    endpoint.table, typed_by(endpoint, filters)))
    return plan


_END_OF_WALK = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class WalkAhead:
    """A `ClioClient` stand-in whose `iter_pages` serves the planned walks from a helper
    thread paging ahead; everything else is the client's. Use as a context manager."""

    def __init__(self, client: ClioClient, plan: Sequence[PlannedWalk], depth: int = DEPTH) -> None:
        self.client = client
        self.settings = client.settings
        self.stats = client.stats
        self._plan = list(plan)
        self._next = 0  # index in the plan of the walk the source asks for next
        self._paged = 0  # walks of the plan paged to their end (their pages are queued)
        self._pages: queue.Queue[Any] = queue.Queue()  # bounded by `_offer`
        self._depth = depth
        self._room = threading.Condition()  # the source took a page
        self._stop = threading.Event()
        self._worker = threading.Thread(target=self._fetch, name="clio-walk-ahead", daemon=True)
        self.fell_back = False  # the source asked for an unplanned walk

    def __enter__(self) -> WalkAhead:
        self._worker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the helper (it may be inside a request or a rate-limit wait: bounded)."""
        self._stop.set()
        if self._worker.is_alive():
            self._worker.join(JOIN_TIMEOUT)

    def has_paged(self, endpoints: Sequence[Endpoint]) -> bool:
        """Whether every planned walk of `endpoints` is paged to its end already."""
        tables = {e.table for e in endpoints}
        last = max((i for i, walk in enumerate(self._plan) if walk.resource in tables),
                   default=-1)
        return not self.fell_back and last < self._paged

    @property
    def waited(self) -> bool:
        """Whether Clio's rate limit has made the run wait yet."""
        return self.stats.waited

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)  # get, get_json, server_time...

    def iter_pages(self, path: str, params: Mapping[str, Any] | None = None, *,
                   resource: str | None = None, typed: Endpoint | None = None) -> Iterator[Page]:
        """The pages of the walk (path, params): from the helper when it is the next one
        planned, else read directly."""
        planned = self._plan[self._next] if self._next < len(self._plan) else None
        if self.fell_back or planned is None or (path, dict(params or {}), resource, typed) != (
                planned.path, planned.params, planned.resource, planned.typed):
            if not self.fell_back:
                log.warning("The walk of %s (%s) is not the one planned; paging it directly",
                            resource, path)
                self.fell_back = True
                self.close()
            return self.client.iter_pages(path, params, resource=resource, typed=typed)
        self._next += 1
        return self._served()

    def _served(self) -> Iterator[Page]:
        while True:
            try:
                item = self._pages.get(timeout=POLL)
            except queue.Empty:
                if self._worker.is_alive():
                    continue  # a slow page or a rate-limit wait: bounded by the client
                raise RuntimeError("the walk-ahead helper stopped before its walks ended") from None
            with self._room:
                self._room.notify()
            if item is _END_OF_WALK:
                return
            if isinstance(item, _Failed):
                self._pages.put(item)  # a later walk asked for meets the same failure
                raise item.error
            yield item

    def _fetch(self) -> None:
        try:
            for walk in self._plan:
                for page in self.client.iter_pages(walk.path, walk.params, resource=walk.resource,
                                                   typed=walk.typed, page_ahead=True):
                    if not self._offer(page):
                        return
                if not self._offer(_END_OF_WALK):
                    return
                self._paged += 1
        except BaseException as exc:  # handed to the source, which raises it in order
            self._offer(_Failed(exc))

    def _offer(self, item: object) -> bool:
        """Queue `item` once there is room, unless the run has stopped; False if it has."""
        with self._room:
            while self._pages.qsize() >= self._room_for():
                if self._stop.is_set():
                    return False
                self._room.wait(POLL)
        if self._stop.is_set():
            return False
        self._pages.put(item)
        return True

    def _room_for(self) -> int:
        """Pages the queue may hold now: `depth` once Clio has made the run wait."""
        return self._depth if self.waited else min(SHALLOW, self._depth)
