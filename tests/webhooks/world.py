"""The end-to-end world of the webhook tests.

Clio is the sandbox serving the sync tests' hand-built firm; it delivers real, signed
HTTP requests to the real receiver app (served by uvicorn on loopback, in this process so
it starts in milliseconds; tests that kill the receiver run it as a process instead).
The warehouse is a real DuckDB file; subscribing, syncing and applying go through the
same functions the commands call, and `cli` runs the commands themselves.
"""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import httpx
import uvicorn
from firm_fixture import NOW, hand_built_firm
from sync_helpers import assert_matches_truth, sandbox_env, settings_for

from pipelines import warehouse
from pipelines.clio.client import ClioClient
from pipelines.clio.sync import sync
from pipelines.sandbox.harness import SandboxServer, free_port, serve_sandbox
from pipelines.webhooks import store, subscriptions
from pipelines.webhooks.applier import ApplyReport, apply_pending
from pipelines.webhooks.fetcher import ApiFetcher
from pipelines.webhooks.receiver import build_app

REPO = Path(__file__).resolve().parents[2]
MODELS = ("bill", "matter", "contact", "activity", "task", "calendar_entry", "communication")
# what the webhooks keep fresh
TABLES = ["bills", "matters", "contacts", "activities", "tasks", "calendar_entries",
          "communications"]


class _QuietServer(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # pytest's main thread keeps its handlers
        pass


class ReceiverThread:
    """The receiver app on a loopback port, in a thread of this process."""

    def __init__(self, inbox_file: Path, port: int | None = None) -> None:
        self.inbox_file = inbox_file
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._server: _QuietServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ReceiverThread:
        config = uvicorn.Config(build_app(self.inbox_file), host="127.0.0.1", port=self.port,
                                log_level="warning", access_log=False)
        self._server = _QuietServer(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True,
                                        name=f"receiver-{self.port}")
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            assert self._thread.is_alive() and time.monotonic() < deadline, "no receiver"
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._server = self._thread = None

    @property
    def hooks_url(self) -> str:
        """What `webhooks subscribe --url` is given (each webhook adds its token)."""
        return f"{self.base_url}/webhooks/clio"

    def url(self, token: str) -> str:
        return f"{self.hooks_url}/{token}"


class Receiver:
    """`clio-sync webhooks serve` as a child process on a loopback port (restartable)."""

    def __init__(self, inbox_file: Path, log_file: Path, port: int | None = None,
                 args: tuple[str, ...] = ()) -> None:
        self.inbox_file = inbox_file
        self.log_file = log_file
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.args = args  # more `webhooks serve` options (limits)
        self.proc: subprocess.Popen | None = None

    def start(self) -> Receiver:
        cmd = [sys.executable, "-m", "pipelines", "--log-format", "plain", "webhooks", "serve",
               "--port", str(self.port), "--inbox", str(self.inbox_file), *self.args]
        with self.log_file.open("ab") as log:
            self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=log)
        wait_healthy(self.base_url, self.proc, self.log_file)
        return self

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def url(self, token: str) -> str:
        return f"{self.hooks_url}/{token}"

    @property
    def hooks_url(self) -> str:
        return f"{self.base_url}/webhooks/clio"

    def log(self) -> str:
        return self.log_file.read_text()


