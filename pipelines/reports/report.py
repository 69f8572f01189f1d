"""The reports `clio-sync report` prints: one query per report over schema `reports`.

`--by` rolls the aging up per client, matter or responsible attorney, unbilled work also
per timekeeper, and both by a matter custom field (`--by custom-field NAME`); `--as-of
DATE` sets the firm's "today" to that date and, for the aging and outstanding reports,
uses `reports.ar_aging_as_of`, which rebuilds balances from bills issued and allocations
dated by then (per bill and client: Clio keeps no history of the matter split).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from pipelines.errors import ClioSyncError, ConfigError
from pipelines.reports import whole_firm_reports as firm
from pipelines.reports.custom_field_grouping import FieldColumn
from pipelines.reports.engine import Engine, as_engine
from pipelines.reports.output import Result
from pipelines.reports.table import Column, Kind, Layout

REPORTS: tuple[str, ...] = (
    "ar-aging", "outstanding", "paid-bills", "collections", "kpis", "unbilled", "productivity",
    "trust", "tasks", "intake-funnel",
)
GROUPINGS: dict[str, tuple[str, ...]] = {
    "client": ("client_id", "client_name"),
    "matter": ("matter_id", "matter_display_number", "client_name"),
    "attorney": ("responsible_attorney_id", "responsible_attorney_name"),
    "timekeeper": ("user_id", "user_name"),
}
CUSTOM_FIELD = "custom-field"  # `--by custom-field NAME`: a matter custom field
# The groupings each report takes; the first is its default.
BY: dict[str, tuple[str, ...]] = {
    "ar-aging": ("client", "matter", "attorney", CUSTOM_FIELD),
    "outstanding": ("client", "matter", "attorney"),
    "unbilled": ("matter", "client", "attorney", "timekeeper", CUSTOM_FIELD),
}
NO_HISTORY = {
    "unbilled": "whether work was billed",
    "trust": "trust balances",
    "tasks": "task statuses",
}
BUCKETS = (
    "current_amount", "days_1_30_amount", "days_31_60_amount", "days_61_90_amount",
    "days_91_plus_amount",
)

# What `--format table` shows (CSV and JSON keep every column, under these machine names).
# `drop`: the order in which columns give way on a narrow terminal (highest first).
KEY_COLUMNS: dict[str, tuple[Column, ...]] = {
    "client": (Column("client_name", "Client", missing="(no client)"),),
    "matter": (Column("matter_display_number", "Matter", missing="(no matter)"),
               Column("client_name", "Client", drop=2)),
    "attorney": (Column("responsible_attorney_name", "Attorney", missing="(no attorney)"),),
    "timekeeper": (Column("user_name", "Timekeeper", missing="(no timekeeper)"),),
}
AGING_COLUMNS = (
    Column("count_bills", "Bills", "number", drop=1),
    Column("current_amount", "Current", "money", total=True),
    Column("days_1_30_amount", "1–30", "money", total=True),
    Column("days_31_60_amount", "31–60", "money", total=True),
    Column("days_61_90_amount", "61–90", "money", total=True),
    Column("days_91_plus_amount", "91+", "money", total=True),
    Column("balance", "Balance", "money", total=True),
)
OUTSTANDING_COLUMNS = (
    Column("total_outstanding", "Outstanding", "money", total=True),
    Column("overdue_outstanding", "Overdue", "money", total=True),
    Column("oldest_due_at", "Oldest due", "date", drop=3),
    Column("last_payment_date", "Last payment", "date", drop=4),
    Column("open_bills", "Bills", "number", drop=1),
)
PAID_BILLS_LAYOUT = Layout((
    Column("bill_number", "Bill"),
    Column("client_name", "Client"),
    Column("issued_at", "Issued", "date", drop=3),
    Column("due_at", "Due", "date", drop=2),
    Column("paid_at", "Paid", "date"),
    Column("days_to_pay", "Days\nto pay", "number"),
    Column("days_late", "Days\nlate", "number", drop=1),
    Column("amount_due", "Amount\ndue", "money", total=True),
    Column("collected", "Collected", "money", total=True),
    Column("written_off", "Written\noff", "money", total=True),
    Column("settled_by", "Settled\nby", "label", drop=4),
))
COLLECTIONS_LAYOUT = Layout((
    Column("allocation_date", "Date", "date"),
    Column("bill_number", "Bill"),
    Column("client_name", "Client"),
    Column("collected", "Collected", "money", total=True),
    Column("written_off", "Written\noff", "money", total=True),
    Column("days_after_issue", "Days after\nissue", "number", drop=2),
    Column("days_after_due", "Days after\ndue", "number", drop=1),
))
KPIS_LAYOUT = Layout((
    Column("month", "Month", "month"),
    Column("billed", "Billed", "money"),
    Column("collected", "Collected", "money"),
    Column("written_off", "Written\noff", "money", drop=3),
    Column("collection_rate", "Collection\nrate", "percent"),
    Column("ar_at_month_end", "AR at\nmonth end", "money"),
    Column("ar_over_90_at_month_end", "AR 91+ at\nmonth end", "money", drop=2),
    Column("dso_days", "DSO\n(days)", "days"),
    Column("avg_days_to_pay", "Days to pay\n(average)", "days", drop=4),
    Column("weighted_days_to_pay", "Days to pay\n(weighted)", "days", drop=5),
    Column("count_bills_issued", "Bills\nissued", "number", drop=6),
    Column("count_bills_paid", "Bills\npaid", "number", drop=7),
), totals=False)


INTAKE_FUNNEL_LAYOUT = Layout((
    Column("month", "Month", "month"),
    Column("lead_source", "Lead source", "label"),
    Column("leads", "Leads", "number"),
    Column("intakes", "Intakes", "number"),
    Column("hired", "Hired", "number"),
    Column("declined", "Declined", "number"),
    Column("open_intakes", "Open", "number", drop=2),
    Column("hire_rate", "Hire\nrate", "percent"),
    Column("avg_days_lead_to_hire", "Days lead\nto hire", "days", drop=1),
), totals=False)


class ReportsMissing(ClioSyncError):
    """The warehouse has no `reports` schema yet."""


@dataclass(frozen=True)
class ReportQuery:
    """The SQL of one report invocation and its parameters."""

    title: str
    sql: str
    params: tuple[object, ...] = ()
    layout: Layout | None = None  # how `--format table` shows it


def report_query(
    name: str, by: str | None = None, as_of: date | None = None, field: FieldColumn | None = None,
) -> ReportQuery:
    """The query for `clio-sync report NAME [--by ...] [--as-of ...]`.

    Args:
        field: the matter custom field of `--by custom-field` (see `custom_field_grouping`).

    Raises:
        ConfigError: an unknown report, `--by` where the report has no such grouping, or
            `--as-of` where the report cannot look back.
    """
    check_options(name, by, as_of)
    suffix = f" as of {as_of.isoformat()}" if as_of else ""
    if by == CUSTOM_FIELD:
        if field is None:
            raise ValueError("--by custom-field needs the resolved field")
        query = _by_custom_field(name, field)
        return ReportQuery(query.title + suffix, query.sql, query.params, query.layout)
    builders = {
        "ar-aging": _ar_aging,
        "outstanding": _outstanding,
        "paid-bills": _paid_bills,
        "collections": _collections,
        "kpis": _kpis,
        "intake-funnel": _intake_funnel,
        "unbilled": _unbilled,
        "productivity": _productivity,
        "trust": _trust,
        "tasks": _tasks,
    }
    query = builders[name](by or BY.get(name, ("client",))[0], as_of)
    return ReportQuery(query.title + suffix, query.sql, query.params, query.layout)


def check_options(name: str, by: str | None, as_of: date | None) -> None:
    """Raise ConfigError when `--by` or `--as-of` does not apply to report `name`."""
    if name not in REPORTS:
        raise ConfigError(f"There is no report {name!r}. Choose one of: {', '.join(REPORTS)}.")
    if by is not None and name not in BY:
        raise ConfigError(
            f"--by applies to the ar-aging and outstanding reports and to unbilled, not "
            f"{name}. Drop --by, or use `clio-sync sql` to group the reports.* views another way."
        )
    if by is not None and by not in BY[name]:
        raise ConfigError(
            f"--by {by} does not apply to {name}: use one of "
            + ", ".join(f"{b} NAME" if b == CUSTOM_FIELD else b for b in BY[name]) + "."
        )
    if as_of is not None and name in NO_HISTORY:
        raise ConfigError(
            f"--as-of is not available for {name}: Clio keeps no history of "
            f"{NO_HISTORY[name]}, so the report can only show them as they are now. Drop --as-of."
        )
    if as_of is not None and by in ("matter", "attorney", CUSTOM_FIELD) and name in BY:
        raise ConfigError(
            f"--as-of with --by {by} is not available: the as-of aging is rebuilt per bill, "
            "and Clio keeps no history of how a bill's balance split across matters. Use "
            "--by client with --as-of, or drop --as-of for today's split."
        )


def run_report(con: duckdb.DuckDBPyConnection | Engine, query: ReportQuery) -> Result:
    """Execute a report query on a connection (or engine) whose settings are applied."""
    engine = as_engine(con)
    reports = engine.schemas.reports
    present = engine.execute(
        "select count(*) from information_schema.tables where table_schema = ? "
        "and table_type = 'VIEW' and table_catalog = current_database()", [reports]
    ).fetchone()
    if not present or not present[0]:
        raise ReportsMissing(
            f"This warehouse has no reports yet (schema `{reports}` is empty). Build them with "
            "`clio-sync models` (a `clio-sync run` also builds them), then try again."
        )
    try:
        cursor = engine.execute(query.sql, list(query.params))
    except engine.errors as exc:
        raise ClioSyncError(
            f"{engine.label} could not run the report: {' '.join(str(exc).split())} The "
            "models may be older than this clio-sync: rebuild them with `clio-sync models` "
            "and try again."
        ) from None
    return Result.fetch(cursor, engine.column_types(cursor))


def _ar_aging(by: str, as_of: date | None) -> ReportQuery:
    keys = ", ".join(GROUPINGS[by])
    source = "reports.ar_aging_as_of(?)" if as_of else "reports.ar_aging_detail"
    layout = Layout(KEY_COLUMNS[by] + AGING_COLUMNS)
    return ReportQuery(f"AR aging by {by}", _ar_aging_sql(keys, source), (as_of,) if as_of else (),
                       layout)


def _ar_aging_sql(keys: str, source: str) -> str:
    sums = ",\n    ".join(f"sum({b}) as {b}" for b in BUCKETS)
    return f"""
