"""Benchmark: build every SQL model and query every report over a large warehouse.

Generates (with DuckDB's `range()`) a warehouse of 1,000,000 bills, 5,000,000 line items,
their allocations, matter links and balances in schema `clio`, typed as the catalog says.
Then, side by side in one run, times:

- baseline: a plain full scan of the raw tables the reports read (fetched to Arrow);
- build: `build_models` (create or replace every view and macro);
- each report fully fetched to Arrow (`reports.*`, and the as-of macro at today - 30);

and reports medians over a few runs and the ratio of build + every report to the scan.

    .venv/bin/python bench/reports_build.py [--bills 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb

from pipelines.reports.raw_tables import RAW_TABLES
from pipelines.reports.runner import build_models
from pipelines.reports.settings import ReportSettings, apply_settings

TODAY = "2026-11-20"
REPORTS = (
    "reports.ar_aging_detail", "reports.ar_aging_summary", "reports.outstanding_balances",
    "reports.paid_bills", "reports.collections", "reports.billing_kpis_monthly",
    f"reports.ar_aging_as_of(date '{TODAY}' - 30)",
)
SCANNED = ("bills", "bills__matters", "bills__balances", "allocations", "matters",
           "outstanding_client_balances")
RESULT = Path(__file__).parent / "results" / "reports_build.md"

# Bill i: state by i % 20, revenue except every 50th (trust request), EUR for every 7th,
# issued over ~5 years, due 30 days later; a third of the open bills half paid; paid bills
# settled by a payment, every 5th partly by a 10.00 credit note.
BILLS = {
    "id": "i + 1",
    "number": "'INV-' || (i + 1)",
    "state": "case when i % 20 = 0 then 'draft' when i % 20 = 1 then 'void' "
    "when i % 20 = 2 then 'deleted' when i % 20 < 10 then 'awaiting_payment' else 'paid' end",
    "kind": "case when i % 50 = 3 then 'trust_kind' else 'revenue_kind' end",
    "type": "'MatterBill'",
    "issued_at": "date '2021-12-01' + cast(i % 1815 as integer)",
    "due_at": "date '2021-12-31' + cast(i % 1815 as integer)",
    "total": "cast(100 + (i * 37) % 100000 / 100.0 as decimal(18, 2))",
    "due": "cast(100 + (i * 37) % 100000 / 100.0 as decimal(18, 2))",
    "paid": "case when i % 20 >= 10 then cast(100 + (i * 37) % 100000 / 100.0 as decimal(18, 2)) "
    "- case when i % 5 = 0 then 10 else 0 end when i % 20 >= 3 and i % 3 = 0 "
    "then cast(50 + (i * 37) % 100000 / 200.0 as decimal(18, 2)) else 0 end",
    "credits_issued": "case when i % 20 >= 10 and i % 5 = 0 then 10 else 0 end",
    "paid_at": "case when i % 20 >= 10 then timestamptz '2021-12-20 15:00:00+00' "
    "+ to_days(cast(i % 1815 + i % 60 as integer)) end",
    "client__id": "i % 20000 + 1",
    "client__name": "'Client ' || (i % 20000 + 1)",
    "currency__id": "case when i % 7 = 0 then 2 else 1 end",
    "currency__code": "case when i % 7 = 0 then 'EUR' else 'USD' end",
}


def select_all(table: str, exprs: dict[str, str], source: str) -> str:
    """A SELECT of every catalog column of `table`: the given expressions, else typed nulls."""
    cols = [f"cast({exprs.get(c, 'null')} as {kind}) as \"{c}\"" for c, kind in RAW_TABLES[table].items()]
    return f"select {', '.join(cols)} from {source}"


def generate(con: duckdb.DuckDBPyConnection, n_bills: int) -> dict[str, int]:
    con.execute("create schema clio")
    con.execute(f"create table clio.bills as {select_all('bills', BILLS, f'range({n_bills}) t(i)')}")
    con.execute("update clio.bills set balance = due - paid - credits_issued")
    con.execute(f"""create table clio.bills__matters as {select_all('bills__matters', {
        "bill_id": "id", "id": "id % 40000 + 1", "display_number": "'M-' || (id % 40000 + 1)",
    }, 'clio.bills')}""")
    con.execute(f"""create table clio.bills__balances as {select_all('bills__balances', {
        "bill_id": "id", "id": "id % 40000 + 1", "type": "'Matter'", "amount": "balance",
        "interest_amount": "0", "due": "due",
    }, 'clio.bills')}""")
    allocation = {
        "bill__id": "id", "bill__number": "number", "matter__id": "id % 40000 + 1",
        "contact__id": "client__id", "contact__name": "client__name",
    }
    con.execute(f"""create table clio.allocations as
        {select_all('allocations', allocation | {
            "id": "id", "amount": "paid", "parent__id": "id", "parent__type": "'Payment'",
            "date": "coalesce(cast(paid_at as date), issued_at + 20)",
        }, 'clio.bills where paid > 0')}
        union all
        {select_all('allocations', allocation | {
            "id": "id + 10000000", "amount": "credits_issued", "parent__id": "id",
            "parent__type": "'CreditMemo'", "date": "issued_at + 40",
        }, 'clio.bills where credits_issued > 0')}""")
    con.execute(f"""create table clio.line_items as {select_all('line_items', {
        "id": "i + 1", "bill__id": "i // 5 + 1", "matter__id": "(i // 5 + 1) % 40000 + 1",
        "kind": "case when i % 5 = 4 then 'Expense' else 'Service' end",
        "quantity": "1.5", "price": "120.00", "sub_total": "180.00", "total": "180.00",
        "date": "date '2021-11-20' + cast((i // 5) % 1815 as integer)",
    }, f'range({5 * n_bills}) t(i)')}""")
    con.execute(f"""create table clio.matters as {select_all('matters', {
        "id": "i + 1", "display_number": "'M-' || (i + 1)", "client__id": "i % 20000 + 1",
        "responsible_attorney__id": "i % 25 + 1",
        "responsible_attorney__name": "'Attorney ' || (i % 25 + 1)", "status": "'Open'",
    }, 'range(40000) t(i)')}""")
    con.execute(f"""create table clio.outstanding_client_balances as {select_all(
        'outstanding_client_balances', {
            "id": "client__id * 100 + currency__id", "contact__id": "client__id",
            "contact__name": "any_value(client__name)", "currency__id": "currency__id",
            "currency__code": "any_value(currency__code)",
            "total_outstanding_balance": "sum(balance)",
        }, "clio.bills where state = 'awaiting_payment' and kind <> 'trust_kind' "
           "group by client__id, currency__id")}""")
    con.execute("checkpoint")
    return {t: con.execute(f"select count(*) from clio.{t}").fetchone()[0]
            for t in ("bills", "line_items", "allocations", "bills__matters", "bills__balances")}


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def one_run(db: Path) -> dict[str, float]:
    times: dict[str, float] = {}
    with duckdb.connect(str(db)) as con:
        times["baseline: full scan of the raw tables"] = sum(
            timed(lambda t=t: con.sql(f"select * from clio.{t}").to_arrow_table())
            for t in SCANNED
        )
        times["build_models"] = timed(lambda: build_models(con))
        apply_settings(con, ReportSettings(timezone="America/New_York",
                                           today=date.fromisoformat(TODAY)))
        for report in REPORTS:
            times[report] = timed(lambda r=report: con.sql(f"select * from {r}").to_arrow_table())
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bills", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        started = time.perf_counter()
        with duckdb.connect(str(db)) as con:
            counts = generate(con, args.bills)
        generated = time.perf_counter() - started
        runs = [one_run(db) for _ in range(args.runs)]
    medians = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    baseline = medians.pop("baseline: full scan of the raw tables")
    total = sum(medians.values())
    lines = [
        "# Reports build benchmark",
        "",
        f"Command: `.venv/bin/python bench/reports_build.py --bills {args.bills} --runs {args.runs}`",
        "",
        "Warehouse: " + ", ".join(f"{v:,} {k}" for k, v in counts.items())
        + f" (generated in {generated:.1f} s). DuckDB {duckdb.__version__}, "
        f"{os.cpu_count()} CPUs. Medians of {args.runs} runs; every report "
        "is fully fetched to Arrow.",
        "",
        "| step | median s | ratio to scan |",
        "|---|---:|---:|",
        f"| baseline: full scan of {', '.join(SCANNED)} | {baseline:.3f} | 1.00 |",
    ]
    lines += [f"| {k} | {v:.3f} | {v / baseline:.2f} |" for k, v in medians.items()]
    lines += [
        f"| **build + every report** | **{total:.3f}** | **{total / baseline:.2f}** |",
        "",
        f"Goal: build + every report under 10 s: {'met' if total < 10 else 'NOT met'}.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        RESULT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
