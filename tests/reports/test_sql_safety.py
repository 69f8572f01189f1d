"""`clio-sync sql` reads the warehouse and nothing else: no file is written, attached,
exported or read, no extension is installed, and the protection cannot be switched off.

Each statement runs through the real command (a process, in a project folder holding a
token store) on a copy of the hand-built firm's warehouse.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import FIRM_TZ, TODAY

SECRET = "refresh-TOKEN-that-must-never-be-printed"


@pytest.fixture
def project(firm_db: Path, tmp_path: Path) -> Path:
    """A project folder: a warehouse, a token store, a file the SQL must not overwrite."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "clio_sync.duckdb").write_bytes(firm_db.read_bytes())
    (tmp_path / ".clio-sync").mkdir()
    (tmp_path / ".clio-sync" / "token.json").write_text(
        f'{{"refresh_token": "{SECRET}", "access_token": "{SECRET}-access"}}')
    (tmp_path / "notes.txt").write_text("the user's own file\n")
    (tmp_path / "home").mkdir()
    return tmp_path


def sql(project: Path, query: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(project / "home"), "REPORTS__TODAY": TODAY,
           "REPORTS__TIMEZONE": FIRM_TZ}
    return subprocess.run(
        [sys.executable, "-m", "pipelines", "sql", query, "--db", "data/clio_sync.duckdb"],
        cwd=project, env=env, capture_output=True, text=True, timeout=60,
    )


def files(root: Path) -> dict[str, str]:
    """Every file under `root` with a hash of its content (what "nothing changed" compares)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


HOSTILE = {
    "copy to overwrites a file": "copy (select 'overwritten') to 'notes.txt' (header false)",
    "copy to creates a file": "copy (select * from clio.bills) to 'bills.csv'",
    "attach creates a database": "attach 'evil.duckdb' as evil",
    "attach the warehouse writable": "attach 'data/clio_sync.duckdb' as w",
    "export database dumps everything": "export database 'dump'",
    "read_text of the token store": "select * from read_text('.clio-sync/token.json')",
    "read_csv of the token store": "select * from read_csv('.clio-sync/token.json', header=false)",
    "a file as a table": "select * from '.clio-sync/token.json'",
    "install tries the network": "install httpfs",
    "load an extension": "load httpfs",
    "turning protection off first": "set enable_external_access = true; "
                                    "copy (select 1) to 'sneaky.csv'",
    "resetting the setting first": "reset enable_external_access; copy (select 1) to 'sneaky.csv'",
    "unlocking the configuration": "set lock_configuration = false",
    "moving the temp folder": "set temp_directory = '.'",
}


@pytest.mark.slow
@pytest.mark.parametrize("query", list(HOSTILE.values()), ids=list(HOSTILE))
def test_a_statement_that_reaches_outside_the_warehouse_is_refused(project, query):
    first = sql(project, "select count(*) as bills from clio.bills")  # the reader's own setup
    assert first.returncode == 0, first.stderr
    before = files(project)

    done = sql(project, query)

    assert done.returncode == 1, done.stdout
    assert done.stderr.startswith("QueryRefused: "), done.stderr
    message = done.stderr.removeprefix("QueryRefused: ").strip()
    assert "\n" not in message and "Traceback" not in done.stderr
    assert "clio-sync export parquet" in message  # the way to get files out
    assert SECRET not in done.stdout + done.stderr
    assert files(project) == before  # nothing written, created, replaced or installed
    assert not (project / "home" / ".duckdb").exists()


@pytest.mark.slow
def test_reads_of_the_warehouse_still_work(project):
    done = sql(project, "set variable x = 2; select getvariable('x') * count(*) as n "
                        "from reports.ar_aging_detail")
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout
    macro = sql(project, "select count(*) as n from reports.ar_aging_as_of(date '2026-11-20')")
    assert macro.returncode == 0, macro.stderr
