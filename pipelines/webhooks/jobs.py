"""Run `clio-sync run` / `reconcile` as child processes (catch-ups and `serve`'s schedule).

A child process keeps a long sync out of the receiver's memory and lets `serve` stop it
on SIGTERM: a run that is stopped commits nothing partial, and the next one resumes.
The Clio host override, if any, reaches the child through dlt's environment setting.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

log = logging.getLogger(__name__)


class JobRunner:
    """Runs one `clio-sync` command at a time and can stop the running one."""

    def __init__(self, db: Path, base_url: str | None = None) -> None:
        self._db = db
        self._base_url = base_url
        self._lock = threading.Lock()
        self._current: subprocess.Popen[bytes] | None = None
        self._stopped = False

    def run(self, command: str, *extra: str) -> bool:
        """Run `clio-sync <command> --db DB`; True if it exited 0."""
        env = dict(os.environ)
        if self._base_url:
            env["SOURCES__CLIO__BASE_URL"] = self._base_url
        cmd = [sys.executable, "-m", "pipelines", "--log-format", "plain", command,
               "--db", str(self._db), *extra]
        with self._lock:
            if self._stopped:
                return False
            self._current = subprocess.Popen(cmd, env=env)
        code = self._current.wait()
        with self._lock:
            self._current = None
        if code != 0:
            log.warning("`clio-sync %s` exited with %s", command, code)
        return code == 0

    @property
    def busy(self) -> bool:
        return self._current is not None

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the running command to stop (SIGTERM), then kill it after `timeout`."""
        with self._lock:
            self._stopped = True
            proc = self._current
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
