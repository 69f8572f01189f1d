"""A record `reconcile` deleted stays deleted whatever the webhooks bring later: a late
delivery of an older version, or `webhooks replay` (issue #8, item 4)."""

from __future__ import annotations

from pipelines.clio.reconcile import reconcile


def test_a_late_update_and_a_replay_cannot_bring_back_what_reconcile_deleted(world) -> None:
    world.sync()
    world.subscribe(models=("contact",))
    world.edit("contacts", 7, name="Edited just before its deletion")
    world.flush()  # the update is in the inbox, not applied yet
    # the deletion itself is never delivered (the receiver is down): only reconcile sees it
    world.receiver.stop()
    world.delete("contacts", 7)

    (result,) = reconcile(world.db, world.settings, resources=["contacts"])
    assert result.deleted == 1

    report = world.apply()
    assert report.outcomes["tombstoned"] == 1
    assert world.query("SELECT count(*) FROM clio.contacts WHERE id = 7") == [(0,)]

    world.cli("webhooks", "replay", "--db", str(world.db), "--since", "1h")
    world.apply()
    assert world.query("SELECT count(*) FROM clio.contacts WHERE id = 7") == [(0,)]
    assert world.query("SELECT source FROM clio._tombstones WHERE id = 7") == [("reconcile",)]
    world.assert_truth(["contacts"])
