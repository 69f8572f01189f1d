"""The load step alone: the same normalized package of a full sync loaded into DuckDB,
as of d9dab2a (192 MB limit, the file reopened per job) and now (64 MB, held open).

A full sync's load step is timed on its own, without the paging that sways a whole sync
on a busy machine: a full refresh of the sandbox's firm is extracted and normalized once
(not timed), then each variant loads a copy of that package in a fresh process, several
rounds, interleaved. Both variants run this checkout's `load.make_pipeline` and dlt's
`load`; what differs is what #12.2 changed: `CLIO_SYNC_DUCKDB_MEMORY_LIMIT` and whether
the warehouse is held open (d9dab2a held it only below 32 MB of files, which a large
firm's full sync exceeds).

    .venv/bin/python bench/profile_load.py [--scale large] [--seed 7] [--repeat 5]
                                           [--limits 64MB,32MB,24MB]

`--limits` compares DuckDB memory limits instead, each with the warehouse held open (how
`load.STREAMING_MEMORY_LIMIT`, a full refresh's, was chosen).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sync_common import (
    LoadWatch,
    add_firm_arguments,
    command_line,
    machine,
    sandbox_env,
    sandbox_process,
    write_results,
)

VARIANTS = {  # name: (DuckDB memory limit, held open)
    "d9dab2a: 192 MB, reopened per job": ("192MB", False),
    "now: 64 MB, held open": ("64MB", True),
}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _db(folder: Path) -> Path:
    return folder / "data" / "clio_sync.duckdb"


def prepare_worker(folder: Path) -> None:
    """Extract and normalize a full refresh of the firm; leave the package unloaded."""
    from pipelines.clio.client import ClioClient
    from pipelines.clio.config import load_settings
    from pipelines.clio.load import make_pipeline
    from pipelines.clio.source import WalkOptions, clio_source
    from pipelines.clio.watermarks import Watermarks

    _db(folder).parent.mkdir(parents=True)
    pipeline = make_pipeline(_db(folder))
    with ClioClient(load_settings()) as client:
        pipeline.extract(clio_source(client=client, options=WalkOptions(mode="replace"),
                                     marks=Watermarks(start={})))
    pipeline.normalize()


def load_worker(folder: Path, held: bool) -> dict:
    from pipelines.clio import load

    pipeline = load.make_pipeline(_db(folder))
    cpu, wall = _cpu(), time.perf_counter()
    with load.held_open(pipeline) if held else nullcontext():
        pipeline.load(workers=load.LOAD_WORKERS)
    return {"cpu_s": round(_cpu() - cpu, 2), "wall_s": round(time.perf_counter() - wall, 2),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, __file__, *args], env=env, capture_output=True,
                          text=True, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"worker {args} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prepare", help=argparse.SUPPRESS)
    parser.add_argument("--load", help=argparse.SUPPRESS)
    parser.add_argument("--held", action="store_true", help=argparse.SUPPRESS)
    add_firm_arguments(parser)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--limits", help="comma-separated DuckDB memory limits to compare, "
                        "each held open (default: the two variants above)")
    args = parser.parse_args()
    if args.prepare:
        prepare_worker(Path(args.prepare))
        return
    if args.load:
        print(json.dumps(load_worker(Path(args.load), args.held)), flush=True)
        return

    variants = ({f"{limit}, held open": (limit, True) for limit in args.limits.split(",")}
                if args.limits else VARIANTS)
    runs: dict[str, list[dict]] = {name: [] for name in variants}
    with tempfile.TemporaryDirectory() as tmp:
        template = Path(tmp) / "template"
        with sandbox_process(args.scale, args.seed) as (base, built):
            print(built, flush=True)
            _run(["--prepare", str(template)], sandbox_env(base, Path(tmp) / "token.json"))
        load = LoadWatch()
        for i in range(args.repeat):
            for name, (limit, held) in variants.items():  # interleaved
                copy = Path(tmp) / f"run-{i}-{limit}-{held}"
                shutil.copytree(template, copy)
                env = {**os.environ, "CLIO_SYNC_DUCKDB_MEMORY_LIMIT": limit}
                out = _run(["--load", str(copy)] + (["--held"] if held else []), env)
                runs[name].append(json.loads(out.strip().splitlines()[-1]))
                print(f"{name} #{i + 1}: {runs[name][-1]}", flush=True)
                shutil.rmtree(copy)
        watched = load.stop()
    lines = [
        f"# The load step of a full sync of the `{args.scale}` sandbox, alone", "",
        f"Command: `{command_line()}`  ",
        f"Machine: {machine()}; each load in a fresh process, variants interleaved.  ",
        watched, "", f"Firm: \"{built}\"", "",
        "| variant | median CPU s | median wall s | median peak RSS MB (whole process) |",
        "|---|---:|---:|---:|",
    ]
    for name, rs in runs.items():
        med = {key: statistics.median(r[key] for r in rs) for key in rs[0]}
        lines.append(f"| {name} | {med['cpu_s']:.2f} | {med['wall_s']:.2f} | {med['peak_rss_mb']:.0f} |")
    lines += ["", "All runs: " + "; ".join(f"{name}: {rs}" for name, rs in runs.items())]
    print(f"written to {write_results('profile_load', args.scale, chr(10).join(lines) + chr(10))}")


if __name__ == "__main__":
    main()
