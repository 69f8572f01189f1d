"""A throwaway PostgreSQL server for the tests: `initdb` into a temp folder, started on a free
loopback port (its unix socket in the same folder), stopped and removed at the end.

Fixtures (registered in tests/conftest.py):
- `postgres_server` (session): the running server; `create_database(name)` returns a DSN.
- `postgres_dsn` (function): a DSN to a fresh, empty database of its own, for one test.

The binaries come from `pg_config --bindir`, PATH or /usr/lib/postgresql/*/bin (Debian's
`postgresql` package; `.ci/run` installs it). Without them the tests skip locally but fail in
CI (env var `CI` set): they are never skipped there. initdb refuses to run as root, so under
root the server runs as the `postgres` system user, owner of the temp folder.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PASSWORD = "clio-test-pw"  # a throwaway cluster on loopback: only the tests know it
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30
COMMAND_TIMEOUT_S = 120


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries (or a user to run them as) are missing."""


def find_bindir() -> Path:
    """The folder holding `initdb`, `pg_ctl` and `postgres`."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                 timeout=10, check=True).stdout.strip()
            candidates.append(Path(out))
        except (subprocess.SubprocessError, OSError):
            pass
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    # Debian installs the server binaries outside PATH; newest version first
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                      key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
                      reverse=True)
    candidates.extend(versions)
    for folder in candidates:
        if all((folder / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found through "
        "pg_config, PATH or /usr/lib/postgresql/*/bin; install Debian's `postgresql` package.")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    """A running throwaway cluster; `dsn(db)` connects as the superuser over TCP loopback."""

    bindir: Path
    root: Path
    port: int
    user: str = "postgres"
    password: str = PASSWORD
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """A fresh empty database; returns its DSN."""
        import psycopg2

        name = name or f"test_{next(self._names)}"
        conn = psycopg2.connect(self.dsn(), connect_timeout=10)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        return self.dsn(name)


def _as_server_user(cmd: list[str]) -> list[str]:
    """initdb and postgres refuse root: run them as the `postgres` system user then."""
    if os.geteuid() != 0:
        return cmd
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", "postgres", "--", *cmd]
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise PostgresUnavailable("running as root, and neither runuser nor setpriv is here")
    pw = pwd.getpwnam("postgres")
    return [setpriv, f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--init-groups", *cmd]


def _run(cmd: list[str], cwd: Path, timeout: float = COMMAND_TIMEOUT_S) -> None:
    proc = subprocess.run(_as_server_user(cmd), cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


def _kill_leftover(data_dir: Path) -> None:
    """Last resort when `pg_ctl stop` did not finish: kill the postmaster by its pid file."""
    pid_file = data_dir / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def start_server() -> tuple[PostgresServer, Path]:
    """initdb + pg_ctl start; returns the server and its log file. Raises PostgresUnavailable."""
    bindir = find_bindir()
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError as exc:
            raise PostgresUnavailable("running as root without a `postgres` system user") from exc
    root = Path(tempfile.mkdtemp(prefix="clio-pg-"))
    if os.geteuid() == 0:
        os.chown(root, pw.pw_uid, pw.pw_gid)
    pwfile = root / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        os.chown(pwfile, pw.pw_uid, pw.pw_gid)
    server = PostgresServer(bindir=bindir, root=root, port=0)
    _run([str(bindir / "initdb"), "-D", str(server.data_dir), "-U", "postgres", "-E", "UTF8",
          "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256",
          f"--pwfile={pwfile}", "--no-sync"], cwd=root)
    log = root / "server.log"
    last_error: Exception | None = None
    for _attempt in range(3):  # a free port can be taken between the probe and the bind
        server.port = _free_port()
        options = (f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                   "-c max_connections=200")
        try:
            _run([str(bindir / "pg_ctl"), "-D", str(server.data_dir), "-l", str(log),
                  "-o", options, "-w", "-t", str(START_TIMEOUT_S), "start"],
                 cwd=root, timeout=START_TIMEOUT_S + 10)
            return server, log
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            last_error = exc
            _kill_leftover(server.data_dir)
    shutil.rmtree(root, ignore_errors=True)
    raise RuntimeError(f"PostgreSQL did not start: {last_error}\n"
                       f"{log.read_text() if log.exists() else ''}")


def stop_server(server: PostgresServer) -> None:
    try:
        _run([str(server.bindir / "pg_ctl"), "-D", str(server.data_dir), "-m", "immediate",
              "-w", "-t", str(STOP_TIMEOUT_S), "stop"], cwd=server.root,
             timeout=STOP_TIMEOUT_S + 10)
    except (RuntimeError, subprocess.TimeoutExpired):
        _kill_leftover(server.data_dir)
    finally:
        shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's throwaway PostgreSQL server (skipped locally, failed in CI, if missing)."""
    try:
        server, _log = start_server()
    except PostgresUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI: {exc}", pytrace=False)
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture
def postgres_dsn(postgres_server: PostgresServer) -> str:
    """A DSN to a fresh empty database, for one test."""
    return postgres_server.create_database()

