"""`_sync_runs` rows written straight into DuckDB (every run after the first) equal the
rows dlt loads (the first run), and their load is a completed one in `_dlt_loads`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from pipelines.clio.load import make_pipeline
from pipelines.clio.run_record import record_run
from pipelines.clio.stats import ResourceStats
from pipelines.clio.summary import RunSummary

STARTED = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def summary(run_id: str, status: str = "ok", error: str | None = None) -> RunSummary:
    return RunSummary(
        run_id=run_id, started_at=STARTED, destination="duckdb", full_refresh=False,
        finished_at=STARTED + timedelta(seconds=12.5), status=status, error=error,
        resources={"bills": ResourceStats(records=3, pages=1, requests=2, retries=1,
                                          throttled_429=1, waits_seconds=0.25, seconds=1.5),
                   "users": ResourceStats()},
    )


def runs(db: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute("SELECT * EXCLUDE (_dlt_load_id, _dlt_id) FROM clio._sync_runs"
                             " ORDER BY run_id, resource")
        types = [d[1] for d in cursor.description]
        found: dict[str, list[tuple]] = {}
        for row in cursor.fetchall():
            found.setdefault(row[0], []).append(row[1:])
        return {"types": [tuple(types)], **found}


def test_the_rows_written_directly_equal_the_rows_dlt_loads(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    pipeline = make_pipeline(db)
    record_run(pipeline, summary("first"))  # no table yet: dlt creates it
    record_run(pipeline, summary("second"))  # inserted directly
    record_run(pipeline, summary("third", "failed", "ClioUnauthorized"))
    found = runs(db)
    assert found["first"] == found["second"]
    assert [r[2:4] for r in found["third"]] == [("failed", "ClioUnauthorized")] * 2
    with duckdb.connect(str(db), read_only=True) as con:
        ids = con.execute("SELECT run_id, _dlt_id FROM clio._sync_runs ORDER BY ALL").fetchall()
        assert ("second", "second.bills") in ids  # the direct path's key: this ran without dlt
        # every row's load is a completed load of the pipeline's schema, as dlt's own is
        assert con.execute(
            "SELECT count(*), count(l.load_id), list(DISTINCT l.schema_name)"
            " FROM clio._sync_runs r LEFT JOIN clio._dlt_loads l ON l.load_id = r._dlt_load_id"
            " AND l.status = 0 AND l.schema_version_hash IS NOT NULL").fetchone() == (
                6, 6, [pipeline.default_schema_name])
        assert con.execute("SELECT count(DISTINCT _dlt_load_id) FROM clio._sync_runs").fetchone() == (3,)


def test_a_first_sync_records_its_run_without_a_load_of_its_own(firm, tmp_path, db) -> None:
    """The first load carries `_sync_runs`, empty: the rows go in the direct way, with the
    types dlt gives them, and the runs after find the table and carry nothing more."""
    from sync_helpers import settings_for

    from pipelines.clio.run_record import lacks_runs_table
    from pipelines.clio.sync import sync

    summary = sync(db, settings_for(firm, tmp_path))
    with duckdb.connect(str(db), read_only=True) as con:
        keys = con.execute("SELECT DISTINCT _dlt_id = run_id || '.' || resource"
                           " FROM clio._sync_runs").fetchall()
        loads = con.execute("SELECT count(DISTINCT _dlt_load_id) FROM clio._sync_runs").fetchone()
    assert keys == [(True,)] and loads == (1,)
    assert list(runs(db)) == ["types", summary.run_id]
    dlt_made = tmp_path / "dlt.duckdb"
    record_run(make_pipeline(dlt_made), summary)  # no table: dlt creates it and loads the rows
    assert runs(db) == runs(dlt_made)
    assert not lacks_runs_table(make_pipeline(db))
