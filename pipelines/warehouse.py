"""The DuckDB warehouse file: where it is, who may write it, how readers open it.

One writer at a time (a sync run, `models`, or the webhook applier) holds an
inter-process file lock beside the database; a second writer waits, saying so, then
fails clearly. On a clean exit the writer publishes the read snapshot (`snapshot`), which
readers open instead of this file, so they never hold it. DuckDB itself refuses a file
that another process has open; that refusal becomes `WarehouseBusy`, not a traceback.
Every other way a path can be unusable (a folder, a text or SQLite file, no permission)
is checked before DuckDB sees it and becomes `WarehouseUnusable`, naming cause and fix.
The folders a writer creates, and a new warehouse file, are its owner's only.
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

from pipelines.errors import WarehouseBusy, WarehouseLocked, WarehouseUnusable
from pipelines.private_files import first_file_above, make_private, make_private_dirs

DEFAULT_DB = Path("data/clio_sync.duckdb")
DEFAULT_LOCK_TIMEOUT = 600.0  # seconds a second writer waits before giving up
INBOX_FILE = "webhooks.sqlite"  # the webhook inbox beside the warehouse (webhooks.store)
SNAPSHOTS = ".snapshots"  # the folder of the read snapshots beside the warehouse (snapshot)
DUCKDB_MAGIC = b"DUCK"  # bytes 8 to 11 of every DuckDB file
SQLITE_MAGIC = b"SQLite format 3\x00"

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
    prepare_for_writing(db)
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


def own_paths(db: Path) -> dict[Path, str]:
    """What belongs to warehouse `db`, by what it is: nothing else may be written there."""
    inbox = db.parent / INBOX_FILE
    return {
        db: "the warehouse",
        db.with_name(db.name + ".wal"): "the warehouse's write-ahead log",
        db.with_name(db.name + ".lock"): "the warehouse's writer lock",
        _owner_file(db): "the warehouse's writer lock",
        db.parent / ".dlt": "dlt's folder of the warehouse",
        db.parent / SNAPSHOTS: "the warehouse's read snapshots",
        inbox: "the webhook inbox",
        **{inbox.with_name(inbox.name + end): "the webhook inbox" for end in ("-wal", "-shm")},
    }


def make_folders(db: Path) -> None:
    """Create the warehouse's folder and dlt's folder inside it, owner-only, if missing,
    and check that dlt may write its folder (a sync keeps its state there).

    Raises:
        WarehouseUnusable: a folder cannot be created, or dlt's is not writable.
    """
    _create_folders(db)
    for folder in (pipelines_dir(db).parent, pipelines_dir(db)):
        _refuse_if_not_writable(folder, os.W_OK | os.X_OK)


def prepare_for_writing(db: Path) -> None:
    """Check that a writer can use `db`, and create its folders (owner-only).

    Raises:
        WarehouseUnusable: `db` is a folder or not a DuckDB file, or it, its folder or a
            file beside it is read-only (DuckDB writes a log beside the file).
    """
    _check_kind(db)
    _check_content(db)
    if db.exists() and not os.access(db, os.W_OK):
        raise WarehouseUnusable(
            f"The warehouse {db} is read-only for this user, so it cannot be written. Run "
            "as the user who owns it, make it writable (chmod u+w), or point --db at a "
            "copy you may write; reading commands (report, sql, export) still work."
        )
    if db.parent.exists() and not os.access(db.parent, os.W_OK | os.X_OK):
        raise WarehouseUnusable(
            f"The folder {db.parent} is read-only for this user, and DuckDB writes a log "
            f"beside the warehouse ({db.name}.wal) and the writer lock lives there. Run as "
            "the user who owns it, make the folder writable, or point --db at a warehouse "
            "in a folder you may write; reading commands (report, sql, export) still work."
        )
    for beside in (db.with_name(db.name + ".wal"), db.with_name(db.name + ".lock"),
                   _owner_file(db)):
        _refuse_if_not_writable(beside, os.R_OK | os.W_OK)
    _create_folders(db)


def _create_folders(db: Path) -> None:
    try:
        make_private_dirs(db.parent)
        make_private_dirs(pipelines_dir(db).parent)
    except OSError as exc:
        raise _unusable_folder(db, exc) from None


def _refuse_if_not_writable(path: Path, access: int) -> None:
    """A file or folder of the warehouse that exists must be this user's to write."""
    if path.exists() and not os.access(path, access):
        raise WarehouseUnusable(
            f"{path} belongs to the warehouse but this user may not write it (was clio-sync "
            "once run as another user, with sudo for instance?). Give it back to this user "
            "(chown), or run as the user who owns it."
        )


