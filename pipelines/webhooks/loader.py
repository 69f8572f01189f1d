"""Write one batch's rows the way a sync writes them, in one dlt load for every table.

The applier's fallback (`direct.py` writes a batch unless it needs a table or column the
warehouse lacks) and what it must do before writing either way: finish a dlt load that
a killed writer left, and give an older warehouse's columns the catalog's types.

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

from pipelines import warehouse
from pipelines.clio.deletions import DATASET, delete_rows
from pipelines.clio.endpoints import BY_TABLE
from pipelines.clio.load import (
    LOAD_WORKERS,
    PIPELINE_NAME,
    endpoint_resource,
    expected_cause,
    finish_pending,
    make_pipeline,
    settle,
    typed_items,
)
from pipelines.clio.widen import widen_columns

# Where dlt keeps packages not loaded yet, in its pipeline folder (dlt's own layout).
PENDING_FOLDERS = ("normalize/extracted", "load/new", "load/normalized")
# Warehouses this process has widened: only a newer catalog widens a column, and a
# process keeps its catalog, so once per process is enough.
_widened: set[Path] = set()


@dlt.source(name=DATASET, max_table_nesting=0)
def changes_source(upserts: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[DltResource]:
    """The sync's `records_source`, for several endpoints at once."""
    return [endpoint_resource(BY_TABLE[table], typed_items(BY_TABLE[table], records))
            for table, records in sorted(upserts.items()) if records]


class BatchLoader:
    """The dlt pipeline of an applier pass, made only when a pass needs it (making one
    costs tens of milliseconds, and most passes write without dlt)."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self._pipeline: dlt.Pipeline | None = None

    @property
    def pipeline(self) -> dlt.Pipeline:
        if self._pipeline is None:
            self._pipeline = make_pipeline(self.db)  # widens the columns too
            _widened.add(self.db)
        return self._pipeline

    def prepare(self) -> None:
        """Before a pass writes: an older warehouse's columns widened to the catalog's
        types (a direct write would round into them), then `finish_interrupted`."""
        if self.db not in _widened:
            widen_columns(self.db)
            _widened.add(self.db)
        self.finish_interrupted()

    def finish_interrupted(self) -> None:
        """Load what a writer killed mid-load left (dlt keeps it as a pending package).

        Before planning: the plan compares with the stored rows, and a delete is written
        straight to DuckDB, so an older package loaded after it would bring the row back.
        """
        if self._may_be_pending() and self.pipeline.has_pending_data:
            self._expected(lambda: finish_pending(self.pipeline))
            settle(self.pipeline, self.db)

    def _may_be_pending(self) -> bool:
        """False only when dlt's folders show no package waiting (then dlt is not asked)."""
        folder = warehouse.pipelines_dir(self.db) / PIPELINE_NAME
        if not folder.exists():
            return False  # no dlt state here at all: nothing can wait
        for name in PENDING_FOLDERS:
            pending = folder / name
            if not pending.is_dir() or any(pending.iterdir()):
                return True  # waiting, or a layout this code does not know: ask dlt
        return False

    def write(self, upserts: Mapping[str, Mapping[int | str, dict[str, Any]]],
              deletes: Mapping[str, Sequence[int | str]]) -> None:
        """Merge `upserts` ({table: {id: record}}), then delete `deletes` ({table: ids})."""
        records = {table: list(rows.values()) for table, rows in upserts.items() if rows}
        if records:
            self._expected(lambda: self._load(records))
            settle(self.pipeline, self.db)
        for table, ids in sorted(deletes.items()):
            if ids:
                delete_rows(self.db, BY_TABLE[table], sorted(ids), source="webhook")

    def _load(self, records: dict[str, list[dict[str, Any]]]) -> None:
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
