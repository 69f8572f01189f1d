"""A synced warehouse with its models, built once per module and copied for each test, and
helpers to run `clio-sync` against it (imported by test modules; `conftest.py` puts this
folder on `sys.path`)."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sync_helpers import settings_for

from pipelines.cli import main

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def template_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-built firm synced into a DuckDB file, models built (never written to)."""
    from firm_fixture import NOW, hand_built_firm

    from pipelines.clio.sync import build_models_if_present, sync
    from pipelines.sandbox.harness import serve_sandbox

    folder = tmp_path_factory.mktemp("template")
    db = folder / "data" / "clio_sync.duckdb"
    with serve_sandbox(fixture=hand_built_firm(), fixture_now=NOW, rate_limit=None) as sb:
        sync(db, settings_for(sb, folder))
    build_models_if_present(db)
    return db


def copy_warehouse(template: Path, db: Path) -> Path:
    """A private copy of the template warehouse at `db` (its folder created)."""
    db.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, db)
    return db


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`clio-sync ARGV` in this process: (exit code, stdout, stderr)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        code = main(list(argv))
    finally:  # main's handler writes to this test's captured stderr, gone after it
        root.handlers[:], root.level = handlers, level
    out, err = capsys.readouterr()
    return code, out, err


def cli_process(*argv: str, env: dict[str, str] | None = None,
                prefix: list[str] | None = None, cwd: Path | None = None
                ) -> subprocess.CompletedProcess[str]:
    """`clio-sync ARGV` as a real process (`prefix` runs it under another program)."""
    return subprocess.run(
        [*(prefix or []), sys.executable, "-m", "pipelines", *argv],
        cwd=cwd or REPO, env={**os.environ, **(env or {})}, capture_output=True, text=True,
        timeout=120,
    )


def tree(root: Path) -> dict[str, str]:
    """Every entry under `root` (itself included): its kind, mode and content digest."""
    found: dict[str, str] = {}
    for path in [root, *sorted(root.rglob("*"))]:
        name = path.relative_to(root).as_posix()
        stat = path.lstat()
        if path.is_symlink():
            found[name] = f"link {os.readlink(path)}"
        elif path.is_dir():
            found[name] = f"dir {stat.st_mode:o}"
        else:
            found[name] = f"file {stat.st_mode:o} {hashlib.sha256(path.read_bytes()).hexdigest()}"
    return found


def assert_one_paragraph_error(err: str, kind: str) -> str:
    """`err` ends with `kind: message` on one line, and holds no traceback; returns it."""
    assert "Traceback" not in err, err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert lines, "nothing on stderr"
    assert lines[-1].startswith(f"{kind}: "), err
    assert "\n\n" not in err.strip(), err
    return lines[-1]
