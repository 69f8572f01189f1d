"""`clio-sync --firm NAME COMMAND` and `clio-sync run --all-firms [--parallel N]`.

`pipelines.cli` adds the global `--firm` option, lets this module add the run options
(`extend`) and asks it which handler runs a parsed command line (`handler_for`). Heavy
imports stay inside the handlers, so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipelines.errors import ConfigError

log = logging.getLogger(__name__)

# Commands that read only the Clio connection (a firm's settings and token store) or that
# know the firm's schemas (models, report and sql: `clio_<name>`, `reports_<name>`...).
# Others (export, webhooks) still work on the single-firm schemas only, so `--firm` is
# refused there rather than silently applied to another firm's data.
FIRM_COMMANDS = ("run", "reconcile", "auth", "doctor", "models", "report", "sql")
MAX_PARALLEL = 16
DEFAULT_FIRM_TIMEOUT = 6 * 3600.0  # seconds one firm's run may take in --all-firms

Handler = Callable[[argparse.Namespace], int]


def add_firm_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--firm", metavar="NAME", default=None,
                        help="run COMMAND for the firm profile NAME (the config section "
                        "firms.NAME; its data in schema clio_NAME, its models in reports_NAME...); "
                        "for run, reconcile, auth, doctor, models, report, sql")


def extend(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `--all-firms` and `--parallel` to `run`."""
    run = subparsers.choices["run"]
    run.add_argument("--all-firms", action="store_true",
                     help="sync every firm profile (firms.<name> sections), each in its own "
                     "schema and process, and print a summary per firm")
    run.add_argument("--parallel", type=int, default=1, metavar="N",
                     help=f"with --all-firms: firms synced at once (1 to {MAX_PARALLEL}, default "
                     "1); with DuckDB their loads take turns, their reads of Clio do not")
    run.add_argument("--firm-timeout", type=float, default=DEFAULT_FIRM_TIMEOUT,
                     metavar="SECONDS", help="with --all-firms: longest one firm's run may take "
                     f"(default {DEFAULT_FIRM_TIMEOUT:.0f})")
    # set by --all-firms for the runs it starts
    run.add_argument("--taking-turns", action="store_true", help=argparse.SUPPRESS)
    run.add_argument("--summary-json", metavar="PATH", help=argparse.SUPPRESS)


def handler_for(args: argparse.Namespace) -> Handler | None:
    """The handler of a firm command line, or None to run the command as usual.

    Raises:
        ConfigError: `--firm` with a command that does not take it, with `--all-firms`,
            or naming no configured profile.
    """
    all_firms = getattr(args, "all_firms", False)
    if all_firms and args.firm:
        raise ConfigError(
            "--firm and --all-firms were both given. Use `clio-sync --firm NAME run` for one "
            "firm, or `clio-sync run --all-firms` for every firm profile."
        )
    if all_firms:
        return run_all_firms
    if getattr(args, "parallel", 1) != 1:
        raise ConfigError("--parallel only applies with --all-firms: add it, or drop --parallel.")
    if not args.firm:
        return None
    if args.command not in FIRM_COMMANDS:
        raise ConfigError(
            f"`clio-sync --firm NAME {args.command}` is not supported: {args.command} works on "
            "the single-firm schemas only (clio, reports), and would read or change another "
            f"firm's data there. --firm applies to {', '.join(FIRM_COMMANDS)}."
        )
    from pipelines.firms.profiles import require_firm

    require_firm(args.firm)
    handler: Handler = {"run": run_firm, "reconcile": reconcile_firm}.get(args.command,
                                                                          args.handler)
    return handler


def run_firm(args: argparse.Namespace) -> int:
    """`clio-sync --firm NAME run`: sync one firm into its own schema."""
    from pipelines.clio.commands import _lock_timeout, _plain, _resources
    from pipelines.clio.summary import print_summary
    from pipelines.clio.sync import build_models_if_present, sync
    from pipelines.firms.profiles import firm_settings
    from pipelines.firms.turns import WriterTurns
    from pipelines.warehouse import resolve_db, writer_lock

    outcome: dict[str, Any] = {"firm": args.firm, "status": "failed"}
    try:
        resources = _resources(args)
        if resources and any(name.strip().startswith("grow.") for name in resources):
            raise ConfigError(
                "Grow's tables are not synced per firm yet: drop the grow.* names from "
                "--resources when using --firm or --all-firms."
            )
        settings = firm_settings(args.firm)
        db = resolve_db(args.db)
        command = f"clio-sync --firm {args.firm} run"
        turns = WriterTurns(db, command, _lock_timeout(args)) if args.taking_turns else None
        with turns if turns is not None else writer_lock(db, command, _lock_timeout(args)):
            summary = sync(db, settings, resources=resources, full_refresh=args.full_refresh,
                           destination=args.destination, show_progress=not _plain(args),
                           released=turns.released if turns is not None else None)
            # the firm's models, in its turn at the writer lock, as a single-firm run does
            built = build_models_if_present(db, args.destination, _lock_timeout(args),
                                            firm=args.firm)
            if built is not None:
                log.info("rebuilt %d models of firm %s", len(built), args.firm)
        outcome.update(status=summary.status, run_id=summary.run_id, records=summary.records,
                       requests=summary.requests, seconds=round(summary.elapsed, 3),
                       retries=sum(s.retries for s in summary.resources.values()),
                       throttled_429=sum(s.throttled_429 for s in summary.resources.values()),
                       held_seconds=round(turns.held_seconds, 3) if turns is not None else None)
    except Exception as exc:
        outcome["error"] = f"{type(exc).__name__}: {exc}" if _expected(exc) else type(exc).__name__
        raise
    finally:
        if args.summary_json:
            _write_json(Path(args.summary_json), outcome)
    if not args.quiet:
        print_summary(summary, plain=_plain(args))
    return 0


def reconcile_firm(args: argparse.Namespace) -> int:
    """`clio-sync --firm NAME reconcile`: deletions at Clio, in the firm's schema."""
    from pipelines.clio.commands import _lock_timeout, _plain, _resources
    from pipelines.clio.reconcile import print_report, reconcile
    from pipelines.firms.profiles import firm_settings
    from pipelines.warehouse import resolve_db, writer_lock

    resources = _resources(args)
    if resources and any(name.strip().startswith("grow.") for name in resources):
        raise ConfigError("Grow's tables are not synced per firm: drop the grow.* names from "
                          "--resources when using --firm.")
    settings = firm_settings(args.firm)
    db = resolve_db(args.db)
    with writer_lock(db, f"clio-sync --firm {args.firm} reconcile", timeout=_lock_timeout(args)):
        report = reconcile(db, settings, resources=resources,
                           allow_mass_delete=args.allow_mass_delete)
    if not args.quiet:
        print_report(report, plain=_plain(args))
    return 0


def run_all_firms(args: argparse.Namespace) -> int:
    """`clio-sync run --all-firms`: every profile, `--parallel` at a time."""
    from pipelines.firms.all_firms import run_all

    return run_all(args)


def _expected(exc: BaseException) -> bool:
    from pipelines.errors import ClioSyncError

    return isinstance(exc, ClioSyncError)


def _write_json(path: Path, outcome: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(outcome), encoding="utf-8")
    tmp.replace(path)
