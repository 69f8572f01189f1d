"""DuckDB's memory limit of a load: 32 MB when it merges nothing, 64 MB when it merges,
192 MB when a package merges a table of a million rows or more. A replace (a full
refresh) streams its rows into the staging table and swaps them in with one INSERT ...
SELECT, which fits the streaming limit whatever the table's size; a merge, which
deduplicates the staged rows by id, needs more (#12.2). The million-row loads are soak
tests (`pytest -m soak`); the default run checks the same choices on small loads."""

from __future__ import annotations

import logging
from pathlib import Path

import dlt
import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from pipelines.clio import direct_replace, load, walk_slices
from pipelines.clio.load import make_pipeline, run_pipeline
from pipelines.clio.source import BATCH_ROWS

ROWS = 1_300_000  # the merge of these ran out of memory at 64 MB
BATCH = BATCH_ROWS  # a sync's tables come in batches (Parquet row groups) of this many rows


def wide_table(rows: int, strings: int = 12) -> pa.Table:
    ids = pa.array(np.arange(rows, dtype=np.int64))
    columns = {"id": ids}
    for i in range(strings):
        columns[f"s{i}"] = pc.binary_join_element_wise(f"column {i} value ", pc.cast(ids, pa.string()), "")
    for i in range(8):
        columns[f"n{i}"] = pc.multiply(ids, i + 1)
    for i in range(6):
        columns[f"t{i}"] = pc.cast(pc.multiply(ids, 1_000_000 * (i + 1)), pa.timestamp("us", tz="UTC"))
    return pa.table(columns)


def limit_of(pipeline: dlt.Pipeline) -> str:
    """The memory limit the pipeline's last load ran under."""
    return pipeline.destination.config_params["credentials"].global_config["memory_limit"]


@pytest.mark.soak
def test_a_first_merge_of_over_a_million_rows_fits_the_memory_limit(tmp_path: Path) -> None:
    """DuckDB's memory limit for loads is small (it bounds the open warehouse's cache);
    this merge ran out of memory under it, so a load merging files this large gets more."""
    table = wide_table(ROWS)

    @dlt.resource(name="wide", primary_key="id", write_disposition="merge")
    def wide():  # type: ignore[no-untyped-def]
        yield from (pa.Table.from_batches([batch]) for batch in table.to_batches(100_000))

    db = tmp_path / "w.duckdb"
    run_pipeline(make_pipeline(db), wide())
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*), count(distinct id) from clio.wide").fetchone() == (ROWS, ROWS)


