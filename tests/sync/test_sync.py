"""A sync against the sandbox over HTTP equals Clio's truth, with minimal requests."""

from __future__ import annotations

import math
import shutil
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from firm_fixture import NOW
from sync_helpers import (
    BY_PATH,
    DELETED_OUTRIGHT,
    assert_matches_truth,
    listed_by_walk,
    query,
    requires_generated_firm,
    settings_for,
    walk_key,
)

from pipelines import warehouse
from pipelines.clio.endpoints import BY_TABLE, ENDPOINTS
from pipelines.clio.errors import ClioBadResponse
from pipelines.clio.reconcile import reconcile
from pipelines.clio.source import WalkOptions
from pipelines.clio.sync import sync

SMALL_PAGES = WalkOptions(page_limit=7)  # forces paging on a tiny firm


def api_requests(sb) -> list[dict]:
    return [r for r in sb.stats()["requests"] if r["path"].startswith("/api/v4/")]


def incremental_requests(sb) -> list[dict]:
    """The API requests of incremental endpoints (the replaced ones take no `updated_since`)."""
    return [r for r in api_requests(sb)
            if BY_PATH[r["path"].removeprefix("/api/v4/")].incremental]


def requests_by_walk(sb) -> Counter:
    """API requests per (path, walk filters)."""
    counts: Counter = Counter()
    for r in api_requests(sb):
        path = r["path"].removeprefix("/api/v4/")
        counts[(path, walk_key(BY_PATH[path], parse_qs(r["query"])))] += 1
    return counts


def expected_full_requests(sb, limit: int) -> Counter:
    """⌈N/limit⌉ per walk (at least one): the plain index and each extra or required filter."""
    expected: Counter = Counter()
    for endpoint in ENDPOINTS:
        records = sb.truth(endpoint.table)
        page = min(limit, endpoint.limit)
        for walk in endpoint.walks:
            listed = sum(1 for r in records if listed_by_walk(endpoint, walk, r))
            expected[(endpoint.path, walk_key(endpoint, walk))] = max(1, math.ceil(listed / page))
    return expected


def watermarks(db: Path) -> dict[str, str]:
    """The stored watermarks (ISO times), by resource."""
    rows = query(db, "select resource, updated_since from clio._sync_watermarks")
    return {name: since.isoformat() for name, since in rows}


@pytest.fixture(params=["hand-built", pytest.param("generated", marks=requires_generated_firm)])
def any_firm(request):
    """Both the hand-built firm (awkward cases) and the generated tiny firm (realistic)."""
    return request.getfixturevalue("firm" if request.param == "hand-built" else "sandbox")


class TestFullSync:
    def test_equals_truth_for_every_endpoint_and_field(self, any_firm, tmp_path, db) -> None:
        summary = sync(db, settings_for(any_firm, tmp_path), options=SMALL_PAGES)
        assert summary.status == "ok"
        assert_matches_truth(any_firm, db)

    def test_costs_one_request_per_page_of_each_walk(self, any_firm, tmp_path, db) -> None:
        sync(db, settings_for(any_firm, tmp_path), options=SMALL_PAGES)
        assert requests_by_walk(any_firm) == expected_full_requests(any_firm, SMALL_PAGES.page_limit)

    def test_records_the_run_in_sync_runs(self, firm, tmp_path, db) -> None:
        summary = sync(db, settings_for(firm, tmp_path))
        rows = query(db, "select resource, status, requests, records from clio._sync_runs "
                         "where run_id = ? order by resource", [summary.run_id])
        assert [r[0] for r in rows] == sorted(BY_TABLE)
        assert {r[1] for r in rows} == {"ok"}
        assert sum(r[2] for r in rows) == len(api_requests(firm))
        assert sum(r[3] for r in rows) == summary.records > 0


