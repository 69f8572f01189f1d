"""Fixtures of the sync tests: hand-made API records, warehouse paths, sync helpers."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # lets tests import `sync_helpers`


def _bill_record(bill_id: int, matters: list[int], total: float = 10.5) -> dict:
    """A bill as the API returns it, with `matters` as its matter ids."""
    return {
        "id": bill_id,
        "etag": '"abc"',
        "issued_at": "2026-01-02",
        "updated_at": "2026-11-20T09:15:02-05:00",
        "total": total,
        "tax_rate": 5,
        "shared": True,
        "client": {"id": 3, "name": "Acme LLP"},
        "currency": None,
        "matters": [{"id": m, "display_number": f"M{m}"} for m in matters],
        "balances": [
            {"id": m, "type": "Matter", "amount": 0.29, "interest_amount": 0, "due": 1.1}
            for m in matters
        ],
    }


@pytest.fixture
def bill_record() -> Callable[..., dict]:
    return _bill_record


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "clio_sync.duckdb"


@pytest.fixture
def firm():
    """A fresh sandbox serving the hand-built firm of `firm_fixture.py` (rate limit off)."""
    from firm_fixture import NOW, hand_built_firm

    from pipelines.sandbox.harness import serve_sandbox

    with serve_sandbox(fixture=hand_built_firm(), fixture_now=NOW, rate_limit=None) as sb:
        yield sb
