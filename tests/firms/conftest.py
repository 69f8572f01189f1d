"""Fixtures of the many-firms tests: firm profiles pointing at sandbox servers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # lets tests import `firm_helpers`
sys.path.insert(0, str(Path(__file__).parents[1] / "sync"))  # and `sync_helpers`



@pytest.fixture
def firm():
    """A fresh sandbox serving the sync tests' hand-built firm (rate limit off)."""
    from firm_fixture import NOW, hand_built_firm

    from pipelines.sandbox.harness import serve_sandbox

    with serve_sandbox(fixture=hand_built_firm(), fixture_now=NOW, rate_limit=None) as sb:
        yield sb
