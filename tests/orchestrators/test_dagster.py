"""The Dagster definitions (#10.5), materialized in-process against sandbox firms over real
HTTP: two firm profiles' raw tables equal their truth; a second materialization costs one
request per walk; a failed one moves no watermark and stops no other firm; the single
firm's reports equal Clio's and its nightly reconcile removes what Clio deleted; the
jobs and schedules load."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs

import duckdb
import pytest
from dagster import AssetKey, DagsterInstance, Definitions, materialize
from dagster_dlt import DagsterDltResource
from sync_helpers import expected_tables, sandbox_env

from pipelines.clio.endpoints import ENDPOINTS
from pipelines.clio.rows import child_columns, child_table
from pipelines.orchestrators import dagster as orchestration
from pipelines.sandbox.harness import SandboxServer

pytestmark = pytest.mark.slow

CENT = Decimal("0.01")


def materialize_all(defs: Definitions, raise_on_error: bool = True):
    return materialize(list(defs.assets or []), resources={"dlt": DagsterDltResource()},
                       instance=DagsterInstance.ephemeral(), raise_on_error=raise_on_error)


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def stored_rows(db: Path, schema: str, table: str, columns: list[str]) -> list[dict]:
    quoted = ", ".join(f'"{c}"' for c in columns)
    rows = query(db, f'select {quoted} from {schema}."{table}"')
    return [dict(zip(columns, row, strict=True)) for row in rows]


def assert_raw_tables_match_truth(sb: SandboxServer, db: Path, schema: str,
                                  tables: list[str] | None = None) -> None:
    """Every table of `schema` (or of `tables`) equals the sandbox's truth, row for row."""
    for endpoint in ENDPOINTS:
        if tables is not None and endpoint.table not in tables:
            continue
        columns = {endpoint.table: list(endpoint.columns)}
        columns |= {child_table(endpoint, c): list(child_columns(c)) for c in endpoint.children}
        for table, want in expected_tables(sb, endpoint).items():
            key = ("id",) if table == endpoint.table else (table_key(endpoint, table), "id")
            got = sorted(stored_rows(db, schema, table, columns[table]),
                         key=lambda r, key=key: tuple(-1 if r[k] is None else r[k] for k in key))
            assert got == want, f"{schema}.{table} differs from the sandbox's truth"


def table_key(endpoint, table: str) -> str:
    return next(c.parent_key for c in endpoint.children if child_table(endpoint, c) == table)


def cents(value: float | None) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


def assert_ar_matches_clio(sb: SandboxServer, db: Path, reports: str) -> None:
    """The firm's AR per client and currency is Clio's outstanding client balances."""
    clio = {(r["contact"]["id"], r["currency"]["code"]): cents(r["total_outstanding_balance"])
            for r in sb.truth("outstanding_client_balances") if r["total_outstanding_balance"]}
    ours = {(client, currency): total for client, currency, total in query(
        db, f"select client_id, currency, total_outstanding from {reports}.outstanding_balances")}
    assert clio and ours == clio


BY_PATH = {f"/api/v4/{e.path}": e for e in ENDPOINTS}


def api_requests(sb: SandboxServer) -> list[dict]:
    return [r for r in sb.stats()["requests"] if r["path"].startswith("/api/v4/")]


def last_run(db: Path, schema: str) -> tuple[str, int]:
    """The status and requests of the last run recorded in `<schema>._sync_runs`."""
    return query(db, f"select status, sum(requests) from {schema}._sync_runs group by run_id, "
                     "status, started_at order by started_at desc limit 1")[0]


def starting_points(sb: SandboxServer) -> set[tuple[str, str]]:
    """(path, updated_since) of every incremental request the sandbox answered."""
    points = set()
    for r in api_requests(sb):
        since = parse_qs(r["query"]).get("updated_since")
        if since:
            points.add((r["path"], since[0]))
    return points


def one_request_per_walk(sb: SandboxServer) -> int:
    """What an incremental run with no change costs (DESIGN.md, invariant 2)."""
    incremental = sum(len(e.walks) for e in ENDPOINTS if e.incremental)
    replaced = sum(math.ceil(len(sb.truth(e.table)) / e.limit) or 1
                   for e in ENDPOINTS if not e.incremental)
    return incremental + replaced


