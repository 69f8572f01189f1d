"""`clio-sync run`, `demo`, `reconcile` and `export` (registered by `pipelines.cli`)."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported lazily at run time: `--help` stays fast
    from pipelines.clio.config import ClioSettings
    from pipelines.grow.commands import Selection
    from pipelines.grow.config import GrowSettings

log = logging.getLogger(__name__)

RESOURCES_HELP = ("comma-separated tables, e.g. bills,matters; Grow's as grow.matters (default: "
                  "all, Grow's too when SOURCES__GROW__ is configured)")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this area's subcommands; each sets `handler` to a function of the parsed args."""
    run = subparsers.add_parser(
        "run",
        help="sync Clio into the warehouse (incremental), then rebuild the models",
        description="Take the writer lock, renew webhook subscriptions if any, sync every "
        "endpoint changed since the last run (Clio Manage, then Clio Grow when "
        "SOURCES__GROW__ is configured), rebuild the SQL models and print a summary (also "
        "kept in clio._sync_runs and grow._sync_runs).",
    )
    _db_option(run)
    run.add_argument("--resources", metavar="LIST", help=RESOURCES_HELP)
    run.add_argument("--full-refresh", action="store_true",
                     help="read every endpoint in full and replace each table (one transaction per "
                     "table, so none is ever seen empty)")
    _destination_option(run, "duckdb (the warehouse file, default), filesystem (Parquet under "
                        "data/lake/, or DESTINATION__FILESYSTEM__BUCKET_URL), or any dlt "
                        "destination configured the dlt way, e.g. postgres with "
                        "DESTINATION__POSTGRES__CREDENTIALS")
    _lock_option(run)
    _log_options(run)
    run.set_defaults(handler=_run)

    reconcile = subparsers.add_parser(
        "reconcile",
        help="delete local rows of records deleted at Clio (ids-only scan)",
        description="List the ids of each endpoint (fields=id, largest page) and delete the "
        "local rows, and their child rows, that Clio no longer has. Deletions are recorded "
        "in clio._tombstones (grow._tombstones for Grow) and are final: no later delivery or "
        "sync brings them back. Grow's lists are covered when Grow is configured.",
    )
    _db_option(reconcile)
    _destination_option(reconcile, "where the raw tables are: duckdb (default) or a dlt SQL "
                        "destination, e.g. postgres")
    reconcile.add_argument("--resources", metavar="LIST", help=RESOURCES_HELP)
    reconcile.add_argument(
        "--allow-mass-delete", action="store_true",
        help="delete even when Clio no longer lists more than half of a table's rows "
        "(held back by default, as a faulty listing is the likelier cause)")
    _lock_option(reconcile)
    _log_options(reconcile)
    reconcile.set_defaults(handler=_reconcile)

    export = subparsers.add_parser(
        "export",
        help="write the warehouse as Parquet files",
        description="Write every raw table (schema clio) and every report view (schema "
        "reports) as Parquet, with a marker file listing them, in a new folder swapped in "
        "atomically. DIR must be new, empty or an earlier export: nothing else is replaced.",
    )
    export.add_argument("format", choices=("parquet",), help="parquet")
    export.add_argument("--out", metavar="DIR",
                        help="target folder: new, empty or an earlier export "
                        "(default: export/ beside the warehouse)")
    _db_option(export)
    _destination_option(export, "read the raw tables and reports from: duckdb (default) or a "
                        "PostgreSQL dlt destination, e.g. postgres")
    export.set_defaults(handler=_export)

    move = subparsers.add_parser(
        "move",
        help="copy the DuckDB warehouse into a server destination (no Clio requests)",
        description="Copy the raw tables, the run history, the watermarks and the tombstones "
        "of the DuckDB warehouse into a dlt destination (e.g. postgres, configured with "
        "DESTINATION__POSTGRES__CREDENTIALS), without reading Clio again; then run with "
        "--destination NAME, incrementally. The destination must not hold a warehouse yet; "
        "the DuckDB file is left as it was.",
    )
    move.add_argument("--to", metavar="NAME", required=True,
                      help="the destination's dlt name, e.g. postgres")
    _db_option(move)
    _lock_option(move)
    move.set_defaults(handler=_move)

    demo = subparsers.add_parser(
        "demo",
        help="sync a sandbox firm end to end (no Clio account needed, < 1 minute)",
        description="Start the sandbox on a free loopback port, run a full sync, advance the "
        "firm a day, run an incremental sync, build the models and print a summary.",
    )
    demo.add_argument("--db", metavar="PATH", help="DuckDB file (default: data/demo.duckdb)")
    demo.add_argument("--scale", choices=("tiny", "small"), default="small",
                      help="size of the sandbox firm (default: small)")
    demo.set_defaults(handler=_demo)


def _db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="PATH", help="DuckDB file (default: data/clio_sync.duckdb)")


def _destination_option(parser: argparse.ArgumentParser, text: str) -> None:
    parser.add_argument("--destination", metavar="NAME", default="duckdb", help=text)


def _publishes(destination: str) -> bool:
    """The read snapshot is a copy of the DuckDB file; a server's readers read the server."""
    from pipelines.clio.destinations import is_server

    return not is_server(destination)


