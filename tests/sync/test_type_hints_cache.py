"""dlt's schema checks with the type hints of its TypedDicts computed once
(`type_hints_cache.py`): the same answers, the same refusals, one computation per type."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_type_hints

import dlt
import duckdb
import pytest
from dlt.common import validation
from dlt.common.exceptions import DictValidationException
from dlt.common.schema.typing import TColumnSchema, TTableSchema

from pipelines.clio import type_hints_cache
from pipelines.clio.load import make_pipeline, run_pipeline


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The types whose hints were computed, not remembered, from a clean slate."""
    computed: list[Any] = []
    uncached = type_hints_cache._uncached

    def counting(obj: Any, *args: Any) -> dict[str, Any]:
        computed.append(obj)
        return uncached(obj, *args)

    monkeypatch.setattr(type_hints_cache, "_uncached", counting)
    monkeypatch.setattr(type_hints_cache, "_hints", {})
    monkeypatch.setattr(validation, "get_type_hints", validation.get_type_hints)
    type_hints_cache.cache_type_hints()
    return computed


def test_a_pipeline_made_here_checks_schemas_with_the_remembered_hints(tmp_path: Path) -> None:
    make_pipeline(tmp_path / "w.duckdb")
    assert validation.get_type_hints is type_hints_cache._cached_type_hints


def test_hints_are_computed_once_per_type_and_equal_typings(counted: list[Any]) -> None:
    table: dict[str, Any] = {"name": "bills", "columns": {"id": {"name": "id", "data_type": "bigint"}}}
    for _ in range(3):
        validation.validate_dict(TTableSchema, table, ".")
    assert counted.count(TTableSchema) == 1
    assert validation.get_type_hints(TColumnSchema) == get_type_hints(TColumnSchema)


def test_a_caller_changing_its_hints_changes_nobody_elses(counted: list[Any]) -> None:
    validation.get_type_hints(TTableSchema).clear()
    assert "columns" in validation.get_type_hints(TTableSchema)


def test_a_wrong_schema_is_still_refused_every_time(counted: list[Any]) -> None:
    wrong: dict[str, Any] = {"name": "bills", "write_disposition": "overwrite"}
    for _ in range(2):
        with pytest.raises(DictValidationException, match="write_disposition"):
            validation.validate_dict(TTableSchema, wrong, ".")
    with pytest.raises(DictValidationException, match="unexpected fields"):
        validation.validate_dict(TTableSchema, {"name": "bills", "colums": {}}, ".")


def test_a_load_through_it_types_its_columns_as_hinted(tmp_path: Path, counted: list[Any]) -> None:
    db = tmp_path / "w.duckdb"
    rows = dlt.resource([{"id": 1, "total": "12.50"}, {"id": 2, "total": "3"}], name="bills",
                        columns={"total": {"data_type": "decimal", "precision": 12, "scale": 2}})
    run_pipeline(make_pipeline(db), rows)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select data_type from information_schema.columns where "
                           "table_name = 'bills' and column_name = 'total'").fetchone() == (
            "DECIMAL(12,2)",)
        assert con.execute("select sum(total) from clio.bills").fetchone() == (
            pytest.approx(15.5),)
    assert TTableSchema in counted
