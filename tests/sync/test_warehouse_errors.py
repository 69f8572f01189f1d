"""Every way a `--db` path can be unusable ends in one paragraph (cause and fix), exit 1,
no traceback, nothing created or changed, and for `run` no request to Clio.

Read-only files and folders only refuse a process that file modes bind. Tests running as
root drop the capabilities that let root ignore them (CAP_DAC_OVERRIDE and
CAP_DAC_READ_SEARCH) with `setpriv`, so root's processes meet the modes as any user does.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sync_helpers import sandbox_env
from warehouse_fixture import (
    assert_one_paragraph_error,
    cli,
    cli_process,
    copy_warehouse,
    template_warehouse,  # noqa: F401 - a fixture
    tree,
)

WRITERS = ("run", "models")
READERS = ("report", "sql", "export")


def command(name: str, db: Path, out: Path) -> list[str]:
    args = {
        "run": ["run", "--lock-timeout", "0"],
        "models": ["models", "--lock-timeout", "0"],
        "report": ["report", "outstanding"],
        "sql": ["sql", "select count(*) from clio.bills"],
        "export": ["export", "parquet", "--out", str(out)],
    }[name]
    return [*args, "--db", str(db)]


def text_file(tmp: Path) -> Path:
    path = tmp / "notes.txt"
    path.write_text("not a database\n")
    return path


def folder(tmp: Path) -> Path:
    (tmp / "data").mkdir()
    (tmp / "data" / "clio_sync.duckdb").mkdir()  # even one named like the warehouse
    return tmp / "data"


def sqlite_file(tmp: Path) -> Path:
    path = tmp / "clio.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("create table bills (id integer primary key, total real)")
        con.execute("insert into bills values (1, 10.5)")
    con.close()
    return path


def empty_file(tmp: Path) -> Path:
    path = tmp / "clio_sync.duckdb"
    path.touch()
    return path


def under_a_file(tmp: Path) -> Path:
    return text_file(tmp) / "clio_sync.duckdb"


BAD_PATHS: dict[str, Callable[[Path], Path]] = {
    "text file": text_file,
    "folder": folder,
    "SQLite file": sqlite_file,
    "empty file": empty_file,
    "path under a file": under_a_file,
}


def point_at_the_sandbox(firm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox firm's settings in the environment; its request log emptied."""
    for name, value in sandbox_env(firm, tmp_path / "settings").items():
        monkeypatch.setenv(name, value)
    firm.reset_stats()


def clio_requests(firm) -> list[str]:
    return [r["path"] for r in firm.stats()["requests"] if not r["path"].startswith("/_sandbox")]


@pytest.mark.parametrize("name", [*WRITERS, *READERS])
@pytest.mark.parametrize("kind", list(BAD_PATHS))
def test_a_bad_db_path_fails_in_one_paragraph_and_changes_nothing(
    capsys, tmp_path, monkeypatch, request, kind, name
) -> None:
    firm = request.getfixturevalue("firm") if name == "run" else None
    if firm is not None:
        point_at_the_sandbox(firm, tmp_path, monkeypatch)
    work = tmp_path / "work"
    work.mkdir()
    db = BAD_PATHS[kind](work)
    before = tree(work)

    code, _, err = cli(capsys, *command(name, db, tmp_path / "export"))

    assert code == 1
    message = assert_one_paragraph_error(err, "WarehouseUnusable")
    assert str(db) in message or str(db.parent) in message
    assert tree(work) == before
    assert not (tmp_path / "export").exists()
    if firm is not None:
        assert clio_requests(firm) == []


@pytest.mark.parametrize(("kind", "words"), [
    ("text file", ["not a DuckDB database"]),
    ("folder", ["is a folder", "clio_sync.duckdb"]),
    ("SQLite file", ["SQLite"]),
    ("empty file", ["empty"]),
    ("path under a file", ["notes.txt", "not a folder"]),
])
def test_the_message_names_the_cause(capsys, tmp_path, kind, words) -> None:
    db = BAD_PATHS[kind](tmp_path)
    code, _, err = cli(capsys, "sql", "select 1", "--db", str(db))
    message = assert_one_paragraph_error(err, "WarehouseUnusable")
    assert code == 1
    for word in words:
        assert word in message, message


def test_a_missing_warehouse_is_not_called_busy(capsys, tmp_path) -> None:
    code, _, err = cli(capsys, "report", "outstanding", "--db", str(tmp_path / "none.duckdb"))
    assert code == 1
    assert "no warehouse" in assert_one_paragraph_error(err, "WarehouseUnusable")
    assert not (tmp_path / "none.duckdb").exists()


# --- read-only files and folders: real processes that file modes bind ----------------------


