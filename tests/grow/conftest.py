"""Fixtures of the Grow source tests: a clean environment, sandboxes with Grow unthrottled
(unless a test sets the per-application limit), settings with a fresh token store."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # lets tests import `grow_helpers`

CLEANED = ("SOURCES__CLIO__", "SOURCES__GROW__", "DESTINATION__")


@pytest.fixture(autouse=True)
def clean_environ() -> Iterator[None]:
    """Tests must not see (or leave behind) SOURCES__* settings."""
    saved = dict(os.environ)
    for key in list(os.environ):
        if key.startswith(CLEANED):
            del os.environ[key]
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "clio_sync.duckdb"
