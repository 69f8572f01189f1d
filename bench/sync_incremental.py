"""Benchmark (c): an incremental run when nothing changed at Clio.

After a full sync of the sandbox (not measured), each measured run is a second sync with
no change at Clio: it should cost one request per incremental endpoint, one per extra
bill state and one for the fully replaced endpoint (16 in all), and take little time.
Measured both in-process (`sync`) and as the real command (`clio-sync run`, which also
rebuilds the SQL models).

    .venv/bin/python bench/sync_incremental.py [--scale large --repeat 5]
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
    api_request_count,
    command_line,
    control,
    describe_firm,
    machine,
    median,
    report,
    run_worker,
    sandbox_env,
    sandbox_process,
    write_results,
)


def worker(db: Path, mode: str) -> dict:
    from pipelines.clio.config import load_settings
    from pipelines.clio.sync import sync

    started = time.perf_counter()
    if mode == "full":
        summary = sync(db, load_settings(), full_refresh=True)
    else:
        summary = sync(db, load_settings())
    replaced = summary.resources["outstanding_client_balances"]
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
    parser.add_argument("--db")
    parser.add_argument("--mode", choices=("full", "incremental"))
    parser.add_argument("--scale", default="large")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if args.worker:
        report(worker(Path(args.db), args.mode))
        return
    runs, cli = [], []
    with sandbox_process(args.scale) as base, tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        env = sandbox_env(base, Path(tmp) / "token.json")
        full = run_worker(Path(__file__), ["--db", str(db), "--mode", "full"], env)
        print(f"full sync (not measured): {full}", flush=True)
        for i in range(args.repeat):
            control(base, "DELETE", "stats")
            result = run_worker(Path(__file__), ["--db", str(db), "--mode", "incremental"], env)
            result["requests_seen_by_server"] = api_request_count(base)
            runs.append(result)
            print(f"incremental {i + 1}: {result}", flush=True)
        for _ in range(args.repeat):
            cli.append(cli_run(db, env))
    write_results("sync_incremental", render(args, full, runs, cli))


def render(args: argparse.Namespace, full: dict, runs: list[dict], cli: list[float]) -> str:
    seconds = [r["seconds"] for r in runs]
    lines = [
        "# No-change incremental run",
        "",
        f"Command: `{command_line()}`  ",
        f"Machine: {machine()}; `{args.scale}` sandbox in its own process, rate limiting off.",
        "",
        describe_firm(args.scale),
        "",
        f"Full sync before (not measured): {full['records']:,} records, {full['requests']} "
        f"requests, {full['seconds']:.1f} s.",
        "",
        "| measure | median | runs |",
        "|---|---:|---|",
        f"| requests (client counters) | {median([r['requests'] for r in runs]):.0f} | "
        f"{', '.join(str(r['requests']) for r in runs)} |",
        f"| requests (seen by the sandbox) | {median([r['requests_seen_by_server'] for r in runs]):.0f} | "
        f"{', '.join(str(r['requests_seen_by_server']) for r in runs)} |",
        f"| records re-read | {median([r['records'] for r in runs]):.0f} | "
        f"{', '.join(str(r['records']) for r in runs)} |",
        f"| seconds, `sync()` in a fresh process | {median(seconds):.2f} | "
        f"{', '.join(f'{s:.2f}' for s in seconds)} |",
        f"| seconds, `clio-sync run` (process start + models) | {median(cli):.2f} | "
        f"{', '.join(f'{s:.2f}' for s in cli)} |",
        "",
        "Expected requests: one per incremental endpoint (13) + one per extra bill state "
        "(deleted, void: 2) + the fully replaced endpoint, which has no `updated_since` and "
        f"is read whole every run: outstanding_client_balances, {runs[0]['replaced_records']:,} "
        f"records in {runs[0]['replaced_requests']} pages = "
        f"**{15 + runs[0]['replaced_requests']}**. Records re-read are that endpoint's "
        f"({runs[0]['replaced_records']:,}) plus any changed within the watermark's lag.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
