"""`clio-sync webhooks …` and `clio-sync serve` (registered by `pipelines.cli`).

Handlers import their modules lazily so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import logging
import sqlite3
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipelines.errors import ConfigError
from pipelines.webhooks import limits
from pipelines.webhooks.receiver import DEFAULT_PATH

DEFAULT_HOST = "127.0.0.1"  # behind a reverse proxy; see docs/webhooks.md
DEFAULT_PORT = 8765
ALL_MODELS = "bill,matter,contact,activity,task,calendar_entry,communication"

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `webhooks` (with its subcommands) and `serve`."""
    hooks = subparsers.add_parser("webhooks", help="receive and apply Clio webhook events",
                                  description="Receive Clio webhook events and apply them "
                                  "to the warehouse. See docs/webhooks.md.")
    sub = hooks.add_subparsers(dest="webhooks_command", metavar="SUBCOMMAND", required=True)

    p = sub.add_parser("serve", help="run the receiver (appends deliveries to the inbox)")
    _add_receiver_args(p)
    p.set_defaults(handler=_serve_receiver)

    p = sub.add_parser("apply", help="apply queued events to the warehouse (one pass)")
    _add_store_args(p)
    _add_clio_args(p)
    p.add_argument("--batch-size", type=int, default=1000, help="events per batch (1000)")
    p.add_argument("--lock-timeout", type=float, default=600.0,
                   help="seconds to wait for another writer (600)")
    p.add_argument("--follow", action="store_true",
                   help="keep applying as events arrive until SIGTERM, then drain the queue")
    p.add_argument("--interval", type=float, default=0.1,
                   help="with --follow: seconds between polls of the inbox (0.1)")
    p.set_defaults(handler=_apply)

    p = sub.add_parser("replay", help="queue received events again (then run `apply`)")
    _add_store_args(p)
    p.add_argument("--since", required=True,
                   help="ISO-8601 time (2026-11-20T09:00:00Z) or an age like 2h, 3d")
    p.set_defaults(handler=_replay)

    p = sub.add_parser("subscribe", help="create one webhook per model")
    _add_store_args(p)
    _add_clio_args(p)
    p.add_argument("--url", required=True,
                   help="public https URL of the receiver path, e.g. https://host/webhooks/clio")
    p.add_argument("--models", default=ALL_MODELS, help=f"comma-separated ({ALL_MODELS})")
    p.add_argument("--handshake-wait", type=float, default=5.0,
                   help="seconds to wait for Clio's handshake before activating (5)")
    p.add_argument("--allow-http", action="store_true",
                   help="accept an http URL (the sandbox only; Clio refuses them)")
    p.set_defaults(handler=_subscribe)

    p = sub.add_parser("status", help="list our webhooks: id, model, status, expiry, last delivery")
    _add_store_args(p)
    _add_clio_args(p)
    p.add_argument("--offline", action="store_true", help="do not ask Clio; show the registry")
    p.set_defaults(handler=_status)

    p = sub.add_parser("renew", help="extend expiring webhooks, re-create suspended ones")
    _add_store_args(p)
    _add_clio_args(p)
    p.add_argument("--window-days", type=float, default=7.0,
                   help="extend webhooks expiring within this many days (7)")
    p.add_argument("--handshake-wait", type=float, default=5.0)
    p.add_argument("--no-catchup", action="store_true",
                   help="only record the gaps; do not run the catch-up sync now")
    p.set_defaults(handler=_renew)

    p = sub.add_parser("unsubscribe", help="delete our webhooks at Clio")
    _add_store_args(p)
    _add_clio_args(p)
    p.add_argument("--models", default=ALL_MODELS, help=f"comma-separated ({ALL_MODELS})")
    p.set_defaults(handler=_unsubscribe)

    p = subparsers.add_parser(
        "serve", help="receiver + applier + scheduled sync, reconcile and renewals",
        description="One long-running process for a small firm's server: receives webhooks, "
        "applies them continuously, syncs every N minutes, reconciles daily, renews webhooks. "
        "SIGTERM stops it gracefully.")
    _add_receiver_args(p)
    _add_clio_args(p)
    p.add_argument("--sync-every", type=float, default=60.0,
                   help="minutes between incremental syncs (60; 0 disables)")
    p.add_argument("--reconcile-every", type=float, default=24.0,
                   help="hours between reconciles (24; 0 disables)")
    p.add_argument("--renew-every", type=float, default=6.0,
                   help="hours between webhook renewals (6; 0 disables)")
    p.add_argument("--apply-interval", type=float, default=0.1,
                   help="seconds between applier polls of the inbox (0.1)")
    p.set_defaults(handler=_serve_all)


