"""`clio-sync sandbox serve`: run the Clio emulator in the foreground."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.errors import ConfigError

if TYPE_CHECKING:
    from pipelines.sandbox.grow.options import GrowOptions


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `sandbox serve`."""
    sandbox = subparsers.add_parser("sandbox", help="the local Clio emulator")
    verbs = sandbox.add_subparsers(dest="sandbox_command", metavar="COMMAND", required=True)
    serve = verbs.add_parser(
        "serve",
        help="serve a seeded firm as Clio Manage v4 on loopback",
        description="Serve a seeded, faithful Clio Manage v4 emulator (API at /api/v4, "
        "OAuth at /oauth, control API at /_sandbox) with Clio Grow beside it (API at /grow, "
        "Platform OAuth at /platform/oauth). Prints the base URL and the environment block "
        "the pipeline needs.",
    )
    serve.add_argument("--port", type=int, default=8750)
    serve.add_argument("--host", default="127.0.0.1", help="interface (default: loopback)")
    serve.add_argument("--seed", type=int, default=7)
    serve.add_argument("--scale", choices=("tiny", "small", "large", "xlarge"), default="small")
    serve.add_argument("--region", choices=("us", "eu", "ca", "au"), default="us")
    serve.add_argument("--api", choices=("manage", "platform"), default="manage")
    serve.add_argument(
        "--custom-field-edits",
        choices=("touch", "silent"),
        default="touch",
        help="whether editing a custom field value moves its matter's or contact's "
        "updated_at (touch, default) or only the value's own (silent); Clio does not say",
    )
    serve.add_argument(
        "--rate-limit",
        type=int,
        default=None,
        help="requests per window (default: 50 for manage, 3 for platform; 0 turns limits off)",
    )
    serve.add_argument(
        "--rate-window",
        type=float,
        default=None,
        help="window seconds (default: 60 for manage, 1 for platform)",
    )
    serve.add_argument(
        "--token-lifetime",
        type=int,
        default=None,
        help="access-token seconds (default: 30 days manage, 24 h platform)",
    )
    serve.add_argument(
        "--allow-http-webhooks",
        action="store_true",
        help="accept plain-http webhook URLs on loopback hosts",
    )
    serve.add_argument(
        "--webhook-time-scale",
        type=float,
        default=1.0,
        help="multiply webhook retry delays (e.g. 0.01 for demos)",
    )
    serve.add_argument(
        "--fixture",
        type=Path,
        default=None,
        metavar="FILE",
        help="serve a hand-built firm instead: JSON "
        '{"now": ISO timestamp, "records": {endpoint: [records]}}',
    )
    serve.add_argument(
        "--grow-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting of the Grow API (docs/sandbox.md, 'Clio Grow'), e.g. end_of_list=null, "
        "timestamps=offset, rate_limit=3/1 or off, page_size=50; repeatable",
    )
    serve.set_defaults(handler=serve_command)


def rate_limit(api: str, limit: int | None, window: float | None) -> tuple[int, float] | None:
    """The effective limit: Clio's defaults per API, overridden by the flags; 0 = off."""
    from pipelines.sandbox.config import MANAGE_RATE_LIMIT, PLATFORM_RATE_LIMIT

    default = PLATFORM_RATE_LIMIT if api == "platform" else MANAGE_RATE_LIMIT
    if limit == 0:
        return None
    if (limit is not None and limit < 0) or (window is not None and window <= 0):
        raise ConfigError("--rate-limit must be >= 0 and --rate-window > 0.")
    return (limit or default[0], window or default[1])


def env_block(
    base_url: str, region: str, api: str, client_id: str, client_secret: str, refresh_token: str
) -> str:
    """Shell lines pointing the pipeline at this sandbox."""
    values = {
        "SOURCES__CLIO__BASE_URL": base_url,
        "SOURCES__CLIO__REGION": region,
        "SOURCES__CLIO__API": api,
        "SOURCES__CLIO__CREDENTIALS__CLIENT_ID": client_id,
        "SOURCES__CLIO__CREDENTIALS__CLIENT_SECRET": client_secret,
        "SOURCES__CLIO__CREDENTIALS__REFRESH_TOKEN": refresh_token,
    }
    return "\n".join(f"export {key}={value}" for key, value in values.items())