select
    {keys},
    currency,
    count(distinct bill_id) as count_bills,
    {sums},
    sum(balance) as balance,
from {source}
group by all
order by currency, balance desc, {keys}
"""


def _outstanding(by: str, as_of: date | None) -> ReportQuery:
    if by == "client" and as_of is None:
        sql = "select * from reports.outstanding_balances order by currency, total_outstanding desc, client_id"
        return ReportQuery("Outstanding balances by client", sql, (), _outstanding_layout(by))
    keys = ", ".join(GROUPINGS[by])
    source = "reports.ar_aging_as_of(?)" if as_of else "reports.ar_aging_detail"
    sql = f"""
select
    {keys},
    currency,
    sum(balance) as total_outstanding,
    coalesce(sum(balance) filter (where days_past_due > 0), 0) as overdue_outstanding,
    min(due_at) as oldest_due_at,
    count(distinct bill_id) as open_bills,
from {source}
group by all
order by currency, total_outstanding desc, {keys}
"""
    return ReportQuery(f"Outstanding balances by {by}", sql, (as_of,) if as_of else (),
                       _outstanding_layout(by))


def _outstanding_layout(by: str) -> Layout:
    return Layout(KEY_COLUMNS[by] + OUTSTANDING_COLUMNS)


def _paid_bills(by: str, as_of: date | None) -> ReportQuery:
    where = "where paid_at <= ?" if as_of else ""
    sql = f"select * from reports.paid_bills {where} order by paid_at desc, bill_id"
    return ReportQuery("Paid bills", sql, (as_of,) if as_of else (), PAID_BILLS_LAYOUT)


def _collections(by: str, as_of: date | None) -> ReportQuery:
    where = "where allocation_date <= ?" if as_of else ""
    sql = f"select * from reports.collections {where} order by allocation_date desc, allocation_id"
    return ReportQuery("Collections", sql, (as_of,) if as_of else (), COLLECTIONS_LAYOUT)


def _kpis(by: str, as_of: date | None) -> ReportQuery:
    # The view stops at the firm's today, which --as-of pins.
    sql = "select * from reports.billing_kpis_monthly order by currency, month"
    return ReportQuery("Billing KPIs by month", sql, (), KPIS_LAYOUT)


def _intake_funnel(by: str, as_of: date | None) -> ReportQuery:
    # Grow's enquiries per month and lead source; the firm's today (--as-of) ends the months.
    sql = """
