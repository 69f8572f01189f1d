"""The Parquet files of a load package into DuckDB are written uncompressed (they live only
until they are loaded); the lake's files, which stay, are compressed; a user's setting wins."""

from __future__ import annotations

from pathlib import Path

import dlt
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines import warehouse
from pipelines.clio.load import make_pipeline, run_pipeline


def bills() -> dlt.sources.DltResource:
    table = pa.table({"id": list(range(500)), "subject": [f"Invoice {i % 7}" for i in range(500)]})
    return dlt.resource(table, name="bills")


def codecs(files: list[Path]) -> set[str]:
    assert files, "no Parquet file written"
    return {pq.ParquetFile(f).metadata.row_group(0).column(c).compression
            for f in files for c in range(pq.ParquetFile(f).metadata.num_columns)}


def package_files(db: Path) -> set[str]:
    pipeline = make_pipeline(db)
    pipeline.extract(bills())
    pipeline.normalize()
    return codecs(list(warehouse.pipelines_dir(db).rglob("*.parquet")))


def test_a_warehouse_load_package_is_uncompressed(tmp_path: Path) -> None:
    assert package_files(tmp_path / "w.duckdb") == {"UNCOMPRESSED"}


def test_the_users_data_writer_setting_wins(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATA_WRITER__COMPRESSION", "zstd")
    assert package_files(tmp_path / "w.duckdb") == {"ZSTD"}


def test_the_lakes_files_stay_compressed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lake = tmp_path / "lake"
    monkeypatch.setenv("DESTINATION__FILESYSTEM__BUCKET_URL", str(lake))
    run_pipeline(make_pipeline(tmp_path / "w.duckdb", "filesystem"), bills(),
                 loader_file_format="parquet")
    assert codecs(list(lake.rglob("*.parquet"))) == {"SNAPPY"}
