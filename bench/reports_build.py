"""Benchmark: build every SQL model and query every report over a large warehouse.

Generates (with DuckDB's `range()`) a warehouse of 1,000,000 bills, 5,000,000 line items,
their allocations, matter links and balances in schema `clio`, typed as the catalog says,
and the whole firm around them: 5,500,000 activities (one per line item, plus 500,000
unbilled), 40,000 matters with 10 custom field values each (20 definitions of every
type), 20,000 contacts with 3 each, trust balances and evergreen minimums, 200,000 tasks
and Clio's billable matters.
Then, side by side in one run, times:

- baseline: a plain full scan of the raw tables the reports read (fetched to Arrow);
- build: `build_models` (create or replace every view and macro);
- each report fully fetched to Arrow (`reports.*`, the as-of macro at today - 30, and
  `clio-sync report ar-aging|unbilled --by custom-field "Referral Source"`);

and reports medians over a few runs and the ratio of build + every report to the scan,
then the CPU seconds of each step (every thread of the process), which a shared
machine's load moves less than the wall clock.
With `--before REF`, the models of `sql/` at git revision REF are built and
timed too, in the same runs (alternating with this checkout's), in a column of their own,
and after the timed runs every report's rows are compared between the two (`except all`
both ways, and the column types): a faster model must give the same rows.

    .venv/bin/python bench/reports_build.py [--bills 1000000] [--runs 3] [--before REF]
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
from revisions import checkout

from pipelines.reports.custom_field_grouping import resolve_matter_field
from pipelines.reports.raw_tables import RAW_TABLES
from pipelines.reports.report import report_query
from pipelines.reports.runner import build_models
from pipelines.reports.settings import ReportSettings, apply_settings

TODAY = "2026-11-20"
REPORTS = (
    "reports.ar_aging_detail", "reports.ar_aging_summary", "reports.outstanding_balances",
    "reports.paid_bills", "reports.collections", "reports.billing_kpis_monthly",
    f"reports.ar_aging_as_of(date '{TODAY}' - 30)",
    "reports.custom_field_values", "reports.matter_custom_fields",
    "reports.contact_custom_fields", "reports.unbilled_work",
    "reports.timekeeper_productivity_monthly", "reports.trust_balances", "reports.open_tasks",
)
WHOLE_FIRM = set(REPORTS[7:])  # the reports of issue 9, after the billing ones
BY_CUSTOM_FIELD = ("ar-aging", "unbilled")  # `report NAME --by custom-field "Referral Source"`
SCANNED = ("bills", "bills__matters", "bills__balances", "allocations", "matters",
           "outstanding_client_balances", "line_items", "activities",
           "matters__custom_field_values", "tasks")
# Custom field definitions: (id, name, parent type, field type); values by field type.
DEFINITIONS = [
    (1, "Referral Source", "Matter", "picklist"), (2, "Budget", "Matter", "currency"),
    (3, "Opened On", "Matter", "date"), (4, "Conflict Checked", "Matter", "checkbox"),
    (5, "Related Matter", "Matter", "matter"), (6, "Opposing Party", "Matter", "contact"),
    (7, "Estimated Hours", "Matter", "numeric"), (8, "Court", "Matter", "text_line"),
    (9, "Hearing Time", "Matter", "time"), (10, "Docket", "Matter", "url"),
    (11, "Adjuster Email", "Matter", "email"), (12, "Notes", "Matter", "text_area"),
    (13, "Stage", "Matter", "picklist"), (14, "Claim Amount", "Matter", "currency"),
    (15, "Filed On", "Matter", "date"), (16, "Jury", "Matter", "checkbox"),
    (17, "Case Number", "Matter", "text_line"), (18, "Judge", "Matter", "text_line"),
    (19, "Venue", "Matter", "text_line"), (20, "Old Field", "Matter", "text_line"),
    (21, "Industry", "Contact", "picklist"), (22, "Client Since", "Contact", "date"),
    (23, "Billing Email", "Contact", "email"),
]
VALUE_TEXT = {
    "picklist": "cast(f.id * 100 + n % 5 + 1 as varchar)", "currency": "cast(n % 90000 || '.50' as varchar)",
    "date": "cast(date '2024-01-01' + cast(n % 700 as integer) as varchar)",
    "checkbox": "case when n % 3 = 0 then 'false' else 'true' end",
    "matter": "cast(n % 40000 + 1 as varchar)", "contact": "cast(n % 20000 + 1 as varchar)",
    "numeric": "cast(n % 400 as varchar)", "time": "'14:30:00'",
}
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
        "user__id": "(i // 5) % 25 + 1", "activity__id": "i + 1",
    }, f'range({5 * n_bills}) t(i)')}""")
    con.execute(f"""create table clio.matters as {select_all('matters', {
        "id": "i + 1", "display_number": "'M-' || (i + 1)", "client__id": "i % 20000 + 1",
        "responsible_attorney__id": "i % 25 + 1",
        "responsible_attorney__name": "'Attorney ' || (i % 25 + 1)", "status": "'Open'",
        "evergreen_retainer__minimum_threshold": "case when i % 4 = 0 then 5000.00 end",
    }, 'range(40000) t(i)')}""")
    generate_whole_firm(con, n_bills)
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
            for t in ("bills", "line_items", "allocations", "bills__matters", "bills__balances",
                      "activities", "matters__custom_field_values", "tasks")}


