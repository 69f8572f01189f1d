"""The read snapshot: a copy of the warehouse that readers open instead of the warehouse.

DuckDB lets one process write a file or many read it, never both, so a notebook holding
the warehouse open would stop every `run` and the webhook applier. Instead, after each
committed write the writer (still holding the writer lock) publishes a copy:

    data/clio_sync.duckdb                                  the warehouse (writers only)
    data/.snapshots/                                       0700
    data/.snapshots/clio_sync.duckdb.7/clio_sync.duckdb    generation 7, 0600
    data/.snapshots/clio_sync.duckdb -> clio_sync.duckdb.7/clio_sync.duckdb

A generation is written in full, fsynced, then the link is switched with one rename, so
a reader always opens a whole committed state. Older generations are deleted at once: a
reader that has one open keeps reading it (the kernel keeps an open file), and sees the
new state when it opens again. Each generation has its own path because DuckDB shares
one instance per open path within a process, and a reopened path would give the old file.
The file keeps the warehouse's name, so DuckDB's catalog name (its stem) is the same.

The snapshot carries the warehouse's size and mtime; a warehouse that differs (a writer
died before publishing, a write by another tool, a warehouse made by an older version),
or has a WAL, makes it stale. A reader then publishes one itself when no writer holds the
lock, reads the last one at once when a writer is at work (the writer publishes when it
is done), and only waits (bounded) when there is no snapshot at all.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from filelock import FileLock, Timeout

from pipelines import warehouse
from pipelines.errors import WarehouseError, WarehouseLocked, WarehouseUnusable

FOLDER = warehouse.SNAPSHOTS
OPEN_TRIES = 3  # a reader racing a publish that deletes the generation it resolved retries

log = logging.getLogger(__name__)


class SnapshotError(WarehouseError):
    """The snapshot could not be published (disk full, permissions)."""


class SnapshotUnavailable(WarehouseError):
    """There is no snapshot to read and none could be published now."""


def link(db: Path) -> Path:
    """The path readers open: a link to the current generation."""
    return db.parent / FOLDER / db.name


def is_current(db: Path) -> bool:
    """Whether the snapshot holds exactly what the warehouse file holds now."""
    try:
        source, copy = db.stat(), link(db).stat()
    except FileNotFoundError:
        return False
    return not _wal(db).exists() and _stamp(source) == _stamp(copy)


def publish(db: Path) -> Path | None:
    """Publish the warehouse's committed state; the caller holds the writer lock.

    Returns:
        The new generation's file (None when there is no warehouse file).

    Raises:
        SnapshotError: the copy could not be written; the previous snapshot stays.
    """
    if not db.exists():
        return None
    if is_current(db):
        return link(db).resolve()
    started = time.perf_counter()
    con = _hold(db)
    try:
        source = db.stat()
        folder = _folder(db)
        generation = folder / f"{db.name}.{_last_generation(db) + 1}"
        try:
            _copy(db, generation, source)
            _switch(db, generation)
        except OSError as exc:
            shutil.rmtree(generation, ignore_errors=True)
            raise SnapshotError(
                f"Could not publish the read snapshot of {db} in {folder}: {exc.strerror or exc}. "
                "The warehouse itself is written; readers (sql, report, notebooks) keep the "
                "previous snapshot until a write publishes one. Free disk space or fix the "
                "folder's permissions, then run `clio-sync models` to publish again."
            ) from None
    finally:
        con.close()
    _remove_old(db, keep=generation.name)
    log.debug("published the read snapshot of %s (%.1f MB) in %.3fs", db,
              source.st_size / 1e6, time.perf_counter() - started)
    return generation / db.name


def readable(db: Path, wait: float) -> Path:
    """The generation file a reader should open now, publishing one first if needed.

    Never waits for a writer when a snapshot exists; waits up to `wait` seconds for the
    writer lock only when there is none yet.

    A warehouse no writer of this user may write (read-only, another user's lock), with no
    snapshot yet, is read itself.

    Raises:
        WarehouseUnusable: no DuckDB warehouse at `db` (the message says what is there).
        SnapshotUnavailable: no snapshot, and none could be made in time.
        WarehouseBusy: no snapshot, and another program holds the warehouse open.
    """
    if not db.exists() or not _is_duckdb_file(db):  # no lock file beside a text file
        warehouse.connect(db, read_only=True).close()  # which says what is wrong with it
    current = link(db)
    if is_current(db) or (current.exists() and _publisher_alive(db)):
        return current.resolve()
    try:
        with warehouse.writer_lock(db, "a reader publishing the snapshot",
                                   timeout=wait if not current.exists() else 0, publish=False):
            publish(db)
    except WarehouseLocked:
        if not current.exists():
            raise SnapshotUnavailable(
                f"There is no read snapshot of {db} yet, and {warehouse.describe_owner(db)} "
                f"has been writing the warehouse for more than {wait:.0f}s; it publishes one "
                "when it finishes. Try again then."
            ) from None
        # a writer is at work and publishes when done: read the last committed state now
    except (WarehouseError, OSError) as exc:
        if current.exists():
            log.warning("reading the last published snapshot of %s: %s", db, exc)
        elif isinstance(exc, WarehouseUnusable):
            # No writer of this user can use it either (read-only file or folder, another
            # user's lock): nothing to hold up, so read the warehouse itself.
            log.info("reading %s itself: no snapshot, and none can be made here (%s)", db, exc)
            return db
        elif isinstance(exc, WarehouseError):
            raise
        else:
            raise SnapshotUnavailable(
                f"There is no read snapshot of {db} yet, and this process cannot make one "
                f"({exc.strerror or exc}): readers publish it beside the warehouse, in "
                f"{current.parent}. Run any writer (`clio-sync models --db {db}`) as the "
                "warehouse's owner once, or give this user write access to that folder."
            ) from None
    return current.resolve()


def open_read_only(db: Path, config: dict[str, str | bool | int | float | list[str]],
                   wait: float) -> tuple[Path, duckdb.DuckDBPyConnection]:
    """The current generation and a read-only connection on it (retried if it vanished)."""
    for attempt in range(OPEN_TRIES):
        target = readable(db, wait)
        try:
            return target, duckdb.connect(str(target), read_only=True, config=config)
        except duckdb.IOException:
            if target.exists() or attempt == OPEN_TRIES - 1:
                raise
    raise AssertionError("unreachable")


@contextmanager
def publisher_lease(db: Path) -> Iterator[bool]:
    """Held by a writer that publishes on its own schedule (`webhooks apply --follow`).

    While it is held, readers do not publish a stale snapshot themselves: the holder
    will. The kernel releases it when the process dies. Yields whether it was obtained.
    """
    lease = FileLock(str(_folder(db) / f".{db.name}.publisher"))
    try:
        lease.acquire(timeout=0)
    except Timeout:
        yield False
        return
    try:
        yield True
    finally:
        lease.release()


def _publisher_alive(db: Path) -> bool:
    path = db.parent / FOLDER / f".{db.name}.publisher"
    if not path.exists():
        return False
    probe = FileLock(str(path))
    try:
        probe.acquire(timeout=0)
    except Timeout:
        return True
    except OSError:  # a reader that may not write there cannot tell; it reads what exists
        return True
    probe.release()
    return False


def _hold(db: Path) -> duckdb.DuckDBPyConnection:
    """Open the warehouse so nobody can write it during the copy, with its WAL merged in.

    Read-only when there is no WAL: that shares the file with another reader. A process
    that has the file open for writing itself (the writer) must reuse that mode.
    """
    if not _wal(db).exists():
        try:
            return warehouse.connect(db, read_only=True)
        except duckdb.ConnectionException:  # this process has it open for writing
            pass
    con = warehouse.connect(db)
    try:
        con.execute("checkpoint")
    except BaseException:
        con.close()
        raise
    return con


def _copy(db: Path, generation: Path, source: os.stat_result) -> None:
    generation.mkdir(mode=0o700)
    target = generation / db.name
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with db.open("rb") as src:
            _copy_bytes(src.fileno(), fd, source.st_size)
        os.fsync(fd)
    finally:
        os.close(fd)
    # the warehouse's stamp, so `is_current` can tell whether it changed since
    os.utime(target, ns=(source.st_atime_ns, source.st_mtime_ns))
    _fsync_dir(generation)


def _copy_bytes(src: int, dst: int, size: int) -> None:
    """Copy in the kernel (a reflink on filesystems that have them; 3x faster than through
    Python on ext4, measured in bench/readers.py), else through a buffer."""
    copied = 0
    try:
        while copied < size:
            step = os.copy_file_range(src, dst, size - copied)
            if step == 0:
                break
            copied += step
    except (AttributeError, OSError):  # not Linux, or not between these filesystems
        os.lseek(src, copied, os.SEEK_SET)
        os.lseek(dst, copied, os.SEEK_SET)
        with open(src, "rb", closefd=False) as reader, open(dst, "wb", closefd=False) as writer:
            shutil.copyfileobj(reader, writer, 1 << 20)
        return
    if copied != size:
        raise OSError(f"the warehouse changed size while it was copied ({copied} of {size})")


def _switch(db: Path, generation: Path) -> None:
    """Point the link at `generation` with one rename (readers see old or new, never none)."""
    folder = generation.parent
    staged = folder / f".{db.name}.link-{os.getpid()}"
    staged.unlink(missing_ok=True)
    staged.symlink_to(Path(generation.name) / db.name)
    os.replace(staged, link(db))
    _fsync_dir(folder)


def _remove_old(db: Path, keep: str) -> None:
    for name, _ in _generations(db):
        if name != keep:
            shutil.rmtree(db.parent / FOLDER / name, ignore_errors=True)


def _generations(db: Path) -> list[tuple[str, int]]:
    folder = db.parent / FOLDER
    pattern = re.compile(re.escape(db.name) + r"\.(\d+)")
    if not folder.is_dir():
        return []
    return [(p.name, int(m.group(1))) for p in folder.iterdir()
            if (m := pattern.fullmatch(p.name))]


def _last_generation(db: Path) -> int:
    return max((n for _, n in _generations(db)), default=0)


def _folder(db: Path) -> Path:
    """The snapshots folder, readable by the owner only (the data is the warehouse's)."""
    folder = db.parent / FOLDER
    folder.mkdir(mode=0o700, exist_ok=True)
    if stat.S_IMODE(folder.stat().st_mode) != 0o700:
        folder.chmod(0o700)
    return folder


def _is_duckdb_file(path: Path) -> bool:
    """DuckDB's magic bytes, "DUCK" after the header's 8-byte checksum."""
    try:
        with path.open("rb") as f:
            return f.read(12)[8:] == b"DUCK"
    except OSError:
        return False


def _wal(db: Path) -> Path:
    return db.with_name(db.name + ".wal")


def _stamp(st: os.stat_result) -> tuple[int, int]:
    return st.st_size, st.st_mtime_ns


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
