"""The applier's direct write (`pipelines.webhooks.direct`): one DuckDB transaction per
batch instead of a dlt load, and rows exactly as a sync writes them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import duckdb
import pytest
from sync_helpers import settings_for
from test_end_to_end import all_tables, columns, rows
from world import World

from pipelines.clio.endpoints import BY_TABLE
from pipelines.clio.load import make_pipeline, records_source
from pipelines.clio.sync import sync
from pipelines.errors import ConfigError
from pipelines.webhooks import direct


def change_everything(world: World) -> None:
    """Updates, creations, deletions and child rows of every webhook-fed table."""
    world.new_contact("Created by webhook")
    world.new_activity("Created activity")
    world.edit("bills", 1, memo="Edited memo")  # bills__matters, bills__balances
    world.edit("bills", 2, memo="Another memo")
    world.edit("matters", 1, description="Edited matter")
    world.set_value("matters", 1, 2, "99.95")  # matters__custom_field_values
    world.set_value("matters", 2, 2, "12.50")
    world.set_value("contacts", 3, 4, "false")  # contacts__custom_field_values
    world.edit("contacts", 3, name="Edited contact")
    world.delete("contacts", 12)
    world.delete("activities", 4)
    world.edit("tasks", 1, status="complete")
    world.edit("calendar_entries", 1, location="Room 2")  # a string id at Clio
    world.edit("communications", 1, subject="Re: re: motion")
    world.flush()


def load_ids(db, table: str) -> set[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {i for (i,) in con.execute(f'SELECT DISTINCT _dlt_load_id FROM clio."{table}"').fetchall()}
    finally:
        con.close()


def test_a_webhook_applied_row_equals_the_synced_row_column_for_column(world, tmp_path):
    world.sync()
    world.subscribe()
    change_everything(world)
    synced_loads = load_ids(world.db, "contacts")
    report = world.apply()
    assert report.writes == {"direct": 1}  # one batch, written without a dlt load
    assert report.outcomes["upserted"] >= 10 and report.outcomes["deleted"] == 2
    assert load_ids(world.db, "contacts") - synced_loads  # the applied rows are in it
    polled = tmp_path / "polled" / "clio_sync.duckdb"
    sync(polled, settings_for(world.sb, tmp_path / "polled"))
    for table in all_tables():
        assert columns(world.db, table) == columns(polled, table), table
        assert rows(world.db, table) == rows(polled, table), table  # every row, every column
    # the load id of the applied rows is a load dlt knows of, as a sync's would be
    con = duckdb.connect(str(world.db), read_only=True)
    try:
        unknown = con.execute(
            "SELECT count(*) FROM clio.contacts WHERE _dlt_load_id NOT IN"
            " (SELECT load_id FROM clio._dlt_loads WHERE status = 0)").fetchone()
    finally:
        con.close()
    assert unknown == (0,)
    # a later sync merges over the applied rows: still one row per record, equal to Clio
    world.sync()
    world.assert_truth()
    for table in all_tables():
        assert rows(world.db, table) == rows(polled, table), table


@contextmanager
def catalog_without(table: str, column: str) -> Iterator[None]:
    """The catalog of an older clio-sync, whose `table` had no `column` yet."""
    endpoint = BY_TABLE[table]
    scalars = endpoint.scalars
    object.__setattr__(endpoint, "scalars", tuple(s for s in scalars if s != column))
    try:
        yield
    finally:
        object.__setattr__(endpoint, "scalars", scalars)


def test_a_column_the_warehouse_lacks_yet_is_added_by_a_dlt_load(world):
    with catalog_without("contacts", "title"):
        world.sync()  # synced by a version without `contacts.title`
    assert "title" not in [c for c, _ in columns(world.db, "contacts")]
    world.subscribe(("contact",))
    world.edit("contacts", 3, name="Edited contact")
    world.flush()
    report = world.apply()
    assert report.writes == {"dlt": 1}  # schema evolution: the sync's own loading path
    assert [c for c, _ in columns(world.db, "contacts")][-1] == "title"
    world.edit("contacts", 4, name="Edited again")
    world.flush()
    assert world.apply().writes == {"direct": 1}  # the warehouse has every column again
    world.sync()
    world.assert_truth(["contacts"])


def test_the_write_path_setting_is_checked(monkeypatch):
    assert direct.write_path() == "direct"
    monkeypatch.setenv("WEBHOOKS__WRITE_PATH", "dlt")
    assert direct.write_path() == "dlt"
    monkeypatch.setenv("WEBHOOKS__WRITE_PATH", "fast")
    with pytest.raises(ConfigError, match="WEBHOOKS__WRITE_PATH is 'fast'; it must be `direct`"):
        direct.write_path()


def test_a_load_a_killed_writer_left_is_finished_before_the_batch(world):
    world.sync()
    world.subscribe(("contact",))
    pipeline = make_pipeline(world.db)  # what a writer killed mid-load leaves behind:
    pipeline.extract(records_source(BY_TABLE["contacts"], [
        {"id": 3, "etag": '"old"', "name": "From a killed run",
         "updated_at": "2020-01-01T00:00:00+00:00"}]))
    pipeline.normalize()  # a package normalized, not loaded
    assert pipeline.has_pending_data
    world.edit("contacts", 4, name="Edited contact")
    world.flush()
    report = world.apply()
    assert report.writes == {"direct": 1}
    assert not make_pipeline(world.db).has_pending_data  # loaded before the batch
    assert world.query("SELECT name FROM clio.contacts WHERE id = 3") == [("From a killed run",)]


def test_an_older_warehouse_s_narrow_column_is_widened_before_a_direct_write(world):
    world.sync()
    world.subscribe(("activity",))
    con = duckdb.connect(str(world.db))  # prices were DECIMAL(18,2) in older versions
    con.execute("ALTER TABLE clio.activities ALTER price TYPE DECIMAL(18,2)")
    con.close()
    world.edit("activities", 1, price=312.125)
    world.flush()
    assert world.apply().writes == {"direct": 1}
    assert ("price", "DECIMAL(28,10)") in columns(world.db, "activities")
    assert world.query("SELECT price FROM clio.activities WHERE id = 1") == [
        (Decimal("312.1250000000"),)]
    world.assert_truth(["activities"])
