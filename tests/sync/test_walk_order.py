"""Endpoints are walked one after the other, whatever dlt's process-wide extract mode.

dlt's default (`round_robin`) takes one item from each resource in turn: every walk would
be open at once, each holding its pages and its read-ahead thread, and the progress
display and logs would jump between endpoints. The source runs its walks in turn itself,
so this holds in a host program whose dlt configuration says nothing about the extract
mode (or says either one) - and importing the package sets no such configuration.
The order is the run's plan (`walk_plan.py`: the lookups and the largest endpoints first).
"""

from __future__ import annotations

import pytest
from sync_helpers import settings_for

from pipelines.clio.endpoints import ENDPOINTS
from pipelines.clio.source import WalkOptions
from pipelines.clio.sync import sync
from pipelines.clio.walk_plan import walk_order


@pytest.mark.parametrize("mode", [None, "round_robin", "fifo"])
def test_each_endpoint_is_walked_to_the_end_before_the_next_starts(
        firm, tmp_path, db, monkeypatch, mode) -> None:
    monkeypatch.delenv("EXTRACT__NEXT_ITEM_MODE", raising=False)
    if mode is not None:  # what a host program may have configured for its own pipelines
        monkeypatch.setenv("EXTRACT__NEXT_ITEM_MODE", mode)
    pages: list[str] = []  # the resource of each page, in the order dlt consumed them
    walk = WalkOptions(page_limit=3, batch_rows=3, on_page=lambda resource, _: pages.append(resource))
    sync(db, settings_for(firm, tmp_path), options=walk)
    walks = [r for i, r in enumerate(pages) if i == 0 or pages[i - 1] != r]
    assert len(pages) > len(ENDPOINTS)  # some endpoints took several pages
    assert walks == [e.table for e in walk_order(ENDPOINTS)]
