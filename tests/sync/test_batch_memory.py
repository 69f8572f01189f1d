"""What one batch of a full sync holds in memory, whatever the size of the firm.

A walk keeps at most `WalkOptions().batch_rows` decoded records (plus a few pages read
ahead) before typing them into Arrow and handing them to dlt, so the client's memory
does not grow with the firm (`bench/sync_scaling.py` shows it on a firm ten times
`large`). Bills are the widest records Clio sends; a batch of them, decoded exactly as a
sync decodes its pages and typed into its Arrow tables, must fit a fixed budget.
"""

from __future__ import annotations

import tracemalloc

import httpx

from pipelines.clio import decoding
from pipelines.clio.endpoints import BY_TABLE
from pipelines.clio.rows import arrow_batch
from pipelines.clio.source import WalkOptions, page_params

BATCH_BUDGET_MB = 48  # decoded records and their Arrow tables, together


def test_a_batch_of_the_widest_records_fits_the_memory_budget(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    sb = sandbox_factory(scale="small", seed=7, rate_limit=None)
    bills = BY_TABLE["bills"]
    answer = httpx.get(
        f"{sb.base_url}/api/v4/{bills.path}", params=page_params(bills, bills.limit, None),
        headers={"Authorization": f"Bearer {sb.token()['access_token']}"}, timeout=60)
    answer.raise_for_status()
    page = answer.content  # 200 real bills, every field a sync asks for
    rows = WalkOptions().batch_rows

    tracemalloc.start()
    try:
        batch: list[dict] = []
        while len(batch) < rows:  # the batch a walk holds: pages decoded as the sync does
            batch.extend(decoding.loads(page)["data"])
        del batch[rows:]
        records = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    root, children = arrow_batch(bills, batch)
    arrow = root.nbytes + sum(table.nbytes for table in children.values())

    held_mb = (records + arrow) / 2**20
    assert held_mb < BATCH_BUDGET_MB, (
        f"a batch of {rows:,} bills holds {held_mb:.0f} MB ({records / 2**20:.0f} MB of "
        f"records, {arrow / 2**20:.0f} MB of Arrow)")
