"""OAuth refresh against the sandbox: proactive, on a 401 mid-run, Manage vs Platform,
and two processes refreshing a rotating token at once."""

from __future__ import annotations

import hashlib
import json
import select
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from pipelines.clio.client import ClioClient
from pipelines.clio.config import load_settings
from pipelines.clio.stats import RunStats

WORKER = Path(__file__).with_name("rotation_worker.py")
PAGE = {"fields": "id,name", "limit": 5, "order": "id(asc)"}


def oauth_posts(sb) -> int:
    return sum(1 for r in sb.stats()["requests"] if r["path"] == "/oauth/token")


def refresh_works(sb, refresh_token: str) -> bool:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token,
            "client_id": "sandbox", "client_secret": "sandbox-secret"}
    return httpx.post(f"{sb.base_url}/oauth/token", data=form).status_code == 200


class TestRefresh:
    def test_a_token_about_to_expire_is_refreshed_before_use(self, clio_sandbox, sandbox_settings,
                                                             statuses, store_path) -> None:
        sb = clio_sandbox()
        pair = sb.token(expires_in=30)  # inside the 60 s refresh skew
        settings = sandbox_settings(sb, seed=False, refresh_token=pair["refresh_token"])
        store_path.parent.mkdir(parents=True)
        store_path.write_text(json.dumps({
            "access_token": pair["access_token"], "refresh_token": pair["refresh_token"],
            "expires_at": (datetime.now(UTC) + timedelta(seconds=30)).isoformat()}))
        with ClioClient(settings) as client:
            client.get("practice_areas.json")
        assert statuses(sb) == [200, 200]  # token endpoint first, then the API: no 401
        assert json.loads(store_path.read_text())["access_token"] != pair["access_token"]

    def test_a_token_expiring_mid_run_is_refreshed_and_the_run_completes(
            self, clio_sandbox, sandbox_settings, statuses, store_path) -> None:
        sb = clio_sandbox()
        settings = sandbox_settings(sb)
        stats = RunStats()
        ids = []
        with ClioClient(settings, stats) as client:
            for number, page in enumerate(client.iter_pages("practice_areas.json", PAGE)):
                ids += [r["id"] for r in page.records]
                if number == 0:
                    sb.faults(expire_tokens=True)
        assert ids == list(range(1, 13))
        assert statuses(sb) == [200, 401, 200, 200, 200]  # page, 401, refresh, page again, page
        stored = json.loads(store_path.read_text())
        assert stored["refresh_token"] == settings.refresh_token  # Manage: reusable, kept
        assert store_path.stat().st_mode & 0o777 == 0o600

    def test_platform_stores_the_rotated_refresh_token(self, clio_sandbox, sandbox_settings,
                                                       store_path) -> None:
        sb = clio_sandbox(api="platform")
        settings = sandbox_settings(sb, token_kwargs={"api": "platform"}, api="platform",
                                    platform_requests_per_second=100.0)
        sb.faults(expire_tokens=True)
        with ClioClient(settings) as client:
            client.get("practice_areas.json")
        stored = json.loads(store_path.read_text())
        assert stored["refresh_token"] != settings.refresh_token
        assert not refresh_works(sb, settings.refresh_token)  # the seed was rotated away
        assert refresh_works(sb, stored["refresh_token"])

    def test_the_store_wins_over_the_seed_once_it_exists(self, clio_sandbox, sandbox_settings,
                                                         store_path) -> None:
        sb = clio_sandbox()
        first = sandbox_settings(sb)
        with ClioClient(first) as client:
            client.get("practice_areas.json")
        stale_seed = sandbox_settings(sb, access_token="us-a-stale", refresh_token="us-r-stale")
        with ClioClient(stale_seed) as client:
            client.get("practice_areas.json")  # would 401 and fail to refresh with the seed
        assert json.loads(store_path.read_text())["access_token"] == first.access_token


def fingerprint(token: str) -> str:
    """What `rotation_worker.py` prints for a token (never the token itself)."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


def read_line(proc: subprocess.Popen, deadline: float) -> str:
    """The next line `proc` prints, waiting no later than `deadline` (monotonic)."""
    readable, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
    assert readable, f"no line from worker {proc.pid} in time"
    return proc.stdout.readline().strip()


@pytest.mark.slow
def test_two_processes_refreshing_a_rotating_token_leave_one_working_token(
        clio_sandbox, tmp_path) -> None:
    sb = clio_sandbox(api="platform")
    pair = sb.token(api="platform")
    store = tmp_path / "token.json"
    load_settings(base_url=sb.base_url, api="platform", token_store=store, client_id="sandbox",
                  client_secret="sandbox-secret")  # the configuration the workers use is valid
    store.write_text(json.dumps({
        "access_token": pair["access_token"], "refresh_token": pair["refresh_token"],
        "expires_at": (datetime.now(UTC) - timedelta(seconds=1)).isoformat()}))
    workers = [subprocess.Popen([sys.executable, str(WORKER), sb.base_url, "platform", str(store)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        # the barrier: both hold the stale tokens in memory before either may refresh
        deadline = time.monotonic() + 60
        held = [read_line(w, deadline) for w in workers]
        assert held == [f"ready {fingerprint(pair['access_token'])}"] * 2, held
        assert oauth_posts(sb) == 0
        for w in workers:
            w.stdin.write("go\n")
            w.stdin.flush()
        results = [w.communicate(timeout=60) for w in workers]
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait()
    assert [w.returncode for w in workers] == [0, 0], results
    # one refresh between them: the other process, holding the same stale tokens, used the
    # first one's refresh (a second refresh would have revoked the first one's token)
    assert oauth_posts(sb) == 1
    stored = json.loads(store.read_text())
    ended = {out.strip() for out, _ in results}
    assert ended == {f"done {fingerprint(stored['access_token'])}"}, results
    assert stored["access_token"] != pair["access_token"]
    assert refresh_works(sb, stored["refresh_token"])