def test_a_merge_of_a_large_file_gets_the_roomy_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The choice by file size, quickly: the threshold lowered to this small file's size
    (the soak test above merges a million rows, which need the roomy limit)."""
    table = wide_table(3 * BATCH)

    @dlt.resource(name="wide", primary_key="id", write_disposition="merge")
    def wide():  # type: ignore[no-untyped-def]
        yield from (pa.Table.from_batches([batch]) for batch in table.to_batches(BATCH))

    pipeline = make_pipeline(tmp_path / "w.duckdb")
    pipeline.extract(wide())
    pipeline.normalize()
    (size,) = load._files_to_load(pipeline, merged=True)
    monkeypatch.setattr(load, "ROOMY_FROM_BYTES", size + 1)
    load._limit_memory(pipeline)
    assert limit_of(pipeline) == load.DUCKDB_MEMORY_LIMIT  # one byte short of the threshold
    monkeypatch.setattr(load, "ROOMY_FROM_BYTES", size)
    load._load(pipeline)
    assert limit_of(pipeline) == load.ROOMY_MEMORY_LIMIT
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from clio.wide").fetchone() == (3 * BATCH,)


@pytest.mark.soak
def test_a_replace_of_over_a_million_rows_loads_under_the_streaming_limit(tmp_path: Path) -> None:
    assert_replace_streams(tmp_path, ROWS)


def test_a_replace_loads_under_the_streaming_limit(tmp_path: Path) -> None:
    """The choice of limit, quickly (the soak test above shows a million rows fit it)."""
    assert_replace_streams(tmp_path, 3 * BATCH)


def assert_replace_streams(tmp_path: Path, rows: int) -> None:
    table = wide_table(rows)

    @dlt.resource(name="wide", primary_key="id", write_disposition="replace")
    def wide():  # type: ignore[no-untyped-def]
        yield from (pa.Table.from_batches([batch]) for batch in table.to_batches(BATCH))

    db = tmp_path / "w.duckdb"
    pipeline = make_pipeline(db)
    for _ in range(2):  # the second replaces a table of as many rows
        run_pipeline(pipeline, wide())
        assert limit_of(pipeline) == load.STREAMING_MEMORY_LIMIT
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*), count(distinct id) from clio.wide").fetchone() == (rows, rows)


@pytest.mark.soak
@pytest.mark.parametrize(("rows", "tables", "strings"),
                         [(ROWS, 2, 12), (100_000, 20, 12), (120_000, 1, 32)])
def test_a_direct_replace_of_millions_of_rows_fits_its_limit(
    tmp_path: Path, rows: int, tables: int, strings: int
) -> None:
    """Two tables of 1.3M rows, twenty of nearly a row group each (in one transaction
    DuckDB kept each table's last, partial row group in memory until the commit), or a
    row group of 47 columns (a firm ten times `large` has 120k bills: writing them took
    more than 32 MB)."""
    assert_direct_replace_streams(tmp_path, rows, tables, strings)


def test_a_direct_replace_streams_under_its_limit(tmp_path: Path) -> None:
    """The direct path's connection, quickly (the soak test above: millions of rows)."""
    assert_direct_replace_streams(tmp_path, 3 * BATCH)


def test_a_table_too_wide_for_the_limit_is_staged_once_more_under_a_roomier_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The soak test's row group of 47 columns, made to fail quickly by a tinier limit."""
    monkeypatch.setattr(load, "STREAMING_MEMORY_LIMIT", "8MB")
    with caplog.at_level(logging.INFO, logger=direct_replace.__name__):
        assert_direct_replace_streams(tmp_path, 3 * BATCH, 1, 32)
    assert f"once more under {direct_replace.ROOMIER_MEMORY_LIMIT}" in caplog.text


def assert_direct_replace_streams(tmp_path: Path, rows: int, tables: int = 2,
                                  strings: int = 12) -> None:
    """`tables` tables of `rows` wide rows replaced as `direct_replace.replace` replaces a
    group, twice (the second over full tables)."""
    table = wide_table(rows, strings)
    spooled = tmp_path / "wide.arrows"
    with pa.OSFile(str(spooled), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        for batch in table.to_batches(BATCH):
            writer.write_batch(batch)
    shape = table.schema.empty_table()  # noqa: F841 - read by DuckDB, below
    del table
    con = direct_replace.replacing_connection(tmp_path / "w.duckdb")
    try:
        assert con.execute("select current_setting('threads')").fetchone() == (1,)
        names = [f"t{i}" for i in range(tables)]
        for name in names:
            con.execute(f"create table {name} as select * from shape")
        for _ in range(2):
            direct_replace.swap_in(con, "main", dict.fromkeys(names, spooled), lambda con: None)
    finally:
        con.close()
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as check:
        for name in names:
            assert check.execute(f"select count(*), count(distinct id) from {name}").fetchone() == (rows, rows)
        assert check.execute("select count(*) from duckdb_tables()").fetchone() == (tables,)


@pytest.mark.slow
def test_a_sync_package_of_the_widest_rows_merges_under_the_small_limit(tmp_path: Path) -> None:
    """A sync merges in packages of `walk_slices.MAX_ROWS` rows (of all tables): one of
    27 wide columns keyed by strings (the hardest merge: calendar entries have string ids)
    merges under the small limit, the second into a table holding the first."""
    per_package = walk_slices.MAX_ROWS
    table = wide_table(2 * per_package)
    keys = pc.binary_join_element_wise("3f2504e0-4f89-11d3-9a0c-", pc.cast(table["id"], pa.string()), "")
    table = table.set_column(0, "id", keys)
    db = tmp_path / "w.duckdb"
    pipeline = make_pipeline(db)
    for start in (0, per_package):
        part = table.slice(start, per_package)

        @dlt.resource(name="wide", primary_key="id",
                      write_disposition={"disposition": "merge", "strategy": "delete-insert"})
        def wide(part: pa.Table = part):  # type: ignore[no-untyped-def]
            yield from (pa.Table.from_batches([batch]) for batch in part.to_batches(BATCH))

        run_pipeline(pipeline, wide())
        assert limit_of(pipeline) == load.DUCKDB_MEMORY_LIMIT
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*), count(distinct id) from clio.wide").fetchone() == (
            2 * per_package, 2 * per_package)


def test_a_limit_the_user_set_holds_for_every_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`CLIO_SYNC_DUCKDB_MEMORY_LIMIT` (read at import) replaces the choice by kind of load."""
    monkeypatch.setattr(load, "DUCKDB_MEMORY_LIMIT", "100MB")
    monkeypatch.setattr(load, "_LIMIT_SET_BY_USER", True)
    pipeline = make_pipeline(tmp_path / "w.duckdb")
    for disposition in ("replace", "merge"):

        @dlt.resource(name="small", primary_key="id", write_disposition=disposition)
        def small():  # type: ignore[no-untyped-def]
            yield wide_table(10)

        run_pipeline(pipeline, small())
        assert limit_of(pipeline) == "100MB"
