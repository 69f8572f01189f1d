"""`clio-sync demo` runs end to end as a real process."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from sync_helpers import query, requires_generated_firm

from pipelines.clio.endpoints import ENDPOINTS

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


def test_demo_steps_on_the_hand_built_firm(tmp_path, monkeypatch, capsys) -> None:
    """The demo's own steps, with the hand-built firm standing in for the generated one
    (whose day of life is replaced by an edit)."""
    import contextlib

    from firm_fixture import NOW, hand_built_firm

    from pipelines.clio.demo import run_demo
    from pipelines.sandbox import harness

    serve = harness.serve_sandbox

    @contextlib.contextmanager
    def hand_built(scale, seed, rate_limit):
        with serve(fixture=hand_built_firm(), fixture_now=NOW, rate_limit=rate_limit) as sb:
            monkeypatch.setattr(sb, "advance", lambda days=1: {
                "contacts": bool(sb.edit("contacts", 4, {"name": "A day later"}))})
            yield sb

    monkeypatch.setattr(harness, "serve_sandbox", hand_built)
    db = tmp_path / "demo.duckdb"
    counts = run_demo(db, scale="small")
    out = capsys.readouterr().out
    assert counts["bills"] == 5 and counts["bills__matters"] == 6
    walks = sum(len(e.walks) for e in ENDPOINTS)  # one page each, on this firm
    assert f"The incremental run needed {walks} requests instead of {walks}." in out
    assert query(db, "select name from clio.contacts where id = 4") == [("A day later",)]
    assert f"The warehouse is {db}" in out
