"""Benchmark: does a full sync's cost grow linearly with the firm, and its memory not at all?

clio-sync's full sync (`pipelines.clio.sync.sync`, what `clio-sync run --full-refresh`
does minus the SQL models, the `clio-sync` variant of `bench/sync_full.py`) of the
sandbox's generated `large` firm and of `xlarge`, ten times its size, in one invocation.
Each firm is served by its own sandbox process, one after the other (never both in memory
at once); each run is a fresh worker process with a fresh token and DuckDB file. The
results give, per firm, records/s, client CPU per record and the client's peak RSS, and
the ratios xlarge / large: records/s and CPU per record near 1 mean the cost is linear;
peak RSS near 1 means memory stays flat as the firm grows. The sandbox's own build time
and peak RSS are reported too (it holds the whole firm in memory, the client does not).

Goal (issue 12, item 2): records/s xlarge / large ~ 1, peak RSS xlarge / large ~ 1.

    .venv/bin/python bench/sync_scaling.py [--scales large,xlarge] [--runs 3,1] [--seed 7]
                                           [--before COMMIT]

`--before COMMIT` also runs clio-sync as of COMMIT (its own `bench/sync_full.py` worker and
`pipelines`, `bench/revisions.py`) against the same sandbox, each of its runs just before
this checkout's: one build of each firm serves both, and each firm's rows say both.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.revisions import checkout
from bench.sync_common import (
    LoadWatch,
    clear_server_counts,
    command_line,
    machine,
    median,
    run_worker,
    sandbox_env,
    sandbox_server,
    server_counts,
    write_results,
)

SYNC_FULL = Path(__file__).resolve().parent / "sync_full.py"  # its `clio-sync` worker


def measure(scale: str, seed: int, runs: int, before: Path | None = None) -> list[dict]:
    """Serve `scale`'s firm and time `runs` full syncs of it, each in a fresh worker (and
    as many of the `before` checkout's, each just before)."""
    variants = ([("before", before)] if before is not None else []) + [("clio-sync", None)]
    results: dict[str, list[dict]] = {name: [] for name, _ in variants}
    with sandbox_server(scale, seed) as server, tempfile.TemporaryDirectory() as tmp:
        print(server.built, flush=True)
        for i in range(runs):
            for name, code in variants:
                folder = Path(tmp) / f"{scale}-{name}-{i}"
                folder.mkdir()
                env = sandbox_env(server.base, folder / "token.json")
                script = SYNC_FULL
                if code is not None:  # the old checkout's own worker and package
                    script = code / "bench" / "sync_full.py"
                    env["PYTHONPATH"] = os.pathsep.join([str(code), env.get("PYTHONPATH", "")])
                clear_server_counts(server.base)
                result = run_worker(script, ["--variant", "clio-sync", "--db",
                                             str(folder / "bench.duckdb")], env)
                result["requests"] = server_counts(server.base)["requests"]
                results[name].append(result)
                print(f"{scale} {name} #{i + 1}: {result}", flush=True)
                shutil.rmtree(folder)
        server_rss = server.peak_rss_mb()
    return [_summary(scale if name == "clio-sync" else f"{scale} (before)", server.built,
                     server_rss, found) for name, found in results.items()]


def _summary(scale: str, built: str, server_rss: float, results: list[dict]) -> dict:
    seconds = median([r["seconds"] for r in results])
    records = results[0]["records"]
    cpu = median([r["cpu_seconds"] for r in results])
    return {
        "scale": scale, "runs": results, "built": built, "server_rss": server_rss,
        "seconds": seconds, "records": records, "rate": records / seconds,
        "rows": results[0]["rows"], "requests": results[0]["requests"],
        "cpu": cpu, "cpu_us": cpu / records * 1e6,
        "rss": median([r["peak_rss_mb"] for r in results]),
        "rss_worst": max(r["peak_rss_mb"] for r in results),
    }


