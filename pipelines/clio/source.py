"""The dlt source of Clio Manage: one resource per catalog endpoint.

Each resource walks its index by id (`order=id(asc)` where the endpoint takes it, the
endpoint's largest `limit`, following `meta.paging.next`), asks only for what changed
since its watermark (`updated_since`), and yields Arrow tables typed by the catalog.

The watermark is the server's time when the resource's first page was answered (its
`Date` header) minus a lag, never the largest `updated_at` seen: paging is by id, so a
record edited behind the cursor during the walk must be picked up by the next run, and
the merge on `id` makes the overlap harmless. The source only reads the walks' starting
points from a `Watermarks` and notes where the next ones start; the caller saves those
once the load has succeeded (`watermarks.py` says why not dlt's resource state).

Like dlt's verified sources, it configures itself from dlt's config and secrets when
called with no arguments, so any program can run it:

```python
pipeline = dlt.pipeline("clio", destination="duckdb", dataset_name="clio")
pipeline.run(clio_source())              # sources.clio: SOURCES__CLIO__CREDENTIALS__...
pipeline.run(clio_source(firm="acme"))   # a firm profile: FIRMS__ACME__...
```

Then the watermarks live in dlt's source state and move only once the package that
carried their data is loaded (`state_marks.py`); the token store is the configured one,
with the same locking and atomic writes as the CLI's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.common.configuration import configspec
from dlt.common.configuration.specs import BaseConfiguration
from dlt.extract.resource import DltResource

from pipelines.clio.arrow_pages import ArrowPage
from pipelines.clio.client import ClioClient, Page
from pipelines.clio.config import (
    ClioCredentials,
    ClioSettings,
    credential_overrides,
    load_settings,
)
from pipelines.clio.deletions import DATASET
from pipelines.clio.endpoints import ENDPOINTS, Endpoint
from pipelines.clio.hints import LoadMode
from pipelines.clio.in_turn import in_turn
from pipelines.clio.load import empty_tables, endpoint_resource, typed_tables
from pipelines.clio.read_ahead import read_ahead
from pipelines.clio.rows import arrow_batch, child_table
from pipelines.clio.state_marks import StateWatermarks
from pipelines.clio.watermarks import Watermarks

DEFAULT_LAG = timedelta(seconds=60)
# Records typed into one Arrow table. A batch of decoded bills takes about 6 KB a record
# (20,000 held 113 MB), and what a walk held stays with the allocators into the load,
# where DuckDB adds its own: 2,000 took 20-35 MB off a large sync's peak against 5,000,
# for about 10% more CPU in extraction, dlt's per-item work (tests/sync/test_walk_memory.py,
# bench/results/sync_full.md).
BATCH_ROWS = 2_000
READ_AHEAD = 4  # pages fetched ahead while earlier ones are typed and written

PageHook = Callable[[str, Page], None]


@dataclass(frozen=True)
class WalkOptions:
    """How every resource walks its index.

    Attributes:
        lag: subtracted from the server's time to make the next watermark.
        page_limit: caps each endpoint's `limit` (tests use it to force paging).
        batch_rows: records per Arrow table.
        on_page: called with (resource, page) after every page (progress display).
        mode: how the rows load: `merge` on id (the warehouse), `replace` every table
            (a full refresh, swapped in by one transaction per table), or `append` (a
            destination without merge, like the Parquet lake).
    """

    lag: timedelta = DEFAULT_LAG
    page_limit: int | None = None
    batch_rows: int = BATCH_ROWS
    on_page: PageHook | None = None
    mode: LoadMode = "merge"


@configspec
class ClioSourceConfiguration(BaseConfiguration):
    """What dlt injects into `clio_source` from `sources.clio`: which firm profile to read
    (none: `sources.clio` itself). The connection's settings and `ClioCredentials` are
    resolved by `load_settings`, with its checks, from that profile's section."""

    firm: str | None = None


@dlt.source(name=DATASET, section=DATASET, max_table_nesting=0, spec=ClioSourceConfiguration)
def clio_source(
    *,
    firm: str | None = None,
    credentials: ClioCredentials | None = None,
    settings: ClioSettings | None = None,
    client: ClioClient | None = None,
    endpoints: Sequence[Endpoint] = ENDPOINTS,
    options: WalkOptions = WalkOptions(),
    marks: Watermarks | None = None,
) -> Iterator[DltResource]:
    """Clio Manage v4: one resource per catalog endpoint (`endpoints.ENDPOINTS`), merged
    on `id`, except outstanding_client_balances and billable_matters (replaced in full:
    Clio cannot filter them by `updated_since`).

    Args:
        firm: read the profile `firms.<firm>` instead of `sources.clio`.
        credentials: the app's credentials, instead of the configured ones.
        settings: the whole connection, resolved already (the CLI's).
        client: the HTTP client to use (the CLI's, with its run statistics).
        endpoints: which endpoints (`.with_resources(...)` selects too).
        options: how the walks page and load.
        marks: each walk's start (none: read in full), receiving the next; the caller
            saves them after the load. None: kept in dlt's state (`state_marks.py`).

    Raises:
        ConfigError: the settings are missing or wrong (raised when called).
    """
    if client is None:
        settings = settings or load_settings(firm=firm, **credential_overrides(credentials))
        client = ClioClient(settings)
    if marks is None:
        marks = StateWatermarks(timedelta(hours=client.settings.reread_hours))
    walks = in_turn(sync_endpoint(client, endpoint, options, marks) for endpoint in endpoints)
    for endpoint, walk in zip(endpoints, walks, strict=True):
        # one walk at a time, in catalog order
        yield endpoint_resource(endpoint, walk, mode=options.mode)