class TestIncremental:
    @requires_generated_firm
    def test_after_advance_equals_truth(self, sandbox, tmp_path, db) -> None:
        settings = settings_for(sandbox, tmp_path)
        sync(db, settings)
        changes = sandbox.advance(days=2)
        assert sum(changes.values()) > 0
        sync(db, settings)
        # Clio's index never lists a hard-deleted record, so only reconcile (or a
        # webhook) can remove what the firm deleted; everything else is already equal
        gone = [r for r in reconcile(db, settings) if r.deleted]
        assert {r.table for r in gone} <= set(DELETED_OUTRIGHT)
        assert_matches_truth(sandbox, db)

    def test_edits_at_clio_are_merged_by_the_next_run(self, firm, tmp_path, db) -> None:
        settings = settings_for(firm, tmp_path)
        sync(db, settings)
        firm.edit("bills", 1, {"balance": 0.01, "matters": [{"id": 2, "display_number": "00002-Client"}]})
        firm.edit("contacts", 4, {"name": "Renamed"})
        firm.edit("activities", 3, {"total": 0.07})
        sync(db, settings)
        assert_matches_truth(firm, db)

    def test_no_change_costs_one_request_per_walk(self, any_firm, tmp_path, db) -> None:
        settings = settings_for(any_firm, tmp_path)
        sync(db, settings)
        any_firm.reset_stats()
        sync(db, settings)
        incremental_walks = sum(len(e.walks) for e in ENDPOINTS if e.incremental)
        # the replaced endpoints have no `updated_since`: they are read whole every run
        replaced = sum(math.ceil(len(any_firm.truth(e.table)) / e.limit) or 1
                       for e in ENDPOINTS if not e.incremental)
        assert len(api_requests(any_firm)) == incremental_walks + replaced
        assert all("updated_since=" in r["query"] for r in incremental_requests(any_firm))

    def test_record_edited_behind_the_cursor_is_caught_by_the_next_run(
        self, firm, tmp_path, db
    ) -> None:
        settings = settings_for(firm, tmp_path)
        first_page_id = firm.truth("contacts")[0]["id"]
        # edit a record of page 1 once page 2 has been asked for: the walk has passed it
        firm.edit("contacts", first_page_id, {"name": "Edited Behind Cursor"}, after_requests=2)
        sync(db, settings, resources=["contacts"], options=WalkOptions(page_limit=3))
        stored = query(db, "select name from clio.contacts where id = ?", [first_page_id])
        assert stored != [("Edited Behind Cursor",)], "the edit must land after page 1 was read"

        sync(db, settings, resources=["contacts"], options=WalkOptions(page_limit=3))
        assert query(db, "select name from clio.contacts where id = ?", [first_page_id]) == [
            ("Edited Behind Cursor",)
        ]
        assert_matches_truth(firm, db, ["contacts"])

    def test_watermark_is_server_time_at_start_minus_lag_not_max_updated_at(
        self, firm, tmp_path, db
    ) -> None:
        sync(db, settings_for(firm, tmp_path), resources=["contacts"],
             options=WalkOptions(lag=timedelta(seconds=90)))
        # the firm's clock (its `Date` header) stands at NOW; its newest contact is days older
        assert datetime.fromisoformat(watermarks(db)["contacts"]) == (
            datetime.fromisoformat(NOW) - timedelta(seconds=90)
        )


    def test_watermarks_are_stored_with_the_data_and_restored_from_it(
        self, firm, tmp_path, db
    ) -> None:
        settings = settings_for(firm, tmp_path)
        sync(db, settings)
        marks = watermarks(db)
        shutil.rmtree(warehouse.pipelines_dir(db))  # dlt's local working folder is gone
        firm.reset_stats()
        sync(db, settings)
        assert watermarks(db) == marks
        incremental = incremental_requests(firm)
        assert incremental and all("updated_since=" in r["query"] for r in incremental)


class TestFullRefresh:
    def test_starts_over_and_drops_rows_gone_at_clio(self, firm, tmp_path, db) -> None:
        settings = settings_for(firm, tmp_path)
        sync(db, settings)
        firm.delete("contacts", 12)
        firm.reset_stats()
        sync(db, settings, resources=["contacts", "bills"], full_refresh=True)
        assert all("updated_since" not in r["query"] for r in api_requests(firm))
        assert query(db, "select count(*) from clio.contacts where id = 12") == [(0,)]
        assert_matches_truth(firm, db, ["contacts", "bills"])


class TestFailures:
    def test_malformed_page_fails_clearly_and_commits_nothing(self, firm, tmp_path, db) -> None:
        settings = settings_for(firm, tmp_path)
        sync(db, settings)
        firm.edit("activities", 2, {"total": 9.99})
        before_marks = watermarks(db)
        before_rows = query(db, "select * exclude (_dlt_load_id) from clio.activities order by id")
        firm.faults(kind="invalid_json", path="matters.json", count=50)
        with pytest.raises(ClioBadResponse) as failure:
            sync(db, settings)
        assert "malformed" in str(failure.value)
        assert watermarks(db) == before_marks
        assert query(db, "select * exclude (_dlt_load_id) from clio.activities order by id") == before_rows
        assert query(db, "select status from clio._sync_runs order by finished_at desc limit 1") == [
            ("failed",)
        ]
        firm.faults(clear=True)
        sync(db, settings)
        assert_matches_truth(firm, db)
