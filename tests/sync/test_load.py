"""`load_records`: merges typed rows through dlt into schema `clio`, replaces child rows."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb

from pipelines.clio.load import load_records


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
