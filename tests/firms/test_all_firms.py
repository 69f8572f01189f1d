"""`clio-sync --firm NAME run` and `run --all-firms --parallel N`, as real processes against
two or three sandbox servers: each firm in its own schema with its own token store,
watermarks and runs; one firm's failure reported by name, never stopping or spoiling
the others; a summary per firm and the cross-firm views."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import pytest
from firm_helpers import api_requests, clean_env, clio_sync, firm_copy, firm_env, query, schemas_of
from sync_helpers import assert_matches_truth

from pipelines.clio.endpoints import ENDPOINTS

FIRMS = ("acme", "beta", "gamma")


@pytest.fixture
def three_firms(sandbox_factory):
    """Three sandbox firms of different seeds (different data), rate limit off."""
    return {name: sandbox_factory(scale="tiny", seed=seed, rate_limit=None)
            for name, seed in zip(FIRMS, (7, 8, 9), strict=True)}


def env_of(firms: dict, tmp_path: Path, **extra: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for name, sb in firms.items():
        env.update(firm_env(name, sb, tmp_path))
    return clean_env(**env, **extra)


def assert_firm_matches_truth(sb, db: Path, firm: str, tmp_path: Path) -> None:
    assert_matches_truth(sb, firm_copy(db, firm, tmp_path / f"copy-{firm}.duckdb"))
    (tmp_path / f"copy-{firm}.duckdb").unlink()


def no_change_requests(sb) -> int:
    incremental_walks = sum(len(e.walks) for e in ENDPOINTS if e.incremental)
    replaced = sum(math.ceil(len(sb.truth(e.table)) / e.limit) or 1
                   for e in ENDPOINTS if not e.incremental)
    return incremental_walks + replaced


def test_all_firms_in_parallel_each_in_its_own_schema(three_firms, tmp_path) -> None:
    db = tmp_path / "data" / "warehouse.duckdb"
    env = env_of(three_firms, tmp_path)
    done = clio_sync("run", "--all-firms", "--parallel", "3", "--db", str(db), env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    for name in FIRMS:
        assert f"firm {name} ok: " in done.stderr  # the summary has a line per firm (cron)
        assert (tmp_path / f"token-{name}.json").exists()
    assert "3 of 3 firms ok" in done.stderr
    assert {f"clio_{name}" for name in FIRMS} <= schemas_of(db)
    assert "clio" not in schemas_of(db)
    for name, sb in three_firms.items():
        assert_firm_matches_truth(sb, db, name, tmp_path)
        assert query(db, f"select distinct status from clio_{name}._sync_runs") == [("ok",)]
    assert sorted(query(db, "select firm, status from firms.last_runs")) == [
        (name, "ok") for name in FIRMS]
    for name, sb in three_firms.items():
        truth = sum(Decimal(str(r["total_outstanding_balance"]))
                    for r in sb.truth("outstanding_client_balances"))
        (total,) = query(db, "select sum(total_outstanding) from firms.ar_by_firm where firm = ?",
                         [name])[0]
        assert total == truth, name

    # the next run of each firm starts from that firm's own watermarks
    for sb in three_firms.values():
        sb.reset_stats()
    again = clio_sync("run", "--all-firms", "--parallel", "2", "--db", str(db), env=env)
    assert again.returncode == 0, again.stderr[-3000:]
    for name, sb in three_firms.items():
        requests = api_requests(sb)
        assert len(requests) == no_change_requests(sb), name
    assert sorted(query(db, "select firm, count(distinct run_id) from firms.sync_runs "
                            "group by firm")) == [(name, 2) for name in FIRMS]


def test_one_firm_failing_never_stops_or_spoils_the_others(three_firms, tmp_path) -> None:
    db = tmp_path / "data" / "warehouse.duckdb"
    env = env_of(three_firms, tmp_path, FIRMS__GAMMA__MAX_ATTEMPTS="2",
                 FIRMS__GAMMA__BACKOFF_BASE="0")
    three_firms["beta"].faults(revoke_tokens=True)  # beta's authorization is gone
    three_firms["gamma"].faults(kind="503", count=10_000, after=5)  # gamma's Clio breaks mid-run
    done = clio_sync("run", "--all-firms", "--parallel", "2", "--db", str(db), env=env)
    assert done.returncode == 1
    assert "FirmsFailed: 2 of 3 firms failed: beta (ClioAuthError:" in done.stderr
    assert "gamma (ClioUnavailable:" in done.stderr
    assert "Traceback" not in done.stderr
    assert "1 of 3 firms ok" in done.stderr
    assert_firm_matches_truth(three_firms["acme"], db, "acme", tmp_path)
    # the failed firms' runs are recorded as failed, and loaded nothing of their data
    for name in ("beta", "gamma"):
        assert query(db, f"select distinct status from clio_{name}._sync_runs") == [("failed",)]
        assert not query(db, "select table_name from information_schema.tables "
                             "where table_schema = ? and table_name = 'bills'", [f"clio_{name}"])
    assert sorted(query(db, "select firm, status from firms.last_runs")) == [
        ("acme", "ok"), ("beta", "failed"), ("gamma", "failed")]

    # once their causes are fixed, the next run brings them in, and acme stays right
    three_firms["gamma"].faults(clear=True)
    three_firms["beta"].faults(clear=True)
    fixed = {**env, **firm_env("beta", three_firms["beta"], tmp_path)}
    (tmp_path / "token-beta.json").unlink(missing_ok=True)  # the revoked grant's store
    again = clio_sync("run", "--all-firms", "--parallel", "2", "--db", str(db), env=fixed)
    assert again.returncode == 0, again.stderr[-3000:]
    for name, sb in three_firms.items():
        assert_firm_matches_truth(sb, db, name, tmp_path)


def test_one_firm_by_name(three_firms, tmp_path) -> None:
    db = tmp_path / "data" / "warehouse.duckdb"
    env = env_of(three_firms, tmp_path)
    done = clio_sync("--firm", "beta", "run", "--db", str(db), "--log-format", "plain", env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert_firm_matches_truth(three_firms["beta"], db, "beta", tmp_path)
    assert {"clio_acme", "clio_gamma", "clio"}.isdisjoint(schemas_of(db))
    assert api_requests(three_firms["acme"]) == []


@pytest.mark.parametrize(("args", "message"), [
    (["--firm", "bta", "run"], "No firm profile named 'bta' is configured (configured: acme, "
                               "beta, gamma). Did you mean 'beta'?"),
    (["--firm", "beta", "export", "parquet"], "`clio-sync --firm NAME export` is not supported"),
    (["--firm", "beta", "run", "--all-firms"], "--firm and --all-firms were both given"),
    (["run", "--parallel", "2"], "--parallel only applies with --all-firms"),
    (["run", "--all-firms", "--parallel", "0"], "--parallel is 0"),
    (["--firm", "Beta", "run"], "'Beta' is not a valid firm name"),
])
def test_bad_firm_command_lines_are_clear_errors(three_firms, tmp_path, args, message) -> None:
    done = clio_sync(*args, "--db", str(tmp_path / "w.duckdb"), env=env_of(three_firms, tmp_path))
    assert done.returncode == 1
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert all(api_requests(sb) == [] for sb in three_firms.values())


def test_all_firms_without_profiles_is_a_clear_error(tmp_path) -> None:
    done = clio_sync("run", "--all-firms", "--db", str(tmp_path / "w.duckdb"), env=clean_env())
    assert done.returncode == 1
    assert "ConfigError: --all-firms found no firm profile" in done.stderr


def test_auth_status_of_one_firm_uses_its_connection_and_token_store(three_firms, tmp_path) -> None:
    env = env_of(three_firms, tmp_path, COLUMNS="300")
    done = clio_sync("--firm", "gamma", "auth", "status", env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert three_firms["gamma"].base_url + "/api/v4" in done.stdout
    assert str(tmp_path / "token-gamma.json") in done.stdout
    assert api_requests(three_firms["acme"]) == [] and api_requests(three_firms["beta"]) == []


def deletable_note(sb) -> int:
    """Delete a note at Clio (the first one nothing refers to); its id."""
    from pipelines.sandbox.harness import SandboxError

    for note in sb.truth("notes"):
        try:
            sb.delete("notes", note["id"])
        except SandboxError:
            continue
        return int(note["id"])
    raise AssertionError("no note could be deleted")


def test_reconcile_of_one_firm_deletes_in_its_schema_only(sandbox_factory, tmp_path) -> None:
    # two firms with the same data: a deletion at one must not touch the other's rows
    firms = {name: sandbox_factory(scale="tiny", seed=7, rate_limit=None)
             for name in ("acme", "beta")}
    db = tmp_path / "data" / "warehouse.duckdb"
    env = env_of(firms, tmp_path)
    assert clio_sync("run", "--all-firms", "--db", str(db), env=env).returncode == 0
    gone = deletable_note(firms["acme"])
    done = clio_sync("--firm", "acme", "reconcile", "--db", str(db), "--log-format", "plain",
                     env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert query(db, "select count(*) from clio_acme.notes where id = ?", [gone]) == [(0,)]
    assert query(db, "select count(*) from clio_beta.notes where id = ?", [gone]) == [(1,)]
    assert query(db, "select table_name, id from clio_acme._tombstones") == [("notes", gone)]
    assert_firm_matches_truth(firms["acme"], db, "acme", tmp_path)
    assert_firm_matches_truth(firms["beta"], db, "beta", tmp_path)
