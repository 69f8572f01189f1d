"""`clio-sync auth login|status|logout` and `clio-sync doctor` (registered by `pipelines.cli`).

Settings come from dlt's providers (`SOURCES__CLIO__*`, `.dlt/*.toml`); see
docs/connecting-clio.md.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import webbrowser

from pipelines.clio.login import DEFAULT_PORT


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `auth` (login, status, logout) and `doctor`."""
    auth = subparsers.add_parser(
        "auth", help="authorize clio-sync with Clio, show or remove the authorization",
        description="Manage the OAuth tokens clio-sync uses (kept in the token store: "
        "SOURCES__CLIO__TOKEN_STORE, by default one file per region, host and app under "
        "~/.config/clio-sync/tokens, or $XDG_CONFIG_HOME/clio-sync/tokens).",
    )
    actions = auth.add_subparsers(dest="auth_command", metavar="ACTION", required=True)
    login = actions.add_parser(
        "login", help="authorize in the browser (authorization-code grant)",
        description="Open Clio's consent page, receive the redirect on "
        "http://127.0.0.1:PORT/callback and save the tokens. The app's redirect URI must be "
        "exactly that URL.",
    )
    login.add_argument("--no-browser", action="store_true",
                       help="print the URL instead of opening it, then read the redirect URL "
                       "you paste (for a machine without a browser)")
    login.add_argument("--port", type=int, default=DEFAULT_PORT,
                       help=f"port of the local redirect listener (default {DEFAULT_PORT})")
    login.add_argument("--timeout", type=float, default=300.0,
                       help="seconds to wait for the redirect (default 300)")
    login.add_argument("--scope", metavar="SCOPES",
                       help="Platform only: space-separated OAuth scopes to ask for (default: "
                       "read access to every synced endpoint plus webhooks; with --grow, "
                       "SOURCES__GROW__SCOPES or read access to everything Grow syncs)")
    _grow_option(login)
    login.set_defaults(handler=_login)
    status = actions.add_parser("status", help="who is authorized, where, until when (no secrets)")
    _grow_option(status)
    status.set_defaults(handler=_status)
    logout = actions.add_parser("logout", help="revoke the authorization at Clio, delete the store")
    _grow_option(logout)
    logout.set_defaults(handler=_logout)

    doctor = subparsers.add_parser(
        "doctor", help="check config, token, region and each endpoint's permission",
        description="One cheap request per synced endpoint (fields=id&limit=1), and one per "
        "Grow list when SOURCES__GROW__ is configured; exits 1 if any check fails.",
    )
    doctor.set_defaults(handler=_doctor)


def _grow_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--grow", action="store_true",
                        help="the Clio Grow authorization (Clio Platform app, SOURCES__GROW__*) "
                        "instead of Manage's")


def _grow_login(args: argparse.Namespace) -> int:
    from pipelines.grow.commands import login

    def paste(url: str) -> str:
        print(f"Open this URL in a browser, approve, then paste the URL you are sent to:\n\n"
              f"  {url}\n", file=sys.stderr)
        return sys.stdin.readline()

    def open_url(url: str) -> None:
        print(f"Opening Clio's consent page (if no browser opens, visit):\n  {url}",
              file=sys.stderr)
        webbrowser.open(url)

    settings, tokens = login(tuple(args.scope.split()) if args.scope else None, args.port,
                             args.no_browser, args.timeout, paste, open_url)
    until = f", access token valid until {tokens.expires_at:%Y-%m-%d %H:%M} UTC" \
        if tokens.expires_at else ""
    print(f"Authorized Clio Grow (region {settings.region}); tokens saved to "
          f"{settings.token_store}{until}.")
    return 0


