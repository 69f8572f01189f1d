"""`run` and `reconcile` into PostgreSQL (a real throwaway server, tests/postgres_server.py):
the raw tables equal the sandbox's truth with the same types, incremental runs cost the same
minimal requests, deletions are final, a full refresh is atomic, and nothing touches DuckDB."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import psycopg2
from pg_helpers import (
    assert_pg_matches_truth,
    column_types,
    expected_column_types,
    pg_query,
)
from sync_helpers import (
    BY_PATH,
    DELETED_OUTRIGHT,
    requires_generated_firm,
    sandbox_env,
    settings_for,
)

from pipelines.clio.deletions import delete_rows
from pipelines.clio.endpoints import BY_TABLE, ENDPOINTS
from pipelines.clio.reconcile import reconcile
from pipelines.clio.source import WalkOptions
from pipelines.clio.sync import sync

PG = "postgres"
SMALL_PAGES = WalkOptions(page_limit=7)
REPO = Path(__file__).resolve().parents[2]


def api_requests(sb) -> list[dict]:
    return [r for r in sb.stats()["requests"] if r["path"].startswith("/api/v4/")]


def pg_watermarks(dsn: str) -> dict[str, datetime]:
    return dict(pg_query(dsn, "select resource, updated_since from clio._sync_watermarks"))


class TestFullSync:
    def test_equals_truth_with_the_same_types_and_no_duckdb_file(self, firm, pg, tmp_path,
                                                                  db) -> None:
        summary = sync(db, settings_for(firm, tmp_path), destination=PG, options=SMALL_PAGES)

        assert summary.status == "ok"
        assert_pg_matches_truth(firm, pg)
        stored, wanted = column_types(pg), expected_column_types()
        present = {key: stored.get(key) for key in wanted if key[0] in {t for t, _ in stored}}
        assert present == {key: wanted[key] for key in present}
        assert {t for t, _ in stored} >= set(BY_TABLE)  # every endpoint's table is there
        assert not db.exists()  # the raw tables went to the server, not to a DuckDB file

    def test_records_the_run_in_sync_runs_on_the_server(self, firm, pg, tmp_path, db) -> None:
        summary = sync(db, settings_for(firm, tmp_path), destination=PG)
        rows = pg_query(pg, "select resource, status, requests from clio._sync_runs "
                            "where run_id = %s order by resource", [summary.run_id])
        assert [r[0] for r in rows] == sorted(BY_TABLE)
        assert {r[1] for r in rows} == {"ok"}
        assert sum(r[2] for r in rows) == len(api_requests(firm))


class TestIncremental:
    def test_no_change_costs_one_request_per_walk(self, firm, pg, tmp_path, db) -> None:
        settings = settings_for(firm, tmp_path)
        sync(db, settings, destination=PG)
        marks = pg_watermarks(pg)
        assert set(marks) == {e.table for e in ENDPOINTS if e.incremental}
        firm.reset_stats()

        sync(db, settings, destination=PG)

        incremental_walks = sum(len(e.walks) for e in ENDPOINTS if e.incremental)
        replaced = sum(math.ceil(len(firm.truth(e.table)) / e.limit) or 1
                       for e in ENDPOINTS if not e.incremental)
        requests = api_requests(firm)
        assert len(requests) == incremental_walks + replaced
        assert all("updated_since=" in r["query"] for r in requests
                   if BY_PATH[r["path"].removeprefix("/api/v4/")].incremental)
        assert all(pg_watermarks(pg)[name] >= since for name, since in marks.items())

    def test_edits_at_clio_are_merged_by_the_next_run(self, firm, pg, tmp_path, db) -> None:
        settings = settings_for(firm, tmp_path)
        sync(db, settings, destination=PG)
        firm.edit("bills", 1, {"balance": 0.01,
                               "matters": [{"id": 2, "display_number": "00002-Client"}]})
        firm.edit("contacts", 4, {"name": "Renamed"})
        firm.edit("activities", 3, {"total": 0.07})
        sync(db, settings, destination=PG)
        assert_pg_matches_truth(firm, pg)

    @requires_generated_firm
    def test_days_of_life_then_incremental_and_reconcile_equal_truth(self, sandbox, pg,
                                                                      tmp_path, db) -> None:
        settings = settings_for(sandbox, tmp_path)
        sync(db, settings, destination=PG)
        assert sum(sandbox.advance(days=2).values()) > 0
        sync(db, settings, destination=PG)
        gone = [r for r in reconcile(db, settings, destination=PG) if r.deleted]
        assert {r.table for r in gone} <= set(DELETED_OUTRIGHT)
        assert_pg_matches_truth(sandbox, pg)
        assert not db.exists()

    def test_full_refresh_equals_truth(self, firm, pg, tmp_path, db) -> None:
        settings = settings_for(firm, tmp_path)
        sync(db, settings, destination=PG)
        firm.edit("contacts", 4, {"name": "Renamed"})
        sync(db, settings, destination=PG, full_refresh=True)
        assert_pg_matches_truth(firm, pg)


class TestDeletions:
    def test_reconcile_deletes_and_tombstones_with_an_ids_only_scan(self, firm, pg, tmp_path,
                                                                   db) -> None:
        settings = settings_for(firm, tmp_path)
        sync(db, settings, destination=PG)
        gone = firm.truth("contacts")[-1]["id"]
        firm.delete("contacts", gone)
        firm.reset_stats()

        results = reconcile(db, settings, resources=["contacts"], destination=PG)

        assert {r.table: r.deleted for r in results} == {"contacts": 1}
        assert pg_query(pg, "select count(*) from clio.contacts where id = %s", [gone]) == [(0,)]
        assert pg_query(pg, "select table_name, id, source from clio._tombstones") == [
            ("contacts", gone, "reconcile")]
        assert all("fields=id&" in r["query"] for r in api_requests(firm))
        assert_pg_matches_truth(firm, pg, ["contacts"])

    def test_a_tombstone_is_final_every_load_deletes_its_rows_again(self, firm, pg, tmp_path,
                                                                    db) -> None:
        settings = settings_for(firm, tmp_path)
        sync(db, settings, destination=PG)
        bill = firm.truth("bills")[0]["id"]  # still listed by Clio: only the ledger removes it
        assert delete_rows(db, BY_TABLE["bills"], [bill], source="webhook", destination=PG) == 1

        sync(db, settings, destination=PG, full_refresh=True)  # reads the bill again

        assert pg_query(pg, "select count(*) from clio.bills where id = %s", [bill]) == [(0,)]
        for child in ("bills__matters", "bills__balances"):
            assert pg_query(pg, f"select count(*) from clio.{child} where bill_id = %s",
                            [bill]) == [(0,)]


def _wait_until(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("the condition was not met in time")
        time.sleep(0.05)


def _blocked_on_advisory_lock(dsn: str) -> bool:
    return pg_query(dsn, "select count(*) from pg_locks where locktype = 'advisory' "
                         "and not granted")[0][0] > 0


def test_full_refresh_never_shows_a_table_empty(firm, pg, tmp_path, db) -> None:
    """A trigger parks the full refresh right after it removes contacts' old rows (a barrier:
    an advisory lock the test holds); a reader then still sees every row, without waiting."""
    settings = settings_for(firm, tmp_path)
    sync(db, settings, destination=PG)
    count = len(firm.truth("contacts"))
    pg_query(pg, """
        create function clio.park() returns trigger language plpgsql as $$
        begin perform pg_advisory_xact_lock(4242); return null; end $$;
        create trigger park after delete or truncate on clio.contacts
        for each statement execute function clio.park();""")
    holder = psycopg2.connect(pg)
    holder.autocommit = True
    holder.cursor().execute("select pg_advisory_lock(4242)")
    with ThreadPoolExecutor(1) as pool:
        run = pool.submit(sync, db, settings, destination=PG, full_refresh=True,
                          resources=["contacts"])
        try:
            _wait_until(lambda: _blocked_on_advisory_lock(pg) or run.done())
            assert not run.done(), run.exception()
            reader = psycopg2.connect(pg)
            try:
                with reader.cursor() as cur:
                    cur.execute("set lock_timeout = '5s'")
                    cur.execute("select count(*) from clio.contacts")
                    assert cur.fetchone() == (count,)
            finally:
                reader.close()
        finally:
            holder.cursor().execute("select pg_advisory_unlock(4242)")
            holder.close()
        assert run.result(timeout=120).status == "ok"


def test_run_and_reconcile_commands_take_a_dlt_destination_name(firm, pg, tmp_path,
                                                               db) -> None:
    env = {**os.environ, **sandbox_env(firm, tmp_path)}
    for command in (["run"], ["reconcile"]):
        proc = subprocess.run(
            [sys.executable, "-m", "pipelines", "--log-format", "plain", *command, "--db", str(db),
             "--destination", "postgres"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
        assert proc.returncode == 0, proc.stderr
        assert pg not in proc.stderr and "clio-test-pw" not in proc.stderr  # no secret logged
    assert_pg_matches_truth(firm, pg)
    assert not db.exists()


def test_unknown_destination_is_a_clear_error(firm, tmp_path, db) -> None:
    env = {**os.environ, **sandbox_env(firm, tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines", "run", "--db", str(db), "--destination", "nosuchdb"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.startswith("ConfigError: ") and "nosuchdb" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_credentials_are_a_clear_error(firm, tmp_path, db, monkeypatch) -> None:
    monkeypatch.delenv("DESTINATION__POSTGRES__CREDENTIALS", raising=False)
    env = {**os.environ, **sandbox_env(firm, tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines", "run", "--db", str(db), "--destination", "postgres"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "DESTINATION__POSTGRES__CREDENTIALS" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_wrong_password_is_a_clear_error_that_names_no_secret(firm, pg, tmp_path, db,
                                                                monkeypatch) -> None:
    wrong = pg.replace("clio-test-pw", "not-the-password-42")
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", wrong)
    env = {**os.environ, **sandbox_env(firm, tmp_path)}
    firm.reset_stats()
    for command in ("run", "reconcile"):
        proc = subprocess.run(
            [sys.executable, "-m", "pipelines", command, "--db", str(db), "--destination",
             "postgres"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 1, proc.stderr
        assert proc.stderr.startswith("DestinationUnreachable: ")
        assert "not-the-password-42" not in proc.stderr and "Traceback" not in proc.stderr
    assert api_requests(firm) == []  # said before Clio was read
