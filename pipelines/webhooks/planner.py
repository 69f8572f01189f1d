"""Decide, for a batch of changes, what the warehouse must do: pure, no I/O.

Rules (DESIGN invariant 4):
- Per record, the newest change by `updated_at` wins; an older one never overwrites a
  newer stored row.
- Equal `updated_at` with a different `etag` cannot be ordered, so the record is
  fetched from the API (its current version is by definition the newest). So are changes
  whose data lacks catalog fields (webhooks subscribed with a short field list).
- `deleted` removes the row and leaves a tombstone; later events for a tombstoned id are
  ignored, because Clio never reuses ids and a deleted record never comes back.
  Endpoints whose deleted records stay listable in a state (bills: `deleted`, `void`)
  are fetched first: if Clio still returns the record, it is upserted, as a sync would.
- Matters and contacts (`Endpoint.reread`): whether editing a custom field value moves
  the record's `updated_at` (or `etag`) is not documented, and the webhooks watch the
  values (`fields` is a watch list). A delivery of the stored version whose child rows
  (custom field values, account balances) differ from the stored ones is fetched, since
  two such deliveries cannot be ordered; the fetched record is written even at the
  stored version.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from pipelines.clio.endpoints import BY_TABLE
from pipelines.clio.rows import child_table, flatten
from pipelines.webhooks.changes import Change, epoch_us

Key = tuple[str, int | str]  # (table, record id)
# A record's child rows: (child table, its rows as tuples), tables with rows only, sorted.
Children = tuple[tuple[str, frozenset[tuple]], ...]
NO_CHILDREN: Children = ()


@dataclass(frozen=True)
class Version:
    """The stored row's version (and, for `reread` endpoints, its child rows)."""

    updated_at: int | None  # epoch microseconds
    etag: str | None
    children: Children | None = None


def children_of(table: str, record: dict) -> Children:
    """A record's child rows, typed as the sync stores them, comparable with the stored."""
    endpoint = BY_TABLE[table]
    _, typed = flatten(endpoint, record)
    found = []
    for child in endpoint.children:
        rows = typed[child_table(endpoint, child)]
        if rows:
            found.append((child_table(endpoint, child),
                          frozenset(tuple(row[c] for c in child.columns) for row in rows)))
    return tuple(sorted(found))


@dataclass
class Plan:
    """What to write, what to fetch first, and the outcome of each event (by inbox seq)."""

    upserts: dict[str, dict[int | str, dict]] = field(default_factory=lambda: defaultdict(dict))
    deletes: dict[str, dict[int | str, Change]] = field(default_factory=lambda: defaultdict(dict))
    fetches: dict[str, set[int | str]] = field(default_factory=lambda: defaultdict(set))
    outcomes: dict[int, str] = field(default_factory=dict)
    waiting: dict[Key, list[Change]] = field(default_factory=dict)


def plan(changes: list[Change], stored: dict[Key, Version], tombstones: set[Key]) -> Plan:
    """Sort each record's changes into upserts, deletes, fetches and skips."""
    result = Plan()
    groups: dict[Key, list[Change]] = defaultdict(list)
    for change in changes:
        groups[(change.table, change.record_id)].append(change)
    for key, group in groups.items():
        _plan_record(result, key, group, stored.get(key), key in tombstones)
    return result


def resolve(result: Plan, fetched: dict[str, dict[int | str, dict]],
            stored: dict[Key, Version]) -> None:
    """Finish the records that waited on a fetch, given what the API returned."""
    for key, group in result.waiting.items():
        table, record_id = key
        record = fetched.get(table, {}).get(record_id)
        deletes = [c for c in group if c.is_delete]
        if record is None and deletes:
            _delete(result, key, group, deletes[0])
        elif record is None:
            _settle(result, group, "gone")  # deleted at Clio since: its own event will follow
        elif (_newer(Version(_stamp(record), record.get("etag")), stored.get(key))
              or _children_differ(table, record, stored.get(key))):
            result.upserts[table][record_id] = record
            _settle(result, group, "fetched")
        else:
            _settle(result, group, "unchanged")
    result.waiting.clear()


def _plan_record(result: Plan, key: Key, group: list[Change], stored: Version | None,
                 tombstoned: bool) -> None:
    deletes = [c for c in group if c.is_delete]
    if deletes:
        if BY_TABLE[key[0]].extra_filters:
            _fetch(result, key, group)
        else:
            _delete(result, key, group, deletes[0])
        return
    if tombstoned:
        _settle(result, group, "tombstoned")
        return
    newest = max(group, key=lambda c: (c.updated_at or 0, c.seq))
    tied = {c.etag for c in group if c.updated_at == newest.updated_at}
    if _older(newest, stored):
        _settle(result, group, "stale")
    elif len(tied) > 1:
        _fetch(result, key, group)  # same time, other etags: only Clio knows which is current
    elif newest.complete and _children_differ(key[0], newest.data, stored):
        _fetch(result, key, group)  # same version, other custom field values: ask Clio
    elif newest.updated_at is not None and not _newer(_version(newest), stored):
        _settle(result, group, "unchanged")
    elif (newest.updated_at is None or not newest.complete
          or (stored is not None and newest.updated_at == stored.updated_at)):
        _fetch(result, key, group)
    else:
        result.upserts[key[0]][key[1]] = newest.data
        _settle(result, group, "superseded")
        result.outcomes[newest.seq] = "upserted"


def _newer(candidate: Version, stored: Version | None) -> bool:
    """Whether `candidate` should replace `stored` (ties with another etag count: refetch)."""
    if stored is None or stored.updated_at is None or candidate.updated_at is None:
        return True
    if candidate.updated_at != stored.updated_at:
        return candidate.updated_at > stored.updated_at
    return candidate.etag != stored.etag


def _children_differ(table: str, record: dict, stored: Version | None) -> bool:
    """Whether a record of the stored version carries other child rows than the stored
    ones (only asked of `reread` endpoints, whose stored versions carry their children)."""
    if stored is None or stored.children is None or not BY_TABLE[table].reread:
        return False
    if _stamp(record) != stored.updated_at or record.get("etag") != stored.etag:
        return False
    return children_of(table, record) != stored.children


def _older(change: Change, stored: Version | None) -> bool:
    return bool(stored and stored.updated_at and change.updated_at
                and change.updated_at < stored.updated_at)


def _version(change: Change) -> Version:
    return Version(change.updated_at, change.etag)


def _stamp(record: dict) -> int | None:
    return epoch_us(record.get("updated_at"))


def _fetch(result: Plan, key: Key, group: list[Change]) -> None:
    result.fetches[key[0]].add(key[1])
    result.waiting[key] = group


def _delete(result: Plan, key: Key, group: list[Change], delete: Change) -> None:
    result.deletes[key[0]][key[1]] = delete
    _settle(result, group, "superseded")
    for change in group:
        if change.is_delete:
            result.outcomes[change.seq] = "deleted"


def _settle(result: Plan, group: list[Change], outcome: str) -> None:
    for change in group:
        result.outcomes[change.seq] = outcome
