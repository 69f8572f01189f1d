"""The read snapshot and the reader API on real DuckDB files: what is published and when,
what a reader opens when the snapshot is missing or stale, and that it never waits for a
writer once a snapshot exists."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines import readers, snapshot
from pipelines.errors import WarehouseError, WarehouseUnusable
from pipelines.reports.settings import ReportSettings
from pipelines.warehouse import writer_lock

from .conftest import REPO

SETTINGS = ReportSettings()


@pytest.fixture(autouse=True)
def fresh_reader_cache():
    """`read_sql` keeps a connection per warehouse; each test starts without one."""
    yield
    with readers._cache_lock:
        for _, con in readers._cache.values():
            con.close()
        readers._cache.clear()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A small warehouse, as an older version left it: no snapshot yet."""
    path = tmp_path / "data" / "clio_sync.duckdb"
    path.parent.mkdir()
    with duckdb.connect(str(path)) as con:
        con.execute("create schema clio; create table clio.contacts (id int, name text); "
                    "insert into clio.contacts values (1, 'Ada'), (2, 'Bo')")
    return path


def write(db: Path, sql: str) -> None:
    """A writer's commit, under the writer lock (which publishes on the way out)."""
    with writer_lock(db, "a test writer"), duckdb.connect(str(db)) as con:
        con.execute(sql)


