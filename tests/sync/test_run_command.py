"""`clio-sync run` as a real process: kill -9, the writer lock, a DuckDB file held elsewhere."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sync_helpers import assert_matches_truth, query, sandbox_env

from pipelines import warehouse

REPO = Path(__file__).resolve().parents[2]


def clio_sync(*args: str, env: dict[str, str], **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines", *args],
        cwd=REPO, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, **kw,
    )


def api_request_count(sb) -> int:
    return sum(1 for r in sb.stats()["requests"] if r["path"].startswith("/api/v4/"))


def reached(sb, point: str) -> bool:
    """`mid-extract`: five pages read; `loading`: the last resource's page was read."""
    requests = [r for r in sb.stats()["requests"] if r["path"].startswith("/api/v4/")]
    if point == "mid-extract":
        return len(requests) >= 5
    return any(r["path"].endswith("outstanding_client_balances.json") for r in requests)


def wait_until(sb, proc: subprocess.Popen, point: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not reached(sb, point):
        assert proc.poll() is None, f"the run ended early: {proc.communicate()[1][-2000:]}"
        assert time.monotonic() < deadline, "the run made too few requests"
        time.sleep(0.02)


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
    firm.reset_stats()
    # every page is slowed down so the kill lands inside the run, not after it
    firm.faults(kind="slow", delay=0.05, count=1000)
    victim = clio_sync("run", "--db", str(db), "--quiet", env=env)
    wait_until(firm, victim, point)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    firm.faults(clear=True)

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
    assert "WarehouseBusy:" in err and "read_only=True" in err
    assert "Traceback" not in err
