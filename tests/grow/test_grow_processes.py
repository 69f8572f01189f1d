"""Grow across processes, with explicit barriers: a rotating refresh token refreshed once
by two processes, and one rate budget for the whole application."""

from __future__ import annotations

import hashlib
import json
import os
import select
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from pipelines.sandbox.grow.options import GrowOptions
from pipelines.sandbox.harness import SandboxServer, serve_sandbox

WORKER = Path(__file__).with_name("grow_worker.py")
LIMIT = (3, 0.3)  # the app's limit in the sandbox: Grow's 3 per second, ten times faster
RATE = 7.0  # what each process is told the app may send: under LIMIT's 10 per second


def fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:12]


def read_line(proc: subprocess.Popen, deadline: float) -> str:
    readable, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
    assert readable, f"no line from worker {proc.pid} in time"
    return proc.stdout.readline().strip()


def start(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(WORKER), *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env or dict(os.environ))


def run_together(workers: list[subprocess.Popen]) -> tuple[list[str], list[str]]:
    """Wait until every worker is ready (the barrier), then let them all go at once."""
    try:
        deadline = time.monotonic() + 60
        held = [read_line(w, deadline) for w in workers]
        for w in workers:
            w.stdin.write("go\n")
            w.stdin.flush()
        results = [w.communicate(timeout=120) for w in workers]
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait()
    assert [w.returncode for w in workers] == [0] * len(workers), results
    return held, [out.strip() for out, _ in results]


def write_store(path: Path, pair: dict, expired: bool) -> None:
    expires = datetime.now(UTC) + (timedelta(seconds=-1) if expired else timedelta(hours=23))
    path.write_text(json.dumps({"access_token": pair["access_token"],
                                "refresh_token": pair["refresh_token"],
                                "expires_at": expires.isoformat()}))


def token_posts(sb: SandboxServer) -> int:
    return sum(1 for r in sb.stats()["requests"] if r["path"] == "/platform/oauth/token")


@pytest.mark.slow
def test_two_processes_refreshing_a_rotating_token_leave_one_working_token(tmp_path: Path) -> None:
    with serve_sandbox(rate_limit=None, grow=GrowOptions(rate_limit=None)) as sb:
        pair = sb.grow.token()
        store = tmp_path / "grow-token.json"
        write_store(store, pair, expired=True)
        held, ended = run_together([start(["rotate", sb.base_url, str(store)]) for _ in range(2)])
        assert held == [f"ready {fingerprint(pair['access_token'])}"] * 2
        assert token_posts(sb) == 1  # one refresh: the other process used its answer
        stored = json.loads(store.read_text())
        assert set(ended) == {f"done {fingerprint(stored['access_token'])}"}
        form = {"grant_type": "refresh_token", "client_id": "grow-sandbox",
                "client_secret": "grow-sandbox-secret"}
        url = f"{sb.grow.auth_url}/oauth/token"
        rotated_away = httpx.post(url, data={**form, "refresh_token": pair["refresh_token"]})
        assert rotated_away.status_code == 400  # the seed was revoked by the one refresh
        assert httpx.post(url, data={**form, "refresh_token": stored["refresh_token"]}).status_code == 200


def _pace(sb: SandboxServer, tmp_path: Path, shared: bool, requests: int) -> tuple[list[str], float]:
    """Two processes, each syncing "its firm" (its own grant and store) with the same app."""
    workers = []
    for firm in ("a", "b"):
        store = tmp_path / f"{firm}-token.json"
        write_store(store, sb.grow.token(), expired=False)
        env = dict(os.environ)
        if not shared:  # each its own config dir: each its own budget file
            env["XDG_CONFIG_HOME"] = str(tmp_path / f"config-{firm}")
        workers.append(start(["pace", sb.base_url, str(store), str(requests), str(RATE)], env))
    sb.reset_stats()
    started = time.monotonic()
    _, ended = run_together(workers)
    return ended, time.monotonic() - started


@pytest.mark.slow
def test_two_processes_of_one_app_share_its_budget_and_meet_no_429(tmp_path: Path) -> None:
    requests = 15
    with serve_sandbox(rate_limit=None, grow=GrowOptions(rate_limit=LIMIT)) as sb:
        ended, elapsed = _pace(sb, tmp_path, shared=True, requests=requests)
        statuses = [r["status"] for r in sb.stats()["requests"] if r["path"].startswith("/grow/")]
    assert ended == ["done 0", "done 0"]
    assert statuses == [200] * (2 * requests)
    # 30 requests spaced for one budget: no faster than the app's limit allows
    assert elapsed >= (2 * requests - 1) / (LIMIT[0] / LIMIT[1])


@pytest.mark.slow
def test_without_the_shared_budget_the_same_two_processes_are_throttled(tmp_path: Path) -> None:
    with serve_sandbox(rate_limit=None, grow=GrowOptions(rate_limit=LIMIT)) as sb:
        ended, _ = _pace(sb, tmp_path, shared=False, requests=15)
        throttled = [r for r in sb.stats()["requests"] if r["status"] == 429]
    assert throttled, "two budgets of 7/s each overran the app's 10/s: the limiter is strict"
    assert sum(int(line.split()[1]) for line in ended) == len(throttled)