@pytest.fixture(scope="module")
def bound_by_file_modes(tmp_path_factory) -> list[str]:
    """The command prefix that makes a process obey file modes (empty unless root)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root, and setpriv (util-linux) is missing to drop "
                    "CAP_DAC_OVERRIDE: file modes cannot refuse root anything")
    caps = "-dac_override,-dac_read_search"
    prefix = [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}"]
    probe = tmp_path_factory.mktemp("probe") / "read-only"
    probe.write_text("")
    probe.chmod(0o444)
    tried = cli_process_raw(prefix, f"open({str(probe)!r}, 'a')")
    if tried.returncode == 0 or "PermissionError" not in tried.stderr:
        pytest.skip(f"running as root, and setpriv could not drop CAP_DAC_OVERRIDE: {tried.stderr}")
    return prefix


def cli_process_raw(prefix: list[str], code: str):
    import subprocess

    return subprocess.run([*prefix, sys.executable, "-c", code], capture_output=True,
                          text=True, timeout=60)


def read_only_file(tmp: Path, template: Path) -> Path:
    db = copy_warehouse(template, tmp / "data" / "clio_sync.duckdb")
    db.chmod(0o444)
    return db


def read_only_folder(tmp: Path, template: Path) -> Path:
    db = copy_warehouse(template, tmp / "data" / "clio_sync.duckdb")
    db.parent.chmod(0o555)
    return db


def lock_of_another_user(tmp: Path, template: Path) -> Path:
    """The writer lock left, not writable, by a run as another user (with sudo, say)."""
    db = copy_warehouse(template, tmp / "data" / "clio_sync.duckdb")
    lock = db.with_name(db.name + ".lock")
    lock.touch()
    lock.chmod(0o444)
    return db


READ_ONLY: dict[str, Callable[[Path, Path], Path]] = {
    "read-only file": read_only_file,
    "file in a read-only folder": read_only_folder,
    "lock file of another user": lock_of_another_user,
}
NAMED: dict[str, tuple[Callable[[Path], Path], str]] = {  # the path the message names, a word
    "read-only file": (lambda db: db, "read-only"),
    "file in a read-only folder": (lambda db: db.parent, "read-only"),
    "lock file of another user": (lambda db: db.with_name(db.name + ".lock"), "may not write"),
}


@pytest.fixture
def read_only_cleanup(tmp_path):
    yield
    for path in tmp_path.rglob("*"):  # let pytest remove what the test made read-only
        if path.is_dir() and not path.is_symlink():
            path.chmod(path.stat().st_mode | stat.S_IWUSR)


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(READ_ONLY))
def test_writers_refuse_a_read_only_warehouse_clearly_and_readers_still_read(
    tmp_path, firm, monkeypatch, bound_by_file_modes, template_warehouse, read_only_cleanup,  # noqa: F811
    kind,
) -> None:
    point_at_the_sandbox(firm, tmp_path, monkeypatch)
    work = tmp_path / "work"
    db = READ_ONLY[kind](work, template_warehouse)
    before = tree(work)

    for name in WRITERS:
        done = cli_process(*command(name, db, tmp_path / "unused"), prefix=bound_by_file_modes)
        assert done.returncode == 1, (name, done.stderr)
        message = assert_one_paragraph_error(done.stderr, "WarehouseUnusable")
        named, word = NAMED[kind]
        assert word in message and str(named(db)) in message
    assert clio_requests(firm) == []

    for name in READERS:
        done = cli_process(*command(name, db, tmp_path / "export"), prefix=bound_by_file_modes)
        assert done.returncode == 0, (name, done.stderr)
        assert "Traceback" not in done.stderr
    assert (tmp_path / "export" / "clio" / "bills.parquet").is_file()
    assert tree(work) == before


@pytest.mark.slow
def test_export_to_a_read_only_folder_fails_in_one_paragraph(
    tmp_path, bound_by_file_modes, template_warehouse, read_only_cleanup  # noqa: F811
) -> None:
    db = read_only_folder(tmp_path / "work", template_warehouse)
    before = tree(tmp_path / "work")
    done = cli_process("export", "parquet", "--db", str(db), prefix=bound_by_file_modes)
    assert done.returncode == 1
    message = assert_one_paragraph_error(done.stderr, "ExportError")
    assert str(db.parent) in message and "--out" in message
    assert tree(tmp_path / "work") == before


@pytest.mark.parametrize("out", ["/proc/clio-export", "/proc/version/export"])
def test_export_to_a_place_nobody_can_write_fails_in_one_paragraph(
    capsys, tmp_path, template_warehouse, out  # noqa: F811
) -> None:
    db = copy_warehouse(template_warehouse, tmp_path / "data" / "clio_sync.duckdb")
    if not Path("/proc/version").exists():
        pytest.skip("no /proc here")
    code, _, err = cli(capsys, "export", "parquet", "--db", str(db), "--out", out)
    assert code == 1
    assert "--out" in assert_one_paragraph_error(err, "ExportError")


@pytest.mark.slow
def test_run_refuses_a_dlt_folder_of_another_user_before_asking_clio(
    tmp_path, firm, monkeypatch, bound_by_file_modes, template_warehouse, read_only_cleanup,  # noqa: F811
) -> None:
    point_at_the_sandbox(firm, tmp_path, monkeypatch)
    db = copy_warehouse(template_warehouse, tmp_path / "work" / "data" / "clio_sync.duckdb")
    dlt_folder = db.parent / ".dlt"
    dlt_folder.mkdir()
    dlt_folder.chmod(0o555)
    done = cli_process("run", "--db", str(db), prefix=bound_by_file_modes)
    assert done.returncode == 1
    message = assert_one_paragraph_error(done.stderr, "WarehouseUnusable")
    assert str(dlt_folder) in message and "may not write" in message
    assert clio_requests(firm) == []
    # models writes no dlt state, so it still works
    built = cli_process("models", "--db", str(db), prefix=bound_by_file_modes)
    assert built.returncode == 0, built.stderr
