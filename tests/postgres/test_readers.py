"""On PostgreSQL, readers never block the writer (#10.7): a reader holding a transaction open
on every raw and bookkeeping table, and a cursor half-read, while `run` (incremental, with
its replaced tables), `reconcile` and a full refresh commit; the reader keeps its snapshot."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from decimal import Decimal

import psycopg2
from pg_helpers import assert_pg_matches_truth, pg_query
from sync_helpers import settings_for

from pipelines.clio.reconcile import reconcile
from pipelines.clio.sync import sync

PG = "postgres"
WRITER_TIMEOUT_S = 90  # a blocked writer would wait for the reader forever: fail instead


def test_a_reader_holding_a_transaction_and_a_cursor_never_blocks_run_or_reconcile(
    firm, pg, tmp_path, db
) -> None:
    settings = settings_for(firm, tmp_path)
    sync(db, settings, destination=PG)
    contact = firm.truth("contacts")[-1]["id"]
    firm.delete("contacts", contact)
    reconcile(db, settings, destination=PG)  # the ledger exists: the reader reads it too
    balance = pg_query(pg, "select balance from clio.bills where id = 1")[0][0]

    reader = psycopg2.connect(pg)
    reader.set_session(isolation_level="REPEATABLE READ")
    tables = [name for (name,) in pg_query(
        pg, "select table_name from information_schema.tables where table_schema = 'clio'")]
    assert {"_sync_watermarks", "_tombstones", "_sync_runs", "bills"} <= set(tables)
    with reader.cursor() as cur:
        for table in tables:  # ACCESS SHARE on every table, held until the reader ends
            cur.execute(f'select count(*) from clio."{table}"')
    stream = reader.cursor(name="half_read")  # a server-side cursor, left half read
    stream.itersize = 1
    stream.execute("select id, balance from clio.bills order by id")
    assert stream.fetchone()[0] == 1

    firm.edit("bills", 1, {"balance": 0.01})
    firm.edit("contacts", 4, {"name": "Edited while a reader reads"})
    firm.delete("contacts", firm.truth("contacts")[-1]["id"])
    pool = ThreadPoolExecutor(1)
    try:
        for step in (lambda: sync(db, settings, destination=PG),
                     lambda: reconcile(db, settings, destination=PG),
                     lambda: sync(db, settings, destination=PG, full_refresh=True)):
            try:
                pool.submit(step).result(timeout=WRITER_TIMEOUT_S)
            except FutureTimeout:
                raise AssertionError("the writer waited for the reader") from None
        with reader.cursor() as cur:  # the reader still sees its own snapshot
            cur.execute("select balance from clio.bills where id = 1")
            assert cur.fetchone() == (balance,)
        assert stream.fetchone() is not None
    finally:
        reader.rollback()  # frees a writer stuck behind the reader, so the test ends
        reader.close()
        pool.shutdown(wait=True)
    assert pg_query(pg, "select balance from clio.bills where id = 1") == [(Decimal("0.01"),)]
    assert_pg_matches_truth(firm, pg)
