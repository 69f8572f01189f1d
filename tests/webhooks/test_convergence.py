"""Property: any interleaving of changes at Clio, deliveries (duplicated, reordered, in
flight), polling syncs and applier passes ends with the warehouse equal to Clio."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from world import World

DELETABLE_CONTACTS = range(4, 12)  # no matter, bill or contact points at these

steps = st.one_of(
    st.tuples(st.just("rename contact"), st.integers(1, 11)),
    st.tuples(st.just("edit bill"), st.integers(1, 5)),
    st.tuples(st.just("edit matter"), st.integers(1, 2)),
    st.tuples(st.just("new contact"), st.just(0)),
    st.tuples(st.just("delete contact"), st.sampled_from(DELETABLE_CONTACTS)),
    st.tuples(st.just("delete bill"), st.sampled_from([1, 5])),  # void / deleted state
    st.tuples(st.just("edit task"), st.integers(1, 2)),
    st.tuples(st.just("edit entry"), st.integers(1, 2)),  # calendar entries: string ids
    st.tuples(st.just("delete entry"), st.integers(1, 2)),
    st.tuples(st.just("set value"), st.integers(0, 2)),  # a matter's custom field value
    st.tuples(st.just("sync"), st.just(0)),
    st.tuples(st.just("apply"), st.sampled_from([1, 3, 1000])),  # batch size
    st.tuples(st.just("deliver"), st.just(0)),  # wait for what is in flight
    st.tuples(st.just("duplicates"), st.booleans()),
    st.tuples(st.just("reorder"), st.booleans()),
)


class Script:
    """Runs steps against a world, skipping the ones Clio would refuse."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.gone: set[tuple[str, int]] = set()
        self.version = 0

    def run(self, step: tuple[str, object]) -> None:
        what, arg = step
        w, self.version = self.world, self.version + 1
        if what == "rename contact" and ("contacts", arg) not in self.gone:
            w.edit("contacts", arg, name=f"Name v{self.version}")
        elif what == "edit bill":
            w.edit("bills", arg, memo=f"Memo v{self.version}")
        elif what == "edit matter":
            w.edit("matters", arg, description=f"Matter v{self.version}")
        elif what == "new contact":
            w.new_contact(f"New v{self.version}")
        elif what == "delete contact" and ("contacts", arg) not in self.gone:
            w.delete("contacts", arg)
            self.gone.add(("contacts", arg))
        elif what == "delete bill" and ("bills", arg) not in self.gone:
            w.delete_bill(arg)
            self.gone.add(("bills", arg))
        elif what == "edit task":
            w.edit("tasks", arg, name=f"Task v{self.version}")
        elif what == "edit entry" and ("calendar_entries", arg) not in self.gone:
            w.edit("calendar_entries", arg, location=f"Room v{self.version}")
        elif what == "delete entry" and ("calendar_entries", arg) not in self.gone:
            w.delete("calendar_entries", arg)
            self.gone.add(("calendar_entries", arg))
        elif what == "set value":
            w.set_value("matters", 1, 2, None if arg == 0 else f"{self.version}.{arg}0")
        elif what == "sync":
            w.sync()
        elif what == "apply":
            w.apply(batch_size=arg)
        elif what == "deliver":
            w.flush()
        elif what == "duplicates":
            w.sb.faults(webhook_duplicates=arg)
        elif what == "reorder":
            w.sb.faults(webhook_reorder=arg)


@pytest.mark.slow
@settings(max_examples=5, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(script=st.lists(steps, min_size=1, max_size=14))
def test_any_interleaving_of_polling_and_events_converges_to_clio(script):
    with tempfile.TemporaryDirectory() as tmp, World.start(Path(tmp)) as world:
        world.sync()
        world.subscribe()
        runner = Script(world)
        for step in script:
            runner.run(step)
        world.flush()
        world.apply()
        world.assert_truth()