def grow_env_block(base_url: str, region: str, client_id: str, client_secret: str,
                   refresh_token: str) -> str:
    """Shell lines pointing the Grow source at this sandbox."""
    values = {
        "SOURCES__GROW__BASE_URL": base_url,
        "SOURCES__GROW__REGION": region,
        "SOURCES__GROW__CREDENTIALS__CLIENT_ID": client_id,
        "SOURCES__GROW__CREDENTIALS__CLIENT_SECRET": client_secret,
        "SOURCES__GROW__CREDENTIALS__REFRESH_TOKEN": refresh_token,
    }
    return "\n".join(f"export {key}={value}" for key, value in values.items())


def grow_options(pairs: list[str]) -> GrowOptions:
    """The Grow settings of `--grow-option KEY=VALUE` flags; ConfigError when unusable."""
    from pipelines.sandbox.grow.options import GrowOptions, parse_option

    try:
        return GrowOptions(**dict(parse_option(pair) for pair in pairs))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"--grow-option: {exc}. See docs/sandbox.md ('Clio Grow').") from None


def load_fixture(path: Path) -> tuple[dict, str | None]:
    """The records and simulated `now` of a fixture file; ConfigError when unusable."""
    try:
        data = json.loads(path.read_text())
        return data["records"], data.get("now")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"Cannot read the sandbox fixture {path}: {exc}. It must be JSON "
            '{"now": "2026-11-20T17:00:00-05:00", "records": {"bills": [...], ...}}.'
        ) from None


def _check_port_free(host: str, port: int) -> None:
    import socket

    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            raise ConfigError(
                f"Port {port} on {host} is in use (another sandbox?). Stop it or pass "
                "--port with a free port."
            ) from None


def serve_command(args: argparse.Namespace) -> int:
    import time

    from pipelines.sandbox.app import create_app
    from pipelines.sandbox.config import SandboxConfig
    from pipelines.sandbox.harness import AnnouncingServer, uvicorn_config

    _check_port_free(args.host, args.port)
    lifetime = args.token_lifetime or (86_400 if args.api == "platform" else 30 * 86_400)
    fixture, now = load_fixture(args.fixture) if args.fixture else (None, None)
    config = SandboxConfig(
        fixture=fixture,
        **({"fixture_now": now} if now else {}),
        seed=args.seed,
        scale=args.scale,
        region=args.region,
        api=args.api,
        custom_field_edits=args.custom_field_edits,
        rate_limit=rate_limit(args.api, args.rate_limit, args.rate_window),
        token_lifetime=lifetime,
        allow_http_webhooks=args.allow_http_webhooks,
        webhook_time_scale=args.webhook_time_scale,
        grow=grow_options(args.grow_option),
    )
    started = time.perf_counter()
    try:
        app = create_app(config)
    except Exception as exc:  # the firm refused the fixture (e.g. a dangling reference)
        if fixture is None:
            raise
        raise ConfigError(
            f"The sandbox fixture {args.fixture} is not a valid firm: {exc}."
        ) from None
    state = app.state.sandbox
    pair = state.tokens.authorize(config.client_id, config.api, None)
    base_url = f"http://{args.host}:{args.port}"
    counts = {name: len(state.firm.records(name)) for name in ("bills", "activities", "contacts")}
    print(
        f"Clio sandbox ({args.scale}, seed {args.seed}, {args.region}, {args.api}) built in "
        f"{time.perf_counter() - started:.1f} s: {counts}"
    )
    grow = state.grow
    grow_pair = grow.tokens.authorize(grow.options.client_id, "platform", None)
    announcement = "\n".join([
        f"Serving at {base_url}  (API {base_url}/api/v4, Grow {base_url}/grow, "
        f"control {base_url}/_sandbox)\n",
        env_block(base_url, config.region, config.api, config.client_id,
                  config.client_secret, pair["refresh_token"]),
        grow_env_block(base_url, config.region, grow.options.client_id,
                       grow.options.client_secret, grow_pair["refresh_token"]),
        "",
    ])
    try:
        AnnouncingServer(uvicorn_config(app, args.port, args.host, "info"), announcement).run()
    finally:
        state.close()
    return 0
