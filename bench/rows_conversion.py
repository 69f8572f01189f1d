"""What typing a sync batch costs: decoding the pages and `rows.arrow_batch`, old vs new,
and beside them the new code's Arrow path (`arrow_pages.parse` of each page, #12.2).

Pages of the generated `large` firm are fetched once from the sandbox over HTTP (200
records each, the catalog's `fields`, as a sync asks) and saved; then the same bytes are
measured by two child processes, one importing the code of `--baseline` (a checkout of
the previous version) and one this checkout, each decoding every page of a 20,000-record
batch (its own JSON decoder: `json.loads`, or `decoding.loads` where it exists) and
typing the batch with its `arrow_batch`; where the checkout has `arrow_pages`, also parsing
every page of the batch with it and concatenating the tables. Times are CPU time of the process (so other
load on the machine inflates them less than wall time), the best of `--repeat` runs in
each of `--rounds` child processes per version, old and new alternating. Writes
`bench/results/rows_conversion.md`.

    .venv/bin/python bench/rows_conversion.py --baseline /path/to/previous/checkout
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "rows_conversion.md"
TABLES = ("bills", "line_items", "activities")


def fetch_pages(path: Path, scale: str, seed: int, batch: int) -> None:
    """Save `{table: [page body, ...]}` for the first `batch` records of each table."""
    from pipelines.clio.endpoints import BY_TABLE
    from pipelines.sandbox.harness import serve_sandbox

    pages: dict[str, list[str]] = {}
    with serve_sandbox(scale=scale, seed=seed, rate_limit=None) as sb:
        token = sb.token()["access_token"]
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
            for table in TABLES:
                endpoint, bodies, count = BY_TABLE[table], [], 0
                url: str | None = f"{sb.base_url}/api/v4/{endpoint.path}"
                params: dict | None = {"fields": endpoint.fields, "limit": 200}
                while url and count < batch:
                    response = http.get(url, params=params).raise_for_status()
                    bodies.append(response.text)
                    body = response.json()
                    count += len(body["data"])
                    url, params = body["meta"]["paging"].get("next"), None
                pages[table] = bodies
    path.write_text(json.dumps(pages))


def measure(pages_file: Path, repeat: int) -> dict[str, dict[str, float]]:
    """Best CPU ms to decode and to type each table's batch, with the code on sys.path."""
    from pipelines.clio.rows import arrow_batch

    try:
        from pipelines.clio.decoding import loads
    except ImportError:  # the previous version decoded with the standard library
        loads = json.loads
    pages = json.loads(pages_file.read_text())
    results: dict[str, dict[str, float]] = {}
    for table in TABLES:
        bodies = [body.encode() for body in pages[table]]
        decode, convert = [], []
        for _ in range(repeat):
            started = time.process_time()
            records = [r for body in bodies for r in loads(body)["data"]]
            decoded = time.process_time()
            arrow_batch(table, records)
            decode.append(decoded - started)
            convert.append(time.process_time() - decoded)
        results[table] = {
            "records": len(records),
            "decode_ms": min(decode) * 1000,
            "convert_ms": min(convert) * 1000,
            **_arrow_path(table, bodies, repeat),
        }
    return results


def _arrow_path(table: str, bodies: list[bytes], repeat: int) -> dict[str, float]:
    """Best CPU ms to parse the batch's pages with `arrow_pages` (none where it is missing),
    and how many pages it declined (those would go the decode + typing way)."""
    try:
        import pyarrow as pa

        from pipelines.clio import arrow_pages
        from pipelines.clio.endpoints import BY_TABLE
    except ImportError:
        return {}
    endpoint, times = BY_TABLE[table], []
    for _ in range(repeat):
        started = time.process_time()
        pages = [arrow_pages.parse(endpoint, body) for body in bodies]
        pa.concat_tables([page.root for page in pages if page is not None])
        times.append(time.process_time() - started)
    return {"arrow_ms": min(times) * 1000, "declined": sum(page is None for page in pages)}


def run_child(code: Path, pages_file: Path, repeat: int) -> dict[str, dict[str, float]]:
    env = {**os.environ, "PYTHONPATH": str(code)}
    out = subprocess.run(
        [sys.executable, __file__, "--measure", str(pages_file), "--repeat", str(repeat)],
        env=env, check=True, capture_output=True, text=True, cwd=code,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def best_of(runs: list[dict]) -> dict[str, dict[str, float]]:
    return {table: {key: min(run[table][key] for run in runs) for key in runs[0][table]} for table in TABLES}


def _arrow_cells(old_total: float, new: dict[str, float]) -> str:
    if "arrow_ms" not in new:
        return " - | - | - |"
    return f" {new['arrow_ms']:.1f} | {int(new['declined'])} | {new['arrow_ms'] / old_total:.2f} |"


def report(old: dict, new: dict, command: str, baseline: Path, scale: str, seed: int, repeat: int,
           rounds: int) -> str:
    lines = [
        "# Typing a sync batch: JSON decoding + `rows.arrow_batch`, old vs new, and the Arrow path",
        "",
        f"Command: `{command}` (from the repository root, `.venv/bin/python`)",
        "",
        f"Pages of the generated `{scale}` firm (seed {seed}) as the sandbox serves them "
        "(200 records, the catalog's `fields`); one batch per table; CPU ms, best of "
        f"{repeat} runs in each of {rounds} processes per version, alternating "
        f"(old: `{baseline}`).",
        "",
        "| table | records | old decode ms | old typing ms | old total | new decode ms | new typing ms "
        "| new total | new / old | new Arrow path ms | pages declined | Arrow / old |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for table in TABLES:
        o, n = old[table], new[table]
        o_total, n_total = o["decode_ms"] + o["convert_ms"], n["decode_ms"] + n["convert_ms"]
        lines.append(
            f"| {table} | {int(n['records']):,} | {o['decode_ms']:.1f} | {o['convert_ms']:.1f} "
            f"| {o_total:.1f} | {n['decode_ms']:.1f} | {n['convert_ms']:.1f} | {n_total:.1f} "
            f"| {n_total / o_total:.2f} |" + _arrow_cells(o_total, n)
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="checkout of the previous version")
    parser.add_argument("--scale", default="large", choices=("small", "large"))
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pages", type=Path, default=Path("/tmp/clio_sync_rows_pages.json"))
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, args.repeat)))
        return 0
    if args.baseline is None:
        parser.error("--baseline is required")
    if not args.pages.exists():
        fetch_pages(args.pages, args.scale, args.seed, args.batch)
    olds, news = [], []
    for _ in range(args.rounds):
        olds.append(run_child(args.baseline.resolve(), args.pages, args.repeat))
        news.append(run_child(ROOT, args.pages, args.repeat))
    command = "python bench/rows_conversion.py " + " ".join(argv or sys.argv[1:])
    text = report(best_of(olds), best_of(news), command, args.baseline, args.scale, args.seed,
                  args.repeat, args.rounds)
    RESULTS.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
