"""The models, checks and reader commands on PostgreSQL (issue 10.2).

The demo firm (small, seed 7, a day of life) is synced into DuckDB over HTTP, its raw tables
are put on a throwaway PostgreSQL server with dlt's postgres destination (types kept), and
`clio-sync models --destination postgres --check` builds the same SQL files there,
transpiled by sqlglot. Every table of schema `reports` then equals DuckDB's, row for row.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import psycopg2
import pytest

from pipelines.reports.checks import run_checks
from pipelines.reports.dialect import READS_AS_DDL
from pipelines.reports.engine import Engine, open_destination
from pipelines.reports.runner import SQL_DIR, ModelBuildError, build_models
from pipelines.reports.settings import ReportSettings, apply_settings

from .conftest import DEMO_FIRM, SANDBOX_TZ
from .postgres_copy import copy_raw_tables

READER_PASSWORD = "reader-pw"  # a throwaway cluster on loopback


@dataclass(frozen=True)
class PostgresFirm:
    duckdb: Path  # the demo firm's DuckDB warehouse, models built
    dsn: str  # the same raw tables on PostgreSQL, models built by `clio-sync models`
    reader_dsn: str  # the same database as a role that may only read
    today: date
    built: subprocess.CompletedProcess[str]

    @property
    def settings(self) -> ReportSettings:
        return ReportSettings(timezone=SANDBOX_TZ, today=self.today)

    def env(self, **extra: str) -> dict[str, str]:
        """The commands' environment: both destinations, the firm's today and zone."""
        return {**os.environ, "DESTINATION__POSTGRES__CREDENTIALS": self.dsn,
                "DESTINATION__READER__DESTINATION_TYPE": "postgres",
                "DESTINATION__READER__CREDENTIALS": self.reader_dsn,
                "REPORTS__TODAY": self.today.isoformat(), "REPORTS__TIMEZONE": SANDBOX_TZ,
                **extra}


def clio_sync(firm: PostgresFirm, *argv: str, cwd: Path | None = None,
              **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipelines", *argv], env=firm.env(**env),
                          capture_output=True, text=True, timeout=300, cwd=cwd)


@pytest.fixture(scope="module")
def pg_firm(generated_firm, postgres_server, tmp_path_factory) -> PostgresFirm:
    demo = generated_firm(*DEMO_FIRM)["lived"]
    work = tmp_path_factory.mktemp("pg_models")
    dsn = postgres_server.create_database("reports_demo")
    copied = copy_raw_tables(demo.db, dsn, work)
    assert copied["clio.bills"] > 0 and copied["clio._sync_runs"] > 0
    reader_dsn = _reader_role(dsn, postgres_server)
    firm = PostgresFirm(demo.db, dsn, reader_dsn, demo.today, None)  # type: ignore[arg-type]
    built = clio_sync(firm, "models", "--destination", "postgres", "--check", cwd=work)
    return PostgresFirm(demo.db, dsn, reader_dsn, demo.today, built)


def _reader_role(dsn: str, server: Any) -> str:
    """A login role that may read every table and nothing more (PostgreSQL 14+)."""
    con = psycopg2.connect(dsn)
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute("select 1 from pg_roles where rolname = 'clio_reader'")
        if not cur.fetchone():
            cur.execute(f"create role clio_reader login password '{READER_PASSWORD}'")
        cur.execute("grant pg_read_all_data to clio_reader")
    con.close()
    return dsn.replace(f"{server.user}:{server.password}@", f"clio_reader:{READER_PASSWORD}@")


@pytest.fixture
def engine(pg_firm, monkeypatch) -> Engine:
    """A writer's connection to the firm's PostgreSQL database, aimed at its today."""
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", pg_firm.dsn)
    connection = open_destination("postgres")
    apply_settings(connection, pg_firm.settings)
    yield connection
    connection.close()


@pytest.fixture
def duck(pg_firm):
    connection = duckdb.connect(str(pg_firm.duckdb), read_only=True)
    apply_settings(connection, pg_firm.settings)
    yield connection
    connection.close()


def _value(v: Any) -> Any:
    return v.astimezone(UTC) if isinstance(v, datetime) else v


def _rows(cursor: Any) -> tuple[list[str], Counter[tuple[Any, ...]]]:
    columns = [d[0] for d in cursor.description]
    return columns, Counter(tuple(_value(v) for v in row) for row in cursor.fetchall())


def _differences(duck: duckdb.DuckDBPyConnection, engine: Engine, query: str,
                 params: list[Any] | None = None) -> str | None:
    """None when both engines return the same columns and rows, else what differs."""
    d_columns, d_rows = _rows(duck.execute(query, params or []))
    p_columns, p_rows = _rows(engine.execute(query, params or []))
    if d_columns != p_columns:
        return f"columns {d_columns} != {p_columns}"
    if d_rows != p_rows:
        only_duck = list((d_rows - p_rows).elements())[:3]
        only_pg = list((p_rows - d_rows).elements())[:3]
        return f"{sum(d_rows.values())} vs {sum(p_rows.values())} rows; DuckDB only {only_duck}; " \
               f"PostgreSQL only {only_pg}"
    return None


def test_models_build_and_checks_pass_on_postgres(pg_firm):
    assert pg_firm.built.returncode == 0, pg_firm.built.stderr
    for name in ("aging_sums_to_balances", "ar_matches_clio_outstanding", "trust_matches_clio",
                 "unbilled_matches_clio", "custom_field_values_are_typed"):
        assert f"{name}: ok" in pg_firm.built.stdout


def test_every_report_equals_duckdb_row_for_row(pg_firm, duck, engine):
    reports = [name for (name,) in duck.execute(
        "select table_name from information_schema.tables where table_schema = 'reports' "
        "and table_catalog = current_database() order by 1").fetchall()]
    assert {"ar_aging_detail", "paid_bills", "billing_kpis_monthly", "matter_custom_fields",
            "contact_custom_fields", "timekeeper_productivity_monthly"} <= set(reports)
    on_postgres = {name for (name,) in engine.execute(
        "select table_name from information_schema.tables where table_schema = 'reports'"
    ).fetchall()}
    assert on_postgres == set(reports)
    differing = {}
    for name in reports:
        count = duck.execute(f"select count(*) from reports.{name}").fetchone()[0]
        difference = _differences(duck, engine, f"select * from reports.{name}")
        if difference:
            differing[name] = difference
        elif name not in ("intake_funnel_monthly", "intake_hired_matters",
                          "intake_revenue_by_source"):  # Grow is not synced here
            assert count > 0, f"reports.{name} is empty: nothing compared"
    assert not differing


def test_every_model_of_every_layer_equals_duckdb(pg_firm, duck, engine):
    views = duck.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema in ('staging', 'intermediate') and table_catalog = current_database()"
    ).fetchall()
    assert len(views) > 40
    differing = {f"{s}.{n}": d for s, n in views
                 if (d := _differences(duck, engine, f"select * from {s}.{n}"))}
    assert not differing


def test_ar_aging_as_of_is_a_function_equal_to_the_macro(pg_firm, duck, engine):
    days = [pg_firm.today, pg_firm.today - timedelta(days=30), date(2026, 6, 30)]
    for day in days:
        assert _differences(duck, engine, "select * from reports.ar_aging_as_of(?)", [day]) is None
    kinds = engine.execute_native(
        "select prokind from pg_proc where proname = 'ar_aging_as_of'").fetchall()
    assert kinds == [("f",)]


def test_checks_pass_on_both_engines(pg_firm, duck, engine):
    for con in (duck, engine):
        results = run_checks(con)
        assert results and all(r.passed for r in results), [r.describe() for r in results]


def test_settings_are_custom_settings_on_postgres(pg_firm, engine):
    engine.execute_native("select set_config('clio_sync.today', '2026-01-31', false)")
    engine.execute_native("select set_config('clio_sync.aging_basis', 'issue_date', false)")
    assert engine.execute(
        "select today, aging_basis, firm_timezone from intermediate.firm_today").fetchone() \
        == (date(2026, 1, 31), "issue_date", SANDBOX_TZ)
    apply_settings(engine, ReportSettings(timezone="Asia/Tokyo"))  # today unset: the zone's date
    today, zone = engine.execute("select today, firm_timezone from intermediate.firm_today").fetchone()
    assert zone == "Asia/Tokyo"
    assert today == datetime.now(timezone(timedelta(hours=9))).date()


def test_a_rebuild_replaces_the_models_and_a_broken_one_changes_nothing(
        pg_firm, duck, engine, tmp_path):
    assert len(build_models(engine)) > 60  # a second build over the first
    assert _differences(duck, engine, "select * from reports.paid_bills") is None
    broken = tmp_path / "sql"
    shutil.copytree(Path(str(SQL_DIR)), broken)
    (broken / "reports" / "paid_bills.sql").write_text("select nonsense from nowhere")
    (broken / "reports" / "open_tasks.sql").unlink()  # a stale view, dropped by the build
    with pytest.raises(ModelBuildError, match=r"sql/reports/paid_bills.sql|paid_bills") as raised:
        build_models(engine, broken)
    assert "PostgreSQL" in str(raised.value)
    apply_settings(engine, pg_firm.settings)
    assert _differences(duck, engine, "select * from reports.paid_bills") is None
    assert _differences(duck, engine, "select * from reports.open_tasks") is None


def test_a_second_build_waits_for_the_first_at_most_the_lock_timeout(pg_firm):
    holder = psycopg2.connect(pg_firm.dsn)  # stands for a build in progress
    try:
        with holder.cursor() as cur:
            cur.execute("select pg_advisory_xact_lock(hashtext('clio_sync.models'))")
        done = clio_sync(pg_firm, "models", "--destination", "postgres", "--lock-timeout", "1")
    finally:
        holder.rollback()
        holder.close()
    assert done.returncode == 1
    assert done.stderr.startswith("ModelBuildError: The models were not built"), done.stderr
    assert "--lock-timeout" in done.stderr and "Traceback" not in done.stderr
    assert clio_sync(pg_firm, "models", "--destination", "postgres").returncode == 0


# DuckDB expressions the transpiler rewrites, evaluated on both engines.
PORTABLE = {
    "try_cast numeric": "select try_cast(v as decimal(28, 10)) as x from (values ('12.5'), "
                        "('abc'), ('1e3'), (null), ('123456789012345678901')) as t(v)",
    "try_cast date": "select try_cast(v as date) as x from (values ('2026-02-03'), ('2026-02-30'), "
                     "('soon')) as t(v)",
    # ('4.2' as bigint: DuckDB rounds, PostgreSQL reads NULL; Clio's ids are whole numbers)
    "try_cast bigint": "select try_cast(try_cast(v as bigint) as decimal(28, 10)) as x "
                       "from (values ('42'), (' 7'), ('x'), ('99999999999999999999')) as t(v)",
    "group by all": "select v % 3 as k, count(*) as n, sum(v) as s from (values (0), (1), (2), "
                    "(3), (4), (5), (6), (7)) as t(v) group by all",
    "series": "select cast(unnest(generate_series(date '2026-01-31', date '2026-05-01', "
              "interval 1 month)) as date) as m",
    "rounding": "select cast(round(cast(v / 20000.0 as decimal(38, 10)), 4) as double) as r "
                "from (values (2469), (25), (1)) as t(v)",
}


@pytest.mark.parametrize("name", PORTABLE)
def test_transpiled_sql_means_the_same_on_postgres(pg_firm, duck, engine, name):
    engine.execute_native(READS_AS_DDL)
    assert _differences(duck, engine, PORTABLE[name]) is None


# The reader commands on a server: read-only, one statement, no files.

@pytest.mark.soak
def test_report_on_postgres_prints_what_it_prints_on_duckdb(pg_firm, duck):
    (field,) = duck.execute(
        "select min(field_name) from reports.custom_field_values where parent_type = 'Matter' "
        "and field_type = 'picklist'").fetchone()
    assert field
    for argv in (["ar-aging"], ["outstanding", "--by", "matter"], ["kpis"], ["paid-bills"],
                 ["ar-aging", "--as-of", (pg_firm.today - timedelta(days=45)).isoformat()],
                 ["productivity"], ["unbilled", "--by", "timekeeper"],
                 ["ar-aging", "--by", "custom-field", field], ["trust"], ["tasks"]):
        on_duckdb = clio_sync(pg_firm, "report", *argv, "--format", "csv", "--db",
                              str(pg_firm.duckdb))
        on_postgres = clio_sync(pg_firm, "report", *argv, "--format", "csv",
                                "--destination", "reader")
        assert on_duckdb.returncode == 0, on_duckdb.stderr
        assert on_postgres.returncode == 0, on_postgres.stderr
        assert on_postgres.stdout == on_duckdb.stdout, argv
        assert on_duckdb.stdout.count("\n") > 2


def test_sql_reads_the_models_with_the_firms_today(pg_firm):
    done = clio_sync(pg_firm, "sql", "select today, firm_timezone from intermediate.firm_today",
                     "--destination", "reader", "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1] == f"{pg_firm.today.isoformat()},{SANDBOX_TZ}"


WRITES = {
    "insert": "insert into clio.bills (id) values (-1)",
    "delete": "delete from clio.bills",
    "a new table": "create table clio.sneaky as select 1 as x",
    "read-write after all": "set transaction read write",
    "a second statement ends the read-only transaction":
        "select 1; commit; delete from clio.bills",
    "a file written by the server": "copy (select 1) to '/tmp/clio_sync_sneaky.csv'",
    "a program run by the server": "copy (select 1) to program 'touch /tmp/clio_sync_sneaky'",
    "a file read by the server": "select pg_read_file('/etc/hostname')",
}


@pytest.mark.parametrize("name", WRITES)
def test_sql_on_postgres_refuses_writes_and_files(pg_firm, name):
    before = _count_bills(pg_firm.dsn)
    done = clio_sync(pg_firm, "sql", WRITES[name], "--destination", "reader")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    # PostgreSQL's own refusal (read-only transaction, privileges), or one statement only;
    # `set transaction read write` fails as "must be called before any query"
    expected = "ClioSyncError" if name == "read-write after all" else "QueryRefused"
    assert done.stderr.startswith(expected), done.stderr
    assert _count_bills(pg_firm.dsn) == before
    assert not Path("/tmp/clio_sync_sneaky.csv").exists()
    assert not Path("/tmp/clio_sync_sneaky").exists()


def test_a_reader_may_not_be_a_role_that_reaches_the_servers_files(pg_firm):
    done = clio_sync(pg_firm, "sql", "select 1", "--destination", "postgres")  # the superuser
    assert done.returncode == 1
    assert "ReaderRoleTooPowerful" in done.stderr and "pg_read_all_data" in done.stderr
    assert "clio-test-pw" not in done.stderr and "Traceback" not in done.stderr


def test_an_unknown_or_unconfigured_destination_is_a_clear_error(pg_firm):
    unknown = clio_sync(pg_firm, "report", "ar-aging", "--destination", "nowhere")
    assert unknown.returncode == 1 and "ConfigError" in unknown.stderr
    assert "DESTINATION__NOWHERE__CREDENTIALS" in unknown.stderr
    not_sql = clio_sync(pg_firm, "models", "--destination", "filesystem")
    assert not_sql.returncode == 1 and "DestinationUnavailable" in not_sql.stderr
    assert "Traceback" not in unknown.stderr + not_sql.stderr


def _count_bills(dsn: str) -> int:
    con = psycopg2.connect(dsn)
    try:
        with con.cursor() as cur:
            cur.execute("select count(*) from clio.bills")
            return int(cur.fetchone()[0])
    finally:
        con.close()
