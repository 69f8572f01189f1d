"""Loading a walk in packages of bounded size: a run's memory does not grow with the firm.

dlt loads one package at a time, and merges each table of a package in one statement:
a firm ten times larger would hand DuckDB ten times the rows in one merge (1.24 million
activities), and the process's peak would grow with the firm. So a run that merges
loads each walk in slices: once a package holds `max_rows` rows, it is closed at the end
of the batch being written (a batch's root rows and its children's go together), loaded
and settled, and the next package picks the walk up where it stopped. The walk itself
(`source.sync_endpoint`, with its read-ahead) is one generator kept open across dlt's
runs, so Clio is paged once, in order.

Only the slice that ends a walk moves its watermark (the walk notes it when it ends,
`Watermarks.advance`): the packages before it are merged on `id`, so a failure after
them keeps their rows, harmlessly, and the next run reads the walk again from the old
watermark. A full refresh (`replace`) and the lake (`append`, emptied first in a full
refresh) load each walk in one package: a table replaced in slices would be seen with
only its first slice, and a full refresh replaces a table in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import dlt
from dlt.extract.resource import DltResource

from pipelines.clio.client import ClioClient
from pipelines.clio.deletions import DATASET
from pipelines.clio.endpoints import Endpoint
from pipelines.clio.in_turn import in_turn
from pipelines.clio.load import endpoint_resource, item_rows, last_of_batch
from pipelines.clio.source import WalkOptions, sync_endpoint
from pipelines.clio.watermarks import Watermarks

# Rows (of all tables) after which a merging run's package is closed. DuckDB merges a
# package's table in one statement (deduplicating the staged rows by id) under the load's
# memory limit of 64 MB (`load.py`): a first sync of `xlarge` in packages of 250,000 rows
# ran out of memory merging calendar entries (string ids), and so did 100,000 rows of 27
# wide columns keyed by strings in a test, where 50,000 merged into a table of 250,000.
# Each package costs dlt's steps (about a second), so a first run of N records takes
# about N / MAX_ROWS seconds more.
MAX_ROWS = 50_000

_ENDED = object()


class _Budget:
    """Rows the package being extracted may still take."""

    def __init__(self, rows: int | None) -> None:
        self.left = rows

    @property
    def spent(self) -> bool:
        return self.left is not None and self.left <= 0

    def take(self, rows: int) -> None:
        if self.left is not None:
            self.left -= rows


class SlicedWalks:
    """The walks of one run, each kept open from one dlt run to the next, handed out in
    packages of about `MAX_ROWS` rows when they merge (else each walk whole). Use as a context manager:
    leaving it closes the walks a failure left unfinished (and their read-ahead)."""

    def __init__(self, client: ClioClient, options: WalkOptions, marks: Watermarks) -> None:
        self.client = client
        self.options = options
        self.marks = marks
        # a table replaced (or a lake emptied) in slices would keep only the last slice
        self.max_rows = MAX_ROWS if options.mode == "merge" else None
        self._walks: dict[str, Iterator[Any]] = {}
        self._ended: set[str] = set()

    def __enter__(self) -> SlicedWalks:
        return self

    def __exit__(self, *exc: object) -> None:
        for walk in self._walks.values():
            close = getattr(walk, "close", None)
            if close is not None:
                close()
        self._walks.clear()

    def pending(self, endpoints: Sequence[Endpoint]) -> tuple[Endpoint, ...]:
        """Those of `endpoints` whose walks have not ended."""
        return tuple(e for e in endpoints if e.table not in self._ended)

    def source(self, endpoints: Sequence[Endpoint]) -> Any:
        """A dlt source of the next package: the walks of `endpoints`, in turn, each from
        where it stopped, until the package is full."""
        return _slices_source(self, endpoints, _Budget(self.max_rows))

    def whole(self, endpoint: Endpoint) -> Iterator[Any]:
        """The rest of the walk of `endpoint`, to its end (whatever `max_rows`)."""
        return self.next_slice(endpoint, _Budget(None))

    def next_slice(self, endpoint: Endpoint, budget: _Budget) -> Iterator[Any]:
        if budget.spent:
            return
        walk = self._walks.get(endpoint.table)
        if walk is None:
            walk = self._walks[endpoint.table] = sync_endpoint(
                self.client, endpoint, self.options, self.marks)
        while (item := next(walk, _ENDED)) is not _ENDED:
            yield item
            budget.take(item_rows(item))
            if budget.spent and last_of_batch(endpoint, item):
                return  # the walk stays open for the next package
        self._ended.add(endpoint.table)
        del self._walks[endpoint.table]


@dlt.source(name=DATASET, max_table_nesting=0)
def _slices_source(walks: SlicedWalks, endpoints: Sequence[Endpoint],
                   budget: _Budget) -> Iterator[DltResource]:
    """Same schema and resource names as `source.clio_source`, one walk at a time."""
    turns = in_turn(walks.next_slice(endpoint, budget) for endpoint in endpoints)
    for endpoint, turn in zip(endpoints, turns, strict=True):
        yield endpoint_resource(endpoint, turn, mode=walks.options.mode)
