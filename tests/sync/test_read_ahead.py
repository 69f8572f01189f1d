"""`read_ahead`: pages in order, errors raised in order, an abandoned walk stops its thread."""

from __future__ import annotations

import threading

import pytest

from pipelines.clio.read_ahead import read_ahead


def test_yields_every_item_in_order() -> None:
    assert list(read_ahead(iter(range(50)), depth=3)) == list(range(50))


def test_an_error_in_the_fetching_thread_is_raised_after_the_items_before_it() -> None:
    def pages():
        yield 1
        yield 2
        raise ValueError("bad page")

    seen = []
    with pytest.raises(ValueError, match="bad page"):
        for item in read_ahead(pages(), depth=2):
            seen.append(item)
    assert seen == [1, 2]


def test_closing_early_stops_the_fetching_thread() -> None:
    fetched = []

    def pages():
        for n in range(1000):
            fetched.append(n)
            yield n

    walk = read_ahead(pages(), depth=2)
    assert next(walk) == 0
    walk.close()
    assert not [t for t in threading.enumerate() if t.name == "clio-read-ahead"]
    assert len(fetched) < 10
