"""The writer lock, let go while a firm reads Clio and taken again to load."""

from __future__ import annotations

from contextlib import ExitStack

import pytest

from pipelines import warehouse
from pipelines.errors import WarehouseLocked
from pipelines.firms.turns import WriterTurns


def other_writer_gets_in(db) -> bool:
    try:
        with warehouse.writer_lock(db, "another firm's load", timeout=0, publish=False):
            return True
    except WarehouseLocked:
        return False


def test_the_lock_is_held_except_while_released(tmp_path) -> None:
    db = tmp_path / "w.duckdb"
    with WriterTurns(db, "clio-sync --firm acme run", timeout=1) as turns:
        assert not other_writer_gets_in(db)
        with turns.released():
            assert other_writer_gets_in(db)
        assert not other_writer_gets_in(db)
    assert other_writer_gets_in(db)


def test_taking_the_lock_back_waits_a_bounded_time(tmp_path) -> None:
    db = tmp_path / "w.duckdb"
    other = ExitStack()
    with (WriterTurns(db, "clio-sync --firm acme run", timeout=0.2) as turns,
          pytest.raises(WarehouseLocked, match="another firm's load"), turns.released()):
        other.enter_context(warehouse.writer_lock(db, "another firm's load", publish=False))
    other.close()
    assert other_writer_gets_in(db)