def _add_store_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="DuckDB warehouse (default data/clio_sync.duckdb)")
    parser.add_argument("--inbox", help="inbox file (default webhooks.sqlite beside --db)")


def _add_clio_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", help="Clio host override (e.g. the sandbox's URL)")


def _add_receiver_args(parser: argparse.ArgumentParser) -> None:
    _add_store_args(parser)
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"bind address ({DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port ({DEFAULT_PORT})")
    parser.add_argument("--path", default=DEFAULT_PATH,
                        help=f"URL path prefix of the webhook URLs ({DEFAULT_PATH})")
    parser.add_argument("--header-timeout", type=_positive(float), metavar="SECONDS",
                        default=limits.HEADER_TIMEOUT, help="seconds a client may take to "
                        f"send a request's headers ({limits.HEADER_TIMEOUT:g})")
    parser.add_argument("--body-timeout", type=_positive(float), metavar="SECONDS",
                        default=limits.BODY_TIMEOUT, help="seconds a delivery's body may take "
                        f"to arrive, else 408 ({limits.BODY_TIMEOUT:g})")
    parser.add_argument("--max-connections", type=_positive(int), metavar="N",
                        default=limits.MAX_CONNECTIONS, help="open connections at most; "
                        "beyond it, the one waiting longest for its request is closed "
                        f"({limits.MAX_CONNECTIONS})")


def _positive(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse type: a number above zero, else a clear usage error."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not value > 0:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number above zero")
        return value

    return parse


def _limits(args: argparse.Namespace) -> limits.Limits:
    return limits.Limits(header_timeout=args.header_timeout, body_timeout=args.body_timeout,
                         max_connections=args.max_connections)


def _paths(args: argparse.Namespace) -> tuple[Path, Path]:
    """(warehouse, inbox) from `--db` and `--inbox`."""
    from pipelines.warehouse import resolve_db
    from pipelines.webhooks.store import inbox_path

    db = resolve_db(args.db)
    return db, inbox_path(db, args.inbox)


def _settings_factory(args: argparse.Namespace) -> Callable[[], Any]:
    """Settings are loaded only when Clio is actually called (most apply passes never do)."""

    def load() -> Any:
        from pipelines.clio.config import load_settings

        return load_settings(base_url=args.base_url)

    return load


def _serve_receiver(args: argparse.Namespace) -> int:
    from pipelines.webhooks.receiver import build_app

    _, inbox_file = _paths(args)
    bounds = _limits(args)
    app = build_app(inbox_file, path=args.path, body_timeout=bounds.body_timeout)
    limits.run_server(app, args.host, args.port, bounds)
    return 0


def _apply(args: argparse.Namespace) -> int:
    from pipelines.webhooks import store
    from pipelines.webhooks.applier import apply_pending
    from pipelines.webhooks.fetcher import ApiFetcher

    db, inbox_file = _paths(args)
    if args.follow:
        from pipelines.webhooks.follow import follow

        with ApiFetcher(_settings_factory(args)) as fetch:
            return follow(db, inbox_file, fetch, args.interval, args.batch_size)
    conn = store.connect(inbox_file)
    with ApiFetcher(_settings_factory(args)) as fetch:
        report = apply_pending(db, conn, fetch, batch_size=args.batch_size,
                               lock_timeout=args.lock_timeout)
    log.info("%s", report.summary())
    return 0


def _replay(args: argparse.Namespace) -> int:
    from pipelines.webhooks import inbox, store

    _, inbox_file = _paths(args)
    since = parse_since(args.since, datetime.now(UTC))
    count = inbox.replay(store.connect(inbox_file), since.timestamp())
    log.info("queued %d events received since %s again; run `clio-sync webhooks apply`",
             count, since.isoformat(timespec="seconds"))
    return 0


def parse_since(text: str, now: datetime) -> datetime:
    """`2026-11-20T09:00:00Z`, `2026-11-20` (UTC) or an age such as `90m`, `2h`, `3d`."""
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
    if text[-1:] in units and text[:-1].replace(".", "", 1).isdigit():
        return now - timedelta(**{units[text[-1]]: float(text[:-1])})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"--since {text!r} is neither an ISO-8601 time (2026-11-20T09:00:00Z) nor an age "
            "such as 90m, 2h or 3d."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _subscribe(args: argparse.Namespace) -> int:
    from pipelines.clio.client import ClioClient
    from pipelines.webhooks import store, subscriptions

    _, inbox_file = _paths(args)
    url = subscriptions.check_url(args.url, args.allow_http)
    models = subscriptions.check_models(args.models.split(","))
    conn = store.connect(inbox_file)
    with ClioClient(_settings_factory(args)()) as client:
        now = client.server_time()  # expiry is judged on Clio's clock, not ours
        for model in models:
            subscriptions.subscribe(conn, client, url, model, now, args.handshake_wait)
    _print_status(conn)
    return 0


