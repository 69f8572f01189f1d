"""dlt's working folder keeps no copy of the data once it is loaded (issue #8, item 15):
loaded packages are deleted (or the newest few kept, if asked), and dlt's staging tables
are emptied, so a record deleted at Clio leaves no trace beside the warehouse."""

from __future__ import annotations

from pathlib import Path

import pytest
from sync_helpers import query, settings_for

from pipelines import warehouse
from pipelines.clio.load import make_pipeline
from pipelines.clio.reconcile import reconcile
from pipelines.clio.sync import sync
from pipelines.errors import ConfigError


def files_mentioning(folder: Path, needle: str) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def staging_rows(db: Path) -> int:
    tables = query(db, "select table_name from information_schema.tables where "
                       "table_schema = 'clio_staging' and table_name not like '\\_dlt%' escape '\\'")
    return sum(query(db, f'select count(*) from clio_staging."{t}"')[0][0] for (t,) in tables)


def test_a_deleted_contact_leaves_no_copy_in_dlts_folder_or_staging(firm, tmp_path, db) -> None:
    settings = settings_for(firm, tmp_path)
    contact = firm.truth("contacts")[-1]  # referenced by nothing: Clio lets it go
    personal = "zelda.tracewell@example.test"
    sync(db, settings)
    firm.edit("contacts", contact["id"], {"primary_email_address": personal})
    sync(db, settings)  # a merge: the contact passes through dlt's staging tables
    assert query(db, "select count(*) from clio.contacts where primary_email_address = ?",
                 [personal]) == [(1,)]
    firm.delete("contacts", contact["id"])
    reconcile(db, settings, resources=["contacts"])

    assert files_mentioning(warehouse.pipelines_dir(db), personal) == []
    assert staging_rows(db) == 0
    assert make_pipeline(db).list_completed_load_packages() == []


def test_the_newest_packages_are_kept_when_asked(firm, tmp_path, db, monkeypatch) -> None:
    monkeypatch.setenv("WAREHOUSE__KEEP_LOAD_PACKAGES", "2")
    settings = settings_for(firm, tmp_path)
    for _ in range(3):
        sync(db, settings)
    assert len(make_pipeline(db).list_completed_load_packages()) == 2


def test_a_mistyped_setting_is_a_clear_error(firm, tmp_path, db, monkeypatch) -> None:
    monkeypatch.setenv("WAREHOUSE__KEEP_LOAD_PACKAGES", "some")
    with pytest.raises(ConfigError, match="KEEP_LOAD_PACKAGES"):
        sync(db, settings_for(firm, tmp_path))
