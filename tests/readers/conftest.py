"""Fixtures of the reader tests: small warehouses, reader processes, the webhook world."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# the webhook tests' world (sandbox, receiver, commands as processes) and the sync helpers
sys.path.insert(0, str(REPO / "tests" / "sync"))
sys.path.insert(0, str(REPO / "tests" / "webhooks"))
sys.path.insert(0, str(Path(__file__).parent))  # reader_worker's queries


class ReaderProcess:
    """`reader_worker.py` as a process: a reader that holds its connection between questions."""

    def __init__(self, db: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("reader_worker.py")), str(db)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO,
        )
        self.opened = self.answer()

    def ask(self, command: str) -> object:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.answer()

    def answer(self) -> object:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, f"the reader process died (exit code {self.proc.wait(10)})"
        return json.loads(line)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


@pytest.fixture
def reader_process() -> Iterator:
    started: list[ReaderProcess] = []

    def start(db: Path) -> ReaderProcess:
        started.append(ReaderProcess(db))
        return started[-1]

    yield start
    for reader in started:
        reader.close()


@pytest.fixture
def world(tmp_path: Path) -> Iterator:
    """The hand-built firm in a sandbox, a receiver in this process, an empty warehouse."""
    from world import World

    with World.start(tmp_path) as w:
        yield w
