"""The cross-firm views: a firm's table of an unexpected shape spoils only that view."""

from __future__ import annotations

import duckdb

from pipelines.firms.views import build_cross_firm_views


def test_a_view_that_cannot_be_built_is_logged_and_the_others_are_built(tmp_path, caplog) -> None:
    db = tmp_path / "w.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create schema clio_acme")
    con.execute("create table clio_acme._sync_runs as select 'r1' as run_id, "
                "now() as started_at, now() as finished_at, 'ok' as status, "
                "null::varchar as error, 'bills' as resource, 3::bigint as records, "
                "1::bigint as requests")
    # no currency column: an older or hand-made table
    con.execute("create table clio_acme.outstanding_client_balances as "
                "select 1 as id, 10.5::decimal(18, 2) as total_outstanding_balance")
    con.close()

    built = build_cross_firm_views(db, ["acme", "beta"])

    assert built == ["firms.sync_runs", "firms.last_runs"]
    assert "firms.ar_by_firm was not rebuilt" in caplog.text
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select firm, status, records from firms.last_runs").fetchall() == [
        ("acme", "ok", 3)]