def generate_whole_firm(con: duckdb.DuckDBPyConnection, n_bills: int) -> None:
    """Time, custom fields, trust and tasks around the bills (`generate`)."""
    con.execute(f"""create table clio.users as {select_all('users', {
        "id": "i + 1", "name": "'Attorney ' || (i + 1)", "rate": "200 + i * 10",
    }, 'range(25) t(i)')}""")
    # one activity per line item (billed unless its bill is a draft), then 10% more unbilled
    con.execute(f"""create table clio.activities as
        {select_all('activities', {
            "id": "line_items.id", "type": "case when line_items.kind = 'Service' "
            "then 'TimeEntry' else 'ExpenseEntry' end", "date": "line_items.date",
            "quantity": "5400", "rounded_quantity": "5400", "price": "120.00",
            "total": "180.00", "billed": "bills.state <> 'draft'", "on_bill": "true",
            "non_billable": "false", "matter__id": "line_items.matter__id",
            "user__id": "line_items.user__id", "bill__id": "line_items.bill__id",
        }, 'clio.line_items join clio.bills on bills.id = line_items.bill__id')}
        union all
        {select_all('activities', {
            "id": f"{5 * n_bills} + i + 1", "type": "'TimeEntry'",
            "date": "date '2026-11-20' - cast(i % 200 as integer)", "quantity": "3600",
            "rounded_quantity": "3600", "price": "250.00", "total": "250.00",
            "billed": "false", "on_bill": "false", "non_billable": "i % 17 = 0",
            "matter__id": "i % 40000 + 1", "user__id": "i % 25 + 1",
        }, f'range({n_bills // 2}) t(i)')}""")
    con.execute(f"""create table clio.contacts as {select_all('contacts', {
        "id": "i + 1", "name": "'Client ' || (i + 1)", "is_client": "true",
    }, 'range(20000) t(i)')}""")
    con.execute("create temp table definitions (id bigint, name varchar, parent_type varchar, "
                "field_type varchar)")
    con.executemany("insert into definitions values (?, ?, ?, ?)", DEFINITIONS)
    con.execute(f"""create table clio.custom_fields as {select_all('custom_fields', {
        "id": "id", "name": "name", "parent_type": "parent_type", "field_type": "field_type",
        "deleted": "id = 20",
    }, 'definitions')}""")
    con.execute(f"""create table clio.custom_fields__picklist_options as {select_all(
        'custom_fields__picklist_options', {
            "id": "definitions.id * 100 + k", "option": "'Option ' || k",
            "custom_field_id": "definitions.id",
        }, "definitions, range(1, 6) o(k) where field_type = 'picklist'")}""")
    value_text = "case f.field_type " + " ".join(
        f"when '{kind}' then {sql}" for kind, sql in VALUE_TEXT.items()) + " else 'text ' || n end"
    for parent, count, per in (("matters", 40000, 10), ("contacts", 20000, 3)):
        kind = parent.removesuffix("s").capitalize()
        fields = sum(1 for d in DEFINITIONS if d[2] == kind)
        con.execute(f"""create table clio.{parent}__custom_field_values as {select_all(
            f'{parent}__custom_field_values', {
                "id": "f.field_type || '-' || (p * 100 + f.id)", "field_name": "f.name",
                "field_type": "f.field_type", "value": value_text,
                "soft_deleted": "f.id = 20", "custom_field__id": "f.id",
                "picklist_option__id": "case when f.field_type = 'picklist' "
                "then f.id * 100 + n % 5 + 1 end",
                f"{parent.removesuffix('s')}_id": "p + 1",
            }, f"(select i as p, i * 7 + f.id as n, f.* from range({count}) t(i), definitions f "
               f"where f.parent_type = '{kind}' and (i + f.id) % {fields} < {per}) as f")}""")
    con.execute(f"""create table clio.matters__account_balances as {select_all(
        'matters__account_balances', {
            "id": "1", "balance": "cast((i * 37) % 9000 as decimal(18, 2))", "type": "'Trust'",
            "name": "'Trust'", "currency_id": "1", "matter_id": "i + 1",
        }, 'range(0, 40000, 2) t(i)')}""")
    con.execute(f"""create table clio.bank_accounts as {select_all('bank_accounts', {
        "id": "1", "name": "'Trust'", "type": "'Trust'", "currency": "'USD'", "currency_id": "1",
    }, 'range(1) t(i)')}""")
    con.execute(f"""create table clio.billable_matters as {select_all('billable_matters', {
        "id": "matter__id", "currency_code": "'USD'", "currency_id": "1",
        "unbilled_amount": "sum(total)", "unbilled_hours": "sum(rounded_quantity) / 3600",
    }, "clio.activities where not billed and not on_bill and not non_billable "
       "group by matter__id")}""")
    con.execute(f"""create table clio.tasks as {select_all('tasks', {
        "id": "i + 1", "name": "'Task ' || (i + 1)",
        "status": "case i % 5 when 0 then 'complete' when 1 then 'draft' when 2 then 'pending' "
        "when 3 then 'in_progress' else 'in_review' end",
        "due_at": "date '2026-11-20' + cast(i % 120 as integer) - 60",
        "matter__id": "i % 40000 + 1", "assignee__id": "i % 25 + 1", "assignee__type": "'User'",
        "assignee__name": "'Attorney ' || (i % 25 + 1)",
    }, 'range(200000) t(i)')}""")


