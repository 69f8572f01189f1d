"""A merging run loads each walk in packages of bounded size, so its memory does not grow
with the firm: a walk larger than a package is loaded in several, its watermark moves only
with the last, a failure after some keeps their rows and the walk is read again; a full
refresh still replaces each table in one package (#12.2)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from sync_helpers import assert_matches_truth, query, settings_for

from pipelines.clio import walk_slices
from pipelines.clio.errors import ClioBadResponse
from pipelines.clio.source import WalkOptions
from pipelines.clio.sync import sync

# one record a page and a batch: a package of two rows closes after each second record
ONE_BY_ONE = {"page_limit": 1, "batch_rows": 1}


def watermarks(db: Path) -> dict[str, datetime]:
    if not _exists(db, "_sync_watermarks"):
        return {}
    return dict(query(db, "select resource, updated_since from clio._sync_watermarks"))


def rows(db: Path, table: str) -> int:
    return query(db, f"select count(*) from clio.{table}")[0][0] if _exists(db, table) else 0


def packages(db: Path, table: str) -> int:
    return query(db, f"select count(distinct _dlt_load_id) from clio.{table}")[0][0]


def _exists(db: Path, table: str) -> bool:
    if not db.exists():
        return False
    return bool(query(db, "select 1 from information_schema.tables "
                          "where table_schema = 'clio' and table_name = ?", [table]))


def test_a_walk_larger_than_a_package_loads_in_several_and_moves_its_mark_with_the_last(
    firm, tmp_path, db, monkeypatch
) -> None:
    monkeypatch.setattr(walk_slices, "MAX_ROWS", 2)
    seen: list[tuple[int, bool]] = []  # at each page: rows committed, watermark saved

    def on_page(resource: str, page: object) -> None:
        if resource == "activities":
            seen.append((rows(db, "activities"), "activities" in watermarks(db)))

    summary = sync(db, settings_for(firm, tmp_path), resources=["activities"],
                   options=WalkOptions(on_page=on_page, **ONE_BY_ONE))

    assert summary.status == "ok"
    total = len(firm.truth("activities"))
    assert total == 4
    assert packages(db, "activities") == 2  # two records a package
    # the first package was committed while the walk went on, without the watermark
    assert seen == [(0, False), (0, False), (2, False), (2, False)]
    assert "activities" in watermarks(db)
    assert_matches_truth(firm, db, ["activities"])


def test_a_package_holds_whole_batches_a_bill_with_its_matters(
    firm, tmp_path, db, monkeypatch
) -> None:
    monkeypatch.setattr(walk_slices, "MAX_ROWS", 1)  # closed after every batch
    sync(db, settings_for(firm, tmp_path), resources=["bills"], options=WalkOptions(**ONE_BY_ONE))

    assert packages(db, "bills") == len(query(db, "select id from clio.bills")) > 1
    # every bill's matters came in the bill's own package
    assert query(db, "select count(*) from clio.bills b join clio.bills__matters m "
                     "on m.bill_id = b.id where m._dlt_load_id <> b._dlt_load_id") == [(0,)]
    assert_matches_truth(firm, db, ["bills"])


def test_a_failure_after_some_packages_keeps_their_rows_and_the_walk_is_read_again(
    firm, tmp_path, db, monkeypatch
) -> None:
    monkeypatch.setattr(walk_slices, "MAX_ROWS", 2)
    settings = settings_for(firm, tmp_path)
    firm.faults(kind="invalid_json", path="activities.json", after=3, count=50)
    with pytest.raises(ClioBadResponse):
        sync(db, settings, resources=["activities"], options=WalkOptions(**ONE_BY_ONE))

    assert rows(db, "activities") == 2  # the first package, merged before the failure
    assert "activities" not in watermarks(db)  # the walk did not end: no watermark

    firm.faults(clear=True)
    firm.edit("activities", 1, {"total": 9.99})  # a record of the kept package changes
    firm.reset_stats()
    assert sync(db, settings, resources=["activities"],
                options=WalkOptions(**ONE_BY_ONE)).status == "ok"
    # read again from the start (no watermark), and the kept rows are merged over
    walks = [r for r in firm.stats()["requests"] if r["path"].endswith("activities.json")]
    assert "updated_since" not in parse_qs(walks[0]["query"])
    assert_matches_truth(firm, db, ["activities"])


def test_a_full_refresh_replaces_each_table_in_one_package_whatever_its_size(
    firm, tmp_path, db, monkeypatch
) -> None:
    monkeypatch.setattr(walk_slices, "MAX_ROWS", 1)
    settings = settings_for(firm, tmp_path)
    sync(db, settings, resources=["activities"], options=WalkOptions(**ONE_BY_ONE))
    sync(db, settings, resources=["activities"], full_refresh=True,
         options=WalkOptions(**ONE_BY_ONE))
    # swapped in by one transaction: a table replaced in slices would keep only the last
    assert packages(db, "activities") == 1
    assert_matches_truth(firm, db, ["activities"])
