"""`reconcile` deletes rows gone at Clio with an ids-only scan; `export` writes Parquet atomically;
`--destination filesystem` writes a Parquet lake."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pytest
from sync_helpers import assert_matches_truth, listed_by_walk, query, settings_for

from pipelines.clio import export as export_module
from pipelines.clio.endpoints import BY_TABLE
from pipelines.clio.export import export_parquet
from pipelines.clio.reconcile import reconcile
from pipelines.clio.source import WalkOptions
from pipelines.clio.sync import sync


class TestReconcile:
    def test_deletes_rows_gone_at_clio_with_ceil_n_over_limit_requests(
        self, firm, tmp_path, db
    ) -> None:
        settings = settings_for(firm, tmp_path)
        sync(db, settings)
        contacts = firm.truth("contacts")
        gone = contacts[-1]["id"]  # referenced by nothing, so Clio lets it go
        firm.delete("contacts", gone)
        firm.reset_stats()

        results = reconcile(db, settings, resources=["contacts", "bills"], limit_cap=4)

        by_table = {r.table: r for r in results}
        assert by_table["contacts"].deleted == 1
        assert query(db, "select count(*) from clio.contacts where id = ?", [gone]) == [(0,)]
        assert_matches_truth(firm, db, ["contacts", "bills"])
        requests = [r for r in firm.stats()["requests"] if r["path"].startswith("/api/v4/")]
        assert all("fields=id&" in r["query"] for r in requests)
        contact_requests = [r for r in requests if r["path"].endswith("contacts.json")]
        assert len(contact_requests) == math.ceil((len(contacts) - 1) / 4)
        bills = firm.truth("bills")
        expected_bill_requests = 0
        for walk in BY_TABLE["bills"].walks:
            listed = [b for b in bills if listed_by_walk(BY_TABLE["bills"], walk, b)]
            expected_bill_requests += max(1, math.ceil(len(listed) / 4))
        assert by_table["bills"].requests == expected_bill_requests

    def test_keeps_void_and_deleted_bills_which_clio_lists_by_state(self, firm, tmp_path, db) -> None:
        settings = settings_for(firm, tmp_path)
        sync(db, settings)
        (result,) = reconcile(db, settings, resources=["bills"])
        assert result.deleted == 0 and result.at_clio == result.local == 5
        assert query(db, "select id, state from clio.bills where id in (3, 4) order by id") == [
            (3, "void"), (4, "deleted")
        ]


class TestExport:
    def test_writes_every_raw_table_as_parquet_replacing_the_old_export(
        self, firm, tmp_path, db
    ) -> None:
        sync(db, settings_for(firm, tmp_path))
        out = tmp_path / "export"
        with duckdb.connect(str(db)) as con:  # an earlier export held a table since dropped
            con.execute("create table clio.stale as select 1 as id")
        export_parquet(db, out)
        with duckdb.connect(str(db)) as con:
            con.execute("drop table clio.stale")
        assert (out / "clio" / "stale.parquet").exists()

        written = export_parquet(db, out)

        assert not (out / "clio" / "stale.parquet").exists()
        names = {p.relative_to(out).as_posix() for p in written}
        assert {"clio/bills.parquet", "clio/bills__matters.parquet", "clio/_sync_runs.parquet"} <= names
        assert not any(n.startswith("clio/_dlt_") for n in names)
        for table in ("bills", "activities", "bills__balances"):
            counted = duckdb.sql(f"select count(*) from '{out}/clio/{table}.parquet'").fetchall()
            assert counted == query(db, f"select count(*) from clio.{table}")
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".export")] == []

    def test_a_failed_export_leaves_the_previous_one_intact(
        self, firm, tmp_path, db, monkeypatch
    ) -> None:
        sync(db, settings_for(firm, tmp_path), resources=["contacts"])
        out = tmp_path / "export"
        export_parquet(db, out)
        before = sorted(p.name for p in (out / "clio").iterdir())
        monkeypatch.setattr(export_module, "exportable",
                            lambda con: [("clio", "contacts"), ("clio", "no_such_table")])
        with pytest.raises(duckdb.Error):
            export_parquet(db, out)
        assert sorted(p.name for p in (out / "clio").iterdir()) == before
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".export")] == []


def test_filesystem_destination_writes_a_parquet_lake(firm, tmp_path, db, monkeypatch) -> None:
    lake = tmp_path / "lake"
    monkeypatch.setenv("DESTINATION__FILESYSTEM__BUCKET_URL", lake.as_uri())
    sync(db, settings_for(firm, tmp_path), destination="filesystem",
         resources=["contacts", "bills"], options=WalkOptions(page_limit=10))
    files = sorted(Path(lake, "clio", "contacts").glob("*.parquet"))
    assert files
    counted = duckdb.sql(f"select count(distinct id) from '{lake}/clio/contacts/*.parquet'").fetchall()
    assert counted == [(len(firm.truth("contacts")),)]
    assert list(Path(lake, "clio", "bills__matters").glob("*.parquet"))
    assert not db.exists() or query(db, "select count(*) from information_schema.tables "
                                        "where table_name = 'contacts'") == [(0,)]
