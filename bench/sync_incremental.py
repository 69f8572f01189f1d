"""Benchmark (c): an incremental run when nothing changed at Clio, beside a full sync.

One full sync of the sandbox's generated firm, then repeated incremental runs with no
change at Clio. A no-change run should cost one request per incremental endpoint, one per
extra bill state and the pages of the fully replaced endpoint (it has no
`updated_since`), and take little time; the ratios to the full sync show what a
scheduled run saves. Measured in-process (`sync()` in a fresh process) and as the real
command (`clio-sync run`, which also starts Python and rebuilds the SQL models).

    .venv/bin/python bench/sync_incremental.py [--scale large|small] [--seed 7] [--repeat 5]
        [--before REF]

With `--before REF`, git revision REF's code runs the same steps on its own DuckDB file,
round by round with this checkout's, against the same sandbox: the ratios are from one run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
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

# no `updated_since`: read whole every run
REPLACED = ("outstanding_client_balances", "billable_matters")


def worker(db: Path, mode: str) -> dict:
    from pipelines.clio.config import load_settings
    from pipelines.clio.sync import sync

    started = time.perf_counter()
    summary = sync(db, load_settings(), full_refresh=mode == "full")
    replaced = [summary.resources[name] for name in REPLACED]
    return {"seconds": time.perf_counter() - started, "requests": summary.requests,
            "records": summary.records,
            "replaced_requests": sum(r.requests for r in replaced),
            "replaced_records": sum(r.records for r in replaced)}


def cli_run(db: Path, env: dict[str, str], root: Path = REPO) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pipelines", "run", "--db", str(db), "--quiet"],
                   cwd=root, env={**env, "PYTHONPATH": str(root)}, check=True)
    return time.perf_counter() - started


class Variant:
    """One version of the code, with its own DuckDB file and its measurements."""

    def __init__(self, name: str, root: Path, db: Path) -> None:
        self.name, self.root, self.db = name, root, db
        self.full: dict = {}
        self.runs: list[dict] = []
        self.cli: list[float] = []

    def sync(self, base: str, env: dict[str, str], mode: str) -> dict:
        clear_server_counts(base)
        result = run_worker(self.root / "bench" / "sync_incremental.py",
                            ["--db", str(self.db), "--mode", mode],
                            {**env, "PYTHONPATH": str(self.root)})
        result["requests_seen_by_server"] = server_counts(base)["requests"]
        print(f"{self.name}, {mode}: {result}", flush=True)
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=("full", "incremental"), help=argparse.SUPPRESS)
    add_firm_arguments(parser)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--before", metavar="REF",
                        help="also run git revision REF's code, round by round")
    args = parser.parse_args()
    if args.worker:
        report(worker(Path(args.db), args.mode))
        return
    load = LoadWatch()
    with sandbox_process(args.scale, args.seed) as (base, built), \
            tempfile.TemporaryDirectory() as tmp:
        print(built, flush=True)
        env = sandbox_env(base, Path(tmp) / "token.json")
        variants = [Variant("this checkout", REPO, Path(tmp) / "bench.duckdb")]
        if args.before:
            old = checkout(args.before, Path(tmp) / "before")
            variants.insert(0, Variant(f"before ({args.before})", old, Path(tmp) / "old.duckdb"))
        for variant in variants:
            variant.full = variant.sync(base, env, "full")
        for _ in range(args.repeat):
            for variant in variants:
                variant.runs.append(variant.sync(base, env, "incremental"))
        for _ in range(args.repeat):
            for variant in variants:
                variant.cli.append(cli_run(variant.db, env, variant.root))
    text = render(args, built, variants[-1], load.stop())
    if args.before:
        text += compare(variants)
    write_results("sync_incremental", args.scale, text)


def compare(variants: list[Variant]) -> str:
    """The two versions side by side (medians; before first)."""
    before, this = variants

    def row(name: str, pick: Callable[[Variant], float], fmt: str = "{:.2f}") -> str:
        old, new = pick(before), pick(this)
        return f"| {name} | {fmt.format(old)} | {fmt.format(new)} | {new / old:.2f} |"

    return "\n".join([
        "", f"## This checkout beside {before.name}", "",
        "Round by round in this invocation, each on its own DuckDB file, against the same "
        "sandbox (medians).", "",
        f"| | {before.name} | this checkout | ratio |",
        "|---|---:|---:|---:|",
        row("full sync s (one run)", lambda v: v.full["seconds"]),
        row("no-change `sync()` s", lambda v: median([r["seconds"] for r in v.runs])),
        row("no-change `clio-sync run` s", lambda v: median(v.cli)),
        row("no-change requests (server)",
            lambda v: median([r["requests_seen_by_server"] for r in v.runs]), "{:.0f}"),
        row("peak RSS MB of the full sync", lambda v: v.full["peak_rss_mb"], "{:.0f}"),
        "",
    ])


def expected_requests(replaced_pages: int) -> tuple[int, str]:
    """What a no-change run should cost, from the catalog, and how that adds up."""
    from pipelines.clio.endpoints import ENDPOINTS

    walks = sum(len(e.walks) for e in ENDPOINTS if e.incremental)
    return walks + replaced_pages, (
        f"one per walk of an incremental endpoint ({walks}: the plain index, extra state "
        f"filters, each value of a required filter) + the pages of the replaced endpoints "
        f"({replaced_pages}) = {walks + replaced_pages}")


def render(args: argparse.Namespace, built: str, variant: Variant, load: str) -> str:
    full, runs, cli = variant.full, variant.runs, variant.cli
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
        "`clio-sync run`s, all on the same DuckDB file (one per version with `--before`).  ",
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
        f"- records re-read are those of {' and '.join(f'`{n}`' for n in REPLACED)} "
        f"({runs[0]['replaced_records']:,}) plus those "
        "stamped within the watermark's one-minute lag before the firm's clock: the generated "
        "firm stamps its latest changes 30 s before its `now`, and its clock stands still "
        "between runs, so every run re-reads them (merged on `id`, harmless; at Clio the "
        "clock moves on and they fall out after one run).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