def names(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [n for (n,) in con.execute("select name from clio.contacts order by id").fetchall()]


def latest(db: Path) -> list[str]:
    return readers.read_sql("select name from clio.contacts order by id", db=db)["name"].tolist()


class Holder:
    """Another process holding the writer lock (after its own uncommitted-to-snapshot write)."""

    def __init__(self, db: Path, sql: str = "") -> None:
        script = (
            "import sys, duckdb\n"
            "from pathlib import Path\n"
            "from pipelines.warehouse import writer_lock\n"
            "db = Path(sys.argv[1])\n"
            "with writer_lock(db, 'clio-sync run'):\n"
            "    if sys.argv[2]:\n"
            "        with duckdb.connect(str(db)) as con: con.execute(sys.argv[2])\n"
            "    print('ready', flush=True)\n"
            "    sys.stdin.readline()\n"
        )
        self.proc = subprocess.Popen([sys.executable, "-c", script, str(db), sql], cwd=REPO,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"

    def release(self) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.write("done\n")
        self.proc.stdin.flush()
        return self.proc.wait(30)


class TestPublishing:
    def test_a_write_publishes_a_private_copy_under_the_same_catalog_name(self, db):
        write(db, "insert into clio.contacts values (3, 'Cy')")
        link = snapshot.link(db)
        assert link.is_symlink() and snapshot.is_current(db)
        assert stat.S_IMODE(link.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(link.resolve().stat().st_mode) == 0o600
        assert stat.S_IMODE(link.resolve().parent.stat().st_mode) == 0o700
        with readers.connect(db, SETTINGS) as con:
            assert con.execute("select current_database()").fetchone() == ("clio_sync",)
            assert names(con) == ["Ada", "Bo", "Cy"]

    def test_only_the_current_generation_is_kept_and_nothing_is_copied_twice(self, db):
        write(db, "insert into clio.contacts values (3, 'Cy')")
        first = snapshot.link(db).resolve()
        with writer_lock(db, "a writer that writes nothing"):
            pass
        assert snapshot.link(db).resolve() == first
        write(db, "insert into clio.contacts values (4, 'Di')")
        generations = [p.name for p in snapshot.link(db).parent.iterdir() if p.is_dir()]
        assert generations == [snapshot.link(db).resolve().parent.name] != [first.parent.name]

    def test_a_failed_write_publishes_nothing(self, db):
        write(db, "insert into clio.contacts values (3, 'Cy')")
        published = snapshot.link(db).resolve()
        with pytest.raises(RuntimeError), writer_lock(db, "a writer that fails"):
            raise RuntimeError("the run failed")
        assert snapshot.link(db).resolve() == published


    def test_the_copy_falls_back_to_python_where_the_kernel_cannot_copy(self, db, monkeypatch):
        def cross_device(*_):
            raise OSError(18, "Invalid cross-device link")

        monkeypatch.setattr(os, "copy_file_range", cross_device)
        write(db, "insert into clio.contacts values (3, 'Cy')")
        assert snapshot.link(db).read_bytes() == db.read_bytes()
        assert latest(db) == ["Ada", "Bo", "Cy"]


class TestReaders:
    def test_a_warehouse_without_a_snapshot_gets_one_on_the_first_read(self, db):
        assert not snapshot.link(db).exists()
        assert latest(db) == ["Ada", "Bo"]
        assert snapshot.is_current(db)

    def test_a_held_connection_keeps_its_state_and_read_sql_sees_each_new_one(self, db):
        held = readers.connect(db, SETTINGS)
        assert latest(db) == ["Ada", "Bo"]
        write(db, "update clio.contacts set name = 'Ada Lovelace' where id = 1")
        assert latest(db) == ["Ada Lovelace", "Bo"]
        assert names(held) == ["Ada", "Bo"]
        with readers.connect(db, SETTINGS) as reopened:
            assert names(reopened) == ["Ada Lovelace", "Bo"]
        held.close()

    def test_a_write_by_another_tool_is_seen_by_the_next_read(self, db):
        assert latest(db) == ["Ada", "Bo"]
        with duckdb.connect(str(db)) as con:  # the DuckDB CLI, say: no lock, no publish
            con.execute("insert into clio.contacts values (3, 'Cy')")
        assert latest(db) == ["Ada", "Bo", "Cy"]

    def test_a_writer_killed_before_publishing_leaves_nothing_unseen(self, db):
        assert latest(db) == ["Ada", "Bo"]
        killed = subprocess.run([sys.executable, "-c", (
            "import duckdb, os, sys\n"
            "con = duckdb.connect(sys.argv[1])\n"
            "con.execute(\"insert into clio.contacts values (3, 'Cy')\")\n"
            "os._exit(9)  # committed in the WAL, never checkpointed, never published\n"
        ), str(db)], cwd=REPO, timeout=60)
        assert killed.returncode == 9
        assert db.with_name(db.name + ".wal").exists()
        assert latest(db) == ["Ada", "Bo", "Cy"]

    def test_while_a_writer_works_a_reader_reads_the_last_snapshot_at_once(self, db):
        assert latest(db) == ["Ada", "Bo"]
        holder = Holder(db, "insert into clio.contacts values (3, 'Cy')")
        try:
            started = time.monotonic()
            assert latest(db) == ["Ada", "Bo"]
            with readers.connect(db, SETTINGS, wait=60) as con:
                assert names(con) == ["Ada", "Bo"]
            assert time.monotonic() - started < 5  # no wait for the writer
        finally:
            assert holder.release() == 0
        assert latest(db) == ["Ada", "Bo", "Cy"]  # it published on its way out

    def test_without_any_snapshot_a_reader_waits_a_bounded_time_then_says_why(self, db):
        holder = Holder(db)
        try:
            started = time.monotonic()
            with pytest.raises(snapshot.SnapshotUnavailable) as raised:
                readers.connect(db, SETTINGS, wait=0.5)
            assert time.monotonic() - started < 5
        finally:
            holder.release()
        message = str(raised.value)
        assert "no read snapshot" in message and "Try again" in message and "\n" not in message
        assert f"`clio-sync run` (pid {holder.proc.pid})" in message

    def test_a_live_follower_publishes_so_readers_do_not_copy(self, db):
        assert latest(db) == ["Ada", "Bo"]
        with snapshot.publisher_lease(db) as held:
            assert held
            with writer_lock(db, "webhooks apply", publish=False), \
                    duckdb.connect(str(db)) as con:
                con.execute("insert into clio.contacts values (3, 'Cy')")
            assert latest(db) == ["Ada", "Bo"]  # the follower's next publish brings it
            assert not snapshot.is_current(db)
        assert latest(db) == ["Ada", "Bo", "Cy"]  # a follower gone: the reader publishes

    def test_a_file_that_is_no_warehouse_gets_nothing_written_beside_it(self, tmp_path):
        notes = tmp_path / "notes.txt"
        notes.write_text("not a database")
        with pytest.raises((duckdb.Error, WarehouseError)):
            readers.connect(notes, SETTINGS)
        assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]

    def test_no_warehouse_is_a_clear_error(self, tmp_path):
        with pytest.raises(WarehouseUnusable, match="no warehouse at"):
            readers.connect(tmp_path / "missing.duckdb", SETTINGS)


@pytest.mark.slow
def test_sql_answers_while_another_program_holds_the_warehouse_open_to_write(db):
    assert latest(db) == ["Ada", "Bo"]
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
         "print('open', flush=True); sys.stdin.readline()", str(db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        done = subprocess.run(
            [sys.executable, "-m", "pipelines", "sql", "select name from clio.contacts",
             "--db", str(db)], cwd=REPO, capture_output=True, text=True, timeout=60)
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 0, done.stderr
    assert "Ada" in done.stdout and "Bo" in done.stdout


def test_the_snapshot_is_not_world_readable_even_with_a_permissive_umask(db):
    old = os.umask(0)
    try:
        write(db, "insert into clio.contacts values (3, 'Cy')")
    finally:
        os.umask(old)
    target = snapshot.link(db).resolve()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.parent.stat().st_mode) == 0o700
