"""`clio_source()` as a plain dlt source, run by a program that only has dlt's config:
full then incremental, minimal requests, the data equal to Clio's, and watermarks that
never move past a load that failed."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs

from firm_helpers import api_requests, clean_env, firm_env
from sync_helpers import BY_PATH, DELETED_OUTRIGHT, assert_matches_truth

from pipelines.clio.endpoints import ENDPOINTS

PROGRAM = Path(__file__).with_name("plain_dlt_program.py")


def sources_env(sb, tmp_path: Path) -> dict[str, str]:
    """`SOURCES__CLIO__...`: the single-firm section, as a verified source reads it."""
    return {k.replace("FIRMS__SOLO__", "SOURCES__CLIO__"): v
            for k, v in firm_env("solo", sb, tmp_path).items()}


def run_program(db: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(PROGRAM), str(db), *args], env=clean_env(**env),
                          capture_output=True, text=True, timeout=300)


def no_change_requests(sb) -> int:
    """One request per incremental walk, plus the pages of the endpoints read whole."""
    incremental_walks = sum(len(e.walks) for e in ENDPOINTS if e.incremental)
    replaced = sum(math.ceil(len(sb.truth(e.table)) / e.limit) or 1
                   for e in ENDPOINTS if not e.incremental)
    return incremental_walks + replaced


def test_a_plain_dlt_pipeline_runs_full_then_incremental(firm, tmp_path) -> None:
    db = tmp_path / "foreign.duckdb"
    env = sources_env(firm, tmp_path)
    first = run_program(db, env, "clio")
    assert first.returncode == 0, first.stderr[-3000:]
    assert_matches_truth(firm, db)
    assert not any("updated_since=" in r["query"] for r in api_requests(firm))

    firm.reset_stats()
    second = run_program(db, env, "clio")
    assert second.returncode == 0, second.stderr[-3000:]
    requests = api_requests(firm)
    assert len(requests) == no_change_requests(firm)
    assert all("updated_since=" in r["query"] for r in requests
               if BY_PATH[r["path"].removeprefix("/api/v4/")].incremental)

    firm.edit("bills", 1, {"balance": 0.01})
    firm.edit("contacts", 4, {"name": "Renamed between runs"})
    third = run_program(db, env, "clio")
    assert third.returncode == 0, third.stderr[-3000:]
    assert_matches_truth(firm, db)
    assert (tmp_path / "token-solo.json").exists()  # the configured token store was used


def since_sent(sb, path: str) -> str | None:
    """The `updated_since` the walk of `path` started from (from the request log)."""
    walks = [r for r in api_requests(sb) if r["path"].endswith(path)]
    return parse_qs(walks[0]["query"]).get("updated_since", [None])[0]


def test_a_load_with_a_failed_job_does_not_move_the_watermarks(sandbox, tmp_path) -> None:
    db = tmp_path / "foreign.duckdb"
    env = sources_env(sandbox, tmp_path)
    assert run_program(db, env, "clio").returncode == 0
    changes = sandbox.advance(days=2)
    assert changes.get("line_items", 0) > 0

    sandbox.reset_stats()
    spoiled = run_program(db, env, "clio", "--spoil", "line_items")
    assert "loaded with failed jobs" in spoiled.stdout, spoiled.stderr[-3000:]
    spoiled_from = since_sent(sandbox, "line_items.json")
    assert spoiled_from is not None
    # the package completed, but without its line items: the next run starts where the
    # last complete load left off, and reads them again
    sandbox.reset_stats()
    again = run_program(db, env, "clio")
    assert again.returncode == 0, again.stderr[-3000:]
    assert since_sent(sandbox, "line_items.json") == spoiled_from
    assert_matches_truth(sandbox, db, [e.table for e in ENDPOINTS
                                       if e.table not in DELETED_OUTRIGHT])
    sandbox.reset_stats()
    assert run_program(db, env, "clio").returncode == 0
    assert since_sent(sandbox, "line_items.json") > spoiled_from  # loaded: now it moves


def test_a_firm_profile_configures_the_source(firm, tmp_path) -> None:
    db = tmp_path / "foreign.duckdb"
    done = run_program(db, firm_env("acme", firm, tmp_path), "clio", "acme")
    assert done.returncode == 0, done.stderr[-3000:]
    assert_matches_truth(firm, db)
    assert (tmp_path / "token-acme.json").exists()


def test_missing_settings_are_a_clear_error(tmp_path) -> None:
    done = run_program(tmp_path / "foreign.duckdb", {}, "clio")
    assert done.returncode != 0
    assert "SOURCES__CLIO__CREDENTIALS__CLIENT_ID is not set" in done.stderr
