"""`load_records`: merges typed rows through dlt into schema `clio`, replaces child rows."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import dlt
import duckdb
import numpy as np
import pyarrow as pa

from pipelines.clio.load import finish_pending, load_records, make_pipeline


def query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_merges_on_id_and_replaces_children_per_parent(db: Path, bill_record) -> None:
    load_records(db, "bills", [bill_record(1, [1, 2]), bill_record(2, [3])])
    load_records(db, "bills", [bill_record(1, [], total=0.29), bill_record(3, [4])])

    assert query(db, "select id, total from clio.bills order by id") == [
        (1, Decimal("0.29")), (2, Decimal("10.50")), (3, Decimal("10.50"))
    ]
    assert query(db, "select bill_id, id from clio.bills__matters order by all") == [(2, 3), (3, 4)]


def test_deleted_ids_remove_rows_and_child_rows(db: Path, bill_record) -> None:
    load_records(db, "bills", [bill_record(1, [1]), bill_record(2, [2])])
    load_records(db, "bills", [], deleted_ids=[2])
    assert query(db, "select id from clio.bills") == [(1,)]
    assert query(db, "select bill_id from clio.bills__balances") == [(1,)]


def test_columns_have_the_catalog_types(db: Path, bill_record) -> None:
    load_records(db, "bills", [bill_record(1, [1])])
    types = dict(query(db, "select column_name, data_type from information_schema.columns "
                           "where table_schema = 'clio' and table_name = 'bills'"))
    assert types["total"] == "DECIMAL(18,2)"
    assert types["updated_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["issued_at"] == "DATE"
    assert types["client__id"] == "BIGINT"
    assert {"_dlt_load_id", "_dlt_id"} <= set(types)


def test_a_duckdb_lock_deep_in_a_dlt_failure_becomes_warehouse_busy() -> None:
    from pipelines.clio.load import expected_cause
    from pipelines.errors import WarehouseBusy

    try:
        try:
            raise duckdb.IOException('Could not set lock on file "x.duckdb": Conflicting lock')
        except duckdb.IOException as inner:
            raise RuntimeError("PipelineStepFailed: load") from inner
    except RuntimeError as outer:
        assert isinstance(expected_cause(outer), WarehouseBusy)
    assert expected_cause(RuntimeError("a bug")) is None


class OpenCounter:
    """Counts how often `duckdb.connect` opens the database afresh: when no connection
    it handed out is still open (otherwise DuckDB reuses the open database)."""

    def __init__(self, connect) -> None:
        self._connect = connect
        self.open = 0
        self.fresh = 0

    def __call__(self, *args, **kwargs):
        self.fresh += self.open == 0
        self.open += 1
        return _Counted(self._connect(*args, **kwargs), self)


class _Counted:
    def __init__(self, con, counter: OpenCounter) -> None:
        self._con, self._counter, self._closed = con, counter, False

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._counter.open -= 1
        self._con.close()

    def __getattr__(self, name):
        return getattr(self._con, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def test_a_small_load_opens_the_warehouse_once_for_all_its_jobs(
    db: Path, bill_record, monkeypatch
) -> None:
    load_records(db, "bills", [bill_record(1, [1, 2])])  # the tables exist: a plain load
    counter = OpenCounter(duckdb.connect)
    monkeypatch.setattr(duckdb, "connect", counter)
    load_records(db, "bills", [bill_record(2, [3])])
    monkeypatch.undo()
    # the check for narrow columns, dlt's look for its state, the load (held open for all
    # its jobs: one per table and the merge, each of which opened the file before) and
    # the settlement
    assert counter.fresh <= 4, counter.fresh
    assert counter.open == 0
    duckdb.connect(str(db)).close()  # let go: another writer can open it


def test_a_large_load_also_opens_the_warehouse_once_for_all_its_jobs(
    db: Path, bill_record, monkeypatch
) -> None:
    """Whatever its size: reopening the file per job cost the load step of a large firm's
    full sync a third more CPU (bench/results/profile_load.md); DuckDB's memory limit
    bounds what the open database caches meanwhile."""
    import pipelines.clio.load as load

    load_records(db, "bills", [bill_record(1, [1, 2])])
    monkeypatch.setattr(load, "_bytes_to_load", lambda pipeline: 10**10)  # as a large firm's
    counter = OpenCounter(duckdb.connect)
    monkeypatch.setattr(duckdb, "connect", counter)
    load_records(db, "bills", [bill_record(2, [3]), bill_record(1, [], total=0.29)])
    monkeypatch.undo()
    assert counter.fresh <= 4, counter.fresh
    assert counter.open == 0
    assert query(db, "select id, total from clio.bills order by id") == [
        (1, Decimal("0.29")), (2, Decimal("10.50"))
    ]
    assert query(db, "select bill_id, id from clio.bills__matters order by all") == [(2, 3)]


@dlt.resource(name="pending", primary_key="id", write_disposition="merge")
def pending_rows(rows: int):  # type: ignore[no-untyped-def]
    yield pa.table({"id": pa.array(np.arange(rows, dtype=np.int64)),
                    "total": pa.array(np.arange(rows, dtype=np.int64) * 3)})


def test_a_first_run_killed_after_normalizing_is_finished_not_dropped(tmp_path: Path) -> None:
    """dlt's `run` resets its folder, pending package included, when the warehouse holds
    no dlt state yet; the load a first run left must be finished all the same."""
    db = tmp_path / "w.duckdb"
    make_pipeline(db).extract(pending_rows(1_000))
    make_pipeline(db).normalize()  # a run killed here leaves the package to the next one
    finish_pending(make_pipeline(db))
    assert query(db, "select count(*), sum(total) from clio.pending") == [(1_000, 3 * 499_500)]
