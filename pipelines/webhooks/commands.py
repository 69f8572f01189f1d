"""`clio-sync webhooks …` and `clio-sync serve` (registered by `pipelines.cli`).

Handlers import their modules lazily so `--help` stays fast.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.webhooks.receiver import DEFAULT_PATH

DEFAULT_HOST = "127.0.0.1"  # behind a reverse proxy; see docs/webhooks.md
DEFAULT_PORT = 8765


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `webhooks` (with its subcommands) and `serve`."""
    hooks = subparsers.add_parser("webhooks", help="receive and apply Clio webhook events")
    sub = hooks.add_subparsers(dest="webhooks_command", metavar="SUBCOMMAND", required=True)

    serve = sub.add_parser("serve", help="run the receiver (appends deliveries to the inbox)")
    _add_receiver_args(serve)
    serve.set_defaults(handler=_serve_receiver)


def _add_store_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="DuckDB warehouse (default data/clio_sync.duckdb)")
    parser.add_argument("--inbox", help="inbox file (default webhooks.sqlite beside --db)")


def _add_receiver_args(parser: argparse.ArgumentParser) -> None:
    _add_store_args(parser)
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"bind address ({DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port ({DEFAULT_PORT})")
    parser.add_argument("--path", default=DEFAULT_PATH,
                        help=f"URL path prefix of the webhook URLs ({DEFAULT_PATH})")


def _paths(args: argparse.Namespace) -> tuple[Path, Path]:
    """(warehouse, inbox) from `--db` and `--inbox`."""
    from pipelines.warehouse import resolve_db
    from pipelines.webhooks.store import inbox_path

    db = resolve_db(args.db)
    return db, inbox_path(db, args.inbox)


def _serve_receiver(args: argparse.Namespace) -> int:
    import uvicorn

    from pipelines.webhooks.receiver import build_app

    _, inbox_file = _paths(args)
    app = build_app(inbox_file, path=args.path)
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_config=None)
    return 0
