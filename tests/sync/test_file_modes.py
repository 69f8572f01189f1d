"""What clio-sync creates (warehouse, its write-ahead log, dlt's folder, exports) is readable
by its owner only; folders and files the user made keep their modes."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sync_helpers import sandbox_env, settings_for
from warehouse_fixture import cli_process

from pipelines.cli import main


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def open_to_others(root: Path) -> list[str]:
    """Entries under `root` (itself included) that group or others may read or enter
    (a symbolic link's own mode means nothing: its target is checked instead)."""
    return [f"{p} {mode(p):o}" for p in [root, *root.rglob("*")]
            if not p.is_symlink() and mode(p) & 0o077]


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask most systems start processes with, whatever the test runner had."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.slow
def test_run_and_export_create_files_for_the_owner_only(firm, tmp_path, usual_umask) -> None:
    data = tmp_path / "data"
    db = data / "clio_sync.duckdb"
    env = sandbox_env(firm, tmp_path)

    ran = cli_process("run", "--db", str(db), "--quiet", env=env)
    assert ran.returncode == 0, ran.stderr
    exported = cli_process("export", "parquet", "--db", str(db), env=env)
    assert exported.returncode == 0, exported.stderr

    assert mode(db) == 0o600
    assert mode(data / ".dlt") == 0o700
    assert mode(data / "export") == 0o700
    assert mode(data / "export" / "clio" / "bills.parquet") == 0o600
    assert mode(data / "export" / ".clio-sync-export.json") == 0o600
    assert open_to_others(data) == []
    assert open_to_others(tmp_path / "token.json") == []


@pytest.mark.slow
def test_a_folder_the_user_made_keeps_its_mode(firm, tmp_path, usual_umask) -> None:
    data = tmp_path / "shared"
    data.mkdir()
    data.chmod(0o755)
    db = data / "clio_sync.duckdb"
    ran = cli_process("run", "--db", str(db), "--quiet", env=sandbox_env(firm, tmp_path))
    assert ran.returncode == 0, ran.stderr
    assert mode(data) == 0o755
    assert open_to_others(data) == [f"{data} 755"]


def test_the_library_creates_a_private_warehouse_and_export(firm, tmp_path, usual_umask) -> None:
    """Called from Python (a notebook, an orchestrator), where the CLI's umask does not apply."""
    from pipelines.clio.export import export_parquet
    from pipelines.clio.sync import sync

    data = tmp_path / "data"
    db = data / "clio_sync.duckdb"
    sync(db, settings_for(firm, tmp_path), resources=["contacts"])
    export_parquet(db, tmp_path / "exported")

    assert mode(data) == 0o700
    assert mode(db) == 0o600
    assert mode(data / ".dlt") == 0o700
    assert open_to_others(tmp_path / "exported") == []
    assert mode(tmp_path / "exported" / "clio" / "contacts.parquet") == 0o600


def test_the_cli_leaves_the_umask_of_its_host_process_as_it_was(
    capsys, tmp_path, usual_umask
) -> None:
    assert main(["sql", "select 1", "--db", str(tmp_path / "none.duckdb")]) == 1
    assert os.umask(0o022) == 0o022
