"""The whole firm against the sandbox (#9.2, #9.3, #9.7): custom field values converge
whether or not editing one moves its record's `updated_at`, at a known request cost; and,
over seeds, days of life with incremental runs end equal to Clio in every table."""

from __future__ import annotations

import math
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sync_helpers import assert_matches_truth, query, requires_generated_firm, settings_for

from pipelines.clio.endpoints import BY_TABLE, ENDPOINTS
from pipelines.clio.reconcile import reconcile
from pipelines.clio.source import WalkOptions
from pipelines.clio.sync import sync
from pipelines.errors import ClioSyncError
from pipelines.sandbox.harness import serve_sandbox

VALUES = ["matters", "contacts"]  # the tables whose custom field values are checked
SMALL_PAGES = WalkOptions(page_limit=7)


def api_requests(sb) -> list[dict]:
    return [r for r in sb.stats()["requests"] if r["path"].startswith("/api/v4/")]


def requests_of(sb, table: str) -> int:
    return sum(1 for r in api_requests(sb) if r["path"] == f"/api/v4/{BY_TABLE[table].path}")


def stored_value(db: Path, matter_id: int, field_id: int) -> list[tuple]:
    return query(db, "select value from clio.matters__custom_field_values "
                     "where matter_id = ? and custom_field__id = ?", [matter_id, field_id])


@pytest.fixture
def silent_firm():
    """The hand-built firm, where editing a custom field value moves nothing of its record."""
    from firm_fixture import NOW, hand_built_firm

    with serve_sandbox(fixture=hand_built_firm(), fixture_now=NOW, rate_limit=None,
                       custom_field_edits="silent") as sb:
        yield sb


class TestCustomFieldValues:
    def test_an_edit_that_moves_the_record_is_read_by_the_next_incremental_run(
        self, firm, tmp_path, db
    ) -> None:
        settings = settings_for(firm, tmp_path)
        sync(db, settings)
        firm.set_custom_field_value("matters", 1, 2, "99.95")
        firm.set_custom_field_value("contacts", 3, 4, "false")
        firm.reset_stats()
        sync(db, settings)
        assert stored_value(db, 1, 2) == [("99.95",)]
        assert_matches_truth(firm, db, VALUES)
        assert requests_of(firm, "matters") == requests_of(firm, "contacts") == 1

    def test_an_edit_that_moves_nothing_is_read_by_the_periodic_full_read(
        self, silent_firm, tmp_path, db
    ) -> None:
        firm = silent_firm
        sync(db, settings_for(firm, tmp_path))
        firm.set_custom_field_value("matters", 1, 2, "99.95")
        firm.set_custom_field_value("contacts", 3, 4, "false")
        sync(db, settings_for(firm, tmp_path))  # incremental: Clio lists neither record
        assert stored_value(db, 1, 2) == [("1234567.89",)]

        firm.reset_stats()
        sync(db, settings_for(firm, tmp_path, reread_hours=0))  # the re-read is due
        assert stored_value(db, 1, 2) == [("99.95",)]
        assert_matches_truth(firm, db, VALUES)
        # its cost: the pages of a full read of matters and of contacts, once a period
        pages = {t: max(1, math.ceil(len(firm.truth(t)) / BY_TABLE[t].limit)) for t in VALUES}
        assert {t: requests_of(firm, t) for t in VALUES} == pages
        assert all("updated_since" not in r["query"] for r in api_requests(firm)
                   if r["path"].endswith(("/matters.json", "/contacts.json")))

    @requires_generated_firm
    @pytest.mark.soak
    def test_days_of_silent_edits_converge_once_the_period_has_passed(
        self, sandbox_factory, tmp_path, db
    ) -> None:
        sb = sandbox_factory(scale="tiny", seed=11, rate_limit=None, custom_field_edits="silent")
        settings = settings_for(sb, tmp_path)
        control = tmp_path / "never-reread" / "clio_sync.duckdb"
        never = settings_for(sb, tmp_path / "never-reread", reread_hours=10**6)
        for warehouse, how in ((db, settings), (control, never)):
            sync(warehouse, how)
        for _ in range(2):  # the second run after two days finds its full read a period old
            assert sum(sb.advance(days=2).values()) > 0
            for warehouse, how in ((db, settings), (control, never)):
                sync(warehouse, how)
                reconcile(warehouse, how)
        assert_matches_truth(sb, db)
        with pytest.raises(AssertionError, match="custom_field_values"):
            assert_matches_truth(sb, control, VALUES)  # the incremental walks alone miss them