def connect(db: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse (a writer creates it, owner-only, when missing).

    Raises:
        WarehouseBusy: another process holds the file.
        WarehouseUnusable: there is no DuckDB file at `db` that this process may use.
    """
    if read_only:
        _check_readable(db)
    else:
        prepare_for_writing(db)
    created = not db.exists()
    try:
        con = duckdb.connect(str(db), read_only=read_only)
    except duckdb.Error as exc:
        raise _refusal(db, exc, read_only) from None
    if created:
        make_private(db)
    return con


@contextmanager
def held_open(db: Path) -> Iterator[None]:
    """Keep the warehouse open in this process meanwhile (the caller writes: it holds the
    writer lock).

    DuckDB shares one open database among a process's connections to the same file.
    Opening it costs tens of milliseconds and closing the last connection a checkpoint,
    and dlt opens and closes one per load job: held open, they all reuse it (a tiny
    firm's incremental sync took 4.4-5.0 s, 1.9-2.8 s held open).
    """
    con = connect(db)
    try:
        yield
    finally:
        con.close()


def _check_readable(db: Path) -> None:
    _check_kind(db)
    if not db.exists():
        raise WarehouseUnusable(
            f"There is no warehouse at {db} yet. Run `clio-sync demo` or `clio-sync run` "
            "first, or point --db at an existing file."
        )
    _check_content(db)


def _check_kind(db: Path) -> None:
    """`db` is no folder, and no file stands where a folder above it should be."""
    if db.is_dir():
        raise WarehouseUnusable(
            f"{db} is a folder, not a DuckDB file. Point --db at the warehouse file, for "
            f"example {db / DEFAULT_DB.name}."
        )
    blocker = first_file_above(db)
    if blocker is not None:
        raise WarehouseUnusable(
            f"The warehouse {db} cannot be used: {blocker} is a file, not a folder. Point "
            "--db at a file inside a folder, for example data/clio_sync.duckdb."
        )
    if db.exists() and not db.is_file():
        raise WarehouseUnusable(
            f"{db} is not a regular file, so it cannot be a DuckDB warehouse. Point --db at "
            "the warehouse file, for example data/clio_sync.duckdb."
        )


def _check_content(db: Path) -> None:
    """An existing `db` starts like a DuckDB file (DuckDB would try to open a SQLite file
    with an extension fetched from the network)."""
    if not db.exists() or _open_in_this_process(db):
        return
    try:
        with db.open("rb") as file:
            head = file.read(16)
    except PermissionError:
        raise WarehouseUnusable(
            f"The warehouse {db} cannot be read by this user (permission denied). Run as "
            "the user who owns it, or ask them for read access."
        ) from None
    what = ("empty" if not head else "a SQLite database" if head.startswith(SQLITE_MAGIC)
            else None if head[8:12] == DUCKDB_MAGIC else "some other kind of file")
    if what is not None:
        raise WarehouseUnusable(
            f"{db} is {what}, not a DuckDB database, so clio-sync leaves it alone. Point "
            "--db at the warehouse (data/clio_sync.duckdb by default), or at a path where "
            "no file exists yet to start a new one."
        )


def _open_in_this_process(db: Path) -> bool:
    """Whether this process already has `db` open (as DuckDB does while it is connected).

    Reading the header then would open and close a second descriptor of the file, and
    closing any descriptor drops every POSIX lock the process holds on it, DuckDB's too.
    """
    target = db.stat()
    for listing in ("/proc/self/fd", "/dev/fd"):
        try:
            names = os.listdir(listing)
        except OSError:
            continue
        for name in names:
            try:
                if os.path.samestat(os.stat(f"{listing}/{name}"), target):
                    return True
            except OSError:
                continue
        return False
    return True  # cannot tell: better no check than a lost lock


def _unusable_folder(db: Path, exc: OSError) -> WarehouseUnusable:
    blocker = first_file_above(db.parent / ".dlt" / "x")
    if blocker is not None:
        return WarehouseUnusable(
            f"The warehouse {db} cannot be used: {blocker} is a file, not a folder. Point "
            "--db at a file inside a folder, for example data/clio_sync.duckdb."
        )
    return WarehouseUnusable(
        f"Cannot create the folder of the warehouse {db} ({exc.strerror or exc}: "
        f"{exc.filename or db.parent}). Create it yourself with write access for this user, "
        "or point --db at a folder you may write."
    )


def _refusal(db: Path, exc: duckdb.Error, read_only: bool) -> Exception:
    """DuckDB's refusal to open `db`, as a one-paragraph error."""
    text = " ".join(str(exc).split())
    mode = "read" if read_only else "write"
    if "lock" in text.lower():
        return WarehouseBusy(
            f"DuckDB cannot open {db} to {mode}: another process has it open "
            f"({_holder(exc)}). A sync or the webhook applier may be writing, or a notebook "
            "or SQL client may hold it. Close that connection (or wait for the run to "
            "finish) and try again. Notebooks and tools should read through "
            "`pipelines.readers.read_sql` (or `clio-sync sql`), which never hold this file."
        )
    if "permission denied" in text.lower():
        return WarehouseUnusable(
            f"DuckDB cannot open {db} to {mode}: permission denied. Run as the user who "
            "owns the warehouse, or give this user access to the file and its folder."
        )
    return WarehouseUnusable(
        f"DuckDB cannot open {db} to {mode}: {text.rstrip('.!')}. Check that --db names a "
        f"clio-sync warehouse that this version of DuckDB ({duckdb.__version__}) can read."
    )


def _holder(exc: Exception) -> str:
    text = str(exc)
    marker = "PID "
    if marker in text:
        return "pid " + text.split(marker, 1)[1].split(")", 1)[0].strip()
    return "unknown process"


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One DuckDB transaction: committed when the block ends, rolled back if it raises."""
    con.execute("BEGIN")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
