"""The reports `clio-sync report` prints: one query per report over schema `reports`.

`--by` rolls the aging up per client, matter or responsible attorney; `--as-of DATE`
sets the firm's "today" to that date and, for the aging and outstanding reports, uses
`reports.ar_aging_as_of`, which rebuilds balances from bills issued and allocations dated
by then (per bill and client: Clio keeps no history of the matter split).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from pipelines.errors import ClioSyncError, ConfigError
from pipelines.reports.output import Result

REPORTS: tuple[str, ...] = ("ar-aging", "outstanding", "paid-bills", "collections", "kpis")
GROUPINGS: dict[str, tuple[str, ...]] = {
    "client": ("client_id", "client_name"),
    "matter": ("matter_id", "matter_display_number", "client_name"),
    "attorney": ("responsible_attorney_id", "responsible_attorney_name"),
}
BUCKETS = (
    "current_amount", "days_1_30_amount", "days_31_60_amount", "days_61_90_amount",
    "days_91_plus_amount",
)


class ReportsMissing(ClioSyncError):
    """The warehouse has no `reports` schema yet."""


@dataclass(frozen=True)
class ReportQuery:
    """The SQL of one report invocation and its parameters."""

    title: str
    sql: str
    params: tuple[object, ...] = ()


def report_query(name: str, by: str | None = None, as_of: date | None = None) -> ReportQuery:
    """The query for `clio-sync report NAME [--by ...] [--as-of ...]`.

    Raises:
        ConfigError: an unknown report, or `--by` where the report has no such grouping.
    """
    if name not in REPORTS:
        raise ConfigError(f"There is no report {name!r}. Choose one of: {', '.join(REPORTS)}.")
    if by is not None and name not in ("ar-aging", "outstanding"):
        raise ConfigError(
            f"--by applies to the ar-aging and outstanding reports, not {name}. Drop --by, "
            "or use `clio-sync sql` to group the reports.* views another way."
        )
    if by is not None and by not in GROUPINGS:
        raise ConfigError(f"--by must be one of {', '.join(GROUPINGS)}, not {by!r}.")
    if as_of is not None and by in ("matter", "attorney") and name in ("ar-aging", "outstanding"):
        raise ConfigError(
            f"--as-of with --by {by} is not available: the as-of aging is rebuilt per bill, "
            "and Clio keeps no history of how a bill's balance split across matters. Use "
            "--by client with --as-of, or drop --as-of for today's split."
        )
    suffix = f" as of {as_of.isoformat()}" if as_of else ""
    builders = {
        "ar-aging": _ar_aging,
        "outstanding": _outstanding,
        "paid-bills": _paid_bills,
        "collections": _collections,
        "kpis": _kpis,
    }
    query = builders[name](by or "client", as_of)
    return ReportQuery(query.title + suffix, query.sql, query.params)


def run_report(con: duckdb.DuckDBPyConnection, query: ReportQuery) -> Result:
    """Execute a report query on a connection whose settings are applied."""
    present = con.execute(
        "select count(*) from duckdb_views() where schema_name = 'reports' "
        "and database_name = current_database()"
    ).fetchone()
    if not present or not present[0]:
        raise ReportsMissing(
            "This warehouse has no reports yet (schema `reports` is empty). Build them with "
            "`clio-sync models` (a `clio-sync run` also builds them), then try again."
        )
    return Result.fetch(con.execute(query.sql, list(query.params)))


def _ar_aging(by: str, as_of: date | None) -> ReportQuery:
    keys = ", ".join(GROUPINGS[by])
    source = "reports.ar_aging_as_of(?)" if as_of else "reports.ar_aging_detail"
    sums = ",\n    ".join(f"sum({b}) as {b}" for b in BUCKETS)
    sql = f"""
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
    return ReportQuery(f"AR aging by {by}", sql, (as_of,) if as_of else ())


def _outstanding(by: str, as_of: date | None) -> ReportQuery:
    if by == "client" and as_of is None:
        sql = "select * from reports.outstanding_balances order by currency, total_outstanding desc, client_id"
        return ReportQuery("Outstanding balances by client", sql)
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
    return ReportQuery(f"Outstanding balances by {by}", sql, (as_of,) if as_of else ())


def _paid_bills(by: str, as_of: date | None) -> ReportQuery:
    where = "where paid_at <= ?" if as_of else ""
    sql = f"select * from reports.paid_bills {where} order by paid_at desc, bill_id"
    return ReportQuery("Paid bills", sql, (as_of,) if as_of else ())


def _collections(by: str, as_of: date | None) -> ReportQuery:
    where = "where allocation_date <= ?" if as_of else ""
    sql = f"select * from reports.collections {where} order by allocation_date desc, allocation_id"
    return ReportQuery("Collections", sql, (as_of,) if as_of else ())


def _kpis(by: str, as_of: date | None) -> ReportQuery:
    # The view stops at the firm's today, which --as-of pins.
    sql = "select * from reports.billing_kpis_monthly order by currency, month"
    return ReportQuery("Billing KPIs by month", sql)
