"""Reconciliation checks: SELECTs in `sql/checks/` that return the rows breaking a rule.

Each file's first comment line says what must hold; an empty result means it does. A
file may start with `-- requires: clio.<table>` to be skipped when that raw table has
not been synced (Clio's own outstanding balances, for example). A table a sync read and
found empty counts as synced (dlt creates no table for no rows, but the run is recorded
in `clio._sync_runs`): the check then compares with nothing, which is what Clio said.
Run them after the models are built (`clio-sync models --check`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from typing import Any

import duckdb

from pipelines.clio.summary import RUNS_TABLE
from pipelines.errors import ClioSyncError
from pipelines.reports.dialect import UntranslatableSQL
from pipelines.reports.engine import Engine, as_engine
from pipelines.reports.runner import SQL_DIR, sql_files

_REQUIRES = re.compile(r"^\s*--\s*requires:\s*clio\.(\w+)\s*$", re.MULTILINE)
# the first comment line that is neither `requires:` nor `params:` (spaces taken greedily,
# so the look-ahead sees the line's first word)
_RULE = re.compile(r"^[ \t]*--[ \t]*(?!requires:|params:)(\S.*)$", re.MULTILINE)
SHOWN_ROWS = 10  # failing rows named in a message; the rest are counted


class ChecksFailed(ClioSyncError):
    """One or more reconciliation checks found rows breaking their rule."""


class ChecksNotFound(ClioSyncError):
    """No check file was found: the installation is incomplete."""


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: the failing rows (as dicts), or why it was skipped."""

    name: str
    rule: str
    columns: list[str] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    skipped: str | None = None

    @property
    def passed(self) -> bool:
        return not self.failures

    def describe(self) -> str:
        """One paragraph: the rule and the first failing rows."""
        if self.skipped:
            return f"{self.name}: skipped ({self.skipped})"
        if self.passed:
            return f"{self.name}: ok"
        shown = "; ".join(_row_text(row) for row in self.failures[:SHOWN_ROWS])
        more = len(self.failures) - SHOWN_ROWS
        tail = f"; and {more} more" if more > 0 else ""
        return f"{self.name}: {len(self.failures)} row(s) break '{self.rule}': {shown}{tail}"


def run_checks(
    con: duckdb.DuckDBPyConnection | Engine, sql_dir: Traversable | None = None,
) -> list[CheckResult]:
    """Run every check of `sql_dir/checks` (default: the checks shipped in the package), by
    file name, on DuckDB or another engine (the checks are transpiled like the models).
    Finding none raises `ChecksNotFound`: zero checks must never read as a pass.
    """
    engine = as_engine(con)
    folder = (sql_dir or SQL_DIR) / "checks"
    paths = sql_files(folder)
    if not paths:
        raise ChecksNotFound(
            f"No reconciliation checks were found in {folder}, so nothing was checked. The "
            "installation is incomplete: reinstall clio-sync (pip install --force-reinstall "
            "clio-sync), or in a checkout restore the sql/checks folder."
        )
    return [_run_one(engine, path, _synced(engine)) for path in paths]


def raise_for_failures(results: list[CheckResult]) -> None:
    """Raise `ChecksFailed` naming every failing check and its first rows."""
    failed = [r for r in results if not r.passed]
    if failed:
        details = " | ".join(r.describe() for r in failed)
        raise ChecksFailed(
            f"{len(failed)} reconciliation check(s) failed: {details}. The synced data "
            "disagrees with itself or with Clio: run `clio-sync run` (and `clio-sync "
            "reconcile`) to refresh it, then `clio-sync models --check` again; if it "
            "persists, look at those rows in Clio."
        )


def _synced(con: Engine) -> set[str]:
    """The raw tables the warehouse has, and those a sync read successfully, rows or not."""
    tables = {
        name.lower()
        for (name,) in con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = ? and table_catalog = current_database()", [con.schemas.raw]
        ).fetchall()
    }
    if RUNS_TABLE not in tables:
        return tables
    read = con.execute(
        f"select distinct resource from clio.{RUNS_TABLE} where status = 'ok'"
    ).fetchall()
    return tables | {resource.lower() for (resource,) in read if resource}


def _run_one(con: Engine, path: Traversable, present: set[str]) -> CheckResult:
    sql = path.read_text(encoding="utf-8")
    name = path.name.removesuffix(".sql")
    rule_match = _RULE.search(sql)
    rule = rule_match.group(1).strip() if rule_match else name
    missing = [t for t in _REQUIRES.findall(sql) if t.lower() not in present]
    if missing:
        return CheckResult(name, rule, skipped=f"clio.{missing[0]} has not been synced")
    expected: tuple[type[BaseException], ...] = (*con.errors, UntranslatableSQL)
    try:
        cursor = con.execute(sql)
    except expected as exc:
        raise ClioSyncError(
            f"The check {path.name} could not run: {' '.join(str(exc).split())} Build the "
            "models first (`clio-sync models`), or fix that file."
        ) from None
    columns = [d[0] for d in cursor.description]
    failures = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    return CheckResult(name, rule, columns, failures)


def _row_text(row: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in row.items())
