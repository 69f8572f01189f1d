"""kill -9 of the applier inside and after the transaction of the direct write."""

from __future__ import annotations

import os
import signal

import pytest
from test_processes import assert_applied_once_each, make_many_changes, paused_applier
from world import World

TABLES = ("contacts", "contacts__custom_field_values", "bills", "bills__matters",
          "matters", "activities", "_tombstones", "_dlt_loads", "_webhook_applies")


def warehouse_state(world: World) -> dict[str, list[tuple]]:
    return {table: sorted(world.query(f'SELECT * FROM clio."{table}"'), key=repr)
            for table in TABLES}


def kill(proc) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.slow
def test_a_kill_inside_the_batch_transaction_leaves_the_warehouse_untouched(world):
    world.sync()
    world.subscribe()
    make_many_changes(world)
    world.flush()
    world.apply(batch_size=3)  # the ledger and the tombstones are not empty
    for n in range(1, 9):
        world.edit("contacts", n, name=f"Third rename {n}")
        world.new_contact(f"Newer contact {n}")
    world.edit("bills", 2, memo="Second memo")
    world.delete("contacts", 11)
    world.flush()
    before = warehouse_state(world)
    proc = paused_applier(world, "loaded")  # rows merged, transaction open
    claimed = {e["seq"] for e in world.inbox_rows("state = 'claimed'")}
    kill(proc)
    assert len(claimed) == 7
    assert warehouse_state(world) == before  # no row, tombstone, load or ledger entry
    world.cli("webhooks", "apply", "--db", str(world.db))
    world.assert_truth()
    assert_applied_once_each(world)


@pytest.mark.slow
def test_a_kill_after_the_commit_is_acknowledged_from_the_ledger_not_applied_again(world):
    world.sync()
    world.subscribe()
    make_many_changes(world)
    world.flush()
    proc = paused_applier(world, "logged")  # committed, not acknowledged in the inbox
    claimed = {e["seq"] for e in world.inbox_rows("state = 'claimed'")}
    kill(proc)
    logged = world.query("SELECT seq, outcome, applied_at FROM clio._webhook_applies")
    assert {seq for seq, _, _ in logged} == claimed and len(claimed) == 7
    assert "upserted" in {outcome for _, outcome, _ in logged}
    world.cli("webhooks", "apply", "--db", str(world.db))
    again = world.query("SELECT seq, outcome, applied_at FROM clio._webhook_applies"
                        f" WHERE seq IN ({','.join(map(str, claimed))})")
    assert sorted(again) == sorted(logged)  # as first committed: outcome and lag kept
    assert {e["seq"]: e["outcome"] for e in world.inbox_rows() if e["seq"] in claimed} == {
        seq: outcome for seq, outcome, _ in logged}
    world.assert_truth()
    assert_applied_once_each(world)
