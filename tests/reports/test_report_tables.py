"""Every report's `--format table` on the demo firm (synced from the sandbox) reads on an
80- and a 120-column terminal: human headers, lines within the width, money never cut,
totals per currency; piped, nothing is left out or shortened."""

from __future__ import annotations

import io
from decimal import Decimal

import duckdb
import pytest

from pipelines.reports.output import write
from pipelines.reports.report import report_query, run_report
from pipelines.reports.settings import ReportSettings, apply_settings
from pipelines.reports.table import cell

from .conftest import DEMO_FIRM, SANDBOX_TZ

pytestmark = pytest.mark.slow

# report argv -> the money column that must show every value in full
REPORTS = {
    ("ar-aging", "client"): "balance",
    ("ar-aging", "matter"): "balance",
    ("ar-aging", "attorney"): "balance",
    ("outstanding", "client"): "total_outstanding",
    ("outstanding", "attorney"): "total_outstanding",
    ("paid-bills", None): "amount_due",
    ("collections", None): "collected",
    ("kpis", None): "billed",
    ("unbilled", "matter"): "amount",
    ("unbilled", "timekeeper"): "amount",
    ("productivity", None): "billed_amount",
    ("trust", None): "trust_balance",
}


@pytest.fixture(scope="module")
def demo_con(generated_firm):
    demo = generated_firm(*DEMO_FIRM)["lived"]
    con = duckdb.connect(str(demo.db), read_only=True)
    apply_settings(con, ReportSettings(timezone=SANDBOX_TZ, today=demo.today))
    yield con
    con.close()


def table(con, name: str, by: str | None, width: int | None) -> tuple[str, object]:
    query = report_query(name, by=by)
    result = run_report(con, query)
    out = io.StringIO()
    write(result, "table", title=query.title, out=out, layout=query.layout, width=width)
    return out.getvalue(), result


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize(("name", "by"), list(REPORTS))
def test_fits_the_terminal_without_cutting_money(demo_con, name, by, width):
    text, result = table(demo_con, name, by, width)
    lines = [line.rstrip() for line in text.splitlines()]
    assert max(len(line) for line in lines) <= width, text
    assert not any(c in text for c in result.columns if "_" in c)  # human headers only
    tokens = set(text.split())
    money = result.columns.index(REPORTS[name, by])
    values = {cell(row[money], "money") for row in result.rows if row[money]}
    assert values and values <= tokens  # every amount in full, none shortened with …
    currencies = sorted({row[result.columns.index("currency")] for row in result.rows})
    assert [line for line in lines if line.startswith(query_title(name, by))] == [
        f"{query_title(name, by)} ({c})" for c in currencies]
    assert f"{len(result.rows)} row(s)" in text


def test_aging_totals_per_currency_are_the_sum_of_the_rows(demo_con):
    for width in (80, 120):
        text, result = table(demo_con, "ar-aging", "client", width)
        blocks = {b.split("\n", 1)[0].rstrip(): b for b in text.split("\n\n")}  # title: section
        for currency in ("CAD", "EUR", "USD"):
            total = sum((r[-1] for r in result.rows if r[2] == currency), Decimal(0))
            block = blocks[f"AR aging by client ({currency})"].rstrip()
            assert cell(total, "money") in block.split()
            assert any(line.startswith("Total") for line in block.splitlines())


def test_the_aging_shows_every_bucket_at_80_columns(demo_con):
    text, _ = table(demo_con, "ar-aging", "client", 80)
    header = next(line for line in text.splitlines() if line.startswith("Client"))
    assert header.split()[1:] == ["Current", "1–30", "31–60", "61–90", "91+", "Balance"]


def test_a_pipe_gets_every_column_in_full(demo_con):
    text, _ = table(demo_con, "paid-bills", None, None)
    assert "…" not in text and "not shown" not in text
    header = " ".join(text.splitlines()[1:3])
    for label in ("Issued", "Due", "Paid", "Collected", "Written", "Settled"):
        assert label in header


def query_title(name: str, by: str | None) -> str:
    return report_query(name, by=by).title


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("name", ["ar-aging", "unbilled"])
def test_a_custom_field_grouping_fits_and_names_the_field(demo_con, name, width):
    from pipelines.reports.custom_field_grouping import resolve_matter_field

    field = resolve_matter_field(demo_con, "Referral Source")
    query = report_query(name, by="custom-field", field=field)
    result = run_report(demo_con, query)
    out = io.StringIO()
    write(result, "table", title=query.title, out=out, layout=query.layout, width=width)
    text = out.getvalue()
    assert max(len(line.rstrip()) for line in text.splitlines()) <= width, text
    assert "by Referral Source (USD)" in text and "(no value)" in text
    labels = {row[0] for row in result.rows if row[0]}
    shown = [line.split("  ")[0].strip() for line in text.splitlines()]
    for label in labels:  # in full, or shortened with … to fit
        assert label in shown or any(s.endswith("…") and label.startswith(s[:-1]) for s in shown)


@pytest.mark.parametrize("width", [80, 120])
def test_open_tasks_fit_in_one_table(demo_con, width):
    text, result = table(demo_con, "tasks", None, width)
    assert max(len(line.rstrip()) for line in text.splitlines()) <= width, text
    assert text.splitlines()[0].startswith("Open tasks") and "(USD)" not in text
    overdue = [row for row in result.rows if row[result.columns.index("is_overdue")]]
    assert overdue and f"{len(result.rows)} row(s)" in text
