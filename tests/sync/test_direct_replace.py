"""A full refresh replaces the warehouse's tables without dlt's load (`direct_replace.py`):
the tables, their types and their rows are what dlt's load stores, each group is replaced
in one transaction, and what cannot be written directly goes through dlt (#12.2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sync_helpers import assert_matches_truth, query, settings_for

from pipelines import warehouse
from pipelines.clio import direct_replace
from pipelines.clio.endpoints import BY_TABLE, ENDPOINTS
from pipelines.clio.load import make_pipeline
from pipelines.clio.sync import sync
from pipelines.errors import ConfigError

BOOKKEEPING = ("_dlt_loads", "_dlt_version", "_dlt_pipeline_state", "_sync_runs",
               "_sync_watermarks")


def catalog_tables() -> list[str]:
    return sorted(name for e in ENDPOINTS for name in direct_replace.tables_of(e))


def columns(db: Path) -> dict[str, list[tuple[str, str, str]]]:
    """{table: [(column, type, nullable)]} of schema `clio`, bookkeeping tables aside."""
    found: dict[str, list[tuple[str, str, str]]] = {}
    for table, column, kind, nullable in query(
            db, "select table_name, column_name, data_type, is_nullable from "
                "information_schema.columns where table_schema = 'clio' "
                "order by table_name, column_name"):
        if table not in BOOKKEEPING:
            found.setdefault(table, []).append((column, kind, nullable))
    return found


def differences(direct: Path, through_dlt: Path) -> dict[str, tuple[int, int]]:
    """{table: (rows only in `direct`, rows only in `through_dlt`)} where they differ,
    every column compared but `_dlt_load_id` (each load has its own)."""
    con = warehouse.connect(direct)
    try:
        con.execute(f"attach '{through_dlt}' as other (read_only)")
        found = {}
        for table in catalog_tables():
            names = [c for (c,) in con.execute(
                "select column_name from information_schema.columns where table_catalog = ? "
                "and table_schema = 'clio' and table_name = ? and column_name <> '_dlt_load_id'",
                [direct.stem, table]).fetchall()]
            cols = ", ".join(f'"{c}"' for c in names)
            mine = f'select {cols} from clio."{table}"'
            theirs = f'select {cols} from other.clio."{table}"'
            only_mine = con.execute(f"select count(*) from ({mine} except all {theirs})").fetchone()
            only_theirs = con.execute(f"select count(*) from ({theirs} except all {mine})").fetchone()
            assert only_mine is not None and only_theirs is not None
            if only_mine[0] or only_theirs[0]:
                found[table] = (only_mine[0], only_theirs[0])
        return found
    finally:
        con.close()


def spy_on_replace(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tables of the endpoints `direct_replace.replace` replaces from now on."""
    replaced: list[str] = []
    original = direct_replace.replace

    def replace(pipeline, db, endpoints, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        replaced.extend(e.table for e in endpoints)
        original(pipeline, db, endpoints, *args, **kwargs)

    monkeypatch.setattr(direct_replace, "replace", replace)
    return replaced


def test_a_full_refresh_stores_what_dlt_stores_first_and_again(
    sandbox, tmp_path, monkeypatch
) -> None:
    replaced = spy_on_replace(monkeypatch)
    direct, through_dlt = tmp_path / "direct" / "w.duckdb", tmp_path / "dlt" / "w.duckdb"
    settings = settings_for(sandbox, tmp_path)

    def refresh_both() -> None:
        monkeypatch.setenv("WAREHOUSE__REPLACE_PATH", "dlt")
        assert sync(through_dlt, settings, full_refresh=True).status == "ok"
        monkeypatch.setenv("WAREHOUSE__REPLACE_PATH", "direct")
        replaced.clear()
        assert sync(direct, settings, full_refresh=True).status == "ok"

    refresh_both()
    # a first run: dlt creates every table, empty, then each group is replaced directly
    assert sorted(replaced) == sorted(e.table for e in ENDPOINTS)
    assert columns(direct) == columns(through_dlt)
    assert set(columns(direct)) == set(catalog_tables())
    assert differences(direct, through_dlt) == {}
    assert_matches_truth(sandbox, direct)

    assert sum(sandbox.advance(days=3).values()) > 0  # new work, edits, payments, deletions
    refresh_both()  # over full tables
    assert sorted(replaced) == sorted(e.table for e in ENDPOINTS)
    assert columns(direct) == columns(through_dlt)
    assert differences(direct, through_dlt) == {}
    # every row's load is a completed load, and nothing of the spool is left
    assert query(direct, "select count(*) from clio.line_items where _dlt_load_id not in "
                         "(select load_id from clio._dlt_loads where status = 0)") == [(0,)]
    assert not list((warehouse.pipelines_dir(direct) / direct_replace.SPOOL).iterdir())


@pytest.mark.parametrize("replace_path", ["direct", "dlt"])
def test_the_table_of_records_all_gone_is_emptied(
    firm, tmp_path, db, monkeypatch, replace_path
) -> None:
    monkeypatch.setenv("WAREHOUSE__REPLACE_PATH", replace_path)
    settings = settings_for(firm, tmp_path)
    sync(db, settings, resources=["relationships"])
    assert query(db, "select count(*) from clio.relationships")[0][0] > 0
    for relationship in firm.truth("relationships"):
        firm.delete("relationships", relationship["id"])
    sync(db, settings, resources=["relationships"], full_refresh=True)  # it yields nothing
    assert query(db, "select count(*) from clio.relationships") == [(0,)]


def test_an_index_or_a_comment_someone_added_is_kept(firm, tmp_path, db) -> None:
    """The swap drops each table for its copy, and an index or a comment with it: a
    group whose tables carry one goes through dlt's load, which keeps them."""
    settings = settings_for(firm, tmp_path)
    sync(db, settings, resources=["matters", "contacts", "bills"])
    pipeline = make_pipeline(db)
    con = warehouse.connect(db)
    try:
        con.execute("create index matters_by_number on clio.matters(display_number)")
        con.execute("comment on column clio.contacts.name is 'as the firm writes it'")
    finally:
        con.close()
    assert not direct_replace.fits(pipeline, db, [BY_TABLE["matters"]])
    assert not direct_replace.fits(pipeline, db, [BY_TABLE["contacts"]])
    assert direct_replace.fits(pipeline, db, [BY_TABLE["bills"]])
    assert sync(db, settings, resources=["matters", "contacts", "bills"],
                full_refresh=True).status == "ok"
    assert query(db, "select index_name from duckdb_indexes()") == [("matters_by_number",)]
    assert query(db, "select comment from duckdb_columns() where schema_name = 'clio' "
                     "and table_name = 'contacts' "
                     "and column_name = 'name'") == [("as the firm writes it",)]
    assert_matches_truth(firm, db, ["matters", "contacts", "bills"])


def test_a_warehouse_without_a_column_goes_through_dlt(firm, tmp_path, db) -> None:
    sync(db, settings_for(firm, tmp_path), resources=["matters"])
    pipeline = make_pipeline(db)
    matters = [BY_TABLE["matters"]]
    assert direct_replace.fits(pipeline, db, matters)
    con = warehouse.connect(db)
    try:  # a warehouse of a version before the column
        con.execute("alter table clio.matters drop column description")
    finally:
        con.close()
    assert not direct_replace.fits(pipeline, db, matters)
    assert not direct_replace.fits(pipeline, db, [BY_TABLE["bills"]])  # never synced


def test_the_replace_path_is_direct_unless_dlt_is_chosen(monkeypatch) -> None:
    monkeypatch.delenv("WAREHOUSE__REPLACE_PATH", raising=False)
    assert direct_replace.replace_path() == "direct"
    monkeypatch.setenv("WAREHOUSE__REPLACE_PATH", "dlt")
    assert direct_replace.replace_path() == "dlt"


def test_a_typo_in_the_replace_path_fails_before_clio_is_read(
    firm, tmp_path, db, monkeypatch
) -> None:
    monkeypatch.setenv("WAREHOUSE__REPLACE_PATH", "dircet")
    firm.reset_stats()
    with pytest.raises(ConfigError, match="WAREHOUSE__REPLACE_PATH"):
        sync(db, settings_for(firm, tmp_path), full_refresh=True)
    assert not [r for r in firm.stats()["requests"] if "/api/v4/" in r["path"]]


def test_what_a_killed_refresh_spooled_is_deleted_by_the_next_run(firm, tmp_path, db) -> None:
    settings = settings_for(firm, tmp_path)
    sync(db, settings, resources=["matters"])
    spool = warehouse.pipelines_dir(db) / direct_replace.SPOOL / make_pipeline(db).pipeline_name
    spool.mkdir(parents=True)
    (spool / "matters.arrows").write_bytes(b"rows of a refresh killed while paging")
    mine = warehouse.pipelines_dir(db) / "notes.txt"  # beside it, not ours to delete
    mine.write_text("kept")
    sync(db, settings, resources=["matters"])  # not a refresh: it clears the spool too
    assert not spool.exists()
    assert mine.read_text() == "kept"
