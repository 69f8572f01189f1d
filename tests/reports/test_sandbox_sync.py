"""The hand-built firm served by the sandbox and synced over real HTTP gives the same
reports as the same records loaded directly, and the checks pass on it."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.clio.config import load_settings
from pipelines.clio.sync import build_models_if_present, sync
from pipelines.reports.checks import run_checks
from pipelines.reports.settings import apply_settings
from pipelines.sandbox.harness import serve_sandbox
from pipelines.sandbox.shapes import DERIVED

from .conftest import FIRM, SETTINGS

pytestmark = pytest.mark.slow

REPORTS = {
    "reports.ar_aging_detail": "bill_id, matter_id",
    "reports.ar_aging_summary": "client_id, matter_id, currency",
    "reports.outstanding_balances": "client_id, currency",
    "reports.paid_bills": "bill_id",
    "reports.collections": "allocation_id",
    "reports.billing_kpis_monthly": "currency, month",
    "reports.ar_aging_as_of(date '2026-09-30')": "bill_id",
}


@pytest.fixture(scope="module")
def synced_db(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sandbox_firm")
    db = tmp / "clio_sync.duckdb"
    # the sandbox works out Clio's derived listings (outstanding balances) from the bills
    records = {t: r for t, r in FIRM["records"].items() if t not in DERIVED}
    with serve_sandbox(fixture=records, fixture_now=FIRM["now"], rate_limit=None) as sb:
        token = sb.token()
        settings = load_settings(
            base_url=sb.base_url, region="us", api="manage", token_store=tmp / "token.json",
            refresh_token=token["refresh_token"], access_token=token["access_token"],
            client_id="sandbox", client_secret="sandbox-secret",
        )
        sync(db, settings, full_refresh=True)
    assert build_models_if_present(db)
    return db


def read(db, sql):
    with duckdb.connect(str(db), read_only=True) as con:
        apply_settings(con, SETTINGS)
        return con.execute(sql).fetchall()


@pytest.mark.parametrize("report", REPORTS)
def test_every_report_matches_the_directly_loaded_firm(synced_db, firm_db, report):
    sql = f"select * from {report} order by {REPORTS[report]}"
    synced = read(synced_db, sql)
    assert synced and synced == read(firm_db, sql)


def test_checks_pass_against_clio_outstanding_balances_served_by_the_sandbox(synced_db):
    with duckdb.connect(str(synced_db), read_only=True) as con:
        apply_settings(con, SETTINGS)
        results = run_checks(con)
        assert con.execute("select count(*) from clio.outstanding_client_balances").fetchone()[0] == 3
    assert all(r.passed and not r.skipped for r in results), [r.describe() for r in results]
