"""`clio-sync sandbox serve` as a real process: prints the env block, serves, stops."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fixture_firm import NOW, records

from pipelines.sandbox.harness import free_port


def read_env_block(process: subprocess.Popen) -> dict[str, str]:
    env: dict[str, str] = {}
    for line in process.stdout:  # type: ignore[union-attr]
        if line.startswith("export "):
            key, _, value = line.removeprefix("export ").strip().partition("=")
            env[key] = value
        elif env:
            return env
    raise AssertionError("the command ended before printing its env block")


@pytest.mark.slow
def test_serve_prints_a_working_env_block(tmp_path: Path) -> None:
    fixture = tmp_path / "firm.json"
    fixture.write_text(json.dumps({"now": NOW, "records": records()}))
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipelines",
            "sandbox",
            "serve",
            "--port",
            str(port),
            "--fixture",
            str(fixture),
            "--region",
            "eu",
            "--rate-limit",
            "5",
            "--rate-window",
            "2",
            "--custom-field-edits",
            "silent",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        env = read_env_block(process)
        base = env["SOURCES__CLIO__BASE_URL"]
        assert base == f"http://127.0.0.1:{port}" and env["SOURCES__CLIO__REGION"] == "eu"
        for _ in range(100):
            try:
                httpx.get(f"{base}/_sandbox/stats")
                break
            except httpx.TransportError:
                time.sleep(0.05)
        token = httpx.post(
            f"{base}/oauth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": env["SOURCES__CLIO__CREDENTIALS__REFRESH_TOKEN"],
                "client_id": env["SOURCES__CLIO__CREDENTIALS__CLIENT_ID"],
                "client_secret": env["SOURCES__CLIO__CREDENTIALS__CLIENT_SECRET"],
            },
        ).json()["access_token"]
        bills = httpx.get(f"{base}/api/v4/bills.json", headers={"Authorization": f"Bearer {token}"})
        assert bills.status_code == 200 and bills.json()["meta"]["records"] == 4
        assert bills.headers["X-RateLimit-Limit"] == "5"
        # --custom-field-edits silent: a value edit leaves its matter's updated_at alone
        before = httpx.get(f"{base}/_sandbox/truth/matters").json()["data"][0]
        edited = httpx.post(
            f"{base}/_sandbox/custom_field_value",
            json={"endpoint": "matters", "id": before["id"], "custom_field_id": 701, "value": "C-9"},
        ).json()
        assert {v["value"] for v in edited["custom_field_values"]} >= {"C-9"}
        assert edited["updated_at"] == before["updated_at"]
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)


def test_a_port_in_use_is_a_one_paragraph_error() -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "pipelines", "sandbox", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert done.stderr.startswith("ConfigError: Port") and "Traceback" not in done.stderr


def test_a_broken_fixture_is_a_one_paragraph_error(tmp_path: Path) -> None:
    broken = tmp_path / "firm.json"
    broken.write_text("{not json")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines",
            "sandbox",
            "serve",
            "--port",
            str(free_port()),
            "--fixture",
            str(broken),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and done.stderr.startswith("ConfigError: Cannot read")
