"""Deletes are final on every path: `reconcile` tombstones what it deletes, and no older
copy of a deleted record (a load, a package left by a killed run) brings it back
(issue #8, item 4). The webhook side is in tests/webhooks/test_deletes_final.py."""

from __future__ import annotations

import copy

from sync_helpers import assert_matches_truth, query, settings_for

from pipelines.clio.load import load_records
from pipelines.clio.reconcile import reconcile
from pipelines.clio.sync import sync


def tombstones(db) -> list[tuple]:
    """(table, id, source) of every tombstone (none when the ledger was never needed)."""
    exists = query(db, "select count(*) from information_schema.tables "
                       "where table_schema = 'clio' and table_name = '_tombstones'")
    if exists == [(0,)]:
        return []
    return query(db, "select table_name, id, source from clio._tombstones order by all")


def deletable_contact(firm) -> dict:
    return copy.deepcopy(firm.truth("contacts")[-1])  # referenced by nothing: Clio lets it go


class TestReconcileTombstones:
    def test_reconcile_records_what_it_deletes_in_the_ledger(self, firm, tmp_path, db) -> None:
        settings = settings_for(firm, tmp_path)
        sync(db, settings)
        gone = deletable_contact(firm)["id"]
        firm.delete("contacts", gone)

        reconcile(db, settings, resources=["contacts"])

        assert tombstones(db) == [("contacts", gone, "reconcile")]

    def test_an_older_copy_loaded_later_does_not_bring_the_record_back(
        self, firm, tmp_path, db
    ) -> None:
        settings = settings_for(firm, tmp_path)
        sync(db, settings)
        old_copy = deletable_contact(firm)
        firm.delete("contacts", old_copy["id"])
        reconcile(db, settings, resources=["contacts"])

        load_records(db, "contacts", [old_copy])  # the sync's own load path, dlt included

        assert query(db, "select count(*) from clio.contacts where id = ?", [old_copy["id"]]) == [(0,)]
        sync(db, settings, full_refresh=True)
        assert_matches_truth(firm, db, ["contacts"])


class TestMassDeleteGuard:
    def test_an_empty_listing_deletes_nothing_unless_allowed(self, sandbox, tmp_path, db) -> None:
        settings = settings_for(sandbox, tmp_path)
        sync(db, settings)
        here = query(db, "select count(*) from clio.contacts")[0][0]
        assert here >= 20
        sandbox.faults(kind="empty", path="contacts.json", count=100)

        (held,) = reconcile(db, settings, resources=["contacts"])

        assert (held.at_clio, held.deleted, held.held_back) == (0, 0, here)
        assert query(db, "select count(*) from clio.contacts") == [(here,)]
        assert tombstones(db) == []

        (forced,) = reconcile(db, settings, resources=["contacts"], allow_mass_delete=True)
        assert (forced.deleted, forced.held_back) == (here, 0)
