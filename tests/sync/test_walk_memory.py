"""What a walk holds while dlt extracts it: a bounded working set, whatever the firm.

A full sync's peak RSS is set during its load, on top of whatever the extraction left
behind (freed memory the allocators keep), so what the walk holds at once counts twice.
Here the source's own walk of `activities` (about 20,000 records on `small`, so several
batches) is extracted by dlt exactly as a sync extracts it, pages read ahead by the
helper thread included, and the Python memory it holds at its peak (tracemalloc: every
thread) must fit a fixed budget: with 5,000 records a batch it held 22-23 MB, with 2,000
about 14.5 MB.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import dlt
import pyarrow as pa
from sync_helpers import settings_for

from pipelines.clio.client import ClioClient
from pipelines.clio.endpoints import BY_TABLE
from pipelines.clio.source import WalkOptions, clio_source
from pipelines.clio.watermarks import Watermarks

WALK_BUDGET_MB = 18  # decoded records, pages read ahead and dlt's buffers, together


def test_extracting_a_walk_holds_a_bounded_working_set(sandbox_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sb = sandbox_factory(scale="small", seed=7, rate_limit=None)
    activities = BY_TABLE["activities"]
    pipeline = dlt.pipeline("walk_memory", pipelines_dir=str(tmp_path / ".dlt"),
                            destination="duckdb", dataset_name="clio")
    with ClioClient(settings_for(sb, tmp_path)) as client:
        source = clio_source(client=client, endpoints=(activities,), options=WalkOptions(),
                             marks=Watermarks(start={}))
        pa.array([0])  # pyarrow's first conversion imports pandas: once a process, not the walk's
        tracemalloc.start()
        try:
            baseline = tracemalloc.get_traced_memory()[0]
            pipeline.extract(source)
            peak = tracemalloc.get_traced_memory()[1] - baseline
        finally:
            tracemalloc.stop()
        records = client.stats.get(activities.table).records

    assert records > 3 * WalkOptions().batch_rows  # several batches, not one
    held_mb = peak / 2**20
    assert held_mb < WALK_BUDGET_MB, (
        f"extracting {records:,} activities held {held_mb:.1f} MB at its peak "
        f"({WalkOptions().batch_rows:,} records a batch)")
