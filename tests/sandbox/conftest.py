"""Fixtures of the sandbox server tests: a sandbox serving the hand-built firm."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

sys.path.append(str(Path(__file__).parent))  # fixture_firm, sandbox_helpers

from fixture_firm import records
from sandbox_helpers import Receiver, api_client

from pipelines.sandbox.harness import (
    SandboxServer,
    _ThreadServer,
    free_port,
    serve_sandbox,
    uvicorn_config,
)


@pytest.fixture
def fixed() -> Iterator[SandboxServer]:
    """A sandbox serving `fixture_firm.records()` with limits off."""
    with serve_sandbox(fixture=records(), rate_limit=None, webhook_time_scale=0.0001) as sb:
        yield sb


@pytest.fixture
def client(fixed: SandboxServer) -> Iterator[httpx.Client]:
    with api_client(fixed) as http:
        yield http


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    """A webhook receiver served on a free loopback port: (its recorder, its URL)."""
    rec = Receiver()
    port = free_port()
    app = Starlette(routes=[Route("/hook", rec.endpoint, methods=["POST"])])
    server = _ThreadServer(uvicorn_config(app, port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.01)
    yield rec, f"http://127.0.0.1:{port}/hook"
    server.should_exit = True
    thread.join(5)
