"""Report options: the firm's time zone, a pinned "today", the aging basis, and the
hours of a working day (a timekeeper's capacity, for utilization).

Read through dlt's config providers, so `REPORTS__TIMEZONE`, `REPORTS__TODAY`,
`REPORTS__AGING_BASIS` and `REPORTS__WORKDAY_HOURS` (or a `[reports]` table in
`.dlt/config.toml`) set them; command line options win. The SQL models read them from
DuckDB session variables (`clio_sync_timezone`, `clio_sync_today`,
`clio_sync_aging_basis`, `clio_sync_workday_hours`) that `apply_settings` sets on a
connection, so the views stay plain SQL and any session can re-aim them. On PostgreSQL
they are the custom settings `clio_sync.timezone`, `clio_sync.today`, ... of the session
(`set_config`; `dialect.py` reads `getvariable` so), which read-only transactions may set.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb

from pipelines.errors import ConfigError
from pipelines.reports.dialect import setting_name
from pipelines.reports.engine import DUCKDB, Engine, as_engine

AgingBasis = Literal["due_date", "issue_date"]
AGING_BASES: tuple[AgingBasis, ...] = ("due_date", "issue_date")


@dataclass(frozen=True)
class ReportSettings:
    """How the reports read "today" and age bills."""

    timezone: str = "UTC"
    today: date | None = None  # None: the current date in `timezone`
    aging_basis: AgingBasis = "due_date"
    workday_hours: Decimal = Decimal(8)  # capacity per weekday, as Clio's Legal Trends Report

    def firm_today(self) -> date:
        """The firm's date: the pinned day, else today in the firm's time zone."""
        return self.today or datetime.now(ZoneInfo(self.timezone)).date()


def load_report_settings(
    today: str | date | None = None,
    timezone: str | None = None,
    aging_basis: str | None = None,
) -> ReportSettings:
    """Settings from the arguments, else dlt config (`reports.*`), else the defaults.

    Raises:
        ConfigError: an unknown time zone, a date not in YYYY-MM-DD form, an aging
            basis other than due_date / issue_date, or workday hours not in (0, 24].
    """
    import dlt

    timezone = timezone or dlt.config.get("reports.timezone") or "UTC"
    today = today or dlt.config.get("reports.today")
    basis = aging_basis or dlt.config.get("reports.aging_basis") or "due_date"
    workday: object = dlt.config.get("reports.workday_hours")
    return ReportSettings(
        timezone=_check_timezone(str(timezone)),
        today=parse_date(today, "reports.today") if today else None,
        aging_basis=_check_basis(str(basis)),
        workday_hours=_check_workday(workday) if workday is not None else Decimal(8),
    )


def parse_date(value: str | date, name: str) -> date:
    """A `YYYY-MM-DD` date, or ConfigError naming the setting."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ConfigError(
            f"{name} is {value!r}, which is not a date. Give it as YYYY-MM-DD, for "
            "example 2026-11-20."
        ) from None


def apply_settings(con: duckdb.DuckDBPyConnection | Engine, settings: ReportSettings) -> None:
    """Set the session variables the SQL models read (works on read-only connections)."""
    engine = as_engine(con)
    if engine.kind != DUCKDB:
        _apply_settings_postgres(engine, settings)
        return
    con = engine.con  # type: ignore[attr-defined]
    con.execute("set variable clio_sync_timezone = ?", [settings.timezone])
    con.execute("set variable clio_sync_aging_basis = ?", [settings.aging_basis])
    con.execute("set variable clio_sync_workday_hours = ?", [settings.workday_hours])
    if settings.today is None:
        con.execute("reset variable clio_sync_today")
    else:
        con.execute("set variable clio_sync_today = ?", [settings.today])


def _apply_settings_postgres(engine: Engine, settings: ReportSettings) -> None:
    values = {
        "clio_sync_timezone": settings.timezone,
        "clio_sync_aging_basis": settings.aging_basis,
        "clio_sync_workday_hours": str(settings.workday_hours),
        "clio_sync_today": settings.today.isoformat() if settings.today else "",  # '' is unset
    }
    for variable, value in values.items():
        engine.execute_native("select set_config(%s, %s, false)", [setting_name(variable), value])


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"reports.timezone is {name!r}, which is not a time zone. Set "
            "REPORTS__TIMEZONE (or [reports] timezone in .dlt/config.toml) to an IANA "
            "name such as America/New_York; the default is UTC."
        ) from None
    return name


def _check_basis(basis: str) -> AgingBasis:
    for known in AGING_BASES:
        if basis == known:
            return known
    raise ConfigError(
        f"reports.aging_basis is {basis!r}. Use due_date (the default: days past the "
        "due date, as Clio's AR aging) or issue_date (days since the bill was issued)."
    )


def _check_workday(value: object) -> Decimal:
    try:
        hours = Decimal(str(value).strip())
    except InvalidOperation:
        hours = Decimal(-1)
    if not hours.is_finite() or not 0 < hours <= 24 or hours != round(hours, 2):
        raise ConfigError(
            f"reports.workday_hours is {value!r}. Set REPORTS__WORKDAY_HOURS (or [reports] "
            "workday_hours in .dlt/config.toml) to the hours of a working day, more than 0 "
            "and at most 24 with at most two decimals, such as 7.5; the default is 8."
        )
    return hours
