"""The `clio-sync` command line.

Each area registers its own subcommands (`register(subparsers)` in its `commands`
module) and imports its heavy dependencies inside the handler, so `--help` stays fast.
A handler returns an exit code; expected failures raise `ClioSyncError`, printed here
as `Type: message` with no traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from pipelines import __version__
from pipelines.errors import ClioSyncError
from pipelines.firms.commands import add_firm_option, extend, handler_for
from pipelines.private_files import owner_only_umask

AREAS = (
    "pipelines.clio.commands",
    "pipelines.clio.auth_commands",
    "pipelines.reports.commands",
    "pipelines.webhooks.commands",
    "pipelines.sandbox.commands",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clio-sync",
        description="Keep a local DuckDB/Parquet copy of a firm's Clio data, with AR reports.",
    )
    parser.add_argument("--version", action="version", version=f"clio-sync {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument(
        "--log-format",
        choices=("rich", "plain"),
        default=None,
        help="plain: one timestamped line per event, for cron (default: rich on a terminal)",
    )
    add_firm_option(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for area in AREAS:
        module = __import__(area, fromlist=["register"])
        module.register(subparsers)
    extend(subparsers)  # run --all-firms, --parallel
    return parser


def configure_logging(quiet: bool, verbose: bool, log_format: str | None) -> None:
    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    use_rich = log_format == "rich" or (log_format is None and sys.stderr.isatty())
    if use_rich:
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(show_path=False, markup=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.StreamHandler()
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "dlt", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.quiet, args.verbose, args.log_format)
    from pipelines.clio.config import use_firm
    from pipelines.telemetry import telemetry_off_unless_asked  # imports dlt: not for --help

    telemetry_off_unless_asked()
    try:
        handler = handler_for(args) or args.handler
        with owner_only_umask(), use_firm(args.firm):  # the warehouse, dlt's files... private
            return int(handler(args) or 0)
    except ClioSyncError as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
