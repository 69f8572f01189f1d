"""The models rewritten for speed (#12.4) give exactly the rows of their plain statements.

`reference_sql/` holds each rewritten report as main had it before the rewrite (05c8c41):
per-bill movements summed once per figure, every bill split before the receivables are
picked. On random small warehouses, with the awkward cases the fast versions must get
right (interest charged before issue or after today, a bill without an amount due,
voided and undated allocations, overpayments, a null currency, bills issued after today,
splits of bills the warehouse lacks, matters without a display number), the shipped
model and its reference must agree row for row (as multisets) and column type for
column type."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.reports.runner import build_models
from pipelines.reports.settings import ReportSettings, apply_settings

REFERENCE = Path(__file__).parent / "reference_sql"
REWRITTEN = ("billing_kpis_monthly", "ar_aging_detail", "ar_aging_summary")
TODAY = date(2026, 11, 20)
CURRENCIES = ((1, "USD"), (2, "EUR"), (None, None))
MATTERS = (11, 12, 13)  # 11 named, 12 synced without a display number, 13 not synced

TABLES = {
    "bills": "id bigint, number varchar, state varchar, kind varchar, issued_at date, "
             "due_at date, total decimal(18, 2), due decimal(18, 2), paid decimal(18, 2), "
             "balance decimal(18, 2), paid_at timestamptz, updated_at timestamptz, "
             "client__id bigint, client__name varchar, currency__id bigint, "
             "currency__code varchar",
    "allocations": "id bigint, bill__id bigint, amount decimal(18, 2), date date, "
                   "voided_at timestamptz, parent__type varchar, matter__id bigint, "
                   "contact__id bigint",
    "interest_charges": "id bigint, bill__id bigint, total decimal(18, 2), date date",
    "bills__balances": "bill_id bigint, id bigint, type varchar, amount decimal(18, 2), "
                       "interest_amount decimal(18, 2), due decimal(18, 2)",
    "bills__matters": "bill_id bigint, id bigint, display_number varchar",
    "matters": "id bigint, display_number varchar, responsible_attorney__id bigint, "
               "responsible_attorney__name varchar",
}


def cents(draw, low: int = 1, high: int = 90_000) -> float:
    return draw(st.integers(low, high)) / 100


def day(draw, start: date, low: int, high: int) -> date:
    return start + timedelta(days=draw(st.integers(low, high)))


def stamp(draw, on: date) -> datetime:
    """A time on `on` in UTC, late in the day often enough to be the next day in New York's
    zone or the day before it."""
    return datetime.combine(on, time(draw(st.sampled_from([1, 12, 23])), 30), UTC)


@st.composite
def warehouses(draw) -> dict[str, list[tuple]]:
    rows: dict[str, list[tuple]] = {table: [] for table in TABLES}
    bill_ids = range(1, draw(st.integers(0, 12)) + 1)
    for bill in bill_ids:
        state = draw(st.sampled_from(["awaiting_payment", "awaiting_payment", "paid", "paid",
                                      "draft", "void"]))
        issued = day(draw, TODAY, -420, 10)
        due_at = draw(st.sampled_from([issued, issued + timedelta(days=30), None]))
        due = draw(st.one_of(st.none(), st.integers(100, 900_000).map(lambda c: c / 100)))
        currency_id, currency = draw(st.sampled_from(CURRENCIES))
        paid_at = stamp(draw, day(draw, issued, 0, 120)) if state == "paid" and draw(
            st.booleans()) else None
        updated_at = stamp(draw, day(draw, issued, 0, 200)) if draw(st.booleans()) else None
        client = draw(st.integers(1, 3))
        rows["bills"].append((
            bill, f"B{bill}", state,
            draw(st.sampled_from(["revenue_kind", "revenue_kind", "trust_kind", None])),
            issued, due_at, due, due, cents(draw, 0), cents(draw, 0), paid_at, updated_at,
            client, f"Client {client}", currency_id, currency))
        for n in range(draw(st.integers(0, 3))):
            rows["allocations"].append((
                bill * 10 + n, bill, cents(draw),
                draw(st.one_of(st.none(), st.just(day(draw, issued, -5, 130)))),
                stamp(draw, day(draw, issued, 0, 60)) if draw(st.booleans()) else None,
                draw(st.sampled_from(["Payment", "Payment", "CreditMemo", "Refund"])), 11, client))
        for n in range(draw(st.integers(0, 2))):
            rows["interest_charges"].append((
                bill * 10 + n, bill, cents(draw, 1, 5_000),
                draw(st.one_of(st.none(), st.just(day(draw, issued, -40, 130))))))
    for bill in [*bill_ids, 99]:  # 99: a bill the warehouse does not hold
        if draw(st.booleans()):
            for matter in draw(st.lists(st.sampled_from(MATTERS), max_size=2, unique=True)):
                amount = cents(draw, 0)
                rows["bills__balances"].append((
                    bill, matter, draw(st.sampled_from(["Matter", "Matter", "Contact"])),
                    amount, 0, amount))
        rows["bills__matters"] += [(bill, m, f"B{bill}-M{m}") for m in draw(
            st.lists(st.sampled_from(MATTERS), max_size=2, unique=True))]
    rows["interest_charges"].append((990, 99, 1.25, TODAY))  # interest on a bill not held
    rows["matters"] = [(11, "M-11", 7, "Attorney 7"), (12, None, None, None)]
    return rows


def load(con: duckdb.DuckDBPyConnection, rows: dict[str, list[tuple]]) -> None:
    con.execute("create schema clio")
    for table, columns in TABLES.items():
        con.execute(f"create table clio.{table} ({columns})")
        if rows[table]:
            marks = ", ".join("?" * len(rows[table][0]))
            con.executemany(f"insert into clio.{table} values ({marks})", rows[table])


def reference_views(con: duckdb.DuckDBPyConnection) -> None:
    """`reference.<report>` from `reference_sql/`; the summary reads the reference detail."""
    con.execute("create schema reference")
    for path in sorted(REFERENCE.glob("*.sql")):
        con.execute(f"create view reference.{path.stem} as {path.read_text()}")
    summary = (Path(__file__).parents[2] / "sql" / "reports" / "ar_aging_summary.sql").read_text()
    con.execute("create view reference.ar_aging_summary as "
                + summary.replace("reports.ar_aging_detail", "reference.ar_aging_detail"))


def mismatches(con: duckdb.DuckDBPyConnection, report: str) -> tuple[list, list]:
    """Rows of the model that its reference lacks, and the other way round (multisets)."""
    model, reference = f"reports.{report}", f"reference.{report}"
    extra = con.execute(f"select * from {model} except all select * from {reference}").fetchall()
    missing = con.execute(f"select * from {reference} except all select * from {model}").fetchall()
    return extra, missing


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(warehouses(), st.sampled_from(["due_date", "issue_date"]))
def test_rewritten_reports_give_the_rows_of_their_plain_statements(rows, basis):
    with duckdb.connect() as con:
        load(con, rows)
        build_models(con)
        reference_views(con)
        apply_settings(con, ReportSettings(timezone="America/New_York", today=TODAY,
                                           aging_basis=basis))
        for report in REWRITTEN:
            shape = con.execute(f"describe select * from reports.{report}").fetchall()
            assert shape == con.execute(f"describe select * from reference.{report}").fetchall()
            assert mismatches(con, report) == ([], []), report


def test_the_reference_statements_are_the_rewritten_reports():
    """Each file of reference_sql/ stands for a shipped report of the same name."""
    shipped = Path(__file__).parents[2] / "sql" / "reports"
    assert {p.stem for p in REFERENCE.glob("*.sql")} <= {p.stem for p in shipped.glob("*.sql")}
    assert {p.stem for p in REFERENCE.glob("*.sql")} <= set(REWRITTEN)
