"""`clio-sync demo` runs end to end as a real process."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from sync_helpers import query, requires_generated_firm

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@requires_generated_firm
def test_demo_syncs_a_sandbox_firm_end_to_end(tmp_path) -> None:
    db = tmp_path / "demo.duckdb"
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pipelines", "demo", "--db", str(db), "--scale", "tiny"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert time.monotonic() - started < 60
    out = done.stdout
    assert "Full sync:" in out and "Incremental sync:" in out
    assert "requests instead of" in out
    assert str(db) in out
    (bills,) = query(db, "select count(*) from clio.bills")[0]
    assert bills > 0
    assert (tmp_path / "demo-token.json").exists()
