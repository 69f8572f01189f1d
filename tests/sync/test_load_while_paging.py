"""A run that reads endpoints in full loads them in groups while the next group is paged:
each group is loaded and settled with its watermarks as soon as its walks end, a later
group's failure keeps the groups before it, and an incremental run loads once (#12.3)."""

from __future__ import annotations

import threading
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs

import dlt
import pytest
from sync_helpers import assert_matches_truth, query, settings_for

from pipelines.clio.client import ClioClient
from pipelines.clio.endpoints import BY_TABLE, ENDPOINTS
from pipelines.clio.errors import ClioBadResponse
from pipelines.clio.source import WalkOptions
from pipelines.clio.stats import RunStats
from pipelines.clio.sync import _next_group, sync
from pipelines.clio.walk_ahead import WalkAhead, plan_walks
from pipelines.clio.walk_plan import load_groups
from pipelines.clio.watermarks import Watermarks

BARRIER_TIMEOUT = 15.0  # seconds: a barrier never reached fails the test, never hangs it


def watermarks(db: Path) -> dict[str, datetime]:
    return dict(query(db, "select resource, updated_since from clio._sync_watermarks"))


def marked_by(db: Path) -> dict[str, str]:
    """The run that saved each watermark."""
    return dict(query(db, "select resource, run_id from clio._sync_watermarks"))


def runs(db: Path) -> list[tuple[str, str]]:
    return query(db, "select run_id, status from clio._sync_runs group by run_id, status "
                     "order by min(started_at)")


def loads(db: Path) -> int:
    return query(db, "select count(*) from clio._dlt_loads")[0][0]


def since_sent(sb, path: str) -> datetime:
    """The `updated_since` the walk of `path` started from (from the request log)."""
    walks = [r for r in sb.stats()["requests"] if r["path"].endswith(path)]
    return datetime.fromisoformat(parse_qs(walks[0]["query"])["updated_since"][0])


def test_the_plan_loads_activities_before_bills_in_groups_of_their_own() -> None:
    chosen = [BY_TABLE["bills"], BY_TABLE["activities"]]
    assert [[e.table for e in g] for g in load_groups(chosen, full=True)] == [
        ["activities"], ["bills"]]


def test_the_groups_after_the_first_load_together_until_clio_makes_the_run_wait(
    firm, tmp_path
) -> None:
    groups = load_groups(ENDPOINTS, full=True)
    assert len(groups) == 4
    stats = RunStats()
    with ClioClient(settings_for(firm, tmp_path), stats=stats) as client:
        ahead = WalkAhead(client, plan_walks(ENDPOINTS, Watermarks(start={})))  # not started:
        # nothing is paged ahead, so only the waits decide
        assert _next_group(groups, 0, ahead) == (groups[0], 1)  # the first loads alone
        # no wait yet: the run is the slower side, the rest loads once, at the end
        assert _next_group(groups, 1, ahead) == (groups[1] + groups[2] + groups[3], 4)
        stats.add("activities", waits=1, waits_seconds=0.5)  # Clio's limit made it wait
        assert _next_group(groups, 1, ahead) == (groups[1], 2)
        assert _next_group(groups, 3, ahead) == (groups[3], 4)