def _status(args: argparse.Namespace) -> int:
    from pipelines.webhooks import store, subscriptions

    _, inbox_file = _paths(args)
    conn = store.connect(inbox_file)
    if not args.offline:
        from pipelines.clio.client import ClioClient

        with ClioClient(_settings_factory(args)()) as client:
            subscriptions.refresh(conn, subscriptions.remote_hooks(client), client.server_time())
    _print_status(conn)
    return 0


def _print_status(conn: sqlite3.Connection) -> None:
    from rich.console import Console
    from rich.table import Table

    from pipelines.webhooks import inbox, lifecycle, registry

    table = Table("webhook id", "model", "status", "expires at", "last delivery", "fetch")
    for sub in registry.live(conn):
        last = (datetime.fromtimestamp(sub.last_delivery_at, UTC).isoformat(timespec="seconds")
                if sub.last_delivery_at else "never")
        table.add_row(str(sub.webhook_id), sub.model, sub.status, sub.expires_at or "?", last,
                      "by id" if sub.fetch_records else "in body")
    console = Console() if sys.stdout.isatty() else Console(width=160)  # no cropped dates
    console.print(table)
    counts = inbox.counts(conn)
    console.print("inbox: " + (", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
                               or "empty"))
    _print_set_aside(console, conn)
    due = lifecycle.due_catchups(conn)
    if due:
        console.print(f"catch-ups due: {len(due)} gap(s) ({', '.join(r['model'] for r in due)})"
                      "; `clio-sync webhooks renew` runs them (an incremental run + reconcile)")


def _print_set_aside(console: Any, conn: sqlite3.Connection) -> None:
    """Authentic deliveries that cannot be applied: how many, and the latest reasons."""
    from pipelines.webhooks import inbox

    count, latest = inbox.set_aside_summary(conn)
    if not count:
        return
    console.print(f"set aside: {count} malformed deliveries, kept but never applied "
                  "(table `set_aside` of the inbox); latest:", markup=False, soft_wrap=True)
    for row in latest:
        at = datetime.fromtimestamp(row["received_at"], UTC).isoformat(timespec="seconds")
        where = f"event {row['seq']}" if row["seq"] is not None else "not queued"
        console.print(f"  {at} {row['model']} {row['record_id']} {row['event'] or '?'} "
                      f"({where}): {row['reason']}", markup=False, highlight=False,
                      soft_wrap=True)


def _renew(args: argparse.Namespace) -> int:
    from pipelines.clio.client import ClioClient
    from pipelines.webhooks import store
    from pipelines.webhooks.catchup import run_catchups
    from pipelines.webhooks.jobs import JobRunner
    from pipelines.webhooks.lifecycle import renew

    db, inbox_file = _paths(args)
    conn = store.connect(inbox_file)
    settings = _settings_factory(args)()
    with ClioClient(settings) as client:
        report = renew(conn, client, window=timedelta(days=args.window_days),
                       handshake_wait=args.handshake_wait)
    log.info("%s", report.summary())
    if not args.no_catchup:
        run_catchups(conn, JobRunner(db, args.base_url))
    return 0


def _unsubscribe(args: argparse.Namespace) -> int:
    from pipelines.clio.client import ClioClient
    from pipelines.webhooks import registry, store, subscriptions

    _, inbox_file = _paths(args)
    models = subscriptions.check_models(args.models.split(","))
    conn = store.connect(inbox_file)
    with ClioClient(_settings_factory(args)()) as client:
        for sub in registry.live(conn, models):
            subscriptions.retire(conn, client, sub)
            log.info("deleted webhook %s (%s)", sub.webhook_id, sub.model)
    return 0


def _serve_all(args: argparse.Namespace) -> int:
    from pipelines.webhooks.serve import ServeOptions, serve

    db, inbox_file = _paths(args)
    options = ServeOptions(
        host=args.host, port=args.port, path=args.path, limits=_limits(args),
        sync_every=args.sync_every * 60, reconcile_every=args.reconcile_every * 3600,
        renew_every=args.renew_every * 3600, apply_interval=args.apply_interval,
        base_url=args.base_url,
    )
    return serve(db, inbox_file, _settings_factory(args), options)
