"""When a stored watermark is trusted: not after the catalog's fields of the endpoint
changed (rows read before lack the new columns), and, for matters and contacts, not once
their last full read is a re-read period older than the watermark (#9.2, #9.3)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import duckdb
import pytest

from pipelines.clio import watermarks
from pipelines.clio.endpoints import BY_TABLE
from pipelines.clio.watermarks import Watermarks

DAY = timedelta(days=1)
T0 = "2026-11-20T09:00:00+00:00"
T1 = "2026-11-20T21:00:00+00:00"  # half a day later
T2 = "2026-11-21T10:00:00+00:00"  # more than a day after T0


@pytest.fixture
def con(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema clio; create table clio.matters (id bigint); "
                "create table clio.bills (id bigint); insert into clio.matters values (1); "
                "insert into clio.bills values (1)")
    yield con
    con.close()


def run(con, endpoints, at: str, reread=DAY) -> dict[str, str]:
    """One run: the marks it starts from (the others read in full), then saves its own,
    every walk having started at `at`."""
    trusted = watermarks.read(con, endpoints, reread_every=reread)
    marks = Watermarks(start=trusted)
    for endpoint in endpoints:
        marks.advance(endpoint.table, at)
    watermarks.save(con, marks, "run", endpoints)
    return trusted


def test_a_mark_saved_with_other_fields_is_not_trusted(con) -> None:
    bills = BY_TABLE["bills"]
    run(con, [bills], T0)
    assert watermarks.read(con, [bills]) == {"bills": T0}
    widened = replace(bills, scalars=(*bills.scalars[:-1],))  # the catalog changed
    assert watermarks.read(con, [widened]) == {}


def test_a_mark_from_before_the_fields_column_is_not_trusted(con) -> None:
    con.execute("create table clio._sync_watermarks (resource varchar primary key, "
                "updated_since timestamptz not null, rows_after bigint, run_id varchar, "
                "saved_at timestamptz not null)")
    con.execute("insert into clio._sync_watermarks values ('bills', ?, 1, 'old', now())", [T0])
    assert watermarks.read(con, [BY_TABLE["bills"]]) == {}


def test_matters_are_read_in_full_once_the_last_full_read_is_a_period_old(con) -> None:
    matters, bills = BY_TABLE["matters"], BY_TABLE["bills"]
    run(con, [matters, bills], T0)  # a full read of both at T0
    assert run(con, [matters, bills], T1) == {"matters": T0, "bills": T0}
    # the last run started at T1, half a day after the full read: not due yet
    assert run(con, [matters, bills], T2) == {"matters": T1, "bills": T1}
    # the last run started at T2, more than a day after the full read at T0: due
    assert watermarks.read(con, [matters, bills], reread_every=DAY) == {"bills": T2}
    # never, without a period; every run, with a period of 0
    assert watermarks.read(con, [matters], reread_every=None) == {"matters": T2}
    assert watermarks.read(con, [matters], reread_every=timedelta(0)) == {}


def test_an_incremental_run_keeps_the_time_of_the_last_full_read(con) -> None:
    matters = BY_TABLE["matters"]
    run(con, [matters], T0)
    marks = Watermarks(start={"matters": T0})
    marks.advance("matters", T1)  # an incremental walk
    watermarks.save(con, marks, "run-2", [matters])
    rows = con.execute("select updated_since, full_read_at from clio._sync_watermarks").fetchall()
    assert [(a.isoformat(), b.isoformat()) for a, b in rows] == [(T1, T0)]
