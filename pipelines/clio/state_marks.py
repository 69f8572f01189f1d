"""Watermarks kept in dlt's source state, for `clio_source()` run by any dlt pipeline.

The CLI keeps its watermarks in the warehouse (`watermarks.py`) and saves them in the
transaction that settles the load. A program that runs `pipeline.run(clio_source())`
has no such step, so there the source keeps them in dlt's state, in two stages, so that
a watermark never gets ahead of the data read under it:

- a walk that ends notes its next starting point as *pending*, with the load package's
  id; dlt commits the state with the package at the end of extraction (a failed
  extraction commits nothing);
- the next run promotes the pending points only once that package is known to be loaded
  in full: it is in dlt's completed packages with no failed job, or the destination's
  `_dlt_loads` lists it as loaded (dlt writes that row last, after every table). A
  package that failed, was dropped or is still pending is not promoted: its walks start
  from the older points again and the merge on `id` absorbs the overlap.

As in the warehouse, a point saved with other catalog `fields` is not trusted, and
`reread` endpoints are read in full once their last full read is `reread_hours` older
than their watermark.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import dlt

from pipelines.clio.endpoints import BY_TABLE
from pipelines.clio.watermarks import Watermarks

KEY = "watermarks"
log = logging.getLogger(__name__)


class StateWatermarks(Watermarks):
    """`Watermarks` read from and noted in the running pipeline's source state.

    Only usable inside a dlt extraction (the walks call it as they start and end).
    """

    def __init__(self, reread_every: timedelta | None = None) -> None:
        super().__init__()
        self._reread_every = reread_every
        self._loaded = False

    def start_of(self, table: str) -> str | None:
        self._load()
        return super().start_of(table)

    def advance(self, table: str, updated_since: str) -> None:
        self._load()
        super().advance(table, updated_since)
        stored = _store()
        pending = stored.setdefault("pending", {"load_id": _load_id(), "marks": {}})
        endpoint = BY_TABLE.get(table)
        pending["marks"][table] = {
            "since": updated_since,
            "fields": endpoint.fields if endpoint else None,
            "full_read_at": updated_since if table in self.full else None,
        }

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        stored = _store()
        pending = stored.pop("pending", None)
        committed: dict[str, Any] = stored.setdefault("committed", {})
        if pending and _loaded_in_full(pending["load_id"]):
            for table, mark in pending["marks"].items():
                previous = committed.get(table, {})
                committed[table] = {**mark, "full_read_at": mark["full_read_at"]
                                    or previous.get("full_read_at")}
        elif pending:
            log.warning("The load of run %s did not complete: its walks start from the "
                        "earlier watermarks again", pending["load_id"])
        self.start = {table: mark["since"] for table, mark in committed.items()
                      if self._trusted(table, mark)}

    def _trusted(self, table: str, mark: Mapping[str, Any]) -> bool:
        endpoint = BY_TABLE.get(table)
        if endpoint is None or not endpoint.incremental or mark.get("fields") != endpoint.fields:
            return False
        if endpoint.reread and self._reread_every is not None:
            full = mark.get("full_read_at")
            if full is None:
                return False
            since = datetime.fromisoformat(mark["since"])
            return since - datetime.fromisoformat(full) < self._reread_every
        return True


def _store() -> dict[str, Any]:
    state: dict[str, Any] = dlt.current.source_state().setdefault(KEY, {})
    return state


def _load_id() -> str:
    load_id: str = dlt.current.load_package_state()["load_id"]
    return load_id


def _loaded_in_full(load_id: str) -> bool:
    """Whether package `load_id` was loaded with every job: dlt's local record first, then
    the destination's `_dlt_loads` (the local folder may be gone, e.g. a fresh container)."""
    pipeline = dlt.current.pipeline()
    if load_id in pipeline.list_completed_load_packages():
        info = pipeline.get_load_package_info(load_id)
        return not info.jobs.get("failed_jobs")
    try:
        with pipeline.sql_client() as client:
            rows = client.execute_sql(
                f"select status from {client.make_qualified_table_name('_dlt_loads')} "
                "where load_id = %s", load_id)
    except Exception as exc:  # no SQL access to the destination: read again, never skip
        log.warning("Cannot tell whether load %s completed (%s): reading from the earlier "
                    "watermarks", load_id, type(exc).__name__)
        return False
    return any(status == 0 for (status,) in rows or [])