select * from reports.intake_funnel_monthly
where month <= (select date_trunc('month', today) from intermediate.firm_today)
order by month, lead_source
"""
    return ReportQuery("Intake funnel by month and lead source (Clio Grow)", sql, (),
                       INTAKE_FUNNEL_LAYOUT)
def _by_custom_field(name: str, field: FieldColumn) -> ReportQuery:
    """AR aging or unbilled work per value of a matter custom field (a picklist's label),
    in a column `custom_field_value` (a field's own column could share a report column's name)."""
    column = '"' + field.column.replace('"', '""') + '"'
    source = "reports.ar_aging_detail" if name == "ar-aging" else "reports.unbilled_work"
    grouped = f"""(
    select matter_custom_fields.{column} as custom_field_value, report.*,
    from {source} as report
    left join reports.matter_custom_fields
        on matter_custom_fields.matter_id = report.matter_id
) as grouped"""
    kind: Kind = "date" if field.field_type == "date" else "text"
    key = (Column("custom_field_value", field.field_name, kind, missing="(no value)"),)
    if name == "ar-aging":
        sql = _ar_aging_sql("custom_field_value", grouped)
        return ReportQuery(f"AR aging by {field.field_name}", sql, (), Layout(key + AGING_COLUMNS))
    sql = firm.unbilled_sql("custom_field_value", grouped)
    return ReportQuery(f"Unbilled work by {field.field_name}", sql, (),
                       Layout(key + firm.UNBILLED_COLUMNS))


def _unbilled(by: str, as_of: date | None) -> ReportQuery:
    keys = ", ".join(GROUPINGS[by])
    return ReportQuery(f"Unbilled work by {by}", firm.unbilled_sql(keys, "reports.unbilled_work"),
                       (), Layout(KEY_COLUMNS[by] + firm.UNBILLED_COLUMNS))


def _productivity(by: str, as_of: date | None) -> ReportQuery:
    return ReportQuery("Timekeeper productivity by month", firm.PRODUCTIVITY_SQL, (),
                       firm.PRODUCTIVITY_LAYOUT)


def _trust(by: str, as_of: date | None) -> ReportQuery:
    return ReportQuery("Trust balances by matter", firm.TRUST_SQL, (), firm.TRUST_LAYOUT)


def _tasks(by: str, as_of: date | None) -> ReportQuery:
    return ReportQuery("Open tasks", firm.TASKS_SQL, (), firm.TASKS_LAYOUT)
