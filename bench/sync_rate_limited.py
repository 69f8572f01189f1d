"""Benchmark (b): a full sync under a rate limit, e.g. 50 requests per 2 s window.

The sandbox (its own process) enforces the limit per token and publishes it in the
`X-RateLimit-*` headers; clio-sync paces itself from them. The theoretical minimum time
at Clio is (requests needed ÷ limit) × window. Two ratios to it are reported: the time
the sync spent reading Clio (from the start of the sync to its last page; issue 10's goal:
at most 1.10, with zero 429s), and the whole run's wall time (issue 12's goal: at most
1.05, with zero 429s), which adds dlt's normalize and load after the last page and the
`_sync_runs` row.

With `--before COMMIT`, that commit's `pipelines` package (extracted with `git archive`,
the worktree untouched) is measured too, in the same invocation against the same sandbox:
each round runs it and then this checkout, so both see the same neighbours, and the
results give the ratios of both and this checkout's whole run over the before one's.

    .venv/bin/python bench/sync_rate_limited.py [--scale large|small] [--seed 7]
        [--limit 50] [--window 2] [--repeat 3] [--before COMMIT]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.revisions import checkout
from bench.sync_common import (
    REPO,
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
    import pipelines
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
        "code": str(Path(pipelines.__file__).parent.parent),  # which variant really ran
    }


THIS = "this checkout"
CODE_ENV = "BENCH_SYNC_CODE"  # the folder whose `pipelines` package a worker imports


def variants(before: str | None, tmp: Path) -> list[tuple[str, Path]]:
    """(name, folder holding its `pipelines`) of each measured variant, in round order."""
    mine = [(THIS, REPO)]
    if before is None:
        return mine
    return [(f"before ({before})", checkout(before, tmp / "before", "pipelines")), *mine]


def one_run(name: str, code: Path, base: str, folder: Path, args: argparse.Namespace) -> dict:
    """One full sync by `code`'s pipeline in a fresh worker, with a fresh token and file."""
    folder.mkdir()
    env = sandbox_env(base, folder / "token.json")  # a fresh token: a fresh budget
    env[CODE_ENV] = str(code)
    clear_server_counts(base)
    result = run_worker(Path(__file__), ["--db", str(folder / "bench.duckdb")], env)
    served = server_counts(base)
    result["variant"] = name
    result["served_requests"], result["served_429"] = served["requests"], served["429"]
    result["ideal_seconds"] = result["requests"] / args.limit * args.window
    result["ratio"] = result["clio_seconds"] / result["ideal_seconds"]
    result["wall_ratio"] = result["wall_seconds"] / result["ideal_seconds"]
    result["tail_seconds"] = result["wall_seconds"] - result["clio_seconds"]
    # fixed windows: the last window's requests go out at its start, not its end
    result["window_floor"] = (math.ceil(result["requests"] / args.limit) - 1) * args.window
    result["floor_ratio"] = result["clio_seconds"] / result["window_floor"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    add_firm_arguments(parser)
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--window", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", metavar="COMMIT",
                        help="also measure COMMIT's pipeline, interleaved round by round")
    args = parser.parse_args()
    if args.worker:
        code = os.environ.get(CODE_ENV)
        if code:  # the variant's `pipelines` package wins over this checkout's
            sys.path.insert(0, code)
        report(worker(Path(args.db)))
        return
    runs: dict[str, list[dict]] = {}
    load = LoadWatch()
    with sandbox_process(args.scale, args.seed, rate_limit=args.limit, window=args.window) \
            as (base, built), tempfile.TemporaryDirectory() as tmp:
        print(built, flush=True)
        trees = variants(args.before, Path(tmp))
        for i in range(args.repeat):
            for name, code in trees:
                folder = Path(tmp) / f"run-{i}-{len(runs.get(name, []))}-{name[:6]}"
                result = one_run(name, code, base, folder, args)
                runs.setdefault(name, []).append(result)
                print(f"run {i + 1}, {name}: {result}", flush=True)
    write_results("sync_rate_limited", args.scale, render(args, built, runs, load.stop()))


