"""Reading pages ahead: the next request is in flight while earlier pages are processed."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any, TypeVar

from pipelines.clio import heap

T = TypeVar("T")


_END = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def read_ahead(pages: Iterator[T], depth: int) -> Iterator[T]:
    """`pages`, fetched by a helper thread up to `depth` pages ahead.

    The next request is in flight while this thread types and writes the previous pages,
    so Clio's response time and our work overlap. Only the helper thread touches the
    HTTP client during the walk; an error there is raised here, in order. When the walk
    ends, the memory its pages took goes back to the system (`heap.hand_back`).
    """
    buffer: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def fetch() -> None:
        try:
            for page in pages:
                if not _offer(buffer, page, stop):
                    return
        except BaseException as exc:  # handed over to the consumer, which raises it
            _offer(buffer, _Failed(exc), stop)
        else:
            _offer(buffer, _END, stop)

    worker = threading.Thread(target=fetch, name="clio-read-ahead", daemon=True)
    worker.start()
    try:
        while (item := buffer.get()) is not _END:
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        worker.join()
        heap.hand_back()  # the pages were decoded in the helper's arena: give it back


def _offer(buffer: queue.Queue[Any], item: Any, stop: threading.Event) -> bool:
    """Put `item` unless the consumer has stopped; False if it has."""
    while not stop.is_set():
        try:
            buffer.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False
