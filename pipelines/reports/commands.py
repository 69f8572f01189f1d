"""`clio-sync models`, `clio-sync report` and `clio-sync sql` (registered by `pipelines.cli`)."""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import date

    from duckdb import DuckDBPyConnection

    from pipelines.reports.checks import CheckResult
    from pipelines.reports.engine import Engine
    from pipelines.reports.schemas import ModelSchemas
    from pipelines.reports.settings import ReportSettings

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this area's subcommands; each sets `handler` to a function of the parsed args."""
    from pipelines.reports.output import FORMATS
    from pipelines.reports.report import CUSTOM_FIELD, GROUPINGS, REPORTS

    models = subparsers.add_parser(
        "models",
        help="build the SQL models (schema reports) and optionally run the checks",
        description="Create or replace every view of sql/ in dependency order; with "
        "--check, run the reconciliation checks and fail naming the rows that break them.",
    )
    _db_option(models)
    models.add_argument("--check", action="store_true", help="run the reconciliation checks")
    models.add_argument(
        "--lock-timeout", type=float, default=None, metavar="SECONDS",
        help="how long to wait for another writer (default: 600)",
    )
    _report_options(models)
    models.set_defaults(handler=_models)

    report = subparsers.add_parser(
        "report",
        help="print a report: " + ", ".join(REPORTS),
        description="Print a report from the warehouse (read-only).",
    )
    report.add_argument("name", choices=REPORTS, metavar="REPORT", help=" | ".join(REPORTS))
    report.add_argument(
        "--as-of", metavar="DATE",
        help="the firm's date to report at (YYYY-MM-DD); aging uses bills issued and "
        "allocations dated by then",
    )
    report.add_argument(
        "--by", nargs="+", metavar=("GROUPING", "NAME"),
        help=f"grouping: {' | '.join(GROUPINGS)} | {CUSTOM_FIELD} NAME (a matter custom "
        "field, by its name or column); ar-aging, outstanding and unbilled",
    )
    report.add_argument("--format", choices=FORMATS, default="table")
    _db_option(report)
    _report_options(report)
    report.set_defaults(handler=_report)

    sql = subparsers.add_parser(
        "sql",
        help="run read-only SQL against the warehouse and print the result",
        description="Run SQL on a read-only snapshot of the warehouse (it never blocks a "
        "sync or the webhook applier). Files, extensions and settings are off limits: "
        "COPY ... TO, ATTACH, EXPORT DATABASE, read_csv and INSTALL are refused. The views "
        "of the schemas staging, intermediate and reports see the firm's today and time zone.",
    )
    sql.add_argument("query", help='the SQL, e.g. "select * from reports.outstanding_balances"')
    sql.add_argument("--format", choices=FORMATS, default="table")
    _db_option(sql)
    _report_options(sql)
    sql.set_defaults(handler=_sql)


def _db_option(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--db", metavar="PATH", help="DuckDB file (default: data/clio_sync.duckdb)")
    where.add_argument(
        "--destination", metavar="NAME",
        help="a dlt destination holding the raw tables (schema clio) instead of the DuckDB "
        "file: postgres (DESTINATION__POSTGRES__CREDENTIALS), or a named destination of type "
        "postgres; duckdb means the file",
    )


def _server(args: argparse.Namespace) -> str | None:
    """The destination to use instead of the DuckDB file, if any."""
    name: str | None = args.destination
    return None if name in (None, "duckdb") else name


def _schemas(args: argparse.Namespace) -> ModelSchemas:
    """The schemas of `--firm NAME` (`clio_<name>`, `reports_<name>`...), else today's."""
    from pipelines.reports.schemas import ModelSchemas

    return ModelSchemas.for_firm(getattr(args, "firm", None))


def _report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timezone", metavar="ZONE",
        help="the firm's time zone for 'today' (default: REPORTS__TIMEZONE, else UTC)",
    )
    parser.add_argument(
        "--aging-basis", choices=("due_date", "issue_date"),
        help="age bills by due date (default) or issue date (REPORTS__AGING_BASIS)",
    )


def _models(args: argparse.Namespace) -> int:
    from pipelines.reports.checks import run_checks
    from pipelines.reports.engine import as_engine
    from pipelines.reports.runner import build_models
    from pipelines.reports.settings import apply_settings, load_report_settings
    from pipelines.warehouse import DEFAULT_LOCK_TIMEOUT, connect, resolve_db, writer_lock

    settings = load_report_settings(timezone=args.timezone, aging_basis=args.aging_basis)
    timeout = args.lock_timeout if args.lock_timeout is not None else DEFAULT_LOCK_TIMEOUT
    if _server(args):
        results = _models_on_destination(args, settings, timeout)
        if results is None:
            return 0
        return _print_checks(results)
    db = resolve_db(args.db)
    with writer_lock(db, "clio-sync models", timeout=timeout):
        engine = as_engine(connect(db), _schemas(args))
        try:
            built = build_models(engine)
            log.info("built %d models in %s", len(built), db)
            if not args.check:
                return 0
            apply_settings(engine, settings)
            results = run_checks(engine)
        finally:
            engine.close()
    return _print_checks(results)


