"""The helper that pages ahead of the source holds a few pages until Clio makes the run
wait, and many once it has (so a rate-limited run keeps paging through a load, while a
run without a limit holds no more pages than it did) (#12.3).

The client here is a stand-in yielding numbered pages: what is tested is the helper's
queueing, not HTTP (the sync tests page the sandbox through it)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pipelines.clio.client import Page
from pipelines.clio.endpoints import Endpoint
from pipelines.clio.stats import RunStats
from pipelines.clio.walk_ahead import DEPTH, SHALLOW, PlannedWalk, WalkAhead

BARRIER_TIMEOUT = 15.0  # seconds: a barrier never reached fails the test, never hangs it
PAGES = SHALLOW + 30


class Pages:
    """Yields PAGES numbered pages per walk; says how many it has handed out."""

    def __init__(self, waited: bool, signal_at: int = 0) -> None:
        self.settings = None
        self.stats = RunStats()
        if waited:  # as the client counts a pacing wait
            self.stats.add("bills", waits=1, waits_seconds=0.5)
        self.produced = 0
        self.signal_at = signal_at
        self.reached = threading.Event()

    def iter_pages(self, path: str, params: Any = None, *, resource: str | None = None,
                   typed: Endpoint | None = None, page_ahead: bool = False) -> Iterator[Page]:
        for n in range(PAGES):
            self.produced += 1
            if self.produced == self.signal_at:
                self.reached.set()
            yield Page(records=[{"id": n}], date=datetime.now(UTC))


PLAN = [PlannedWalk("bills.json", {"limit": 1}, "bills", None)]


def test_without_waits_only_a_few_pages_are_held() -> None:
    client = Pages(waited=False)
    with WalkAhead(client, PLAN) as ahead:  # type: ignore[arg-type]
        taken = 0
        for _ in ahead.iter_pages("bills.json", {"limit": 1}, resource="bills"):
            taken += 1
            # the page in the helper's hand, and SHALLOW queued: never more
            assert client.produced <= taken + SHALLOW + 1
    assert taken == PAGES


def test_once_clio_made_the_run_wait_many_pages_are_held() -> None:
    client = Pages(waited=True, signal_at=SHALLOW + 20)
    assert SHALLOW + 20 < DEPTH
    with WalkAhead(client, PLAN) as ahead:  # type: ignore[arg-type]
        # nothing taken yet: the helper pages on well past SHALLOW
        assert client.reached.wait(BARRIER_TIMEOUT)
        pages = list(ahead.iter_pages("bills.json", {"limit": 1}, resource="bills"))
    assert [p.records[0]["id"] for p in pages] == list(range(PAGES))


def test_an_unplanned_walk_is_paged_directly() -> None:
    client = Pages(waited=False)
    with WalkAhead(client, PLAN) as ahead:  # type: ignore[arg-type]
        pages = list(ahead.iter_pages("bills.json", {"limit": 2}, resource="bills"))
        assert ahead.fell_back
    assert len(pages) == PAGES