def page_params(endpoint: Endpoint, limit: int, since: str | None,
                filters: Mapping[str, str] | None = None, fields: str | None = None) -> dict[str, Any]:
    """Query of the first page of one walk (the next URLs carry it on)."""
    params: dict[str, Any] = {"fields": endpoint.fields if fields is None else fields, "limit": limit}
    if endpoint.takes_order:
        params["order"] = "id(asc)"
    if since is not None:
        params["updated_since"] = since
    params.update(filters or {})
    return params


def page_limit(endpoint: Endpoint, cap: int | None) -> int:
    return endpoint.limit if cap is None else max(1, min(endpoint.limit, cap))


def sync_endpoint(client: ClioClient, endpoint: Endpoint, options: WalkOptions,
                  marks: Watermarks) -> Iterator[Any]:
    """Walk `endpoint` (each of its walks' filters), yield typed Arrow tables, then note
    where the next walk starts."""
    since = marks.start_of(endpoint.table) if endpoint.incremental else None
    limit = page_limit(endpoint, options.page_limit)
    first_answer: datetime | None = None
    batch = _Batch(endpoint, options.mode)
    # Ids read by the extra filters' walks (deleted and void bills: few): a later walk
    # skips them, so a plain index that lists them too never yields a record twice.
    seen: set[Any] = set()
    for filters in endpoint.walks:
        params = page_params(endpoint, limit, since, filters)
        typed_as = typed_by(endpoint, filters)
        extra_walk = typed_as is None
        pages = client.iter_pages(endpoint.path, params, resource=endpoint.table, typed=typed_as)
        for page in read_ahead(pages, READ_AHEAD):
            first_answer = first_answer or page.date
            typed = page.arrow is not None and _add_typed(batch, page.arrow, seen)
            if not typed:  # the page's records, typed with the batch (`rows.arrow_batch`)
                records = [r for r in page.records if r.get("id") not in seen] if seen else page.records
                if extra_walk:
                    seen.update(r.get("id") for r in records)
                batch.add_records(records)
            if options.on_page is not None:
                options.on_page(endpoint.table, page)
            if batch.rows >= options.batch_rows:
                yield from batch.flush()
    yield from batch.flush()
    if options.mode == "replace" and not batch.flushed:  # Clio has none left: empty them
        yield from empty_tables(endpoint, options.mode)
    client.stats.add(endpoint.table, seconds=0.0)  # a resource with no request still shows up
    if endpoint.incremental and first_answer is not None:
        marks.advance(endpoint.table, (first_answer - options.lag).isoformat())


def typed_by(endpoint: Endpoint, filters: Mapping[str, str]) -> Endpoint | None:
    """The endpoint whose Arrow tables a walk's pages are read into (`arrow_pages.py`):
    none for the extra filters' walks (deleted and void bills: few), whose records are
    kept by id so that the plain walk after them skips them."""
    extra_names = {name for extra in endpoint.extra_filters for name in extra}
    return None if not extra_names.isdisjoint(filters) else endpoint


def _add_typed(batch: _Batch, page: ArrowPage, seen: set[Any]) -> bool:
    """Add the rows of `page` (typed already, `arrow_pages.py`) whose ids are not in `seen`
    to `batch`; False (nothing added) when `seen` holds ids Arrow cannot compare (the
    page's records go then)."""
    if not seen:
        batch.add_tables(page.root, page.children)
        return True
    if not all(type(i) is int for i in seen):
        return False
    ids = pa.array(list(seen), pa.int64())
    keep = pc.invert(pc.is_in(page.root.column("id"), value_set=ids))
    children = {}
    for child in batch.endpoint.children:
        table = page.children[child_table(batch.endpoint, child)]
        children[child_table(batch.endpoint, child)] = table.filter(
            pc.invert(pc.is_in(table.column(child.parent_key), value_set=ids)))
    batch.add_tables(page.root.filter(keep), children)
    return True


class _Batch:
    """The rows of one endpoint's walk waiting to be yielded as one set of tables: pages
    typed already, and runs of records typed together by `rows.arrow_batch` (so a batch of
    records alone is typed, and fails, exactly as before)."""

    def __init__(self, endpoint: Endpoint, mode: LoadMode) -> None:
        self.endpoint, self.mode = endpoint, mode
        self.rows = 0
        self.flushed = False  # whether any table was yielded yet
        self._pieces: list[tuple[pa.Table, dict[str, pa.Table]] | list[dict[str, Any]]] = []

    def add_records(self, records: list[dict[str, Any]]) -> None:
        if self._pieces and isinstance(self._pieces[-1], list):
            self._pieces[-1].extend(records)
        else:
            self._pieces.append(list(records))
        self.rows += len(records)

    def add_tables(self, root: pa.Table, children: dict[str, pa.Table]) -> None:
        self._pieces.append((root, children))
        self.rows += root.num_rows

    def flush(self) -> Iterator[Any]:
        """The batch's tables, marked for dlt, in the order their rows came."""
        pieces, self._pieces, self.rows = self._pieces, [], 0
        typed: list[tuple[pa.Table, dict[str, pa.Table]]] = []
        for piece in pieces:
            if isinstance(piece, list):
                if piece:
                    typed.append(arrow_batch(self.endpoint, piece))
            elif piece[0].num_rows:
                typed.append(piece)
        if not typed:
            return
        self.flushed = True
        root = pa.concat_tables([root for root, _ in typed])
        children = {name: pa.concat_tables([tables[name] for _, tables in typed])
                    for name in typed[0][1]}
        yield from typed_tables(self.endpoint, root, children, self.mode)
