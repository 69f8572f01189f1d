"""Rows written into the warehouse without dlt, registered as dlt registers its loads.

dlt records every load in the dataset's `_dlt_loads` (status 0 once complete); a row's
`_dlt_load_id` names one of them. Writers that skip dlt's steps for speed (the webhook
applier's direct path, the run record) add the same entry, in the same transaction as
their rows, so every `_dlt_load_id` in the warehouse stays a completed load.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import duckdb

LOADS = "_dlt_loads"


def new_load_id() -> str:
    """A load id as dlt makes them: the Unix time, as a decimal string."""
    return str(time.time())


def register_load(con: duckdb.DuckDBPyConnection, dataset: str, schema_name: str,
                  load_id: str) -> None:
    """Record `load_id` as a completed load of the schema's current version."""
    con.execute(
        f'INSERT INTO "{dataset}".{LOADS} (load_id, schema_name, status, inserted_at,'
        " schema_version_hash) SELECT ?, ?, 0, now(), (SELECT version_hash FROM"
        f' "{dataset}"._dlt_version WHERE schema_name = ? ORDER BY inserted_at DESC LIMIT 1)',
        [load_id, schema_name, schema_name],
    )


_DIRECT_LOAD_ID: ContextVar[str | None] = ContextVar("direct_load_id", default=None)


def current_load_id() -> str | None:
    """The load id of the direct load whose rows are being typed now, if any (else the
    rows are typed inside dlt's extract, and carry its package's id)."""
    return _DIRECT_LOAD_ID.get()


@contextmanager
def direct_load_id(load_id: str) -> Iterator[None]:
    """Type rows for the direct load `load_id` meanwhile (`current_load_id`)."""
    token = _DIRECT_LOAD_ID.set(load_id)
    try:
        yield
    finally:
        _DIRECT_LOAD_ID.reset(token)
