"""The DuckDB warehouse file: where it is, who may write it, how readers open it.

One writer at a time (a sync run, `models`, or the webhook applier) holds an
inter-process file lock beside the database; a second writer waits, saying so, then
fails clearly. On a clean exit the writer publishes the read snapshot (`snapshot`), which
readers open instead of this file, so they never hold it. DuckDB itself refuses a file
that another process has open; that refusal becomes `WarehouseBusy`, not a traceback.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from filelock import FileLock, Timeout

from pipelines.errors import WarehouseBusy, WarehouseLocked

DEFAULT_DB = Path("data/clio_sync.duckdb")
DEFAULT_LOCK_TIMEOUT = 600.0  # seconds a second writer waits before giving up

log = logging.getLogger(__name__)


def resolve_db(path: str | os.PathLike[str] | None = None) -> Path:
    """The warehouse file: `--db`, else dlt's `DESTINATION__DUCKDB__CREDENTIALS`, else the default."""
    chosen = path or os.environ.get("DESTINATION__DUCKDB__CREDENTIALS") or DEFAULT_DB
    return Path(chosen).expanduser().resolve()


def pipelines_dir(db: Path) -> Path:
    """dlt's working folder lives beside its database, so two warehouses never share state."""
    return db.parent / ".dlt" / db.stem


def _owner_file(db: Path) -> Path:
    return db.with_name(db.name + ".writer")


def describe_owner(db: Path) -> str:
    """Who holds the writer lock, as its owner file says (e.g. "`clio-sync run` (pid 12)")."""
    try:
        owner = json.loads(_owner_file(db).read_text())
    except (OSError, ValueError):
        return "another clio-sync process"
    return f"`{owner.get('command', 'clio-sync')}` (pid {owner.get('pid', '?')})"


@contextmanager
def writer_lock(
    db: Path, command: str, timeout: float = DEFAULT_LOCK_TIMEOUT, publish: bool = True
) -> Iterator[None]:
    """Hold the single-writer lock of `db` for the duration of the block.

    Waits up to `timeout` seconds for another writer, logging who holds it, then raises
    `WarehouseLocked`. When the block ends without an error and `publish` is set, the
    read snapshot is published before the lock is released (a no-op if nothing changed).
    """
    db.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(db.with_name(db.name + ".lock")))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if timeout > 0:
            log.warning("waiting up to %.0fs for %s to finish writing %s",
                        timeout, describe_owner(db), db)
        started = time.monotonic()
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise WarehouseLocked(
                f"{describe_owner(db)} has been writing {db} for more than {timeout:.0f}s. "
                "Only one writer at a time is allowed: wait for it to finish, or raise the "
                "timeout with --lock-timeout."
            ) from None
        log.info("got the writer lock after %.1fs", time.monotonic() - started)
    try:
        _owner_file(db).write_text(json.dumps({"pid": os.getpid(), "command": command}))
        yield
        if publish:
            from pipelines import snapshot  # it opens the warehouse through this module

            snapshot.publish(db)
    finally:
        _owner_file(db).unlink(missing_ok=True)
        lock.release()


def connect(db: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; a file held by another process raises `WarehouseBusy`."""
    if read_only and not db.exists():
        raise WarehouseBusy(
            f"There is no warehouse at {db} yet. Run `clio-sync demo` or `clio-sync run` "
            "first, or point --db at an existing file."
        )
    try:
        return duckdb.connect(str(db), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        mode = "read" if read_only else "write"
        raise WarehouseBusy(
            f"DuckDB cannot open {db} to {mode}: another process has it open "
            f"({_holder(exc)}). A sync or the webhook applier may be writing, or a notebook "
            "or SQL client may hold it. Close that connection (or wait for the run to "
            "finish) and try again; notebooks should connect with read_only=True."
        ) from None


def _holder(exc: Exception) -> str:
    text = str(exc)
    marker = "PID "
    if marker in text:
        return "pid " + text.split(marker, 1)[1].split(")", 1)[0].strip()
    return "unknown process"
