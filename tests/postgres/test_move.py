"""`clio-sync move --to postgres` (#10.7): the DuckDB warehouse's raw tables, watermarks and
tombstones copied into PostgreSQL without one request to Clio; the next run there is
incremental (one request per walk when nothing changed) and the tables equal the truth."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

from pg_helpers import assert_pg_matches_truth, column_types, expected_column_types, pg_query
from sync_helpers import query, sandbox_env, settings_for

from pipelines.clio.endpoints import ENDPOINTS
from pipelines.clio.reconcile import reconcile
from pipelines.clio.sync import sync

REPO = Path(__file__).resolve().parents[2]


def api_requests(sb) -> list[dict]:
    return [r for r in sb.stats()["requests"] if r["path"].startswith("/api/v4/")]


def clio_sync(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines", *args], cwd=REPO,
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=300)


def test_move_copies_the_warehouse_without_reading_clio_then_runs_incrementally(
    firm, pg, tmp_path, db
) -> None:
    settings = settings_for(firm, tmp_path)
    sync(db, settings)  # the DuckDB warehouse, as a firm has it before moving
    gone = firm.truth("contacts")[-1]["id"]
    firm.delete("contacts", gone)
    assert sum(r.deleted for r in reconcile(db, settings)) == 1  # a tombstone to carry over
    duck_marks = dict(query(db, "select resource, updated_since from clio._sync_watermarks"))
    duck_runs = query(db, "select count(*) from clio._sync_runs")[0][0]
    firm.reset_stats()

    moved = clio_sync("move", "--to", "postgres", "--db", str(db),
                      env=sandbox_env(firm, tmp_path))

    assert moved.returncode == 0, moved.stderr
    assert "Moved" in moved.stdout
    assert api_requests(firm) == []  # Clio was not read
    assert_pg_matches_truth(firm, pg)
    stored, wanted = column_types(pg), expected_column_types()
    assert {k: stored[k] for k in wanted if k in stored} == {k: wanted[k] for k in wanted
                                                            if k in stored}
    assert dict(pg_query(pg, "select resource, updated_since from clio._sync_watermarks")) \
        == duck_marks
    assert pg_query(pg, "select table_name, id, source from clio._tombstones") == [
        ("contacts", gone, "reconcile")]
    assert pg_query(pg, "select count(*) from clio._sync_runs")[0][0] == duck_runs

    sync(db, settings, destination="postgres")  # nothing changed at Clio: one request a walk
    incremental_walks = sum(len(e.walks) for e in ENDPOINTS if e.incremental)
    replaced = sum(math.ceil(len(firm.truth(e.table)) / e.limit) or 1
                   for e in ENDPOINTS if not e.incremental)
    requests = api_requests(firm)
    assert len(requests) == incremental_walks + replaced
    firm.edit("bills", 1, {"balance": 0.01})
    firm.edit("contacts", 4, {"name": "Edited after the move"})
    sync(db, settings, destination="postgres")
    assert_pg_matches_truth(firm, pg)


def test_move_overwrites_nothing_on_a_destination_that_has_a_warehouse(firm, pg, tmp_path,
                                                                         db) -> None:
    settings = settings_for(firm, tmp_path)
    sync(db, settings)
    sync(db, settings, destination="postgres")
    before = pg_query(pg, "select count(*) from clio._sync_runs")

    moved = clio_sync("move", "--to", "postgres", "--db", str(db),
                      env=sandbox_env(firm, tmp_path))

    assert moved.returncode == 1
    assert moved.stderr.startswith("MoveRefused: ") and "Traceback" not in moved.stderr
    assert pg_query(pg, "select count(*) from clio._sync_runs") == before