def _login(args: argparse.Namespace) -> int:
    if args.grow:
        return _grow_login(args)
    from pipelines.clio.config import load_settings
    from pipelines.clio.login import (
        PLATFORM_SCOPES,
        authorization_request,
        code_from_redirect,
        exchange_code,
        listen_for_redirect,
        redirect_uri_for,
    )

    settings = load_settings()
    scopes = tuple(args.scope.split()) if args.scope else PLATFORM_SCOPES
    request = authorization_request(settings, redirect_uri_for(args.port), scopes)
    if args.no_browser:
        print(f"Open this URL in a browser, approve, then paste the URL you are sent to:\n\n"
              f"  {request.url}\n", file=sys.stderr)
        redirect = sys.stdin.readline()
    else:
        def open_url(url: str) -> None:
            print(f"Opening Clio's consent page (if no browser opens, visit):\n  {url}",
                  file=sys.stderr)
            webbrowser.open(url)

        redirect = listen_for_redirect(args.port, open_url, request.url, args.timeout)
    tokens = exchange_code(settings, request, code_from_redirect(redirect, request.state))
    print(f"Authorized ({settings.api}, region {settings.region}); tokens saved to "
          f"{settings.token_store}" + (f", access token valid until {tokens.expires_at:%Y-%m-%d %H:%M} UTC"
                                       if tokens.expires_at else "") + ".")
    return 0


def _status(args: argparse.Namespace) -> int:
    if args.grow:
        from pipelines.grow.commands import status_rows

        _print_rows(status_rows())
        return 0
    from pipelines.clio.client import ClioClient
    from pipelines.clio.config import load_settings
    from pipelines.clio.token_location import describe_store
    from pipelines.errors import ClioSyncError

    settings = load_settings()

    def where() -> list[tuple[str, str]]:
        return [("api", settings.api), ("region", settings.region),
                ("API root", settings.api_root), ("token store", describe_store(settings))]

    try:
        with ClioClient(settings) as client:
            me = client.get_json("users/who_am_i.json", params={"fields": "id,name,email"})["data"]
            tokens = client.auth.current()
    except ClioSyncError:
        _print_rows(where())  # where it looked, then the error (printed by the CLI)
        raise
    _print_rows([
        ("user", f"{me.get('name')} <{me.get('email')}> (id {me.get('id')})"),
        *where(),
        ("access token expires", f"{tokens.expires_at:%Y-%m-%d %H:%M:%S} UTC"
         if tokens.expires_at else "unknown (refreshed on the first 401)"),
        ("refresh token", "stored" if tokens.refresh_token else "none: `auth login` when it expires"),
    ])
    return 0


def _print_rows(rows: list[tuple[str, str]]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(show_header=False, box=None)
    for key, value in rows:
        table.add_row(key, escape(value))
    Console().print(table)


def _logout(args: argparse.Namespace) -> int:
    if args.grow:
        from pipelines.grow.commands import logout

        print(logout())
        return 0
    from pipelines.clio.auth import store_for
    from pipelines.clio.client import ClioClient
    from pipelines.clio.config import load_settings
    from pipelines.clio.errors import ClioApiError

    settings = load_settings()
    store = store_for(settings)
    store.adopt_legacy()
    if not store.exists():
        print(f"No token store at {settings.token_store}: nothing to log out.")
        return 0
    store.load()  # refuses a store saved for another region: never delete someone else's
    try:
        with ClioClient(settings) as client:
            client.post(f"{settings.oauth_base}/oauth/deauthorize")
        revoked = "revoked at Clio"
    except ClioApiError as exc:
        revoked = f"not revoked at Clio ({type(exc).__name__}: already revoked or unreachable)"
    store.delete()
    print(f"Authorization {revoked}; deleted {settings.token_store}.")
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from pipelines.clio.doctor import run_checks
    from pipelines.grow.commands import doctor_checks

    styles = {"ok": "green", "fail": "bold red", "skip": "dim"}
    table = Table(title="clio-sync doctor")
    for column in ("check", "status", "detail"):
        table.add_column(column, overflow="fold")
    failed = False
    for check in itertools.chain(run_checks(), doctor_checks()):
        failed |= check.status == "fail"
        table.add_row(check.name, f"[{styles[check.status]}]{check.status}[/]",
                      escape(check.detail))
    Console(width=max(120, Console().width)).print(table)
    return 1 if failed else 0
