"""`clio-sync run` as a real process never sleeps past SOURCES__CLIO__MAX_WAIT while it
holds the writer lock: it fails at once, and the next run finds the lock free."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from sync_helpers import assert_matches_truth, sandbox_env

REPO = Path(__file__).resolve().parents[2]


def run(db: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines", "run", "--db", str(db), "--lock-timeout", "1",
         "--log-format", "plain"],
        cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True, timeout=timeout)


def test_a_day_long_retry_after_fails_the_run_at_once(firm, tmp_path, db) -> None:
    env = sandbox_env(firm, tmp_path)
    firm.faults(kind="429", retry_after=86400, path="/api/v4/")
    started = time.monotonic()
    failed = run(db, env, timeout=60)  # the unfixed code sleeps a day here
    assert time.monotonic() - started < 30
    assert failed.returncode == 1
    assert "ClioRateLimited:" in failed.stderr and "86400 s" in failed.stderr
    assert "SOURCES__CLIO__MAX_WAIT" in failed.stderr and "Traceback" not in failed.stderr
    again = run(db, env, timeout=120)  # the fault is spent; the writer lock is free
    assert again.returncode == 0, again.stderr
    assert_matches_truth(firm, db)