def render(command: str, rows: list[dict], load: str) -> str:
    lines = [
        "# Full sync as the firm grows: `large` and ten times `large`",
        "",
        f"Command: `{command}`  ",
        f"Machine: {machine()}; each firm served by its own sandbox process, one after the "
        "other; each run in a fresh worker process (the `clio-sync` variant of "
        "`bench/sync_full.py`) with a fresh token and DuckDB file; rate limiting off.  ",
        load,
        "",
        "| firm | runs | median s | records | records/s | client CPU s | CPU us/record "
        "| rows in DuckDB | requests | median peak RSS MB | worst peak RSS MB "
        "| sandbox peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['scale']} | {len(r['runs'])} | {r['seconds']:.1f} | {r['records']:,} | "
            f"{r['rate']:,.0f} | {r['cpu']:.1f} | {r['cpu_us']:.1f} | {r['rows']:,} | "
            f"{r['requests']:,} | {r['rss']:.0f} | {r['rss_worst']:.0f} | {r['server_rss']:,.0f} |")
    lines.append("")
    ours = [r for r in rows if not r["scale"].endswith("(before)")]
    before = [r for r in rows if r["scale"].endswith("(before)")]
    for variant in (before, ours):
        if len(variant) < 2:
            continue
        small, big = variant[0], variant[-1]
        size = big["records"] / small["records"]
        lines += [
            f"- firm size {big['scale']} / {small['scale']}: **{size:.2f}x** records",
            f"- records/s {big['scale']} / {small['scale']}: **{big['rate'] / small['rate']:.2f}** "
            "(goal ~1: time grows linearly with the firm)",
            f"- client CPU per record {big['scale']} / {small['scale']}: "
            f"**{big['cpu_us'] / small['cpu_us']:.2f}** (goal ~1)",
            f"- peak RSS {big['scale']} / {small['scale']}: **{big['rss'] / small['rss']:.2f}** "
            f"({small['rss']:.0f} MB -> {big['rss']:.0f} MB; goal ~1: memory does not grow "
            "with the firm)",
        ]
    for old, new in zip(before, ours, strict=False):
        lines.append(f"- {new['scale']}, this checkout / before: peak RSS "
                     f"**{new['rss'] / old['rss']:.2f}** ({old['rss']:.0f} -> {new['rss']:.0f} MB), "
                     f"records/s **{new['rate'] / old['rate']:.2f}**")
    lines += [
        "- Servers: " + "; ".join(f"\"{built}\"" for built in dict.fromkeys(r["built"] for r in rows)) + ".",
        "- client CPU s: user + system CPU of the whole worker process (imports included, "
        "all threads), median; the sandbox's CPU is not in it. Sandbox peak RSS: the server "
        "process's VmHWM (it holds the whole generated firm in memory, as Python objects).",
        "",
        "All runs (seconds): " + "; ".join(
            f"{r['scale']}: " + ", ".join(f"{x['seconds']:.1f}" for x in r["runs"]) for r in rows)
        + "  ",
        "All runs (peak RSS MB): " + "; ".join(
            f"{r['scale']}: " + ", ".join(f"{x['peak_rss_mb']:.0f}" for x in r["runs"])
            for r in rows),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="large,xlarge",
                        help="comma-separated sandbox scales, smallest first")
    parser.add_argument("--runs", default="3,1",
                        help="runs per scale, in the order of --scales (default 3,1: one "
                        "run of the 10x firm, which takes minutes)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--before", metavar="COMMIT",
                        help="also run clio-sync as of COMMIT, each run just before this one's")
    args = parser.parse_args()
    scales = args.scales.split(",")
    runs = [int(n) for n in args.runs.split(",")]
    if len(runs) != len(scales):
        parser.error("--runs needs one number per scale in --scales")
    load = LoadWatch()
    with tempfile.TemporaryDirectory() as tmp:
        code = checkout(args.before, Path(tmp) / "before") if args.before else None
        rows = [row for scale, n in zip(scales, runs, strict=True)
                for row in measure(scale, args.seed, n, code)]
    text = render(command_line(), rows, load.stop())
    path = write_results("sync_scaling", "large", text)
    print(text)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
