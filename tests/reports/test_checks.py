"""Reconciliation checks pass on consistent data and name the rows that break a rule."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from pipelines.reports.checks import ChecksFailed, ChecksNotFound, raise_for_failures, run_checks
from pipelines.reports.settings import apply_settings

from .conftest import SETTINGS


@pytest.fixture
def writable(firm_db, tmp_path):
    db = tmp_path / "copy.duckdb"
    shutil.copy(firm_db, db)
    connection = duckdb.connect(str(db))
    apply_settings(connection, SETTINGS)
    yield connection
    connection.close()


def test_no_check_file_is_an_error(con, tmp_path):
    (tmp_path / "checks").mkdir()
    with pytest.raises(ChecksNotFound, match="No reconciliation checks"):
        run_checks(con, tmp_path)


def by_name(results):
    return {r.name: r for r in results}


def test_every_check_passes_on_the_hand_built_firm(con):
    results = run_checks(con)
    assert {r.name for r in results} == {
        "allocations_match_bills",
        "ar_matches_clio_outstanding",
        "aging_sums_to_balances",
        "bill_balance_formula",
        "custom_field_values_are_typed",
        "trust_matches_clio",
        "unbilled_matches_clio",
    }
    assert all(r.passed for r in results), [r.describe() for r in results]
    # this firm is billing only: the checks against Clio's billable matters have nothing to
    # check against (tests/reports/test_whole_firm_reports.py runs them)
    assert {r.name for r in results if r.skipped} == {"trust_matches_clio", "unbilled_matches_clio"}
    raise_for_failures(results)  # does not raise


def test_a_balance_that_disagrees_is_named(writable):
    writable.execute("update clio.bills set balance = 290.00 where id = 1002")
    results = by_name(run_checks(writable))
    failing = results["bill_balance_formula"]
    assert [row["bill_id"] for row in failing.failures] == [1002]
    assert failing.failures[0]["expected_balance"] == pytest.approx(300)
    # the matter split still says 300, and Clio's client total no longer matches either
    assert [r["bill_id"] for r in results["aging_sums_to_balances"].failures] == [1002]
    assert [r["client_id"] for r in results["ar_matches_clio_outstanding"].failures] == [101]
    with pytest.raises(ChecksFailed, match=r"bill_balance_formula: 1 row\(s\).*bill_id=1002"):
        raise_for_failures(list(results.values()))


def test_a_missing_allocation_is_named(writable):
    writable.execute("delete from clio.allocations where id = 2009")
    failing = by_name(run_checks(writable))["allocations_match_bills"]
    assert [(r["bill_id"], r["allocated_credit_notes"]) for r in failing.failures] == [(1013, 0)]


def test_a_matter_split_that_does_not_add_up_is_named(writable):
    writable.execute("update clio.bills__balances set amount = 700.00 where bill_id = 1007 and id = 302")
    failing = by_name(run_checks(writable))["aging_sums_to_balances"]
    assert [(r["bill_id"], r["aged_balance"]) for r in failing.failures] == [(1007, 1900)]


def test_clio_totals_check_is_skipped_when_that_endpoint_was_not_synced(writable):
    writable.execute("drop table clio.outstanding_client_balances")
    result = by_name(run_checks(writable))["ar_matches_clio_outstanding"]
    assert result.skipped and result.passed


def test_a_check_is_described_by_its_rule_not_its_requires_line(con):
    results = by_name(run_checks(con))
    assert results["ar_matches_clio_outstanding"].rule.startswith("AR per client and currency")
    assert results["unbilled_matches_clio"].rule.startswith("A matter's unbilled work equals")
