"""Benchmark (b): a full sync under a rate limit, e.g. 50 requests per 2 s window.

The sandbox (its own process) enforces the limit per token and publishes it in the
`X-RateLimit-*` headers; clio-sync paces itself from them. The theoretical minimum time
at Clio is (requests needed ÷ limit) × window. Two ratios to it are reported: the time
the sync spent reading Clio (from the start of the sync to its last page; issue 10's goal:
at most 1.10, with zero 429s), and the whole run's wall time (issue 12's goal: at most
1.05, with zero 429s), which adds dlt's normalize and load after the last page and the
`_sync_runs` row.

    .venv/bin/python bench/sync_rate_limited.py [--scale large|small] [--seed 7]
        [--limit 50] [--window 2] [--repeat 3]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sync_common import (
    LoadWatch,
    add_firm_arguments,
    clear_server_counts,
    command_line,
    describe_firm,
    machine,
    median,
    report,
    run_worker,
    sandbox_env,
    sandbox_process,
    server_counts,
    write_results,
)


def worker(db: Path) -> dict:
    from pipelines.clio.config import load_settings
    from pipelines.clio.source import WalkOptions
    from pipelines.clio.sync import sync

    last_page = [0.0]

    def note(resource: str, page: object) -> None:
        last_page[0] = time.perf_counter()

    started = time.perf_counter()
    summary = sync(db, load_settings(), full_refresh=True, options=WalkOptions(on_page=note))
    total = summary.resources.values()
    return {
        "wall_seconds": time.perf_counter() - started,
        "clio_seconds": last_page[0] - started,
        "waits_seconds": sum(s.waits_seconds for s in total),
        "requests": summary.requests,
        "throttled_429": sum(s.throttled_429 for s in total),
        "retries": sum(s.retries for s in total),
        "records": summary.records,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    add_firm_arguments(parser)
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--window", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.worker:
        report(worker(Path(args.db)))
        return
    runs = []
    load = LoadWatch()
    with sandbox_process(args.scale, args.seed, rate_limit=args.limit, window=args.window) \
            as (base, built), tempfile.TemporaryDirectory() as tmp:
        print(built, flush=True)
        for i in range(args.repeat):
            folder = Path(tmp) / f"run-{i}"
            folder.mkdir()
            env = sandbox_env(base, folder / "token.json")  # a fresh token: a fresh budget
            clear_server_counts(base)
            result = run_worker(Path(__file__), ["--db", str(folder / "bench.duckdb")], env)
            served = server_counts(base)
            result["served_requests"], result["served_429"] = served["requests"], served["429"]
            result["ideal_seconds"] = result["requests"] / args.limit * args.window
            result["ratio"] = result["clio_seconds"] / result["ideal_seconds"]
            result["wall_ratio"] = result["wall_seconds"] / result["ideal_seconds"]
            result["tail_seconds"] = result["wall_seconds"] - result["clio_seconds"]
            # fixed windows: the last window's requests go out at its start, not its end
            result["window_floor"] = (math.ceil(result["requests"] / args.limit) - 1) * args.window
            result["floor_ratio"] = result["clio_seconds"] / result["window_floor"]
            runs.append(result)
            print(f"run {i + 1}: {result}", flush=True)
    write_results("sync_rate_limited", args.scale, render(args, built, runs, load.stop()))


def render(args: argparse.Namespace, built: str, runs: list[dict], load: str) -> str:
    lines = [
        f"# Rate-limited full sync of the `{args.scale}` sandbox "
        f"({args.limit} requests per {args.window:g} s window)",
        "",
        f"Command: `{command_line()}`  ",
        f"Machine: {machine()}; sandbox in its own process; {len(runs)} runs, each in a "
        "fresh process with a fresh token (a fresh rate budget) and DuckDB file.  ",
        load,
        "",
        describe_firm(args.scale, args.seed, built),
        "",
        "| run | records | requests (client / server) | ideal s | time at Clio s | ratio "
        "| whole run s | whole-run ratio | fixed-window floor s | ratio to it | pacing waits s "
        "| 429s (client / server) | retries |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for i, r in enumerate(runs, 1):
        lines.append(
            f"| {i} | {r['records']:,} | {r['requests']} / {r['served_requests']} | "
            f"{r['ideal_seconds']:.1f} | {r['clio_seconds']:.1f} | {r['ratio']:.3f} | "
            f"{r['wall_seconds']:.1f} | {r['wall_ratio']:.3f} | {r['window_floor']:.1f} | "
            f"{r['floor_ratio']:.3f} | {r['waits_seconds']:.1f} | "
            f"{r['throttled_429']} / {r['served_429']} | {r['retries']} |")
    lines += [
        "",
        "- median ratio, time at Clio ÷ (requests ÷ limit × window): "
        f"**{median([r['ratio'] for r in runs]):.3f}** (goal <= 1.10)",
        "- median ratio, whole run ÷ (requests ÷ limit × window): "
        f"**{median([r['wall_ratio'] for r in runs]):.3f}** (goal <= 1.05)",
        "- median time from the last page to the end of the run (loading what was read "
        f"last, settling it, recording the run): **{median([r['tail_seconds'] for r in runs]):.2f} s**",
        "- median ratio, time at Clio ÷ fixed-window floor ((⌈requests ÷ limit⌉ − 1) × "
        f"window): **{median([r['floor_ratio'] for r in runs]):.3f}**",
        f"- 429s in all runs: **{sum(r['served_429'] for r in runs)}** answered by the "
        f"sandbox, {sum(r['throttled_429'] for r in runs)} counted by the client (goal 0)",
        "- ideal = requests ÷ limit × window, the issue's measure; the sandbox's windows "
        "are fixed, starting at a token's first request, so the last window's requests can "
        "all go out at its start and the true floor is (⌈requests ÷ limit⌉ − 1) × window "
        "(plus the time to fetch the last window's pages); time at Clio = from the start of "
        "the sync to the source's last page; the whole run adds dlt's normalize and load "
        "after it and the `_sync_runs` row; the client keeps one request of each window spare "
        "(`rate_limit_buffer = 1`, the default), so it uses 49 of each 50.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
