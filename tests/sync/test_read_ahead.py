"""`read_ahead`: pages in order, errors raised in order, an abandoned walk stops its thread."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from pipelines.clio import heap
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


# Run in a fresh interpreter, so what the heap held before is the same every time. Like
# a sync, it holds a batch of pages at a time (40 MB here) and keeps a little of each.
_WALK_THEN_MEASURE = """
from pipelines.clio.read_ahead import read_ahead

def resident_anon_mb():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024

def pages():  # built in the helper thread, as the client decodes its pages
    for _ in range(400):
        yield [bytearray(2000) for _ in range(100)]

kept, batch = [], []
for number, page in enumerate(read_ahead(pages(), depth=4)):
    batch.append(page)
    kept.append(page[-1])  # a little of each page outlives it, spread through the heap
    if len(batch) == 200:
        batch = []  # typed and written: freed
    if number == 399:
        del page
        during = resident_anon_mb()
print(during - resident_anon_mb())
"""


@pytest.mark.skipif(not heap.CAN_HAND_BACK, reason="only glibc's malloc can hand pages back")
def test_a_finished_walk_hands_the_memory_of_its_pages_back() -> None:
    done = subprocess.run([sys.executable, "-c", _WALK_THEN_MEASURE], capture_output=True,
                          text=True, timeout=120, check=True)
    handed_back_mb = float(done.stdout)
    assert handed_back_mb > 25, f"{handed_back_mb:.1f} MB of a batch's 40 MB went back"
