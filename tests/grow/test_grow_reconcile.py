"""Grow deletions found by an ids scan (`reconcile`), recorded in `grow._tombstones`;
leads that became matters are never taken for deleted."""

from __future__ import annotations

from pathlib import Path

import pytest
from grow_helpers import UNTHROTTLED, assert_matches_truth, grow_settings, query

from pipelines.grow.reconcile import reconcile_grow
from pipelines.grow.sync import grow_sync, select_resources
from pipelines.sandbox.grow.options import GrowOptions
from pipelines.sandbox.harness import serve_sandbox

WITH_NOTES = [r.table for r in select_resources(None, notes=True)]


def _gone_and_kept(sb, db: Path) -> tuple[dict[str, list[int]], int]:
    """Delete a few records at Grow (and convert one lead); returns the ids reconcile
    should delete here by table, and the converted lead."""
    matters = sb.grow.truth("matters")
    declined = next(m for m in matters if m["status_category"] == "declined" and m["inbox_lead_id"])
    leads = sb.grow.truth("inbox_leads")
    ignored = next(lead for lead in leads if lead["state"] == "ignored")
    untriaged = next(lead for lead in leads if lead["state"] == "untriaged")
    note = sb.grow.truth("contact_notes")[0]
    its_notes = [n["id"] for n in sb.grow.truth("matter_notes") if n["matter_id"] == declined["id"]]
    sb.grow.delete("matters", declined["id"])  # takes its lead and notes with it
    sb.grow.delete("inbox_leads", ignored["id"])
    sb.grow.delete("contact_notes", note["id"])
    sb.grow.convert(untriaged["id"])  # leaves the inbox: not a deletion
    stored_leads = {i for (i,) in query(db, "select id from grow.inbox_leads")}
    gone = {"matters": [declined["id"]],
            # where Grow hides converted leads, the declined matter's was never stored
            "inbox_leads": sorted({declined["inbox_lead_id"], ignored["id"]} & stored_leads),
            "contact_notes": [note["id"]], "matter_notes": its_notes}
    return {table: ids for table, ids in gone.items() if ids}, untriaged["id"]


@pytest.mark.parametrize("converted_leads", ["show", "404"])
def test_reconcile_deletes_what_grow_no_longer_has_and_keeps_converted_leads(
        tmp_path: Path, db: Path, converted_leads: str) -> None:
    options = GrowOptions(rate_limit=None, page_size=40, converted_leads=converted_leads)
    with serve_sandbox(rate_limit=None, grow=options) as sb:
        settings = grow_settings(sb, tmp_path, notes=True)
        grow_sync(db, settings)
        gone, converted = _gone_and_kept(sb, db)
        results = {r.table: r for r in reconcile_grow(db, settings)}
        for table, ids in gone.items():
            assert results[f"grow.{table}"].deleted == len(ids)
            assert query(db, f"select id from grow.{table} where id in (select unnest(?))",
                         [ids]) == []
            assert query(db, "select id from grow._tombstones where table_name = ? "
                             "and source = 'reconcile' order by id", [table]) == [(i,) for i in ids]
        assert query(db, "select count(*) from grow.inbox_leads where id = ?", [converted]) == [(1,)]
        assert sum(r.deleted for r in results.values()) == sum(map(len, gone.values()))
        grow_sync(db, settings)
        if converted_leads == "show":
            assert_matches_truth(sb, db, WITH_NOTES)
        else:  # the converted lead keeps the state the inbox last showed
            assert_matches_truth(sb, db, [t for t in WITH_NOTES if t != "inbox_leads"])


def test_reconcile_without_changes_deletes_nothing_and_a_second_run_finds_nothing(
        tmp_path: Path, db: Path) -> None:
    with serve_sandbox(rate_limit=None, grow=UNTHROTTLED) as sb:
        settings = grow_settings(sb, tmp_path)
        grow_sync(db, settings)
        assert sum(r.deleted for r in reconcile_grow(db, settings)) == 0
        sb.advance(days=30)
        grow_sync(db, settings)
        first = sum(r.deleted for r in reconcile_grow(db, settings))
        assert sum(r.deleted for r in reconcile_grow(db, settings)) == 0
        assert_matches_truth(sb, db)
        assert first == query(db, "select count(*) from grow._tombstones")[0][0]