CPU_TIMES: dict[str, float] = {}  # the CPU seconds (every thread) of the last run's steps


def timed(fn, key: str | None = None) -> float:
    """Wall seconds of `fn()`; with `key`, its CPU seconds go to CPU_TIMES[key] (summed)."""
    started, cpu = time.perf_counter(), time.process_time()
    fn()
    if key is not None:
        CPU_TIMES[key] = CPU_TIMES.get(key, 0.0) + time.process_time() - cpu
    return time.perf_counter() - started


def checkout_sql(ref: str, into: Path) -> Path:
    """The models folder (`sql/`, which `pipelines/sql` links to) at git revision `ref`,
    extracted under `into`."""
    return checkout(ref, into, "sql") / "sql"


def one_run(db: Path, sql_dir: Path | None = None) -> tuple[dict[str, float], dict[str, float]]:
    """Wall and CPU seconds of every step."""
    times: dict[str, float] = {}
    CPU_TIMES.clear()
    with duckdb.connect(str(db)) as con:
        times["baseline: full scan of the raw tables"] = sum(
            timed(lambda t=t: con.sql(f"select * from clio.{t}").to_arrow_table(),
                  "baseline: full scan of the raw tables")
            for t in SCANNED
        )
        times["build_models"] = timed(lambda: build_models(con, sql_dir), "build_models")
        apply_settings(con, ReportSettings(timezone="America/New_York",
                                           today=date.fromisoformat(TODAY)))
        for report in REPORTS:
            times[report] = timed(lambda r=report: con.sql(f"select * from {r}").to_arrow_table(),
                                  report)
        for name in BY_CUSTOM_FIELD:
            def by_field(name: str = name) -> None:
                query = report_query(name, "custom-field", None,
                                     resolve_matter_field(con, "Referral Source"))
                con.sql(query.sql).to_arrow_table()  # no parameters without --as-of
            key = f'report {name} --by custom-field "Referral Source"'
            times[key] = timed(by_field, key)
    return times, dict(CPU_TIMES)