def test_a_group_loads_and_settles_while_the_next_one_is_paged(
    firm, tmp_path, db, monkeypatch
) -> None:
    activities_loading = threading.Event()  # the load of activities has begun
    bills_fetched = threading.Event()  # a bills page came back from Clio
    bills_walked = threading.Event()  # ...and reached the source
    at_load: dict[str, bool] = {}
    at_bills: dict[str, object] = {}

    fetch = ClioClient.iter_pages

    def iter_pages(self, path, params=None, *, resource=None, typed=None, page_ahead=False):  # type: ignore[no-untyped-def]
        if resource == "bills":  # the barrier: bills is paged once activities loads
            at_load["bills_waited"] = activities_loading.wait(BARRIER_TIMEOUT)
        for page in fetch(self, path, params, resource=resource, typed=typed, page_ahead=page_ahead):
            if resource == "bills":
                bills_fetched.set()
            yield page

    load = dlt.Pipeline.load

    def load_and_look(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        loading = {job.job_file_info.table_name
                   for load_id in self.list_normalized_load_packages()
                   for job in self.get_load_package_info(load_id).jobs["new_jobs"]}
        if "activities" in loading and not activities_loading.is_set():
            activities_loading.set()
            # Clio answers the next group's pages during this load
            at_load["bills_fetched"] = bills_fetched.wait(BARRIER_TIMEOUT)
            at_load["bills_walked"] = bills_walked.is_set()
        return load(self, *args, **kwargs)

    def on_page(resource: str, page: object) -> None:
        if resource == "bills" and not bills_walked.is_set():
            bills_walked.set()
            at_bills["activities"] = query(db, "select count(*) from clio.activities")[0][0]
            at_bills["marks"] = sorted(watermarks(db))

    monkeypatch.setattr(ClioClient, "iter_pages", iter_pages)
    monkeypatch.setattr(dlt.Pipeline, "load", load_and_look)
    summary = sync(db, settings_for(firm, tmp_path), resources=["bills", "activities"],
                   options=WalkOptions(on_page=on_page))

    assert summary.status == "ok"
    # bills was paged while activities loaded, ahead of the source, not after its walk
    assert at_load == {"bills_waited": True, "bills_fetched": True, "bills_walked": False}
    # and when the source reached bills, activities' rows and watermark were committed
    assert at_bills["activities"] == len(firm.truth("activities"))
    assert at_bills["marks"] == ["activities"]
    assert_matches_truth(firm, db, ["bills", "activities"])


def test_a_later_groups_failure_keeps_the_earlier_ones_and_it_is_read_again(
    firm, tmp_path, db
) -> None:
    settings = settings_for(firm, tmp_path)
    sync(db, settings, resources=["activities", "matters"])
    first = watermarks(db)
    firm.edit("activities", 2, {"total": 9.99})
    firm.edit("matters", 1, {"description": "Edited at Clio"})

    firm.reset_stats()
    firm.faults(kind="invalid_json", path="matters.json", count=50)
    with pytest.raises(ClioBadResponse):  # a full read: activities, then matters, loaded apart
        sync(db, settings, resources=["activities", "matters"], full_refresh=True)

    (good, _), (failed, _) = statuses = runs(db)
    assert [status for _, status in statuses] == ["ok", "failed"]
    # activities' group loaded, with its watermark saved by the failed run
    assert marked_by(db) == {"activities": failed, "matters": good}
    assert query(db, "select total from clio.activities where id = 2") == [(Decimal("9.99"),)]
    # matters' group failed: its rows and watermark are the last good run's
    assert watermarks(db)["matters"] == first["matters"]
    assert query(db, "select description from clio.matters where id = 1") != [("Edited at Clio",)]

    firm.faults(clear=True)
    firm.reset_stats()
    assert sync(db, settings, resources=["activities", "matters"]).status == "ok"
    # matters is read again from where the failed run found it
    assert since_sent(firm, "matters.json") == first["matters"]
    assert_matches_truth(firm, db, ["activities", "matters"])


def test_an_incremental_run_loads_once(firm, tmp_path, db) -> None:
    settings = settings_for(firm, tmp_path)
    sync(db, settings)
    before = loads(db)
    firm.edit("activities", 2, {"total": 9.99})
    firm.edit("communications", 1, {"subject": "Edited at Clio"})
    sync(db, settings)
    assert loads(db) - before == 2  # its data, then its `_sync_runs` rows
    assert_matches_truth(firm, db)


def test_a_full_refresh_of_the_lake_drops_each_groups_tables_once(
    firm, tmp_path, db, monkeypatch
) -> None:
    import duckdb

    lake = tmp_path / "lake"
    monkeypatch.setenv("DESTINATION__FILESYSTEM__BUCKET_URL", lake.as_uri())
    settings = settings_for(firm, tmp_path)
    chosen = ["activities", "bills", "communications"]  # three groups
    assert len(load_groups([BY_TABLE[t] for t in chosen], full=True)) == 3
    for full_refresh in (False, True):
        sync(db, settings, destination="filesystem", resources=chosen, full_refresh=full_refresh)
    for table in chosen:  # each table holds one copy: the refresh's, none dropped by another group
        [(rows, ids)] = duckdb.sql(f"select count(*), count(distinct id) "
                                   f"from '{lake}/clio/{table}/*.parquet'").fetchall()
        assert rows == ids == len(firm.truth(table)), table