def _models_on_destination(
    args: argparse.Namespace, settings: ReportSettings, timeout: float
) -> list[CheckResult] | None:
    """Build (and check) on a server; PostgreSQL serialises builds with a lock of its own."""
    from pipelines.reports.checks import run_checks
    from pipelines.reports.engine import as_engine, open_destination
    from pipelines.reports.runner import build_models
    from pipelines.reports.settings import apply_settings

    engine = as_engine(open_destination(_server(args) or "", lock_timeout=timeout),
                       _schemas(args))
    try:
        built = build_models(engine)
        log.info("built %d models on %s", len(built), engine.label)
        if not args.check:
            return None
        apply_settings(engine, settings)
        return run_checks(engine)
    finally:
        engine.close()


def _print_checks(results: list[CheckResult]) -> int:
    from rich.console import Console

    from pipelines.reports.checks import raise_for_failures

    console = Console()
    for result in results:
        style = "yellow" if result.skipped else "green" if result.passed else "red"
        console.print(result.describe(), style=style, markup=False, highlight=False)
    raise_for_failures(results)
    return 0


def _report(args: argparse.Namespace) -> int:
    from pipelines.reports.custom_field_grouping import resolve_matter_field
    from pipelines.reports.engine import as_engine
    from pipelines.reports.output import write
    from pipelines.reports.report import check_options, report_query, run_report
    from pipelines.reports.settings import parse_date

    as_of = parse_date(args.as_of, "--as-of") if args.as_of else None
    by, field_name = _grouping(args.by)
    check_options(args.name, by, as_of)  # before the warehouse is opened
    con = as_engine(_open_read_only(args, today=as_of), _schemas(args))
    try:
        field = resolve_matter_field(con, field_name) if field_name else None
        query = report_query(args.name, by=by, as_of=as_of, field=field)
        result = run_report(con, query)
    finally:
        con.close()
    write(result, args.format, title=query.title, layout=query.layout)
    return 0


def _grouping(words: list[str] | None) -> tuple[str | None, str | None]:
    """`--by client` -> ("client", None); `--by custom-field Referral Source` ->
    ("custom-field", "Referral Source")."""
    from pipelines.errors import ConfigError
    from pipelines.reports.report import CUSTOM_FIELD, GROUPINGS

    if not words:
        return None, None
    if words[0] == CUSTOM_FIELD:
        if len(words) == 1:
            raise ConfigError(
                f"--by {CUSTOM_FIELD} needs the field's name, e.g. --by {CUSTOM_FIELD} "
                '"Referral Source" (or its column in reports.matter_custom_fields).'
            )
        return CUSTOM_FIELD, " ".join(words[1:])
    if len(words) > 1 or words[0] not in GROUPINGS:
        raise ConfigError(
            f"--by must be one of {', '.join(GROUPINGS)}, or {CUSTOM_FIELD} NAME, not "
            f"{' '.join(words)!r}."
        )
    return words[0], None


def _sql(args: argparse.Namespace) -> int:
    import duckdb

    from pipelines import readers
    from pipelines.errors import ClioSyncError
    from pipelines.readers import refusal
    from pipelines.reports.output import Result, write

    query = _schemas(args).rename(args.query)  # with --firm, `reports.x` is the firm's
    con = _open_read_only(args)
    if not isinstance(con, duckdb.DuckDBPyConnection):
        try:
            cursor = readers.run_on_destination(con, query)
            result = Result.fetch(cursor, con.column_types(cursor))
        finally:
            con.close()
        write(result, args.format)
        return 0
    try:
        try:
            result = Result.fetch(con.execute(query))
        except duckdb.Error as exc:
            refused = refusal(exc)
            if refused is not None:
                raise refused from None
            raise ClioSyncError(
                f"DuckDB rejected the query: {' '.join(str(exc).split())} The warehouse is "
                "opened read-only, so only reads run; the models are in the schemas "
                "reports, intermediate and staging, the synced tables in clio."
            ) from None
    finally:
        con.close()
    write(result, args.format)
    return 0


def _open_read_only(
    args: argparse.Namespace, today: date | None = None
) -> DuckDBPyConnection | Engine:
    """A reader connection (`pipelines.readers`): the snapshot, locked down, never blocking;
    or a read-only connection to the `--destination` server."""
    from pipelines import readers
    from pipelines.reports.settings import load_report_settings

    settings = load_report_settings(
        today=today, timezone=args.timezone, aging_basis=args.aging_basis
    )
    name = _server(args)
    if name:
        return readers.connect_destination(name, settings)
    return readers.connect(args.db, settings)