def wait_healthy(base_url: str, proc: subprocess.Popen, log_file: Path) -> None:
    """Until `GET /healthz` answers 200 (the process must stay alive meanwhile)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, log_file.read_text()
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f"{base_url} did not come up:\n{log_file.read_text()}")


class World:
    """A sandbox, a receiver, a warehouse, and what the tests do to them."""

    def __init__(self, sb: SandboxServer, tmp_path: Path) -> None:
        self.sb = sb
        self.tmp_path = tmp_path
        self.db = tmp_path / "data" / "clio_sync.duckdb"
        self.db.parent.mkdir(parents=True, exist_ok=True)
        self.inbox = store.inbox_path(self.db)
        self.settings = settings_for(sb, tmp_path)
        self.receiver = ReceiverThread(self.inbox)

    @classmethod
    @contextmanager
    def start(cls, tmp_path: Path, **sandbox: Any) -> Iterator[World]:
        options = {"rate_limit": None, "webhook_time_scale": 0.0001, **sandbox}
        with serve_sandbox(fixture=hand_built_firm(), fixture_now=NOW, **options) as sb:
            world = cls(sb, tmp_path)
            world.receiver.start()
            try:
                yield world
            finally:
                world.receiver.stop()

    # ----- Clio's side ------------------------------------------------------------------

    @property
    def firm(self) -> Any:
        return self.sb.app.state.sandbox.firm

    def create(self, endpoint: str, record: dict) -> dict:
        """A new record at Clio (announced like any change, so webhooks fire `created`)."""
        with self.firm.lock:
            return copy.deepcopy(self.firm.create(endpoint, record))

    def new_contact(self, name: str) -> dict:
        return self.create("contacts", {"name": name, "type": "Person", "is_client": False})

    def new_activity(self, note: str) -> dict:
        return self.create("activities", {
            "type": "TimeEntry", "date": "2026-11-20", "quantity": 3600,
            "quantity_in_hours": 1.0, "price": 350.0, "total": 350.0, "note": note,
            "billed": False, "matter": {"id": 2, "display_number": "00002-Client"},
            "user": {"id": 1, "name": "Ada Counsel"}})  # as the API shows them (the truth is raw)

    def edit(self, endpoint: str, record_id: int, **changes: Any) -> dict:
        return self.sb.edit(endpoint, record_id, changes or None) or {}

    def delete(self, endpoint: str, record_id: int) -> None:
        self.sb.delete(endpoint, record_id)

    def set_value(self, endpoint: str, record_id: int, custom_field_id: int, value: Any) -> dict:
        """A user edits a custom field value (its parent's version moves or not, as the
        sandbox's `custom_field_edits` option says)."""
        return self.sb.set_custom_field_value(endpoint, record_id, custom_field_id, value) or {}

    def delete_bill(self, bill_id: int) -> None:
        """Clio's own DELETE (a draft becomes `deleted`, an unpaid issued bill `void`)."""
        with ClioClient(self.settings) as client:
            client.delete(f"bills/{bill_id}.json")

    def flush(self) -> None:
        """Wait until the sandbox has made every delivery (and its retries)."""
        self.sb.flush_webhooks(timeout=30)

    def remote_hooks(self) -> dict[str, dict]:
        """Clio's webhooks by model."""
        return {h["model"]: h for h in self.sb.webhooks()}

    # ----- our side -----------------------------------------------------------------------

    def subscribe(self, models: tuple[str, ...] = MODELS, handshake_wait: float = 5.0) -> list:
        conn = store.connect(self.inbox)
        try:
            with ClioClient(self.settings) as client:
                now = client.server_time()
                return [subscriptions.subscribe(conn, client, self.receiver.hooks_url, model,
                                                now, handshake_wait) for model in models]
        finally:
            conn.close()

    def sync(self) -> None:
        """A polling sync of the webhook-fed tables (what `run` does for them)."""
        with warehouse.writer_lock(self.db, "test sync"):
            sync(self.db, self.settings, resources=TABLES)

    def apply(self, batch_size: int = 1000) -> ApplyReport:
        conn = store.connect(self.inbox)
        try:
            with ApiFetcher(lambda: self.settings) as fetch:
                return apply_pending(self.db, conn, fetch, batch_size=batch_size)
        finally:
            conn.close()

    def assert_truth(self, tables: list[str] | None = None) -> None:
        """Every webhook-fed table (and its child tables) equals Clio, field for field."""
        assert_matches_truth(self.sb, self.db, tables or TABLES)

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        con = duckdb.connect(str(self.db), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def inbox_rows(self, where: str = "1=1") -> list[dict]:
        conn = store.connect(self.inbox)
        try:
            return [dict(r) for r in conn.execute(f"SELECT * FROM events WHERE {where} ORDER BY seq")]
        finally:
            conn.close()

    # ----- the commands as processes -------------------------------------------------------

    def env(self) -> dict[str, str]:
        return {**os.environ, **sandbox_env(self.sb, self.tmp_path)}

    def popen(self, *args: str) -> subprocess.Popen:
        log = (self.tmp_path / "commands.log").open("ab")
        return subprocess.Popen(
            [sys.executable, "-m", "pipelines", "--log-format", "plain", *args],
            cwd=REPO, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
        )

    def cli(self, *args: str, timeout: float = 120) -> None:
        """Run `clio-sync ARGS` to completion; it must exit 0."""
        proc = self.popen(*args)
        code = proc.wait(timeout=timeout)
        assert code == 0, f"clio-sync {' '.join(args)} exited {code}:\n{self.log()[-3000:]}"

    def log(self) -> str:
        path = self.tmp_path / "commands.log"
        return path.read_text() if path.exists() else ""
