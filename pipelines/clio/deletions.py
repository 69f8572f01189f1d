"""Hard deletes in the warehouse: records Clio deleted outright, with their child rows.

Clio has no tombstone feed, so these ids come from webhooks (`load_records`) or from an
ids-only scan (`reconcile`). Deleting is one SQL transaction on the DuckDB file; the
caller holds the writer lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from pipelines import warehouse
from pipelines.clio.endpoints import Endpoint
from pipelines.clio.rows import child_table

DATASET = "clio"  # the dataset (DuckDB schema) of the raw tables


def existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Tables of schema `clio` in the open warehouse."""
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = ?", [DATASET]
    ).fetchall()
    return {name for (name,) in rows}


def delete_rows(db: Path, endpoint: Endpoint, ids: Sequence[int]) -> int:
    """Delete rows `ids` of `endpoint` and their child rows in one transaction.

    Returns:
        The number of root rows deleted.
    """
    if not ids:
        return 0
    con = warehouse.connect(db)
    try:
        tables = existing_tables(con)
        if endpoint.table not in tables:
            return 0
        con.execute("begin")
        con.execute("create temp table _gone(id bigint)")
        con.executemany("insert into _gone values (?)", [(i,) for i in ids])
        for child in endpoint.children:
            name = child_table(endpoint, child)
            if name in tables:
                con.execute(
                    f'delete from {DATASET}."{name}" where "{child.parent_key}" in (select id from _gone)'
                )
        (count,) = con.execute(
            f'delete from {DATASET}."{endpoint.table}" where id in (select id from _gone)'
        ).fetchone() or (0,)
        con.execute("drop table _gone")
        con.execute("commit")
        return int(count)
    finally:
        con.close()
