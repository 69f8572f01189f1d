"""`clio-sync export parquet --out DIR` never deletes or overwrites what it did not write.

Each test runs the real command on a real warehouse in a project folder that holds what a
user's does: the warehouse, the webhook inbox, dlt's folder, `.dlt/secrets.toml`, a token
store and files of the user's own. A refused export must leave every byte of it as it was.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import duckdb
import pytest
from warehouse_fixture import (
    assert_one_paragraph_error,
    cli,
    copy_warehouse,
    template_warehouse,  # noqa: F401 - a fixture
    tree,
)

from pipelines.clio import export as export_module
from pipelines.clio import export_target

MARKER = ".clio-sync-export.json"


@pytest.fixture
def project(tmp_path: Path, template_warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> Path:  # noqa: F811
    """A project folder (the working directory) with a warehouse in `data/` and user files."""
    project = tmp_path / "project"
    copy_warehouse(template_warehouse, project / "data" / "clio_sync.duckdb")
    (project / "data" / ".dlt" / "clio_sync").mkdir(parents=True)
    (project / "data" / ".dlt" / "clio_sync" / "state.json").write_text("{}")
    (project / "data" / "notes.txt").write_text("the user's own file\n")
    (project / ".dlt").mkdir()
    (project / ".dlt" / "secrets.toml").write_text('[sources.clio.credentials]\nclient_secret = "s"\n')
    (project / ".clio-sync").mkdir()
    (project / ".clio-sync" / "token.json").write_text('{"refresh_token": "r"}')
    monkeypatch.chdir(project)
    return project


def db_of(project: Path) -> Path:
    return project / "data" / "clio_sync.duckdb"


def export(capsys: pytest.CaptureFixture[str], project: Path, out: str | Path) -> tuple[int, str, str]:
    return cli(capsys, "export", "parquet", "--db", str(db_of(project)), "--out", str(out))


def assert_refused(capsys, project: Path, out: str | Path, *words: str) -> str:
    """Exporting to `out` fails with one paragraph and leaves the project as it was."""
    before = tree(project)
    code, _, err = export(capsys, project, out)
    assert code == 1
    message = assert_one_paragraph_error(err, "ExportError")
    for word in words:
        assert word in message, message
    assert tree(project) == before
    return message


def add_inbox(project: Path) -> Path:
    inbox = project / "data" / "webhooks.sqlite"
    with sqlite3.connect(inbox) as con:
        con.execute("create table events (seq integer primary key, body blob)")
        con.execute("insert into events values (1, x'00')")
    con.close()
    return inbox


class TestRefusedTargets:
    def test_the_warehouse_folder_is_refused(self, capsys, project) -> None:
        add_inbox(project)
        message = assert_refused(capsys, project, "data", "holds the warehouse")
        assert str(project / "data") in message

    def test_the_project_folder_is_refused(self, capsys, project) -> None:
        assert_refused(capsys, project, ".", "holds the warehouse")

    def test_the_warehouse_file_is_refused(self, capsys, project) -> None:
        assert_refused(capsys, project, "data/clio_sync.duckdb", "is the warehouse")
        with duckdb.connect(str(db_of(project)), read_only=True) as con:
            assert con.execute("select count(*) from clio.bills").fetchone()[0] > 0

    def test_the_inbox_is_refused(self, capsys, project) -> None:
        add_inbox(project)
        assert_refused(capsys, project, "data/webhooks.sqlite", "webhook inbox")

    @pytest.mark.parametrize("out", ["data/webhooks.sqlite", "data/clio_sync.duckdb.wal",
                                     "data/.dlt", "data/.dlt/elsewhere"])
    def test_the_warehouse_s_own_names_are_refused_even_before_they_exist(
        self, capsys, project, out
    ) -> None:
        assert_refused(capsys, project, out, "--out")
        assert not (project / "data" / "webhooks.sqlite").exists()

    def test_a_file_is_refused(self, capsys, project) -> None:
        assert_refused(capsys, project, "data/notes.txt", "is a file")

    def test_a_folder_of_the_user_s_is_refused_saying_what_to_do(self, capsys, project) -> None:
        (project / "reports").mkdir()
        (project / "reports" / "q3.xlsx").write_bytes(b"PK\x03\x04 the user's spreadsheet")
        message = assert_refused(capsys, project, "reports", "not an earlier export", MARKER)
        assert "empty" in message  # the fix: an empty or new folder

    def test_a_symlink_to_the_warehouse_folder_is_refused(self, capsys, project) -> None:
        (project / "exports").symlink_to(project / "data")
        assert_refused(capsys, project, "exports", "holds the warehouse")

    def test_a_folder_under_a_file_is_refused(self, capsys, project) -> None:
        assert_refused(capsys, project, "data/notes.txt/export", "notes.txt")

    def test_an_earlier_export_holding_a_file_of_the_user_s_is_refused(
        self, capsys, project
    ) -> None:
        assert export(capsys, project, "exp")[0] == 0
        (project / "exp" / "clio" / "my-notes.csv").write_text("mine")
        message = assert_refused(capsys, project, "exp", "my-notes.csv")
        assert "not written by" in message


class TestExports:
    def test_the_default_goes_beside_the_warehouse_with_a_marker(self, capsys, project) -> None:
        code, out, err = cli(capsys, "export", "parquet", "--db", str(db_of(project)))
        assert code == 0, err
        folder = project / "data" / "export"
        marker = json.loads((folder / MARKER).read_text())
        assert marker["warehouse"] == str(db_of(project))
        assert marker["version"] == 1 and marker["created_at"]
        written = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.parquet"))
        assert sorted(marker["files"]) == written
        assert {"clio/bills.parquet", "reports/ar_aging_detail.parquet"} <= set(written)
        assert str(folder) in out

    def test_an_empty_folder_becomes_the_export(self, capsys, project) -> None:
        (project / "out").mkdir()
        assert export(capsys, project, "out")[0] == 0
        assert (project / "out" / MARKER).is_file()
        assert (project / "out" / "clio" / "contacts.parquet").is_file()

    def test_an_earlier_export_is_replaced_and_nothing_is_left_beside_it(
        self, capsys, project
    ) -> None:
        with duckdb.connect(str(db_of(project))) as con:
            con.execute("create table clio.gone_since as select 1 as id")
        (project / "exports").mkdir()
        (project / "exports" / "readme.txt").write_text("the user's")
        assert export(capsys, project, "exports/firm")[0] == 0
        assert (project / "exports" / "firm" / "clio" / "gone_since.parquet").exists()
        with duckdb.connect(str(db_of(project))) as con:
            con.execute("drop table clio.gone_since")
            con.execute("update clio.contacts set name = 'Renamed' where id = 1")

        code, _, err = export(capsys, project, "exports/firm")

        assert code == 0, err
        firm = project / "exports" / "firm"
        assert not (firm / "clio" / "gone_since.parquet").exists()
        renamed = duckdb.sql(f"select name from '{firm}/clio/contacts.parquet' where id = 1")
        assert renamed.fetchall() == [("Renamed",)]
        assert sorted(p.name for p in (project / "exports").iterdir()) == ["firm", "readme.txt"]
        assert (project / "exports" / "readme.txt").read_text() == "the user's"

    def test_a_symlink_to_an_earlier_export_stays_a_link_to_the_new_one(
        self, capsys, project
    ) -> None:
        assert export(capsys, project, "real")[0] == 0
        (project / "latest").symlink_to(project / "real")
        assert export(capsys, project, "latest")[0] == 0
        assert (project / "latest").is_symlink()
        assert (project / "real" / MARKER).is_file()
        assert sorted(p.name for p in project.iterdir() if "real" in p.name) == ["real"]

    def test_temporary_names_never_clobber_files_of_the_user_s(self, capsys, project) -> None:
        # the names the export once used for its temporary and retired folders
        for name in (f".exp.tmp-{os.getpid()}", f".exp.old-{os.getpid()}"):
            (project / name).mkdir()
            (project / name / "keep.txt").write_text("mine")
        before = {k: v for k, v in tree(project).items() if k.startswith(".exp.")}
        assert export(capsys, project, "exp")[0] == 0
        assert export(capsys, project, "exp")[0] == 0
        assert {k: v for k, v in tree(project).items() if k.startswith(".exp.")} == before

    def test_a_failed_export_keeps_the_previous_one_and_removes_only_its_own_folder(
        self, capsys, project, monkeypatch
    ) -> None:
        assert export(capsys, project, "exp")[0] == 0
        before = tree(project)
        monkeypatch.setattr(export_module, "exportable",
                            lambda con: [("clio", "contacts"), ("clio", "no_such_table")])
        with pytest.raises(duckdb.Error):
            export_module.export_parquet(db_of(project), project / "exp")
        assert tree(project) == before


class TestSwap:
    @pytest.mark.parametrize("exchange", ["renameat2", "two renames"])
    def test_replacing_an_earlier_export_leaves_nothing_beside_it(
        self, capsys, project, monkeypatch, exchange
    ) -> None:
        if exchange == "two renames":  # as on systems without renameat2
            monkeypatch.setattr(export_target, "_exchange", lambda first, second: False)
        assert export(capsys, project, "exp")[0] == 0
        first = json.loads((project / "exp" / MARKER).read_text())["created_at"]
        names = sorted(p.name for p in project.iterdir())
        assert export(capsys, project, "exp")[0] == 0
        assert sorted(p.name for p in project.iterdir()) == names
        assert json.loads((project / "exp" / MARKER).read_text())["created_at"] >= first

    def test_a_file_put_in_the_earlier_export_while_writing_is_kept(
        self, project, caplog
    ) -> None:
        db = db_of(project)
        export_module.export_parquet(db, project / "exp")
        target = export_target.check_target(project / "exp", db)
        staging = export_target.make_staging(target)
        (project / "exp" / "clio" / "late.csv").write_text("added after the check")

        export_target.swap_in(staging, target)

        kept = [p for p in project.iterdir() if p.name.startswith(".exp.tmp-")]
        assert [p.relative_to(kept[0]).as_posix() for p in kept[0].rglob("*")] == [
            "clio", "clio/late.csv"
        ]
        assert (kept[0] / "clio" / "late.csv").read_text() == "added after the check"
        assert "Kept" in caplog.text


def test_the_inbox_beside_the_warehouse_is_the_webhook_store_s() -> None:
    from pipelines import warehouse
    from pipelines.webhooks import store

    db = Path("/srv/data/clio_sync.duckdb")
    assert store.inbox_path(db) in warehouse.own_paths(db)
