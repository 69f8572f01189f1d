"""What clio-sync creates is readable by its owner only: a warehouse holds clients' names,
bills and payments, and dlt's folder and the exports hold the same.

The CLI runs every command under `owner_only_umask`, so whatever the process creates
(DuckDB's write-ahead log and dlt's files included) starts private. Python callers keep
their own umask, so the warehouse layer and the export also create their folders with
mode 0o700 and set files they have just created to 0o600. Nothing that existed before is
ever chmodded: a folder the user made keeps the mode the user gave it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


@contextmanager
def owner_only_umask() -> Iterator[None]:
    """Add 0o077 to the process umask for the block, then put the old one back."""
    previous = os.umask(0o077)
    os.umask(previous | 0o077)
    try:
        yield
    finally:
        os.umask(previous)


def make_private_dirs(path: Path) -> None:
    """Create `path` and its missing parents, each with mode 0o700; existing ones are left
    as they are.

    Raises:
        OSError: a parent is a file (`NotADirectoryError`, `FileExistsError`) or a folder
            cannot be created (`PermissionError`).
    """
    missing: list[Path] = []
    current = path
    while not current.is_dir():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            if not folder.is_dir():  # another process may have made it meanwhile
                raise


def first_file_above(path: Path) -> Path | None:
    """The nearest existing ancestor of `path` that is not a folder, if there is one."""
    for parent in path.parents:
        if parent.exists() or parent.is_symlink():
            return None if parent.is_dir() else parent
    return None


def make_private(path: Path) -> None:
    """Set a file this process has just created to mode 0o600."""
    path.chmod(PRIVATE_FILE)