def render(args: argparse.Namespace, built: str, runs: dict[str, list[dict]], load: str) -> str:
    lines = [
        f"# Rate-limited full sync of the `{args.scale}` sandbox "
        f"({args.limit} requests per {args.window:g} s window)",
        "",
        f"Command: `{command_line()}`  ",
        f"Machine: {machine()}; sandbox in its own process; {args.repeat} rounds"
        + (f", each running `{args.before}`'s pipeline and then this checkout's" if args.before
           else "")
        + ", each run in a fresh process with a fresh token (a fresh rate budget) and "
        "DuckDB file.  ",
        load,
        "",
        describe_firm(args.scale, args.seed, built),
        "",
        "| variant | run | records | requests (client / server) | ideal s | time at Clio s "
        "| ratio | whole run s | whole-run ratio | tail s | fixed-window floor s | ratio to it "
        "| pacing waits s | 429s (client / server) | retries |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, rows in runs.items():
        for i, r in enumerate(rows, 1):
            lines.append(
                f"| {name} | {i} | {r['records']:,} | {r['requests']} / {r['served_requests']} | "
                f"{r['ideal_seconds']:.1f} | {r['clio_seconds']:.1f} | {r['ratio']:.3f} | "
                f"{r['wall_seconds']:.1f} | {r['wall_ratio']:.3f} | {r['tail_seconds']:.2f} | "
                f"{r['window_floor']:.1f} | {r['floor_ratio']:.3f} | {r['waits_seconds']:.1f} | "
                f"{r['throttled_429']} / {r['served_429']} | {r['retries']} |")
    lines.append("")
    for name, rows in runs.items():
        lines += [
            f"{name}:",
            "",
            "- median ratio, time at Clio ÷ (requests ÷ limit × window): "
            f"**{median([r['ratio'] for r in rows]):.3f}** (goal <= 1.10)",
            "- median ratio, whole run ÷ (requests ÷ limit × window): "
            f"**{median([r['wall_ratio'] for r in rows]):.3f}** (goal <= 1.05)",
            "- median time from the last page to the end of the run (loading what was read "
            f"last, settling it, recording the run): **{median([r['tail_seconds'] for r in rows]):.2f} s**",
            "- median ratio, time at Clio ÷ fixed-window floor ((⌈requests ÷ limit⌉ − 1) × "
            f"window): **{median([r['floor_ratio'] for r in rows]):.3f}**",
            f"- 429s in all runs: **{sum(r['served_429'] for r in rows)}** answered by the "
            f"sandbox, {sum(r['throttled_429'] for r in rows)} counted by the client (goal 0)",
            "",
        ]
    if len(runs) == 2:
        (old, before), (_, mine) = runs.items()
        ratios = [m["wall_seconds"] / b["wall_seconds"] for b, m in zip(before, mine, strict=True)]
        lines += [f"This checkout's whole run ÷ {old}'s, round by round: "
                  + ", ".join(f"{x:.3f}" for x in ratios)
                  + f"; median **{median(ratios):.3f}**.", ""]
    lines += [
        "Notes: ideal = requests ÷ limit × window, the issue's measure; the sandbox's windows "
        "are fixed, starting at a token's first request, so the last window's requests can "
        "all go out at its start and the true floor is (⌈requests ÷ limit⌉ − 1) × window "
        "(plus the time to fetch the last window's pages); time at Clio = from the start of "
        "the sync to the source's last page; tail = whole run − time at Clio: dlt's "
        "normalize and load of what was not loaded by then, the settling transaction and the "
        "`_sync_runs` row; the client keeps one request of each window spare "
        "(`rate_limit_buffer = 1`, the default), so it uses 49 of each 50.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
