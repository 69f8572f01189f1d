"""A firm's SQL models: `run --all-firms` (and `--firm NAME run`) build each firm's models in
`staging_<name>`, `intermediate_<name>` and `reports_<name>` from its `clio_<name>`, and
`--firm NAME models|report|sql` read and build that firm's, never another's."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from firm_helpers import clean_env, clio_sync, firm_env, query, schemas_of

FIRMS = ("acme", "beta")


@pytest.fixture
def two_firms(sandbox_factory):
    """Two sandbox firms of different seeds (different data), rate limit off."""
    return {name: sandbox_factory(scale="tiny", seed=seed, rate_limit=None)
            for name, seed in zip(FIRMS, (7, 8), strict=True)}


def env_of(firms: dict, tmp_path: Path) -> dict[str, str]:
    env: dict[str, str] = {}
    for name, sb in firms.items():
        env.update(firm_env(name, sb, tmp_path))
    return clean_env(**env)


def clio_balances(sb) -> list[tuple[int, str, Decimal]]:
    """Clio's own outstanding client balances (the sandbox's truth), non-zero ones."""
    return sorted((r["contact"]["id"], r["currency"]["code"],
                   Decimal(str(r["total_outstanding_balance"])).quantize(Decimal("0.01")))
                  for r in sb.truth("outstanding_client_balances")
                  if r["total_outstanding_balance"])


def per_currency(balances: list[tuple[int, str, Decimal]]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for _, currency, amount in balances:
        totals[currency] += amount
    return dict(totals)


def csv_balances(text: str) -> dict[str, Decimal]:
    """The AR per currency printed by `report ar-aging --format csv`."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in csv.DictReader(io.StringIO(text)):
        totals[row["currency"]] += Decimal(row["balance"])
    return dict(totals)


def test_all_firms_builds_each_firms_models_and_firm_commands_read_them(two_firms,
                                                                          tmp_path) -> None:
    db = tmp_path / "data" / "warehouse.duckdb"
    env = env_of(two_firms, tmp_path)
    done = clio_sync("run", "--all-firms", "--parallel", "2", "--db", str(db), env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert {"staging", "intermediate", "reports"}.isdisjoint(schemas_of(db))

    truths = {name: clio_balances(sb) for name, sb in two_firms.items()}
    assert truths["acme"] != truths["beta"]  # the firms' numbers tell them apart
    for name in FIRMS:
        assert {f"staging_{name}", f"intermediate_{name}", f"reports_{name}"} <= schemas_of(db)
        stored = query(db, "select client_id, currency, total_outstanding from "
                           f"reports_{name}.outstanding_balances order by all")
        assert stored and stored == truths[name], name

        printed = clio_sync("--firm", name, "report", "ar-aging", "--format", "csv",
                            "--db", str(db), env=env)
        assert printed.returncode == 0, printed.stderr[-3000:]
        assert csv_balances(printed.stdout) == per_currency(truths[name]), name

        counted = clio_sync("--firm", name, "sql", "select count(*) as n from "
                            "reports.outstanding_balances", "--format", "csv", "--db", str(db),
                            env=env)
        assert counted.returncode == 0, counted.stderr[-3000:]
        assert counted.stdout.split() == ["n", str(len(truths[name]))], name


def test_firm_models_command_builds_and_checks_only_that_firm(two_firms, tmp_path) -> None:
    db = tmp_path / "data" / "warehouse.duckdb"
    env = env_of(two_firms, tmp_path)
    done = clio_sync("--firm", "beta", "run", "--db", str(db), env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert {"staging_beta", "intermediate_beta", "reports_beta"} <= schemas_of(db)

    built = clio_sync("--firm", "beta", "models", "--check", "--db", str(db), env=env)
    assert built.returncode == 0, built.stderr[-3000:]
    assert "FAIL" not in built.stdout
    assert not {"staging", "reports", "staging_acme", "reports_acme"} & schemas_of(db)
    assert query(db, "select client_id, currency, total_outstanding from "
                     "reports_beta.outstanding_balances order by all") == clio_balances(
                         two_firms["beta"])


def test_a_firms_run_into_postgres_builds_its_models_there(two_firms, postgres_dsn,
                                                           tmp_path) -> None:
    import psycopg2

    env = {**env_of(two_firms, tmp_path), "DESTINATION__POSTGRES__CREDENTIALS": postgres_dsn}
    db = tmp_path / "data" / "warehouse.duckdb"
    done = clio_sync("--firm", "acme", "run", "--destination", "postgres", "--db", str(db),
                     env=env)
    assert done.returncode == 0, done.stderr[-3000:]

    con = psycopg2.connect(postgres_dsn)
    try:
        with con.cursor() as cur:
            cur.execute("select client_id, currency, total_outstanding from "
                        "reports_acme.outstanding_balances order by 1, 2")
            stored = cur.fetchall()
            cur.execute("select nspname from pg_namespace")
            names = {name for (name,) in cur.fetchall()}
    finally:
        con.close()
    assert stored and stored == clio_balances(two_firms["acme"])
    assert {"staging_acme", "intermediate_acme", "reports_acme"} <= names
    assert not {"staging", "intermediate", "reports", "reports_beta"} & names
