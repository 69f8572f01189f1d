"""The order a sync walks its endpoints in, and the groups it loads them in.

A run that reads endpoints in full (a first run, `--full-refresh`, a re-read) loads them
in a few groups, each as soon as its walks end, while a helper pages the next group
(`walk_ahead.py`): when the last page comes in, only the last group is left to load.
A load costs dlt's steps (about a second, whatever its size) plus a fraction of a
second per table, more than per row, so:

- the groups are few;
- the lookups (users, practice areas, custom field definitions...: a page or two each,
  but many tables) go first, with the largest endpoint, activities;
- each group's load fits in the time Clio takes to page the next group under a rate
  limit (a firm's time entries and bill lines hold most of its records);
- the last group is one table (communications), whose paging covers the load of the
  group before it and whose own load is the short tail of the run.

An incremental run, where every endpoint starts from a watermark, reads only what
changed: it is loaded once, at the end, in the same order.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipelines.clio.endpoints import Endpoint
from pipelines.clio.watermarks import Watermarks

# Loaded one group after the other, in this order. Endpoints named nowhere here (the
# lookups: users, practice areas, custom field definitions..., small but many tables)
# are walked first, in catalog order, in the first group.
GROUPS: tuple[tuple[str, ...], ...] = (
    ("activities",),
    ("line_items", "bills", "matters", "contacts"),
    ("calendar_entries", "notes", "allocations", "bank_transactions", "tasks", "relationships"),
    ("communications",),
)


def walk_order(endpoints: Sequence[Endpoint]) -> tuple[Endpoint, ...]:
    """`endpoints` in the order they are walked: the groups', then the rest's."""
    return tuple(e for group in load_groups(endpoints, full=True) for e in group)


def load_groups(endpoints: Sequence[Endpoint], marks: Watermarks | None = None, *,
                full: bool = False) -> list[tuple[Endpoint, ...]]:
    """The groups `endpoints` are loaded in, in walk order (none empty).

    One group when every incremental endpoint starts from a watermark in `marks` (and
    `full` is False): an incremental run.
    """
    by_table = {e.table: e for e in endpoints}
    named = {table for group in GROUPS for table in group}
    groups = [tuple(by_table[t] for t in group if t in by_table) for group in GROUPS]
    groups[0] = tuple(e for e in endpoints if e.table not in named) + groups[0]
    groups = [group for group in groups if group]
    if not full and marks is not None and not _reads_in_full(endpoints, marks):
        return [tuple(e for group in groups for e in group)] if groups else []
    return groups


def _reads_in_full(endpoints: Sequence[Endpoint], marks: Watermarks) -> bool:
    return any(e.incremental and marks.start_of(e.table) is None for e in endpoints)