class TestSnapshots:
    def test_billable_matters_is_replaced_so_a_matter_billed_since_leaves_it(
        self, firm, tmp_path, db
    ) -> None:
        settings = settings_for(firm, tmp_path)
        sync(db, settings)
        assert query(db, "select id, unbilled_amount from clio.billable_matters") == [
            (1, Decimal("1050.00"))]
        for activity in (3, 4):  # the matter's unbilled work is written off as non-billable
            firm.edit("activities", activity, {"non_billable": True})
        firm.reset_stats()
        sync(db, settings)
        assert firm.truth("billable_matters") == []
        assert query(db, "select count(*) from clio.billable_matters") == [(0,)]
        assert requests_of(firm, "billable_matters") == 1
        assert all("updated_since" not in r["query"] for r in api_requests(firm)
                   if r["path"].endswith("/billable_matters.json"))


class TestFaults:
    @requires_generated_firm
    def test_transient_faults_on_the_new_endpoints_are_retried_and_nothing_is_lost(
        self, sandbox, tmp_path, db
    ) -> None:
        settings = settings_for(sandbox, tmp_path, backoff_base=0.01)
        for kind, path in (("503", "notes.json"), ("truncated", "custom_fields.json"),
                           ("drop", "calendar_entries.json"), ("429", "billable_matters.json"),
                           ("invalid_json", "tasks.json")):
            sandbox.faults(kind=kind, path=path, after=1)
        sync(db, settings, options=SMALL_PAGES)
        assert_matches_truth(sandbox, db)
        sandbox.advance(days=2)
        sandbox.faults(kind="500", path="matters.json")
        sandbox.faults(kind="truncated", path="communications.json")
        sync(db, settings, options=SMALL_PAGES)
        reconcile(db, settings)
        assert_matches_truth(sandbox, db)

    @requires_generated_firm
    def test_a_run_failing_on_a_new_endpoint_loads_nothing_and_the_next_converges(
        self, sandbox, tmp_path, db
    ) -> None:
        settings = settings_for(sandbox, tmp_path, max_attempts=2, backoff_base=0.01)
        sync(db, settings)
        before = query(db, "select resource, updated_since from clio._sync_watermarks order by 1")
        sandbox.advance(days=2)
        sandbox.faults(kind="503", path="relationships.json", count=2)  # both attempts
        with pytest.raises(ClioSyncError):
            sync(db, settings)
        assert query(db, "select resource, updated_since from clio._sync_watermarks "
                         "order by 1") == before
        sync(db, settings)
        reconcile(db, settings)
        assert_matches_truth(sandbox, db)


@requires_generated_firm
@pytest.mark.soak
@settings(max_examples=4, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), days=st.lists(st.integers(1, 3), min_size=1, max_size=3),
       edits=st.sampled_from(["touch", "silent"]), page=st.sampled_from([None, 3, 50]))
def test_any_seed_and_days_of_life_end_equal_to_clio(seed, days, edits, page) -> None:
    """A tiny firm of any seed, full sync, then days of life each followed by `run` and
    `reconcile`: every table equals Clio, whichever way custom field edits go."""
    options = WalkOptions(page_limit=page)
    with tempfile.TemporaryDirectory() as tmp, serve_sandbox(
        scale="tiny", seed=seed, rate_limit=None, custom_field_edits=edits
    ) as sb:
        db = Path(tmp) / "clio_sync.duckdb"
        settings = settings_for(sb, Path(tmp), reread_hours=24)
        sync(db, settings, options=options)
        assert_matches_truth(sb, db)
        for n in days:
            sb.advance(days=n)
            sync(db, settings, options=options)
            reconcile(db, settings)
        if edits == "silent":  # a last run once the re-read is surely due
            sync(db, settings_for(sb, Path(tmp), reread_hours=0), options=options)
        assert_matches_truth(sb, db)
        assert {e.table for e in ENDPOINTS} <= {name for (name,) in query(
            db, "select table_name from information_schema.tables where table_schema = 'clio'")}
