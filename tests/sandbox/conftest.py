"""Fixtures of the sandbox server tests: a sandbox serving the hand-built firm."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fixture_firm import records

from pipelines.sandbox.harness import SandboxServer, serve_sandbox


@pytest.fixture
def fixed() -> Iterator[SandboxServer]:
    """A sandbox serving `fixture_firm.records()` with limits off."""
    with serve_sandbox(fixture=records(), rate_limit=None, webhook_time_scale=0.0001) as sb:
        yield sb


def api_client(sb: SandboxServer, **token_kwargs: object) -> httpx.Client:
    """An httpx client on the sandbox's API root with a fresh bearer token."""
    token = sb.token(**token_kwargs)["access_token"]  # type: ignore[arg-type]
    return httpx.Client(
        base_url=f"{sb.base_url}/api/v4", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


@pytest.fixture
def client(fixed: SandboxServer) -> Iterator[httpx.Client]:
    with api_client(fixed) as http:
        yield http
