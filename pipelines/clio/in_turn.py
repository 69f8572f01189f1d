"""Walks that take turns: the resources of one source run one after the other.

dlt's default extract mode (`round_robin`) asks every resource of a source for an item in
turn, so every endpoint's walk would be open at once, each holding its pages and its
read-ahead thread, and the progress display and logs would jump between endpoints. dlt's
`fifo` mode is a process-wide setting (`EXTRACT__NEXT_ITEM_MODE`) that would change every
other dlt pipeline of a host program too, so the walks take turns here instead: a walk
that is not on turn answers `None`, which dlt reads as "nothing yet, ask the next one"
(its own parallel and async resources answer the same while they wait), and it starts
only once the walk before it has finished. Under either mode the order is the source's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


class _Baton:
    """Which walk of a source runs now (None: the next one asked may start)."""

    def __init__(self) -> None:
        self.holder: object | None = None


def in_turn(walks: Iterable[Iterable[T]]) -> list[Iterator[T | None]]:
    """`walks` as generators of which only one runs at a time, each to its end.

    The first walk dlt asks starts; the others answer `None` until it is exhausted (or
    closed by an error), then the next one asked starts. A walk that never gets a turn
    (a resource that was deselected) never starts.
    """
    baton = _Baton()
    return [_take_turn(walk, baton) for walk in walks]


def _take_turn(walk: Iterable[T], baton: _Baton) -> Iterator[T | None]:
    turn = object()
    while baton.holder is not None:
        yield None
    baton.holder = turn
    try:
        yield from walk
    finally:
        baton.holder = None