def _lock_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lock-timeout", type=float, default=None, metavar="SECONDS",
                        help="how long to wait for another writer (default: 600)")


def _log_options(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: the global flags of the same name keep their value unless given here
    parser.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="only warnings and errors (for cron)")
    parser.add_argument("--log-format", choices=("rich", "plain"), default=argparse.SUPPRESS,
                        help="plain: timestamped log lines instead of the live display")


def _plain(args: argparse.Namespace) -> bool:
    """Log lines instead of live displays: asked for, quiet, or not on a terminal."""
    if args.quiet or args.log_format == "plain":
        return True
    return args.log_format is None and not sys.stderr.isatty()


def _lock_timeout(args: argparse.Namespace) -> float:
    from pipelines.warehouse import DEFAULT_LOCK_TIMEOUT

    return args.lock_timeout if args.lock_timeout is not None else DEFAULT_LOCK_TIMEOUT


def _resources(args: argparse.Namespace) -> list[str] | None:
    return args.resources.split(",") if args.resources else None


def _chosen(
    args: argparse.Namespace,
) -> tuple[Selection, ClioSettings | None, GrowSettings | None]:
    """The chosen tables (Manage's, and Grow's when it is configured) and the settings of
    each side that has any; Grow is left out of a destination other than the DuckDB file."""
    from pipelines.clio.config import load_settings
    from pipelines.grow.commands import grow_settings_or_none, select

    chosen = select(_resources(args))
    settings = load_settings() if chosen.manage else None
    grow = grow_settings_or_none(chosen)
    if grow is not None and args.destination != "duckdb":
        log.warning("Grow is synced into the DuckDB warehouse only: skipped for --destination %s",
                    args.destination)
        grow = None
    return chosen, settings, grow


def _run(args: argparse.Namespace) -> int:
    from pipelines.clio.summary import print_summary
    from pipelines.clio.sync import build_models_if_present, renew_webhooks_if_subscribed, sync
    from pipelines.grow.sync import grow_sync
    from pipelines.warehouse import resolve_db, writer_lock

    db = resolve_db(args.db)
    chosen, settings, grow = _chosen(args)
    summaries = []
    with writer_lock(db, "clio-sync run", timeout=_lock_timeout(args),
                     publish=_publishes(args.destination)):
        if settings is not None:
            renew_webhooks_if_subscribed(settings, db)
            summaries.append(sync(db, settings, resources=chosen.manage_names,
                                  full_refresh=args.full_refresh, destination=args.destination,
                                  show_progress=not _plain(args)))
        if grow is not None:
            summaries.append(grow_sync(db, grow, resources=chosen.grow_names,
                                       full_refresh=args.full_refresh,
                                       show_progress=not _plain(args)))
        built = build_models_if_present(db, args.destination, lock_timeout=_lock_timeout(args))
        if built is not None:
            log.info("rebuilt %d models", len(built))
    if not args.quiet:
        for summary in summaries:
            print_summary(summary, plain=_plain(args))
    return 0


def _reconcile(args: argparse.Namespace) -> int:
    from pipelines.clio.reconcile import print_report, reconcile
    from pipelines.grow.reconcile import reconcile_grow
    from pipelines.warehouse import resolve_db, writer_lock

    db = resolve_db(args.db)
    chosen, settings, grow = _chosen(args)
    report = []
    with writer_lock(db, "clio-sync reconcile", timeout=_lock_timeout(args),
                     publish=_publishes(args.destination)):
        if settings is not None:
            report += reconcile(db, settings, resources=chosen.manage_names,
                                allow_mass_delete=args.allow_mass_delete,
                                destination=args.destination)
        if grow is not None:
            report += reconcile_grow(db, grow, resources=chosen.grow_names,
                                     allow_mass_delete=args.allow_mass_delete)
    if not args.quiet:
        print_report(report, plain=_plain(args))
    return 0


def _export(args: argparse.Namespace) -> int:
    from pipelines.clio.export import (
        DEFAULT_EXPORT,
        export_folder,
        export_from_destination,
        export_parquet,
    )
    from pipelines.warehouse import resolve_db

    db = resolve_db(args.db)
    out = export_folder(args.out) if args.out else db.parent / DEFAULT_EXPORT.name
    if args.destination != "duckdb":
        written = export_from_destination(db, out, args.destination)
    else:
        written = export_parquet(db, out)
    print(f"Wrote {len(written)} Parquet files to {out}")
    return 0


def _move(args: argparse.Namespace) -> int:
    from pipelines.clio.move import move
    from pipelines.warehouse import resolve_db, writer_lock

    db = resolve_db(args.db)
    with writer_lock(db, "clio-sync move", timeout=_lock_timeout(args), publish=False):
        moved = move(db, args.to)
    print(f"Moved {sum(moved.rows.values())} rows of {len(moved.rows)} tables, "
          f"{moved.watermarks} watermarks and {moved.tombstones} tombstones into {args.to}. "
          f"Next: clio-sync run --destination {args.to}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pipelines.clio.demo import DEMO_DB, run_demo

    db = Path(args.db).expanduser().resolve() if args.db else DEMO_DB.resolve()
    run_demo(db, scale=args.scale)
    return 0