class TestDefinitions:
    def test_one_group_per_firm_profile_loaded_without_secrets(self, monkeypatch, db) -> None:
        for name in ("acme", "beta"):  # profiles with no credentials at all
            monkeypatch.setenv(f"FIRMS__{name.upper()}__REGION", "us")
        defs = orchestration.build_definitions(db)
        Definitions.validate_loadable(defs)
        graph = defs.resolve_asset_graph()
        for name in ("acme", "beta"):
            raw = {AssetKey([f"clio_{name}", e.table]) for e in ENDPOINTS}
            assert raw == {k for k in graph.get_all_asset_keys() if k.path[0] == f"clio_{name}"}
            assert {graph.get(k).group_name for k in raw} == {name}
        sync_ops = {a.op.name: a.op.pool for a in defs.assets or []}
        assert sync_ops == {"sync_acme": "clio_sync_acme", "sync_beta": "clio_sync_beta",
                            "models_acme": "clio_sync_acme", "models_beta": "clio_sync_beta"}
        assert {s.name: s.cron_schedule for s in defs.schedules or []} == {
            "clio_sync_schedule": orchestration.SYNC_CRON,
            "clio_reconcile_schedule": orchestration.RECONCILE_CRON,
        }
        assert defs.resolve_job_def("clio_reconcile").graph.node_names() == [
            "reconcile_acme", "reconcile_beta"]

    def test_the_single_firm_has_its_models_and_nightly_reconcile(self, monkeypatch, db) -> None:
        monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS", str(db))
        orchestration._defs.cache_clear()
        try:
            assert "defs" in dir(orchestration)
            defs = orchestration.defs  # what `dagster dev -m pipelines.orchestrators.dagster` loads
        finally:
            orchestration._defs.cache_clear()
        Definitions.validate_loadable(defs)
        graph = defs.resolve_asset_graph()
        report = graph.get(AssetKey(["reports", "outstanding_balances"]))
        assert report.group_name == "clio"
        # what it reads through intermediate.approved_revenue_bills and valid_allocations
        assert report.parent_keys == {AssetKey(["clio", "bills"]), AssetKey(["clio", "allocations"])}
        assert {s.name: s.cron_schedule for s in defs.schedules or []} == {
            "clio_sync_schedule": orchestration.SYNC_CRON,
            "clio_reconcile_schedule": orchestration.RECONCILE_CRON,
        }
        assert defs.resolve_job_def("clio_reconcile").graph.node_names() == ["reconcile_clio"]


    def test_dagsters_own_loader_finds_them_reading_no_secret_and_writing_no_file(
            self, tmp_path) -> None:
        cwd, home = tmp_path / "cwd", tmp_path / "dagster_home"
        cwd.mkdir()
        home.mkdir()
        env = {**os.environ, "DAGSTER_HOME": str(home), "FIRMS__ACME__REGION": "us"}
        done = subprocess.run(
            [str(Path(sys.executable).with_name("dagster")), "definitions", "validate",
             "-m", "pipelines.orchestrators.dagster"],
            cwd=cwd, env=env, capture_output=True, text=True, timeout=240)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "Validation successful" in done.stderr + done.stdout
        assert list(cwd.iterdir()) == []  # no dlt folder, no warehouse


class TestSingleFirm:
    def test_raw_tables_and_reports_equal_the_truth_and_reconcile_removes_deletions(
            self, sandbox, monkeypatch, tmp_path, db) -> None:
        for key, value in sandbox_env(sandbox, tmp_path).items():
            monkeypatch.setenv(key, value)
        defs = orchestration.build_definitions(db)
        assert materialize_all(defs).success
        assert_raw_tables_match_truth(sandbox, db, "clio")
        assert_ar_matches_clio(sandbox, db, "reports")
        gone = sandbox.truth("contacts")[-1]["id"]
        sandbox.delete("contacts", gone)
        reconciled = defs.resolve_job_def("clio_reconcile").execute_in_process(
            instance=DagsterInstance.ephemeral())
        assert reconciled.success
        assert query(db, "select count(*) from clio.contacts where id = ?", [gone]) == [(0,)]
        assert_raw_tables_match_truth(sandbox, db, "clio")


