"""`export parquet --destination postgres` (#10.1): every raw table and report of the server
as Parquet, equal to the DuckDB export of the same firm (names, Arrow types, rows), with the
DuckDB export's guarantees: the marker, owner-only files, a folder of the user's refused."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pg_helpers import pg_query
from sync_helpers import sandbox_env

from pipelines.clio import export_server
from pipelines.clio.export import export_from_destination

REPO = Path(__file__).resolve().parents[2]
MARKER = ".clio-sync-export.json"
# Bookkeeping whose values are the run's own (ids, clocks): compared by columns and types only
RUN_OWN_TABLES = {"clio/_sync_runs.parquet", "clio/_sync_watermarks.parquet",
                  "clio/_tombstones.parquet"}


def clio_sync(sb, tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **sandbox_env(sb, tmp_path), "REPORTS__TODAY": "2026-11-20"}
    return subprocess.run([sys.executable, "-m", "pipelines", "--log-format", "plain", *argv],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def parquet_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.parquet"))


def comparable_rows(table: pa.Table) -> list[tuple]:
    """The rows without dlt's per-load columns (each run has its own ids), in one order."""
    names = [n for n in table.column_names if not n.startswith("_dlt_")]
    rows = table.select(names).to_pylist()
    return sorted((tuple(row.values()) for row in rows), key=repr)


def test_export_from_postgres_equals_the_duckdb_export(firm, pg, tmp_path, db,
                                                       monkeypatch) -> None:
    assert clio_sync(firm, tmp_path, "run", "--db", str(db), "--destination",
                     "postgres").returncode == 0
    local = tmp_path / "local" / "clio_sync.duckdb"
    assert clio_sync(firm, tmp_path, "run", "--db", str(local)).returncode == 0
    from_pg, from_duckdb = tmp_path / "from_pg", tmp_path / "from_duckdb"

    proc = clio_sync(firm, tmp_path, "export", "parquet", "--db", str(db), "--destination",
                     "postgres", "--out", str(from_pg))
    assert proc.returncode == 0, proc.stderr
    assert clio_sync(firm, tmp_path, "export", "parquet", "--db", str(local), "--out",
                     str(from_duckdb)).returncode == 0

    files = parquet_files(from_pg)
    assert files == parquet_files(from_duckdb)
    assert "clio/bills.parquet" in files and "reports/outstanding_balances.parquet" in files
    assert not any(name.split("/")[1].startswith("_dlt_") for name in files)
    for name in files:
        got, want = pq.read_table(from_pg / name), pq.read_table(from_duckdb / name)
        assert got.column_names == want.column_names, name
        if name.startswith("clio/"):
            assert got.schema.types == want.schema.types, name
        for field, wanted in zip(got.schema, want.schema, strict=True):
            if pa.types.is_decimal(wanted.type):  # money stays exact, never a float
                assert pa.types.is_decimal(field.type), f"{name}: {field}"
        if name not in RUN_OWN_TABLES:
            assert comparable_rows(got) == comparable_rows(want), name
    assert pq.read_table(from_pg / "clio/bills.parquet").num_rows > 0

    marker = json.loads((from_pg / MARKER).read_text())
    assert sorted(marker["files"]) == files
    assert "postgres" in marker["warehouse"] and "clio-test-pw" not in marker["warehouse"]
    for path in [from_pg, *from_pg.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))

    # a second export, streamed two rows at a time, replaces the first whole and is equal
    first = {name: pq.read_table(from_pg / name) for name in files}
    monkeypatch.setattr(export_server, "BATCH_ROWS", 2)
    monkeypatch.setenv("REPORTS__TODAY", "2026-11-20")
    written = export_from_destination(db, from_pg, "postgres")
    assert sorted(p.relative_to(from_pg).as_posix() for p in written) == files
    assert pq.read_table(from_pg / "clio/contacts.parquet").num_rows > 2  # several batches
    for name in files:
        assert pq.read_table(from_pg / name).equals(first[name]), name
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".from_pg")) == []


def test_a_folder_of_the_user_s_is_refused_and_kept(firm, pg, tmp_path, db) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("the user's own file\n")
    proc = clio_sync(firm, tmp_path, "export", "parquet", "--db", str(db), "--destination",
                     "postgres", "--out", str(out))
    assert proc.returncode == 1
    assert proc.stderr.startswith("ExportError: ") and "Traceback" not in proc.stderr
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert (out / "notes.txt").read_text() == "the user's own file\n"


def test_a_destination_that_is_not_postgresql_is_refused(tmp_path, db) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines", "export", "parquet", "--db", str(db),
         "--destination", "filesystem", "--out", str(tmp_path / "out")],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.startswith("ConfigError: ") and "PostgreSQL" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "out").exists()


def test_a_value_or_type_without_an_exact_parquet_type_is_a_clear_error(pg, tmp_path,
                                                                         db) -> None:
    pg_query(pg, "create schema clio; create table clio.amounts (id bigint, amount "
                 "numeric(18,2)); insert into clio.amounts values (1, 'NaN')")
    for relation, words in (("clio.amounts", ("clio.amounts", "does not fit")),
                            ("clio.spans", ("clio.spans", "interval"))):
        if relation == "clio.spans":
            pg_query(pg, "delete from clio.amounts; create table clio.spans (id bigint, "
                         "span interval)")
        proc = subprocess.run(
            [sys.executable, "-m", "pipelines", "export", "parquet", "--db", str(db),
             "--destination", "postgres", "--out", str(tmp_path / "out")],
            cwd=REPO, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 1, proc.stderr
        assert proc.stderr.startswith("ExportError: ") and "Traceback" not in proc.stderr
        assert all(word in proc.stderr for word in words), proc.stderr
        assert "clio-test-pw" not in proc.stderr
        assert not (tmp_path / "out").exists()
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]
