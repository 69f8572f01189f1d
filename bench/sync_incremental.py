"""Benchmark (c): an incremental run when nothing changed at Clio, beside a full sync.

One full sync of the sandbox's generated firm, then repeated incremental runs with no
change at Clio. A no-change run should cost one request per incremental endpoint, one per
extra bill state and the pages of the fully replaced endpoint (it has no
`updated_since`), and take little time; the ratios to the full sync show what a
scheduled run saves. Measured in-process (`sync()` in a fresh process) and as the real
command (`clio-sync run`, which also starts Python and rebuilds the SQL models).

    .venv/bin/python bench/sync_incremental.py [--scale large|small] [--seed 7] [--repeat 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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

REPLACED = "outstanding_client_balances"  # no `updated_since`: read whole every run


def worker(db: Path, mode: str) -> dict:
    from pipelines.clio.config import load_settings
    from pipelines.clio.sync import sync

    started = time.perf_counter()
    summary = sync(db, load_settings(), full_refresh=mode == "full")
    replaced = summary.resources[REPLACED]
    return {"seconds": time.perf_counter() - started, "requests": summary.requests,
            "records": summary.records, "replaced_requests": replaced.requests,
            "replaced_records": replaced.records}


def cli_run(db: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pipelines", "run", "--db", str(db), "--quiet"],
                   cwd=REPO, env=env, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=("full", "incremental"), help=argparse.SUPPRESS)
    add_firm_arguments(parser)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if args.worker:
        report(worker(Path(args.db), args.mode))
        return
    runs, cli = [], []
    load = LoadWatch()
    with sandbox_process(args.scale, args.seed) as (base, built), \
            tempfile.TemporaryDirectory() as tmp:
        print(built, flush=True)
        db = Path(tmp) / "bench.duckdb"
        env = sandbox_env(base, Path(tmp) / "token.json")
        clear_server_counts(base)
        full = run_worker(Path(__file__), ["--db", str(db), "--mode", "full"], env)
        full["requests_seen_by_server"] = server_counts(base)["requests"]
        print(f"full sync: {full}", flush=True)
        for i in range(args.repeat):
            clear_server_counts(base)
            result = run_worker(Path(__file__), ["--db", str(db), "--mode", "incremental"], env)
            result["requests_seen_by_server"] = server_counts(base)["requests"]
            runs.append(result)
            print(f"incremental {i + 1}: {result}", flush=True)
        for _ in range(args.repeat):
            cli.append(cli_run(db, env))
    write_results("sync_incremental", args.scale, render(args, built, full, runs, cli, load.stop()))


def expected_requests(replaced_pages: int) -> tuple[int, str]:
    """What a no-change run should cost, from the catalog, and how that adds up."""
    from pipelines.clio.endpoints import ENDPOINTS

    walks = sum(len(e.walks) for e in ENDPOINTS if e.incremental)
    return walks + replaced_pages, (
        f"one per walk of an incremental endpoint ({walks}: the plain index, extra state "
        f"filters, each value of a required filter) + the pages of the replaced endpoints "
        f"({replaced_pages}) = {walks + replaced_pages}")


def render(args: argparse.Namespace, built: str, full: dict, runs: list[dict],
           cli: list[float], load: str) -> str:
    seconds = [r["seconds"] for r in runs]
    requests = median([r["requests_seen_by_server"] for r in runs])
    expected, how = expected_requests(runs[0]["replaced_requests"])

    def row(name: str, values: list, fmt: str = "{:.0f}", vs_full: float | None = None) -> str:
        ratio = f"{100 * median(values) / vs_full:.1f}%" if vs_full else "-"
        return (f"| {name} | {fmt.format(median(values))} | {ratio} | "
                + ", ".join(fmt.format(v) for v in values) + " |")

    lines = [
        f"# No-change incremental run of the `{args.scale}` sandbox, beside a full sync",
        "",
        f"Command: `{command_line()}`  ",
        f"Machine: {machine()}; sandbox in its own process, rate limiting off; one full "
        f"sync, then {len(runs)} incremental runs in fresh processes and {len(cli)} "
        "`clio-sync run`s, all on the same DuckDB file.  ",
        load,
        "",
        describe_firm(args.scale, args.seed, built),
        "",
        f"Full sync: {full['records']:,} records, {full['requests_seen_by_server']:,} requests "
        f"(server), {full['seconds']:.1f} s (one run, in a fresh process).",
        "",
        "| no-change incremental | median | ÷ full sync | runs |",
        "|---|---:|---:|---|",
        row("requests (seen by the sandbox)", [r["requests_seen_by_server"] for r in runs],
            vs_full=full["requests_seen_by_server"]),
        row("requests (client counters)", [r["requests"] for r in runs],
            vs_full=full["requests"]),
        row("records re-read", [r["records"] for r in runs], vs_full=full["records"]),
        row("seconds, `sync()` in a fresh process", seconds, "{:.2f}", full["seconds"]),
        row("seconds, `clio-sync run` (process start + models)", cli, "{:.2f}"),
        "",
        f"- requests: **{requests:.0f}** (expected {how}): "
        f"**{'as expected' if requests == expected else 'NOT as expected'}**.",
        f"- records re-read are `{REPLACED}`'s ({runs[0]['replaced_records']:,}) plus those "
        "stamped within the watermark's one-minute lag before the firm's clock: the generated "
        "firm stamps its latest changes 30 s before its `now`, and its clock stands still "
        "between runs, so every run re-reads them (merged on `id`, harmless; at Clio the "
        "clock moves on and they fall out after one run).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
