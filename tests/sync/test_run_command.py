"""`clio-sync run` as a real process: kill -9, the writer lock, a DuckDB file held elsewhere."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sync_helpers import assert_matches_truth, query, sandbox_env

from pipelines import warehouse

REPO = Path(__file__).resolve().parents[2]
PAUSED_RUN = Path(__file__).with_name("paused_run.py")


def clio_sync(*args: str, env: dict[str, str], **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines", *args],
        cwd=REPO, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, **kw,
    )


def api_request_count(sb) -> int:
    return sum(1 for r in sb.stats()["requests"] if r["path"].startswith("/api/v4/"))


def paused_run(point: str, *args: str, env: dict[str, str]) -> subprocess.Popen:
    """`clio-sync ARGS` stopped at `point` of its run (see `paused_run.py`)."""
    proc = subprocess.Popen(
        [sys.executable, str(PAUSED_RUN), point, *args],
        cwd=REPO, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )
    readable, _, _ = select.select([proc.stdout], [], [], 60)
    line = proc.stdout.readline().strip() if readable else ""
    if line != f"paused {point}":
        proc.kill()
        raise AssertionError(f"the run did not pause at {point}: {line}{proc.stdout.read()}")
    return proc


@pytest.mark.slow
@pytest.mark.parametrize("point", ["mid-extract", "loading"])
def test_kill_9_mid_run_then_next_run_converges_without_duplicates(
    firm, tmp_path, db, point
) -> None:
    env = sandbox_env(firm, tmp_path)
    first = clio_sync("run", "--db", str(db), "--quiet", env=env)
    assert first.wait(timeout=120) == 0, first.stderr.read() if first.stderr else ""
    firm.edit("bills", 1, {"balance": 0.01})
    firm.edit("contacts", 5, {"name": "Edited before the killed run"})
    victim = paused_run(point, "run", "--db", str(db), "--quiet", env=env)  # the barrier
    victim.send_signal(signal.SIGKILL)
    assert victim.wait(timeout=30) == -signal.SIGKILL  # killed at that point, not after

    again = clio_sync("run", "--db", str(db), "--quiet", env=env)
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert_matches_truth(firm, db)
    for table in ("bills", "activities", "contacts", "line_items"):
        assert query(db, f"select count(*) - count(distinct id) from clio.{table}") == [(0,)]
    assert query(db, "select count(*) from (select bill_id, id from clio.bills__matters "
                     "group by all having count(*) > 1)") == [(0,)]


def test_second_writer_waits_then_fails_clearly(firm, tmp_path, db) -> None:
    env = sandbox_env(firm, tmp_path)
    with warehouse.writer_lock(db, "a test holding the lock"):
        proc = clio_sync("run", "--db", str(db), "--lock-timeout", "1", "--log-format", "plain",
                         env=env)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "waiting up to 1s" in err
    assert "WarehouseLocked:" in err and "a test holding the lock" in err
    assert "Traceback" not in err
    assert api_request_count(firm) == 0


def test_duckdb_file_held_by_a_notebook_gives_a_clear_message(firm, tmp_path, db) -> None:
    db.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('open', flush=True); "
         "time.sleep(60)", str(db)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        proc = clio_sync("run", "--db", str(db), env=sandbox_env(firm, tmp_path))
        _, err = proc.communicate(timeout=60)
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == 1
    assert "WarehouseBusy:" in err and "read_sql" in err
    assert "Traceback" not in err