class TestTwoFirms:
    def test_two_firms_equal_their_truth_and_the_next_run_costs_a_request_per_walk(
            self, two_firms, db) -> None:
        defs = orchestration.build_definitions(db)
        assert materialize_all(defs).success
        for name, sb in two_firms.items():
            assert_raw_tables_match_truth(sb, db, f"clio_{name}")
            sb.reset_stats()
        assert materialize_all(defs).success
        for name, sb in two_firms.items():
            requests = api_requests(sb)
            assert len(requests) == one_request_per_walk(sb), name
            assert last_run(db, f"clio_{name}") == ("ok", len(requests))
            incremental = [r for r in requests if BY_PATH[r["path"]].incremental]
            assert all("updated_since=" in r["query"] for r in incremental), name

    @pytest.mark.soak
    def test_each_firms_reports_are_built_in_its_schemas_and_equal_its_clio_ar(
            self, two_firms, db) -> None:
        defs = orchestration.build_definitions(db)
        graph = defs.resolve_asset_graph()
        for name in two_firms:
            report = graph.get(AssetKey([f"reports_{name}", "outstanding_balances"]))
            assert report.group_name == name
            assert AssetKey([f"clio_{name}", "bills"]) in report.parent_keys
        assert materialize_all(defs).success
        for name, sb in two_firms.items():
            assert_ar_matches_clio(sb, db, f"reports_{name}")
        assert {"staging", "reports"}.isdisjoint(
            {s for (s,) in query(db, "select schema_name from information_schema.schemata")})

    @pytest.mark.soak
    def test_the_nightly_reconcile_deletes_in_each_firms_schema_only(self, two_firms,
                                                                      db) -> None:
        defs = orchestration.build_definitions(db)
        assert materialize_all(defs).success
        acme, beta = two_firms["acme"], two_firms["beta"]
        gone = acme.truth("contacts")[-1]["id"]
        acme.delete("contacts", gone)
        reconciled = defs.resolve_job_def("clio_reconcile").execute_in_process(
            instance=DagsterInstance.ephemeral())
        assert reconciled.success
        assert query(db, "select count(*) from clio_acme.contacts where id = ?", [gone]) == [(0,)]
        assert_raw_tables_match_truth(acme, db, "clio_acme")
        assert_raw_tables_match_truth(beta, db, "clio_beta")

    @pytest.mark.soak
    def test_a_failed_run_moves_no_watermark_and_stops_no_other_firm(self, two_firms,
                                                                      db) -> None:
        defs = orchestration.build_definitions(db)
        assert materialize_all(defs).success
        acme, beta = two_firms["acme"], two_firms["beta"]
        for sb in (acme, beta):  # edits in tables walked before the one that fails
            sb.edit("contacts", sb.truth("contacts")[0]["id"], {"name": "Renamed"})
            sb.edit("bills", sb.truth("bills")[0]["id"], {"balance": 0.01})
        acme.reset_stats()
        acme.faults(kind="invalid_json", path="relationships.json", count=50)
        result = materialize_all(defs, raise_on_error=False)
        assert not result.success
        assert {e.step_key for e in result.all_events if e.is_step_failure} == {"sync_acme"}
        assert_raw_tables_match_truth(beta, db, "clio_beta")  # beta went on
        failed_from = starting_points(acme)
        assert last_run(db, "clio_acme") == ("failed", len(api_requests(acme)))
        assert last_run(db, "clio_beta")[0] == "ok"
        acme.faults(clear=True)
        acme.reset_stats()
        assert materialize_all(defs).success
        # the next run starts where the failed one did, not where it got to
        assert failed_from and failed_from <= starting_points(acme)
        assert_raw_tables_match_truth(acme, db, "clio_acme")

    def test_a_load_that_fails_after_extraction_moves_no_watermark(
            self, sandbox_factory, firm_profile, db) -> None:
        acme = sandbox_factory(scale="tiny", seed=7, rate_limit=None)
        firm_profile("acme", acme)
        defs = orchestration.build_definitions(db)
        assert materialize_all(defs).success
        acme.edit("contacts", acme.truth("contacts")[0]["id"], {"name": "Renamed"})
        # the merge into clio_acme.contacts fails once everything is extracted (and dlt's
        # state, with the walks' next starting points, is in the package being loaded)
        with duckdb.connect(str(db)) as con:
            con.execute("alter table clio_acme.contacts rename to contacts_aside")
            con.execute("create view clio_acme.contacts as select * from clio_acme.contacts_aside")
        acme.reset_stats()
        result = materialize_all(defs, raise_on_error=False)
        assert {e.step_key for e in result.all_events if e.is_step_failure} == {"sync_acme"}
        failed_from = starting_points(acme)
        with duckdb.connect(str(db)) as con:
            con.execute("drop view clio_acme.contacts")
            con.execute("alter table clio_acme.contacts_aside rename to contacts")
        acme.reset_stats()
        assert materialize_all(defs).success
        assert failed_from and failed_from == starting_points(acme)
        assert_raw_tables_match_truth(acme, db, "clio_acme")

    def test_a_firm_without_credentials_fails_its_own_step_only(
            self, sandbox_factory, firm_profile, monkeypatch, db) -> None:
        acme = sandbox_factory(scale="tiny", seed=7, rate_limit=None)
        firm_profile("acme", acme)
        monkeypatch.setenv("FIRMS__BETA__REGION", "us")  # a profile with no credentials
        result = materialize_all(orchestration.build_definitions(db), raise_on_error=False)
        failures = [e for e in result.all_events if e.is_step_failure]
        assert [e.step_key for e in failures] == ["sync_beta"]
        cause = failures[0].step_failure_data.error.cause  # dagster wraps what the step raised
        assert cause.cls_name == "ConfigError"
        assert "FIRMS__BETA__CREDENTIALS__CLIENT_ID is not set" in cause.message
        assert_raw_tables_match_truth(acme, db, "clio_acme")

    def test_materializing_one_table_reads_only_its_endpoint(self, sandbox_factory, firm_profile,
                                                              db) -> None:
        acme = sandbox_factory(scale="tiny", seed=7, rate_limit=None)
        firm_profile("acme", acme)
        defs = orchestration.build_definitions(db)
        result = materialize(list(defs.assets or []), resources={"dlt": DagsterDltResource()},
                             instance=DagsterInstance.ephemeral(),
                             selection=[AssetKey(["clio_acme", "bills"])])
        assert result.success
        assert {r["path"] for r in api_requests(acme)} == {"/api/v4/bills.json"}
        assert_raw_tables_match_truth(acme, db, "clio_acme", tables=["bills"])
        assert last_run(db, "clio_acme") == ("ok", len(api_requests(acme)))
