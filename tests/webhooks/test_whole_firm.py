"""Webhooks of the whole firm (#9.3, #9.4): tasks, calendar entries (string ids) and
communications follow the same newest-wins and delete rules as bills and contacts, and
custom field values converge whether or not editing one moves its matter's version."""

from __future__ import annotations

import pytest
from world import World

NEW_TABLES = ["tasks", "calendar_entries", "communications"]


@pytest.fixture
def world(tmp_path):
    with World.start(tmp_path) as w:
        yield w


@pytest.fixture
def silent_world(tmp_path):
    """Clio where editing a custom field value moves neither `updated_at` nor `etag`."""
    with World.start(tmp_path, custom_field_edits="silent") as w:
        yield w


def _new_task(world: World, name: str) -> dict:
    return world.create("tasks", {
        "name": name, "status": "pending", "priority": "Normal", "due_at": "2026-12-01",
        "matter": {"id": 1, "display_number": "00001-Client"}, "assigner": {"id": 1, "name": "Ada Counsel"},
        "assignee": {"id": 1, "type": "User", "name": "Ada Counsel", "initials": "AC", "enabled": True},
        "time_entries_count": 0, "time_entries": []})


class TestNewModels:
    @pytest.mark.parametrize("batch_size", [1, 1000])
    def test_creates_edits_and_deletes_with_duplicates_and_reordering_equal_clio(
        self, world, batch_size
    ):
        world.sync()
        world.subscribe()
        world.sb.faults(webhook_duplicates=True, webhook_reorder=True)
        task = _new_task(world, "New task")
        for n in range(3):
            world.edit("tasks", 1, status=("in_progress", "in_review", "complete")[n])
            world.edit("calendar_entries", 1, location=f"Room {n}")
            world.edit("communications", 1, subject=f"Re: {n}")
        world.edit("tasks", task["id"], name="Renamed task")
        world.delete("calendar_entries", 2)
        world.delete("tasks", 2)
        world.flush()
        report = world.apply(batch_size=batch_size)
        assert report.outcomes["deleted"] == 2 and not report.set_aside
        world.assert_truth(NEW_TABLES)
        assert world.query("SELECT status FROM clio.tasks WHERE id = 1") == [("complete",)]
        assert world.query("SELECT table_name, id FROM clio._text_tombstones") == [
            ("calendar_entries", "2")]
        assert world.query("SELECT table_name, id FROM clio._tombstones") == [("tasks", 2)]

    def test_a_late_older_update_does_not_bring_back_a_deleted_calendar_entry(self, world):
        world.sync()
        world.subscribe()
        world.edit("calendar_entries", 2, location="Moved")
        world.flush()
        older = world.inbox_rows("model = 'calendar_entry'")
        world.delete("calendar_entries", 2)
        world.flush()
        world.apply()
        conn_rows = world.inbox_rows(f"seq = {older[-1]['seq']}")
        assert conn_rows[0]["state"] == "applied"
        world.cli("webhooks", "replay", "--db", str(world.db), "--since", "1d")
        world.apply()
        assert world.query("SELECT count(*) FROM clio.calendar_entries WHERE id = '2'") == [(0,)]
        world.assert_truth(NEW_TABLES)

    def test_an_older_version_never_overwrites_a_newer_task(self, world):
        world.sync()
        world.subscribe()
        world.sb.faults(webhook_reorder=True)  # newest first
        for n in range(4):
            world.edit("tasks", 1, name=f"Version {n}")
        world.flush()
        report = world.apply(batch_size=1)
        assert report.outcomes["stale"] >= 1
        assert world.query("SELECT name FROM clio.tasks WHERE id = 1") == [("Version 3",)]
        world.assert_truth(NEW_TABLES)


class TestCustomFieldValues:
    def test_a_value_edit_that_moves_the_matter_is_upserted_as_delivered(self, world):
        world.sync()
        world.subscribe(("matter", "contact"))
        world.set_value("matters", 1, 2, "99.95")
        world.set_value("contacts", 3, 4, "false")
        world.flush()
        report = world.apply()
        assert report.outcomes == {"upserted": 2}
        world.assert_truth(["matters", "contacts"])

    def test_a_value_edit_that_moves_nothing_is_fetched_and_written(self, silent_world):
        world = silent_world
        world.sync()
        world.subscribe(("matter", "contact"))
        before = world.query("SELECT updated_at, etag FROM clio.matters WHERE id = 1")
        world.set_value("matters", 1, 2, "99.95")
        world.set_value("matters", 1, 3, None)  # cleared
        world.set_value("contacts", 3, 4, "false")
        world.flush()
        report = world.apply()
        assert report.outcomes["fetched"] >= 2 and "upserted" not in report.outcomes
        assert world.query("SELECT updated_at, etag FROM clio.matters WHERE id = 1") == before
        world.assert_truth(["matters", "contacts"])
        assert world.query("SELECT value FROM clio.matters__custom_field_values "
                           "WHERE matter_id = 1 AND custom_field__id = 2") == [("99.95",)]
        # the same deliveries again change nothing and fetch nothing
        world.sb.reset_stats()
        world.cli("webhooks", "replay", "--db", str(world.db), "--since", "1d")
        again = world.apply()
        assert set(again.outcomes) == {"unchanged"}
        assert not [r for r in world.sb.stats()["requests"] if r["path"].startswith("/api/v4/")]

    def test_a_second_silent_edit_after_the_first_was_applied_is_not_a_duplicate(
        self, silent_world
    ):
        world = silent_world
        world.sync()
        world.subscribe(("matter",))
        for value in ("10.00", "20.00"):
            world.set_value("matters", 1, 2, value)
            world.flush()
            world.apply()
            world.assert_truth(["matters"])
        assert [r["state"] for r in world.inbox_rows()] == ["applied", "applied"]
