"""Clio (the sandbox) delivers real signed webhooks to the real receiver; the applier writes
them into a real DuckDB warehouse, which must then equal Clio field for field."""

from __future__ import annotations

import duckdb
import pytest
from sync_helpers import settings_for
from world import TABLES, World

from pipelines.clio.endpoints import BY_TABLE, BY_WEBHOOK_MODEL
from pipelines.clio.rows import child_table
from pipelines.clio.sync import sync
from pipelines.webhooks import registry, store, subscriptions
from pipelines.webhooks.signature import SECRET_HEADER


def all_tables(tables: list[str] = TABLES) -> list[str]:
    """The tables and their child tables."""
    names = []
    for table in tables:
        endpoint = BY_TABLE[table]
        names += [table, *(child_table(endpoint, c) for c in endpoint.children)]
    return names


def columns(db, table: str) -> list[tuple[str, str]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'clio' AND table_name = ? ORDER BY ordinal_position", [table]
        ).fetchall()
    finally:
        con.close()


def rows(db, table: str) -> dict:
    """Rows by their dlt key (`_dlt_id` is derived from the natural key), load id left out."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        cursor = con.execute(f'SELECT * EXCLUDE (_dlt_load_id) FROM clio."{table}"')
        names = [d[0] for d in cursor.description]
        found = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    finally:
        con.close()
    return {r["_dlt_id"]: r for r in found}


def registry_rows(world: World) -> list:
    conn = store.connect(world.inbox)
    try:
        return registry.live(conn)
    finally:
        conn.close()


class TestSubscribe:
    def test_the_handshake_enables_one_webhook_per_model_for_31_days(self, world):
        world.cli("webhooks", "subscribe", "--db", str(world.db), "--allow-http",
                  "--url", world.receiver.hooks_url)
        remote = world.remote_hooks()
        assert sorted(remote) == ["activity", "bill", "calendar_entry", "communication",
                                  "contact", "matter", "task"]
        server_now = world.firm.now()
        for model, hook in remote.items():
            assert hook["status"] == "enabled"
            assert hook["events"] == ["created", "updated", "deleted"]
            assert hook["fields"] == BY_WEBHOOK_MODEL[model].fields
            lifetime = subscriptions._parse(hook["expires_at"]) - server_now
            assert 30.9 < lifetime.total_seconds() / 86400 <= 31
        ours = {s.model: s for s in registry_rows(world)}
        assert {m: (s.status, s.webhook_id) for m, s in ours.items()} == {
            m: ("enabled", h["id"]) for m, h in remote.items()}
        assert all(s.handshake_at is not None for s in ours.values())

    def test_without_a_handshake_the_activate_endpoint_enables_it(self, world):
        world.receiver.stop()  # Clio's handshake cannot reach us
        (sub,) = world.subscribe(("contact",), handshake_wait=0.3)
        assert sub.status == "enabled" and sub.handshake_at is None
        assert world.remote_hooks()["contact"]["status"] == "enabled"
        stats = world.sb.stats()["requests"]
        assert any(r["method"] == "PUT" and r["path"].endswith("/activate.json") for r in stats)

    def test_a_change_made_as_subscribe_returns_is_delivered(self, world):
        # Clio enables a webhook a moment after the handshake's answer; subscribing returns
        # only once Clio says enabled, so the very next change is delivered, not lost
        world.sb.faults(webhook_enable_delay=0.5)
        (sub,) = world.subscribe(("contact",))
        assert sub.status == "enabled" and world.remote_hooks()["contact"]["status"] == "enabled"
        world.edit("contacts", 3, name="Edited as subscribe returned")
        world.flush()
        assert [(r["record_id"], r["event"]) for r in world.inbox_rows()] == [(3, "updated")]

    def test_an_http_url_is_refused_with_a_clear_error(self, world):
        proc = world.popen("webhooks", "subscribe", "--db", str(world.db),
                           "--url", world.receiver.hooks_url)
        assert proc.wait(timeout=60) == 1
        assert "only delivers to https" in world.log() and "Traceback" not in world.log()
        assert world.remote_hooks() == {}


class TestEvents:
    def _change_everything(self, world: World) -> None:
        world.new_contact("Created by webhook")
        world.new_activity("Created activity")
        world.edit("bills", 1, memo="Edited memo")
        world.edit("matters", 1, description="Edited matter")
        world.edit("contacts", 3, name="Edited contact")
        world.delete("contacts", 12)
        world.delete("activities", 4)
        world.delete_bill(5)  # a draft: Clio keeps it in state `deleted`
        world.edit("tasks", 1, status="complete")
        world.edit("calendar_entries", 1, location="Room 2")  # a string id at Clio
        world.edit("communications", 1, subject="Re: re: motion")
        world.flush()

    def test_events_into_an_empty_warehouse_have_exactly_the_polled_columns_and_values(
        self, world, tmp_path
    ):
        world.subscribe()
        self._change_everything(world)
        report = world.apply()
        assert report.outcomes["upserted"] >= 6 and report.outcomes["deleted"] == 2
        polled = tmp_path / "polled" / "clio_sync.duckdb"
        sync(polled, settings_for(world.sb, tmp_path / "polled"))
        for table in all_tables():
            assert columns(world.db, table) == columns(polled, table), table
            hooked, truth = rows(world.db, table), rows(polled, table)
            assert hooked, f"{table}: no webhook rows"
            for key, row in hooked.items():
                assert row == truth[key], f"{table} {key}"
        bill5 = world.query("SELECT state FROM clio.bills WHERE id = 5")
        assert bill5 == [("deleted",)]

    def test_events_after_a_sync_keep_the_warehouse_equal_to_clio(self, world):
        world.sync()
        world.subscribe()
        self._change_everything(world)
        world.sb.reset_stats()
        report = world.apply()
        world.assert_truth()
        assert world.query("SELECT count(*) FROM clio.contacts WHERE id = 12") == [(0,)]
        assert world.query("SELECT id FROM clio._tombstones ORDER BY id") == [(4,), (12,)]
        # every delivery carried the catalog's fields: Clio was not asked for anything
        assert world.sb.stats()["requests"] == [] and "fetched" not in report.outcomes

    def test_lag_is_recorded_for_every_applied_event(self, world):
        world.subscribe()
        world.edit("contacts", 3, name="Lag")
        world.flush()
        world.apply()
        ((outcome, lag),) = world.query(
            "SELECT outcome, lag_seconds FROM clio._webhook_applies")
        assert outcome == "upserted" and 0 < lag < 30

    @pytest.mark.parametrize("batch_size", [1, 1000])
    def test_duplicates_and_reordering_give_the_same_final_state(self, world, batch_size):
        world.sync()
        world.subscribe()
        world.sb.faults(webhook_duplicates=True, webhook_reorder=True)
        for n in range(3):
            world.edit("contacts", 3, name=f"Version {n}")
            world.edit("bills", 1, memo=f"Memo {n}")
        world.new_contact("Brand new")
        world.edit("contacts", 5, name="Before its deletion")
        world.delete("contacts", 5)
        world.flush()
        events = world.inbox_rows()
        assert sum(e["state"] == "duplicate" for e in events) == len(events) // 2
        report = world.apply(batch_size=batch_size)
        world.assert_truth()
        assert report.events == len(events) // 2
        if batch_size == 1:  # newest first: every older version came after a newer one
            assert report.outcomes["stale"] >= 4 and report.outcomes["tombstoned"] == 1

    def test_a_late_older_update_after_a_delete_does_not_resurrect_the_row(self, world):
        world.sync()
        world.subscribe()
        world.sb.faults(webhook_reorder=True)  # the delete is delivered before the update
        world.edit("contacts", 7, name="Updated just before deletion")
        world.delete("contacts", 7)
        world.flush()
        assert [e["event"] for e in world.inbox_rows()] == ["deleted", "updated"]
        world.apply(batch_size=1)
        assert world.query("SELECT count(*) FROM clio.contacts WHERE id = 7") == [(0,)]
        assert [e["outcome"] for e in world.inbox_rows()] == ["deleted", "tombstoned"]
        world.cli("webhooks", "replay", "--db", str(world.db), "--since", "1h")
        world.apply(batch_size=1)
        world.sync()
        world.assert_truth()

    def test_an_updated_at_tie_with_another_etag_is_settled_by_fetching(self, world):
        world.sync()
        world.subscribe()
        edited = world.edit("contacts", 3, name="Clio's current version")
        world.flush()
        # the stored row: another version from the same second (unordered by updated_at)
        con = duckdb.connect(str(world.db))
        con.execute("UPDATE clio.contacts SET name = 'Same second', etag = '\"other\"',"
                    " updated_at = ?::TIMESTAMPTZ WHERE id = 3", [edited["updated_at"]])
        con.close()
        world.sb.reset_stats()
        report = world.apply()
        assert report.outcomes == {"fetched": 1}
        assert any("ids" in r["query"] for r in world.sb.stats()["requests"])
        world.assert_truth()

    def test_records_are_fetched_by_id_when_the_fields_do_not_fit_a_webhook(
        self, world, monkeypatch
    ):
        world.sync()
        monkeypatch.setattr(subscriptions, "MAX_FIELDS_LENGTH", 100)
        world.subscribe(("contact",))
        assert world.remote_hooks()["contact"]["fields"] == subscriptions.SHORT_FIELDS
        for n in range(1, 8):
            world.edit("contacts", n, name=f"Renamed {n}")
        world.delete("contacts", 11)
        world.flush()
        world.sb.reset_stats()
        report = world.apply()
        assert report.outcomes == {"fetched": 7, "deleted": 1}
        by_ids = [r for r in world.sb.stats()["requests"] if "ids" in r["query"]]
        assert len(by_ids) == 1  # seven ids in one request
        world.assert_truth()


    def test_records_clio_cannot_be_asked_about_wait_while_the_rest_is_applied(
        self, world, monkeypatch
    ):
        world.sync()
        monkeypatch.setattr(subscriptions, "MAX_FIELDS_LENGTH", 500)  # bills' 580 do not fit
        world.subscribe(("bill", "activity"))  # activities' 353 do
        assert world.remote_hooks()["bill"]["fields"] == subscriptions.SHORT_FIELDS
        world.edit("bills", 1, memo="Waits for Clio")
        world.edit("activities", 3, note="Applied at once")
        world.flush()
        world.settings = settings_for(world.sb, world.tmp_path, max_attempts=2,
                                      backoff_base=0.01)
        world.sb.faults(kind="503", count=100, path="bills.json")
        report = world.apply()
        assert report.outcomes == {"upserted": 1} and report.deferred == 1
        assert world.query("SELECT note FROM clio.activities WHERE id = 3") == [
            ("Applied at once",)]
        assert world.query("SELECT memo FROM clio.bills WHERE id = 1") != [("Waits for Clio",)]
        assert [e["state"] for e in world.inbox_rows("model = 'bill'")] == ["claimed"]
        world.sb.faults(clear=True)
        report = world.apply()
        assert report.outcomes == {"fetched": 1} and report.deferred == 0
        world.assert_truth()


class TestRejected:
    def test_deliveries_signed_with_another_secret_are_refused_and_stored_nowhere(self, world):
        world.sync()
        (sub,) = world.subscribe(("contact",))
        conn = store.connect(world.inbox)
        registry.update(conn, sub.token, secret="not-the-secret-clio-signs-with")
        conn.close()
        world.edit("contacts", 3, name="Forged?")
        world.flush()  # Clio retries, then gives up
        assert world.inbox_rows() == []
        assert world.apply().events == 0
        assert world.query("SELECT name FROM clio.contacts WHERE id = 3") != [("Forged?",)]
        assert world.remote_hooks()["contact"]["status"] == "suspended"

    def test_a_handshake_for_a_token_we_never_issued_is_refused(self, world):
        import httpx

        resp = httpx.post(f"{world.receiver.hooks_url}/made-up", content=b"{}",
                          headers={SECRET_HEADER: "x"})
        assert resp.status_code == 401
