"""dlt's anonymous telemetry is off for the `clio-sync` command unless the user turns it on.

Observed from outside: `clio-sync run` runs as a real process against the sandbox with
dlt's telemetry endpoint pointed at a recorder on loopback, and the recorder counts what
arrives. The same run with telemetry asked for (environment or `.dlt/config.toml`) must
deliver events, so a silent recorder means "off", not "broken".
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sync_helpers import sandbox_env

TELEMETRY_KEYS = ("RUNTIME__DLTHUB_TELEMETRY", "RUNTIME__DLTHUB_TELEMETRY_ENDPOINT")


class Recorder(ThreadingHTTPServer):
    """An HTTP server on loopback that answers 200 and keeps the path of every POST."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Record)
        self.posts: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/track"


class _Record(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.posts.append(self.path)  # type: ignore[attr-defined]
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def run_command(firm, tmp_path: Path, recorder: Recorder, cwd: Path, **extra: str) -> None:
    """`clio-sync run` of one endpoint as a process, from `cwd`."""
    env = {k: v for k, v in os.environ.items() if k not in TELEMETRY_KEYS}
    env.update(sandbox_env(firm, tmp_path), RUNTIME__DLTHUB_TELEMETRY_ENDPOINT=recorder.url,
               **extra)
    done = subprocess.run(
        [sys.executable, "-m", "pipelines", "run", "--db", str(tmp_path / "w.duckdb"),
         "--resources", "users", "--quiet"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_the_command_sends_no_telemetry_unless_asked(firm, tmp_path, recorder) -> None:
    here = tmp_path / "project"
    here.mkdir()
    run_command(firm, tmp_path, recorder, here)
    assert recorder.posts == []

    run_command(firm, tmp_path, recorder, here, RUNTIME__DLTHUB_TELEMETRY="true")
    assert recorder.posts  # asked through the environment: dlt reports the run's steps
    asked = len(recorder.posts)

    (here / ".dlt").mkdir()
    (here / ".dlt" / "config.toml").write_text("[runtime]\ndlthub_telemetry = true\n")
    run_command(firm, tmp_path, recorder, here)
    assert len(recorder.posts) > asked  # asked in the project's dlt config