def compare_rows(db: Path, before_sql: Path) -> dict[str, str]:
    """Each report of `REPORTS` under the models of `before_sql` against this checkout's:
    'identical' when the rows agree as multisets (`except all` both ways) and the column
    names and types are the same, else what differs."""
    settings = ReportSettings(timezone="America/New_York", today=date.fromisoformat(TODAY))
    verdicts = {}
    with duckdb.connect(str(db)) as con:
        build_models(con, before_sql)
        apply_settings(con, settings)
        con.execute("create schema bench_before")
        for i, report in enumerate(REPORTS):
            con.execute(f"create table bench_before.r{i} as select * from {report}")
        build_models(con)
        apply_settings(con, settings)
        for i, report in enumerate(REPORTS):
            before = f"bench_before.r{i}"
            extra, missing = (con.execute(f"select count(*) from ({a} except all {b})").fetchone()[0]
                              for a, b in ((f"select * from {report}", f"select * from {before}"),
                                           (f"select * from {before}", f"select * from {report}")))
            same_shape = (con.execute(f"describe select * from {report}").fetchall()
                          == con.execute(f"describe select * from {before}").fetchall())
            verdicts[report] = ("identical" if extra == missing == 0 and same_shape else
                                f"{extra} rows only now, {missing} only before"
                                + ("" if same_shape else ", columns differ"))
        con.execute("drop schema bench_before cascade")
    return verdicts


def summarize(runs: list[dict[str, float]]) -> tuple[dict[str, float], dict[str, float]]:
    """Medians and bests of each step over `runs`."""
    medians = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    best = {k: min(r[k] for r in runs) for k in runs[0]}  # the least disturbed by neighbours
    return medians, best


