"""Fixtures of the webhook tests: a real receiver process and signed requests to it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pipelines.webhooks import registry, store
from pipelines.webhooks.signature import SIGNATURE_HEADER, sign

REPO = Path(__file__).resolve().parents[2]
# `world.py` here, and the sync tests' hand-built firm and truth comparison (reused as is)
sys.path.insert(0, str(REPO / "tests" / "sync"))
sys.path.insert(0, str(Path(__file__).parent))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    """`clio-sync webhooks serve` as a child process on a free loopback port."""

    def __init__(self, inbox_file: Path, log_file: Path) -> None:
        self.inbox_file = inbox_file
        self.log_file = log_file
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Receiver:
        cmd = [sys.executable, "-m", "pipelines", "--log-format", "plain", "webhooks", "serve",
               "--port", str(self.port), "--inbox", str(self.inbox_file)]
        with self.log_file.open("ab") as log:
            self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log_file.read_text()
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError("receiver did not start:\n" + self.log_file.read_text())

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def url(self, token: str) -> str:
        return f"{self.base_url}/webhooks/clio/{token}"

    def log(self) -> str:
        return self.log_file.read_text()


@pytest.fixture
def inbox_file(tmp_path: Path) -> Path:
    return tmp_path / "webhooks.sqlite"


@pytest.fixture
def receiver(inbox_file: Path, tmp_path: Path) -> Iterator[Receiver]:
    r = Receiver(inbox_file, tmp_path / "receiver.log").start()
    yield r
    r.stop()


class Kit:
    """Helpers of the webhook tests (fixtures cannot be imported under importlib mode)."""

    def __init__(self, inbox_file: Path) -> None:
        self.inbox_file = inbox_file

    def register(self, webhook_id: int, model: str, secret: str | None,
                 fetch_records: bool = False) -> str:
        """Record a webhook as `subscribe` would; returns its URL token."""
        conn = store.connect(self.inbox_file)
        token = registry.new_token()
        registry.add(conn, token, model, f"https://example.test/{token}", "id,etag",
                     fetch_records)
        registry.update(conn, token, webhook_id=webhook_id, secret=secret,
                        status="enabled" if secret else "pending")
        conn.close()
        return token

    @staticmethod
    def body(webhook_id: int, event: str, data: dict) -> bytes:
        payload = {"data": data, "meta": {"event": event, "webhook_id": webhook_id}}
        return json.dumps(payload).encode()

    @staticmethod
    def post_signed(url: str, body: bytes, secret: str, **headers: str) -> httpx.Response:
        all_headers = {SIGNATURE_HEADER: sign(body, secret), "Content-Type": "application/json"}
        all_headers.update(headers)
        return httpx.post(url, content=body, headers=all_headers, timeout=10)

    def rows(self, table: str = "events") -> list[dict]:
        conn = store.connect(self.inbox_file)
        rows = [dict(r) for r in conn.execute(f"SELECT * FROM {table}")]
        conn.close()
        return rows


@pytest.fixture
def kit(inbox_file: Path) -> Kit:
    return Kit(inbox_file)


@pytest.fixture
def world(tmp_path: Path) -> Iterator:
    """The hand-built firm in a sandbox, a receiver in this process, an empty warehouse."""
    from world import World

    with World.start(tmp_path) as w:
        yield w
