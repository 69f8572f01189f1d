"""Write one batch's rows the way a sync writes them, in one dlt load for every table.

The sync's `load_records` loads one table per call, each a full dlt extract, normalize
and load with the memory hand-back a large sync needs; a micro-batch touching bills and
contacts paid that twice, about a second each. Here every touched table goes into one
load of the same source shape (schema `clio`, resources named as the endpoints, the
catalog's typing and hints from `typed_items`), so a row is exactly what a sync stores,
settled the sync's way (`settle`: tombstoned rows purged, staging emptied, packages
pruned); deletions go through the warehouse's `delete_rows`, which tombstones them. The
caller holds the writer lock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import dlt
from dlt.extract.resource import DltResource

from pipelines.clio.deletions import DATASET, delete_rows
from pipelines.clio.endpoints import BY_TABLE
from pipelines.clio.load import (
    LOAD_WORKERS,
    endpoint_resource,
    expected_cause,
    finish_pending,
    make_pipeline,
    settle,
    typed_items,
)


@dlt.source(name=DATASET, max_table_nesting=0)
def changes_source(upserts: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[DltResource]:
    """The sync's `records_source`, for several endpoints at once."""
    return [endpoint_resource(BY_TABLE[table], typed_items(BY_TABLE[table], records))
            for table, records in sorted(upserts.items()) if records]


class BatchLoader:
    """One dlt pipeline for an applier pass (made once: it costs tens of milliseconds)."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.pipeline = make_pipeline(db)

    def finish_interrupted(self) -> None:
        """Load what a writer killed mid-load left (dlt keeps it as a pending package).

        Before planning: the plan compares with the stored rows, and a delete is written
        straight to DuckDB, so an older package loaded after it would bring the row back.
        """
        if self.pipeline.has_pending_data:
            self._expected(lambda: finish_pending(self.pipeline))
            settle(self.pipeline, self.db)

    def write(self, upserts: Mapping[str, Mapping[int, dict]],
              deletes: Mapping[str, Sequence[int]]) -> None:
        """Merge `upserts` ({table: {id: record}}), then delete `deletes` ({table: ids})."""
        records = {table: list(rows.values()) for table, rows in upserts.items() if rows}
        if records:
            self._expected(lambda: self._load(records))
            settle(self.pipeline, self.db)
        for table, ids in sorted(deletes.items()):
            if ids:
                delete_rows(self.db, BY_TABLE[table], sorted(ids), source="webhook")

    def _load(self, records: dict[str, list[dict]]) -> None:
        self.pipeline.extract(changes_source(records))
        self.pipeline.normalize()
        self.pipeline.load(workers=LOAD_WORKERS)

    @staticmethod
    def _expected(step: Callable[[], object]) -> None:
        """Run a dlt step; a known cause (DuckDB held by another process...) is raised as is."""
        try:
            step()
        except Exception as exc:
            cause = expected_cause(exc)
            if cause is None:
                raise
            raise cause from None
