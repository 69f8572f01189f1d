"""Another git revision's files, for the benches' `--before` options: measured side by side
with this checkout's in one run."""

from __future__ import annotations

import subprocess
import tarfile
from io import BytesIO
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def checkout(ref: str, into: Path, *paths: str) -> Path:
    """Revision `ref`'s tree (only `paths` of it, when given) extracted under `into`, which
    is returned; the worktree is untouched."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref, *paths],
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into
