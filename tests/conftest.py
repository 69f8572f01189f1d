"""Shared fixtures: a real sandbox server on a free loopback port; no test touches the
user's real config dir (the default token store lives there)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from pipelines.sandbox.harness import SandboxServer, serve_sandbox

sys.path.insert(0, str(Path(__file__).parent))  # lets tests import `postgres_server`
from postgres_server import postgres_dsn, postgres_server  # noqa: F401  (fixtures)

# The test run is a program using the package as a library, so dlt's telemetry follows its
# configuration: off, for this process and the commands it starts (only loopback traffic).
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


@pytest.fixture(autouse=True)
def private_config_dir(tmp_path_factory: pytest.TempPathFactory,
                       monkeypatch: pytest.MonkeyPatch) -> Path:
    """`XDG_CONFIG_HOME` in a temp dir (subprocesses inherit it), so default token stores
    of tests never land in, or are read from, the real ~/.config."""
    path = tmp_path_factory.mktemp("xdg-config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(path))
    return path


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A fresh tiny sandbox (seed 7, rate limit off) for one test."""
    with serve_sandbox(scale="tiny", seed=7, rate_limit=None) as sb:
        yield sb


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., SandboxServer]]:
    """`sandbox_factory(**serve_sandbox_kwargs)` -> a running sandbox, stopped after the test."""
    with ExitStack() as stack:

        def start(**kwargs: Any) -> SandboxServer:
            return stack.enter_context(serve_sandbox(**kwargs))

        yield start
