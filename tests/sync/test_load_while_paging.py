"""Each endpoint is loaded, with its watermark, as soon as its walk ends, while the next
endpoints are paged; a later endpoint's failure keeps what the earlier ones loaded
(issue #12, item 3)."""

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
from pipelines.clio.errors import ClioBadResponse
from pipelines.clio.source import WalkOptions
from pipelines.clio.sync import sync

BARRIER_TIMEOUT = 15.0  # seconds: a barrier never reached fails the test, never hangs it


def watermarks(db: Path) -> dict[str, datetime]:
    rows = query(db, "select resource, updated_since from clio._sync_watermarks")
    return dict(rows)


def marked_by(db: Path) -> dict[str, str]:
    """The run that saved each watermark."""
    return dict(query(db, "select resource, run_id from clio._sync_watermarks"))


def run_ids(db: Path) -> list[tuple[str, str]]:
    return query(db, "select run_id, status from clio._sync_runs group by run_id, status "
                     "order by min(started_at)")


def since_sent(sb, path: str) -> datetime:
    """The `updated_since` the walk of `path` started from (from the request log)."""
    walks = [r for r in sb.stats()["requests"] if r["path"].endswith(path)]
    return datetime.fromisoformat(parse_qs(walks[0]["query"])["updated_since"][0])


def test_an_endpoint_loads_and_settles_while_the_next_one_is_paged(
    firm, tmp_path, db, monkeypatch
) -> None:
    bills_loading = threading.Event()  # bills' load has begun
    users_fetched = threading.Event()  # a users page came back from Clio
    users_walked = threading.Event()  # ...and reached the source
    at_load: dict[str, bool] = {}
    at_users: dict[str, object] = {}

    fetch = ClioClient.iter_pages

    def iter_pages(self, path, params=None, *, resource=None):  # type: ignore[no-untyped-def]
        if resource == "users":  # the barrier: users is paged once bills loads
            bills_loading.wait(BARRIER_TIMEOUT)
        for page in fetch(self, path, params, resource=resource):
            if resource == "users":
                users_fetched.set()
            yield page

    load = dlt.Pipeline.load

    def load_and_look(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        loading = {job.job_file_info.table_name
                   for load_id in self.list_normalized_load_packages()
                   for job in self.get_load_package_info(load_id).jobs["new_jobs"]}
        if "bills" in loading and not at_load:
            bills_loading.set()
            # Clio answers the next endpoint's pages during this load
            at_load["users_fetched"] = users_fetched.wait(BARRIER_TIMEOUT)
            at_load["users_walked"] = users_walked.is_set()
        return load(self, *args, **kwargs)

    def on_page(resource: str, page: object) -> None:
        if resource == "users" and not users_walked.is_set():
            users_walked.set()
            at_users["bills"] = query(db, "select count(*) from clio.bills")[0][0]
            at_users["marks"] = sorted(watermarks(db))

    monkeypatch.setattr(ClioClient, "iter_pages", iter_pages)
    monkeypatch.setattr(dlt.Pipeline, "load", load_and_look)
    summary = sync(db, settings_for(firm, tmp_path), resources=["bills", "users"],
                   options=WalkOptions(on_page=on_page))

    assert summary.status == "ok"
    # bills loaded while users was paged ahead of the source, not after its walk
    assert at_load == {"users_fetched": True, "users_walked": False}
    # and when the source reached users, bills' rows and watermark were committed
    assert at_users["bills"] == len(firm.truth("bills"))
    assert at_users["marks"] == ["bills"]
    assert_matches_truth(firm, db, ["bills", "users"])


def test_a_later_endpoints_failure_keeps_the_earlier_ones_and_it_is_read_again(
    firm, tmp_path, db
) -> None:
    settings = settings_for(firm, tmp_path)
    sync(db, settings, resources=["activities", "matters"])
    first = watermarks(db)
    firm.edit("activities", 2, {"total": 9.99})
    firm.edit("matters", 1, {"description": "Edited at Clio"})

    firm.reset_stats()
    firm.faults(kind="invalid_json", path="matters.json", count=50)
    with pytest.raises(ClioBadResponse):
        sync(db, settings, resources=["activities", "matters"])
    failed_from = since_sent(firm, "matters.json")

    (good, _), (failed, _) = runs = run_ids(db)
    assert [status for _, status in runs] == ["ok", "failed"]
    # activities walked before matters: loaded, with its watermark saved by the failed run
    assert marked_by(db) == {"activities": failed, "matters": good}
    assert query(db, "select total from clio.activities where id = 2") == [(Decimal("9.99"),)]
    # matters failed: its rows and watermark are the last good run's
    assert watermarks(db)["matters"] == first["matters"]
    assert query(db, "select description from clio.matters where id = 1") != [("Edited at Clio",)]

    firm.faults(clear=True)
    firm.reset_stats()
    assert sync(db, settings, resources=["activities", "matters"]).status == "ok"
    # matters is read again from where the failed run started it; activities from its new mark
    assert since_sent(firm, "matters.json") == failed_from == first["matters"]
    assert_matches_truth(firm, db, ["activities", "matters"])
