"""Events a dead applier left claimed: which of them the warehouse already committed.

The apply ledger (`clio._webhook_applies`) commits with the rows it describes (in one
transaction on the direct path, after the load on the dlt path), so an event in the
ledger has its rows in the warehouse. An applier killed after that commit and before the
inbox's acknowledgement leaves such events claimed; the next pass acknowledges them with
the outcome they were logged with instead of applying them again (which would change
nothing but log them as `unchanged`, with a later lag). A `replay` queues events that
were acknowledged, never claimed ones, so it still applies everything again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection

import duckdb


def dead_claims(inbox_conn: sqlite3.Connection) -> set[int]:
    """The events claimed by an applier that is gone; read under the writer lock, before
    they are returned to the queue."""
    return {seq for (seq,) in inbox_conn.execute(
        "SELECT seq FROM events WHERE state = 'claimed'").fetchall()}


def committed(con: duckdb.DuckDBPyConnection, seqs: Collection[int]) -> dict[int, str]:
    """The logged outcome of each of `seqs` that the apply ledger holds."""
    if not seqs:
        return {}
    rows = con.execute(
        "SELECT seq, outcome FROM clio._webhook_applies"
        " WHERE seq IN (SELECT unnest(?::BIGINT[]))", [sorted(seqs)],
    ).fetchall()
    return {int(seq): str(outcome) for seq, outcome in rows}
