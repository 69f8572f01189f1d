"""One line per whole-firm report, for `clio-sync demo` to print after building the models."""

from __future__ import annotations

from decimal import Decimal

import duckdb


def summary_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Unbilled work, productivity, trust, open tasks and custom fields, a line each."""
    return [_unbilled(con), _productivity(con), _trust(con), _tasks(con), _custom_fields(con)]


def _unbilled(con: duckdb.DuckDBPyConnection) -> str:
    rows = con.execute(
        "select currency, sum(amount), sum(hours), count(distinct matter_id) "
        "from reports.unbilled_work group by all order by 2 desc, 1"
    ).fetchall()
    if not rows:
        return "Unbilled work: none."
    parts = [f"{_money(amount, currency)} ({hours:,.1f} h) on {matters:,} matters"
             for currency, amount, hours, matters in rows]
    return "Unbilled work: " + "; ".join(parts) + "."


def _productivity(con: duckdb.DuckDBPyConnection) -> str:
    """The last complete month (the current one when there is no earlier)."""
    month = con.execute("""
        select coalesce(
            max(month) filter (where month < date_trunc('month', today)), max(month))
        from reports.timekeeper_productivity_monthly, intermediate.firm_today
    """).fetchone()[0]  # type: ignore[index]
    if month is None:
        return "Productivity: no time recorded."
    hours, billable, capacity, people = con.execute("""
        select sum(hours_worked), sum(billable_hours), sum(capacity_hours) filter (where first),
               count(distinct user_id)
        from (select *, row_number() over (partition by user_id) = 1 as first
              from reports.timekeeper_productivity_monthly where month = ?)
    """, [month]).fetchone()  # type: ignore[misc]
    ratios = con.execute("""
        select currency, sum(billed_amount) / nullif(sum(billable_value), 0),
               sum(collected_amount) / nullif(sum(billed_amount), 0)
        from reports.timekeeper_productivity_monthly
        where month = ? and currency is not null  -- hours on matters of no known currency
        group by all having sum(billable_value) > 0 or sum(billed_amount) > 0
        order by sum(billed_amount) desc, 1
    """, [month]).fetchall()
    money = "; ".join(f"{currency} realization {_percent(r)}, collection rate {_percent(c)}"
                      for currency, r, c in ratios)
    return (f"Productivity {month:%Y-%m}: {people:,} timekeepers, {hours:,.1f} h worked, "
            f"{billable:,.1f} h billable, utilization {_percent(billable / capacity if capacity else None)}; "
            f"{money}.")


def _trust(con: duckdb.DuckDBPyConnection) -> str:
    rows = con.execute("""
        select currency, sum(trust_balance), count(*) filter (where trust_balance <> 0),
               count(*) filter (where is_below_minimum), sum(shortfall)
        from reports.trust_balances group by all order by 2 desc, 1
    """).fetchall()
    if not rows:
        return "Trust: no matter holds trust money."
    parts = []
    for currency, held, holders, below, short in rows:
        part = f"{_money(held, currency)} held for {holders:,} matters"
        if below:
            part += f", {below:,} below their minimum (short {_money(short, currency)})"
        parts.append(part)
    return "Trust: " + "; ".join(parts) + "."


def _tasks(con: duckdb.DuckDBPyConnection) -> str:
    count, overdue, worst = con.execute(
        "select count(*), count(*) filter (where is_overdue), max(days_overdue) "
        "from reports.open_tasks"
    ).fetchone()  # type: ignore[misc]
    if not count:
        return "Open tasks: none."
    late = f", {overdue:,} overdue (the oldest by {worst:,} days)" if overdue else ", none overdue"
    return f"Open tasks: {count:,}{late}."


def _custom_fields(con: duckdb.DuckDBPyConnection) -> str:
    values = con.execute("select count(*) from reports.custom_field_values").fetchone()[0]  # type: ignore[index]
    widths = dict(con.execute(
        "select table_name, count(*) - 1 from duckdb_columns() "
        "where database_name = current_database() and schema_name = 'reports' "
        "and table_name in ('matter_custom_fields', 'contact_custom_fields') group by 1"
    ).fetchall())
    return (f"Custom fields: {values:,} live values; matter_custom_fields has "
            f"{widths.get('matter_custom_fields', 0)} field columns, contact_custom_fields "
            f"{widths.get('contact_custom_fields', 0)}.")


def _money(amount: Decimal | None, currency: str | None) -> str:
    return f"{currency or '(no currency)'} {amount or 0:,.2f}"


def _percent(ratio: float | Decimal | None) -> str:
    return "n/a" if ratio is None else f"{float(ratio) * 100:.1f}%"
