"""Shared fixtures: a real sandbox server on a free loopback port."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from pipelines.sandbox.harness import SandboxServer, serve_sandbox

# The test run is a program using the package as a library, so dlt's telemetry follows its
# configuration: off, for this process and the commands it starts (only loopback traffic).
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


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
