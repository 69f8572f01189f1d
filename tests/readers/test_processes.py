"""Readers never stall freshness: a reader process holds its connection open while real
`clio-sync run`, `webhooks apply` and `webhooks apply --follow` processes write."""

from __future__ import annotations

import signal
import time

import duckdb
import pytest
from reader_worker import FINGERPRINT

from pipelines import snapshot


def fingerprint(db) -> str:
    """What the warehouse itself holds (read once the writers are done)."""
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(FINGERPRINT).fetchone()[0]


@pytest.mark.slow
def test_a_reader_holding_its_connection_blocks_neither_run_nor_the_applier(
        world, reader_process):
    db = world.db
    world.cli("run", "--db", str(db))
    reader = reader_process(db)
    first = reader.opened
    assert first == fingerprint(db)

    world.edit("contacts", 3, name="Renamed at Clio")
    started = time.monotonic()
    world.cli("run", "--db", str(db), "--lock-timeout", "5")
    assert time.monotonic() - started < 60
    synced = fingerprint(db)
    assert "Renamed at Clio" in synced and "Renamed at Clio" not in first
    assert reader.ask("state") == first  # the state it opened, until it reopens
    assert reader.ask("latest") == synced
    assert reader.ask("reopen") == synced

    world.subscribe(("contact",))
    world.edit("contacts", 4, name="Renamed by a webhook")
    world.flush()
    world.cli("webhooks", "apply", "--db", str(db), "--lock-timeout", "5")
    applied = fingerprint(db)
    assert "Renamed by a webhook" in applied
    assert reader.ask("state") == synced
    assert reader.ask("reopen") == applied
    assert "waiting up to" not in world.log() and "WarehouseBusy" not in world.log()


@pytest.mark.slow
def test_a_reader_sees_the_old_state_or_the_new_one_never_a_half_written_one(
        world, reader_process, tmp_path):
    db = world.db
    world.cli("run", "--db", str(db))
    before = fingerprint(db)
    for n in range(1, 6):
        world.edit("contacts", n, name=f"Renamed {n}")
    world.new_contact("A new client")
    world.delete_bill(1)
    world.sb.faults(kind="slow", delay=0.05, count=1000)  # a run long enough to read during
    reader = reader_process(db)
    stop = tmp_path / "stop-watching"
    assert reader.ask(f"watch {stop}") == "watching"

    started = time.time()
    world.cli("run", "--db", str(db), "--lock-timeout", "5")
    ended = time.time()
    stop.touch()
    seen = reader.answer()

    after = fingerprint(db)
    assert after != before
    assert set(seen) <= {before, after}, "a reader saw a state no writer committed"
    during = [t for times in seen.values() for t in times if started < t < ended]
    assert len(during) >= 10, "the reader did not read while the run wrote"
    assert reader.ask("latest") == after


@pytest.mark.slow
def test_the_follower_publishes_what_it_applies_while_a_reader_holds_its_connection(
        world, reader_process):
    db = world.db
    world.cli("run", "--db", str(db))
    world.subscribe(("contact",))
    follower = world.popen("webhooks", "apply", "--follow", "--db", str(db))
    try:
        reader = reader_process(db)
        first = reader.opened
        world.edit("contacts", 5, name="Applied by the follower")
        world.flush()
        deadline = time.monotonic() + 30
        while "Applied by the follower" not in reader.ask("latest"):
            assert time.monotonic() < deadline, world.log()[-3000:]
            time.sleep(0.2)  # polling for the outcome, not making a race
        assert reader.ask("state") == first
    finally:
        follower.send_signal(signal.SIGTERM)
        code = follower.wait(60)
    assert code == 0, world.log()[-3000:]
    assert snapshot.is_current(db)
    assert "Traceback" not in world.log() and "WarehouseBusy" not in world.log()
