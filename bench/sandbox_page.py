"""How long the sandbox takes to serve a 200-record page of bills with ~25 fields.

Side by side, in one run: the in-process handler (query parsing, filters, paging,
projection, JSON) and the same request over real HTTP on loopback (uvicorn + httpx,
keep-alive), plus the `fields=id,etag` page for scale. Reports medians and ratios and
writes `bench/results/sandbox_page.md`. Target: median <= 10 ms over HTTP.

    .venv/bin/python bench/sandbox_page.py [--scale small] [--repeat 300] [--firm synthetic]

`--firm synthetic` serves the fixture-built firm of `bench/sync_synthetic_firm.py`
(about 12k bills, every catalog field filled) instead of the seeded generator's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from pipelines.sandbox import api
from pipelines.sandbox.harness import serve_sandbox

FIELDS_25 = (
    "id,etag,number,issued_at,due_at,created_at,updated_at,type,kind,state,subject,"
    "total,paid,paid_at,due,balance,credits_issued,pending,sub_total,tax_sum,"
    "client{id,name},user{id,name},currency{id,code},matters{id,display_number},"
    "balances{id,type,amount,interest_amount,due}"
)
RESULTS = Path(__file__).parent / "results" / "sandbox_page.md"


def median_ms(run: Callable[[], object], repeat: int) -> float:
    for _ in range(max(5, repeat // 20)):  # warm caches and connections
        run()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def in_process(app: object, query: str) -> Callable[[], object]:
    """Call the index handler directly with a hand-built request (no server, no socket)."""
    from starlette.requests import Request

    scope = {
        "type": "http", "method": "GET", "path": "/api/v4/bills.json", "root_path": "",
        "query_string": query.encode(), "headers": [(b"host", b"127.0.0.1")],
        "scheme": "http", "server": ("127.0.0.1", 80), "app": app,
    }  # fmt: skip
    state = app.state.sandbox  # type: ignore[attr-defined]
    return lambda: api.index(state, Request(scope), "bills")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="small", choices=("tiny", "small", "large"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--firm", choices=("generated", "synthetic"), default="generated")
    args = parser.parse_args(argv)
    command = "python bench/sandbox_page.py " + " ".join(argv or sys.argv[1:])
    query = httpx.QueryParams({"fields": FIELDS_25, "limit": 200, "order": "id(asc)"})
    small = httpx.QueryParams({"fields": "id,etag", "limit": 200, "order": "id(asc)"})
    started = time.perf_counter()
    if args.firm == "synthetic":
        from sync_synthetic_firm import NOW, synthetic_firm

        served = serve_sandbox(fixture=synthetic_firm(args.seed), fixture_now=NOW)
        label = f"synthetic firm (bench/sync_synthetic_firm.py) seed {args.seed}"
    else:
        served = serve_sandbox(scale=args.scale, seed=args.seed)
        label = f"generated firm `{args.scale}` seed {args.seed}"
    with served as sb:
        startup = time.perf_counter() - started
        app = sb.app
        token = sb.token()["access_token"]
        with httpx.Client(
            base_url=f"{sb.base_url}/api/v4", headers={"Authorization": f"Bearer {token}"}
        ) as http:
            page = http.get("bills.json", params=query).json()
            assert len(page["data"]) == 200, "the firm needs at least 200 live bills"
            size = len(http.get("bills.json", params=query).content)
            results = {
                "in-process handler, 25 fields": median_ms(
                    in_process(app, str(query)), args.repeat
                ),
                "HTTP loopback, 25 fields": median_ms(
                    lambda: http.get("bills.json", params=query).raise_for_status(), args.repeat
                ),
                "HTTP loopback, id,etag": median_ms(
                    lambda: http.get("bills.json", params=small).raise_for_status(), args.repeat
                ),
            }
    base = results["HTTP loopback, 25 fields"]
    lines = [
        "# Sandbox: one 200-bill page with 25 fields",
        "",
        f"Command: `{command}` (from the repository root, `.venv/bin/python`)",
        "",
        f"The {label}, built and served in {startup:.2f} s; "
        f"{args.repeat} repetitions per variant after warm-up; page body {size:,} bytes.",
        "",
        "| variant | median ms | ratio to HTTP 25 fields |",
        "|---|---:|---:|",
        *(f"| {name} | {ms:.2f} | {ms / base:.2f} |" for name, ms in results.items()),
        "",
        f"Target: <= 10 ms over HTTP. {'Met' if base <= 10 else 'NOT met'} ({base:.2f} ms).",
        "",
    ]
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
