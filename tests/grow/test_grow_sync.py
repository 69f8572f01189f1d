"""The Grow source against the sandbox over HTTP: full and incremental syncs equal Grow's
truth field for field, leads that become matters are kept, watermarks come from the
server's clock, and what the sync cannot see is an error, not a silent gap."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from grow_helpers import UNTHROTTLED, assert_matches_truth, grow_settings, query, requests_to

from pipelines.clio.errors import ClioPermissionError
from pipelines.errors import ConfigError
from pipelines.grow.reconcile import reconcile_grow
from pipelines.grow.sync import grow_sync, select_resources
from pipelines.sandbox.grow.options import GrowOptions
from pipelines.sandbox.harness import serve_sandbox

WITH_NOTES = [r.table for r in select_resources(None, notes=True)]
DEFAULT = [r.table for r in select_resources(None)]


@pytest.mark.parametrize("options", [
    UNTHROTTLED,
    GrowOptions(rate_limit=None, page_size=25, end_of_list="null", timestamps="offset"),
    GrowOptions(rate_limit=None, page_size=33, end_of_list="empty", lead_rollout=False),
    GrowOptions(rate_limit=None, page_size=50, end_of_list="no_meta", who_am_i="bare"),
], ids=["absent-utc", "null-offset", "empty-no-rollout", "no-meta"])
def test_a_full_sync_equals_the_truth_field_for_field(tmp_path: Path, db: Path,
                                                      options: GrowOptions) -> None:
    tables = WITH_NOTES if options is UNTHROTTLED else DEFAULT
    with serve_sandbox(rate_limit=None, grow=options) as sb:
        summary = grow_sync(db, grow_settings(sb, tmp_path), resources=tables)
        assert summary.status == "ok"
        assert_matches_truth(sb, db, tables)
        assert sb.grow.counts()["matters"] > options.page_size  # paging was exercised


@pytest.mark.soak
def test_incremental_runs_after_days_of_life_equal_the_truth(tmp_path: Path, db: Path) -> None:
    with serve_sandbox(rate_limit=None, grow=UNTHROTTLED) as sb:
        settings = grow_settings(sb, tmp_path, notes=True)
        grow_sync(db, settings)
        for days in (3, 10, 1):
            changes = sb.advance(days=days)
            assert any(key.startswith("grow.") for key in changes)
            grow_sync(db, settings)
            reconcile_grow(db, settings)  # the firm's life deletes a few records too
            assert_matches_truth(sb, db, WITH_NOTES)


def test_an_incremental_run_without_changes_costs_one_request_per_walk(tmp_path: Path,
                                                                      db: Path) -> None:
    with serve_sandbox(rate_limit=None, grow=UNTHROTTLED) as sb:
        settings = grow_settings(sb, tmp_path)
        grow_sync(db, settings)
        sb.reset_stats()
        summary = grow_sync(db, settings)
        # seven lists, the inbox walked once per state
        assert summary.requests == len(select_resources(None)) + 1
        assert len(requests_to(sb, "/grow/")) == summary.requests
        assert {k: v.records for k, v in summary.resources.items() if v.records} == {}


def test_a_record_changed_behind_the_walk_is_read_next_run(tmp_path: Path, db: Path) -> None:
    with serve_sandbox(rate_limit=None, grow=UNTHROTTLED) as sb:
        settings = grow_settings(sb, tmp_path)
        first_matter = sb.grow.truth("matters")[0]["id"]
        grow_sync(db, settings, resources=[t for t in DEFAULT if t != "matters"])
        # the next run asks five lists for their changes (one request each), then reads
        # the matters in full: change their first record as their second page is asked
        # for, behind the cursor (Grow pages by id)
        sb.grow.edit("matters", first_matter, {"description": "Changed mid-run"},
                     after_requests=7)
        grow_sync(db, settings)
        stored = query(db, "select description from grow.matters where id = ?", [first_matter])
        assert stored != [("Changed mid-run",)]  # the run read it before the change
        grow_sync(db, settings)
        assert query(db, "select description from grow.matters where id = ?",
                     [first_matter]) == [("Changed mid-run",)]
        assert_matches_truth(sb, db)


def test_watermarks_come_from_the_servers_date_minus_the_lag(tmp_path: Path, db: Path) -> None:
    with serve_sandbox(rate_limit=None, grow=UNTHROTTLED) as sb:
        grow_sync(db, grow_settings(sb, tmp_path), resources=["grow.matters"])
        (mark,) = query(db, "select updated_since from grow._sync_watermarks "
                            "where resource = 'matters'")[0]
        # the firm's clock stands at 2026-11-20 17:00 -05:00 (22:00 UTC), not the wall clock
        assert mark == datetime(2026, 11, 20, 21, 59, tzinfo=UTC)  # minus the 60 s lag


def test_a_lead_that_becomes_a_matter_is_kept_and_found_through_it(tmp_path: Path,
                                                                   db: Path) -> None:
    with serve_sandbox(rate_limit=None, grow=UNTHROTTLED) as sb:
        settings = grow_settings(sb, tmp_path)
        grow_sync(db, settings)
        lead = next(r for r in sb.grow.truth("inbox_leads") if r["state"] == "untriaged")
        matter = sb.grow.convert(lead["id"])
        newcomer = _post_lead(sb)
        sb.grow.convert(newcomer)  # arrives and becomes a matter between two runs
        grow_sync(db, settings)
        for lead_id in (lead["id"], newcomer):
            assert query(db, "select m.id, l.state from grow.matters m join grow.inbox_leads l "
                             "on l.id = m.inbox_lead_id where l.id = ?", [lead_id])[0][1] == "accepted"
        assert query(db, "select inbox_lead_id from grow.matters where id = ?",
                     [matter["id"]]) == [(lead["id"],)]
        assert_matches_truth(sb, db)


def test_where_grow_hides_converted_leads_they_keep_their_last_state(tmp_path: Path,
                                                                     db: Path) -> None:
    options = GrowOptions(rate_limit=None, page_size=40, converted_leads="404")
    with serve_sandbox(rate_limit=None, grow=options) as sb:
        settings = grow_settings(sb, tmp_path)
        grow_sync(db, settings)
        lead = next(r for r in sb.grow.truth("inbox_leads") if r["state"] == "untriaged")
        matter = sb.grow.convert(lead["id"])
        newcomer = _post_lead(sb)
        sb.grow.convert(newcomer)
        grow_sync(db, settings)
        assert query(db, "select state from grow.inbox_leads where id = ?",
                     [lead["id"]]) == [("untriaged",)]
        assert query(db, "select count(*) from grow.inbox_leads where id = ?", [newcomer]) == [(0,)]
        assert query(db, "select inbox_lead_id from grow.matters where id = ?",
                     [matter["id"]]) == [(lead["id"],)]
        assert_matches_truth(sb, db, ["matters", "contacts"])


def _post_lead(sb) -> int:
    token = sb.grow.token()["access_token"]
    answer = httpx.post(f"{sb.grow.api_url}/inbox_leads", headers={"Authorization": f"Bearer {token}"},
                        json={"data": {"first_name": "New", "last_name": "Comer",
                                       "from_message": "Help", "from_source": "web",
                                       "referring_url": "https://example.com",
                                       "marketing_source": {"id": 2}}})
    assert answer.status_code == 201
    return answer.json()["data"]["id"]


def test_without_the_all_leads_scope_the_sync_stops_and_names_it(tmp_path: Path,
                                                                 db: Path) -> None:
    scopes = ["grow_matter_read", "grow_lead_inbox_read", "grow_custom_field_read"]
    with serve_sandbox(rate_limit=None, grow=UNTHROTTLED) as sb:
        with pytest.raises(ClioPermissionError) as raised:
            grow_sync(db, grow_settings(sb, tmp_path, scopes=scopes), resources=["matters"])
        assert "grow_lead_inbox_all_read" in str(raised.value)
        assert "clio-sync auth login --grow" in str(raised.value)
        assert query(db, "select count(*) from information_schema.tables "
                         "where table_schema = 'grow' and table_name = 'matters'") == [(0,)]


def test_a_missing_scope_is_named_as_the_portal_lists_it(tmp_path: Path, db: Path) -> None:
    with serve_sandbox(rate_limit=None, grow=UNTHROTTLED) as sb:
        settings = grow_settings(sb, tmp_path, scopes=["grow_user_read"])
        with pytest.raises(ClioPermissionError) as raised:
            grow_sync(db, settings, resources=["users", "locations"])
        message = str(raised.value)
        assert "grow_location_read" in message and '"location_read' not in message.split("said")[0]
        assert "SOURCES__GROW__SCOPES" in message and "auth login --grow" in message


def test_a_redirect_for_a_missing_scope_is_named_too(tmp_path: Path, db: Path) -> None:
    options = GrowOptions(rate_limit=None, missing_scope="redirect")
    with serve_sandbox(rate_limit=None, grow=options) as sb:
        settings = grow_settings(sb, tmp_path, scopes=["grow_user_read"])
        with pytest.raises(ClioPermissionError) as raised:
            grow_sync(db, settings, resources=["grow.sources"])
        assert "grow_lead_inbox_read" in str(raised.value)


def test_resources_are_named_with_or_without_the_schema() -> None:
    assert [r.table for r in select_resources(["grow.matters", "inbox_leads"])] == [
        "matters", "inbox_leads"]
    assert "contact_notes" not in [r.table for r in select_resources(None)]
    with pytest.raises(ConfigError, match=r"grow\.invoices"):
        select_resources(["grow.invoices"])
