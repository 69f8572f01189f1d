"""Fixtures of the webhook tests: a real receiver process and signed requests to it."""

from __future__ import annotations

import json
import sys
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

from world import Receiver, ReceiverThread  # noqa: E402


@pytest.fixture
def inbox_file(tmp_path: Path) -> Path:
    return tmp_path / "webhooks.sqlite"


@pytest.fixture
def receiver(inbox_file: Path) -> Iterator[ReceiverThread]:
    """The receiver app over real HTTP, served in this process (starts in milliseconds)."""
    r = ReceiverThread(inbox_file).start()
    yield r
    r.stop()


@pytest.fixture
def receiver_process(inbox_file: Path, tmp_path: Path) -> Iterator[Receiver]:
    """`clio-sync webhooks serve` as a child process (for kill -9 and its log)."""
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
