"""The whole-firm reports `clio-sync report` prints: unbilled work, timekeeper
productivity, trust balances and open tasks (one query each over schema `reports`)."""

from __future__ import annotations

from pipelines.reports.table import Column, Layout

BUCKETS = ("amount_0_30", "amount_31_60", "amount_61_90", "amount_91_plus")
UNBILLED_COLUMNS = (
    Column("count_activities", "Entries", "number", drop=1),
    Column("hours", "Hours", "hours", drop=2),
    Column("amount_0_30", "0–30", "money", total=True),
    Column("amount_31_60", "31–60", "money", total=True),
    Column("amount_61_90", "61–90", "money", total=True),
    Column("amount_91_plus", "91+", "money", total=True),
    Column("amount", "Unbilled", "money", total=True),
    Column("oldest_activity_date", "Oldest", "date", drop=4),
)
PRODUCTIVITY_LAYOUT = Layout((
    Column("month", "Month", "month"),
    Column("user_name", "Timekeeper", missing="(no timekeeper)"),
    Column("hours_worked", "Worked\n(h)", "hours", drop=3),
    Column("billable_hours", "Billable\n(h)", "hours"),
    Column("billed_hours", "Billed\n(h)", "hours", drop=4),
    Column("utilization", "Utili-\nzation", "percent"),
    Column("billable_value", "Billable\nvalue", "money", drop=2),
    Column("billed_amount", "Billed", "money"),
    Column("collected_amount", "Collected", "money", drop=1),
    Column("realization", "Reali-\nzation", "percent"),
    Column("collection_rate", "Collection\nrate", "percent"),
), totals=False)
TRUST_LAYOUT = Layout((
    Column("matter_display_number", "Matter", missing="(no matter)"),
    Column("client_name", "Client", drop=2),
    Column("trust_balance", "In trust", "money", total=True),
    Column("minimum_threshold", "Minimum", "money", total=True),
    Column("shortfall", "Shortfall", "money", total=True),
    Column("responsible_attorney_name", "Attorney", drop=1),
))
TASKS_LAYOUT = Layout((
    Column("task_name", "Task"),
    Column("due_at", "Due", "date", missing="(none)"),
    Column("days_overdue", "Days\noverdue", "number"),
    Column("status", "Status", "label", drop=2),
    Column("priority", "Priority", "label", drop=3),
    Column("assignee_name", "Assignee", missing="(nobody)"),
    Column("matter_display_number", "Matter", missing="(no matter)", drop=1),
), section_by=None, totals=False)


def unbilled_sql(keys: str, source: str) -> str:
    """Unbilled work summed per `keys` (columns of `source`) and currency."""
    sums = ",\n    ".join(f"sum({b}) as {b}" for b in BUCKETS)
    return f"""
select
    {keys},
    currency,
    sum(count_activities) as count_activities,
    sum(hours) as hours,
    {sums},
    sum(amount) as amount,
    min(oldest_activity_date) as oldest_activity_date,
from {source}
group by all
order by currency, amount desc, {keys}
"""


# Up to the firm's current month (which --as-of pins), latest first.
PRODUCTIVITY_SQL = """
select * from reports.timekeeper_productivity_monthly
where month <= (select cast(date_trunc('month', today) as date) from intermediate.firm_today)
order by currency, month desc, user_name, user_id
"""

TRUST_SQL = """
select * from reports.trust_balances
order by currency, shortfall desc nulls last, trust_balance desc, matter_id
"""

TASKS_SQL = """
select * from reports.open_tasks
order by days_overdue desc nulls last, due_at nulls last, task_id
"""