def cpu_table(cpu: dict[str, float], before: dict[str, float], steps: list[str],
              ref: str | None) -> list[str]:
    """The CPU seconds (every thread of the process) of each step: on a shared machine
    they move less with the neighbours' load than the wall clock does."""
    head = ("| step | before CPU s | CPU s | ratio to before |\n|---|---:|---:|---:|" if before
            else "| step | CPU s |\n|---|---:|")
    lines = ["", "CPU seconds of the process (all its threads), medians of the same runs"
             + (f" (before: the models of `{ref}`)" if before else "") + ":", "", head]
    for key in [*steps, "build + every report"]:
        keys = steps if key == "build + every report" else [key]
        mine = sum(cpu[k] for k in keys)
        if before:
            old = sum(before[k] for k in keys)
            lines.append(f"| {key} | {old:.3f} | {mine:.3f} | {mine / old if old else 0:.2f} |")
        else:
            lines.append(f"| {key} | {mine:.3f} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bills", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", metavar="REF",
                        help="also time the models of git revision REF, in the same runs")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()  # the machine is shared: say how busy it was
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        before_sql = checkout_sql(args.before, Path(tmp)) if args.before else None
        started = time.perf_counter()
        with duckdb.connect(str(db)) as con:
            counts = generate(con, args.bills)
        generated = time.perf_counter() - started
        runs, runs_before, cpu, cpu_before = [], [], [], []
        for _ in range(args.runs):  # alternate, so both see the same neighbours
            if before_sql:
                wall, used = one_run(db, before_sql)
                runs_before.append(wall)
                cpu_before.append(used)
            wall, used = one_run(db)
            runs.append(wall)
            cpu.append(used)
        load_after = os.getloadavg()  # before the comparison, which is not timed
        verdicts = compare_rows(db, before_sql) if before_sql else {}
    medians, best = summarize(runs)
    old = summarize(runs_before)[0] if runs_before else {}
    scan = "baseline: full scan of the raw tables"
    baseline = medians[scan]
    # the goal counts the models and every view and macro, as before; the `--by
    # custom-field` commands (a view grouped once more) are shown beside it
    steps = [k for k in medians if k != scan and not k.startswith("report ")]
    commands = [k for k in medians if k.startswith("report ")]

    def total(values: dict[str, float], keys: list[str]) -> float:
        return sum(values[k] for k in keys)

    def row(label: str, key_set: list[str], bold: bool = False) -> str:
        cells = [total(old, key_set)] if old else []
        cells += [total(medians, key_set), total(best, key_set)]
        ratio = total(medians, key_set) / baseline
        text = [f"{c:.3f}" for c in cells] + [f"{ratio:.2f}"]
        if bold:
            label, text = f"**{label}**", [f"**{t}**" for t in text]
        return f"| {label} | " + " | ".join(text) + " |"

    whole_firm = [k for k in steps if k in WHOLE_FIRM]
    head = (f"| step | before ({args.before}) median s | median s | best s | median ratio to scan |"
            if old else "| step | median s | best s | median ratio to scan |")
    runs_note = (f"Medians and best of {args.runs} runs of each version, alternating (the "
                 f"models of `{args.before}` first, then this checkout's), on the same database"
                 if old else f"Medians and best of {args.runs} runs")
    before_flag = f" --before {args.before}" if args.before else ""
    lines = [
        "# Reports build benchmark",
        "",
        f"Command: `.venv/bin/python bench/reports_build.py --bills {args.bills} "
        f"--runs {args.runs}{before_flag}`",
        "",
        "Warehouse: " + ", ".join(f"{v:,} {k}" for k, v in counts.items())
        + f" (generated in {generated:.1f} s). DuckDB {duckdb.__version__}, "
        f"{os.cpu_count()} CPUs, shared: load average (1, 5, 15 min) "
        f"{' '.join(f'{x:.2f}' for x in load_before)} before, "
        f"{' '.join(f'{x:.2f}' for x in load_after)} after. {runs_note}; every report "
        "is fully fetched to Arrow.",
        "",
        head,
        "|---|" + "---:|" * (4 if old else 3),
        row(f"baseline: full scan of {', '.join(SCANNED)}", [scan]),
    ]
    lines += [row(k, [k]) for k in steps]
    lines += [row("build + every report", steps, bold=True),
              row("of which the whole-firm reports (issue 9)", whole_firm)]
    lines += [row(k, [k]) for k in commands]
    lines += [row("build + every report + those commands", steps + commands)]
    goal = 5 if args.bills >= 2_000_000 else 10
    median_total, best_total = total(medians, steps), total(best, steps)
    lines += [
        "",
        f"Goal: build + every report under {goal} s: "
        f"{'met' if median_total < goal else 'NOT met'} "
        f"(median {median_total:.1f} s, best {best_total:.1f} s"
        + (f"; before: median {total(old, steps):.1f} s" if old else "") + ").",
    ]
    if verdicts:
        differing = {k: v for k, v in verdicts.items() if v != "identical"}
        lines += ["", f"Rows: every report compared with `{args.before}`'s on this warehouse "
                  "(`except all` both ways, and the column names and types): "
                  + ("identical." if not differing else "DIFFERENT: " + "; ".join(
                      f"{k}: {v}" for k, v in differing.items()) + ".")]
    lines += cpu_table(summarize(cpu)[0], summarize(cpu_before)[0] if cpu_before else {},
                       steps, args.before)
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        RESULT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
