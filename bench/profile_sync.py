"""Where a full sync's client CPU goes: imports, paging, and each of dlt's steps.

Not a benchmark (no variants, no ratios): a profile of one full sync of the sandbox's
generated firm, run the way `bench/sync_full.py` runs its clio-sync variant (a fresh
worker process, a fresh token and DuckDB file, `sync(..., full_refresh=True)`, or with
`--first-run` a first run, which merges). It prints:

- the worker's CPU (user + system, all threads) before the sync (interpreter and imports),
  during it, and the main thread's own share (the rest is the read-ahead thread paging);
- wall and main-thread CPU of dlt's extract, normalize and load (`load.run_pipeline`'s
  debug line), and of settling (purging tombstones, moving the watermarks);
- with `--cprofile`, the main thread's top functions by own time and by cumulative time
  (cProfile slows Python code down, so its seconds are shares, not the sync's speed);
- with `--memory`, where the peak RSS comes from: RSS sampled every 20 ms, its highest
  value per phase (each dlt run's extract, normalize, and each load job: a table's copy,
  its merge or swap; the direct full refresh's staging copy of each table, and its swap),
  the ten highest phases listed. The staging runs beside the paging, on another thread:
  its label is where the sampled peak fell, not what alone used it.

    .venv/bin/python bench/profile_sync.py [--scale large] [--seed 7] [--before COMMIT]
                                           [--cprofile] [--top 40] [--save PATH]
                                           [--memory] [--base URL] [--first-run]

`--before COMMIT` first profiles that revision's `pipelines` package (from `git archive`)
against the same sandbox, then this checkout's: one run each, so a machine that is not
idle sways the seconds; the CPU seconds are the steadier numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.revisions import checkout
from bench.sync_common import add_firm_arguments, sandbox_env, sandbox_process


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _Lines(logging.Handler):
    """Keeps the debug lines of `load.run_pipeline` (one per dlt run)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


class _PhasePeaks:
    """The highest RSS seen during each phase of the sync, sampled by a thread."""

    EVERY = 0.02

    def __init__(self) -> None:
        import threading

        self.phase = "start"
        self.peaks: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> _PhasePeaks:
        self._hook()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        status = Path("/proc/self/status")
        while not self._stop.wait(self.EVERY):
            for line in status.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    kb = int(line.split()[1])
                    if kb > self.peaks.get(self.phase, 0):
                        self.peaks[self.phase] = kb

    def _hook(self) -> None:
        import dlt
        from dlt.common.destination.client import RunnableLoadJob

        runs = [0]
        for step in ("extract", "normalize", "load"):
            original = getattr(dlt.Pipeline, step)

            def labelled(pipeline: object, *args: object, _step: str = step,
                         _original: object = original, **kwargs: object) -> object:
                if _step == "extract":
                    runs[0] += 1
                self.phase = f"run {runs[0]} {_step}"
                try:
                    return _original(pipeline, *args, **kwargs)  # type: ignore[operator]
                finally:
                    self.phase = f"run {runs[0]} after {_step}"

            setattr(dlt.Pipeline, step, labelled)
        run_managed = RunnableLoadJob.run_managed

        def job(runnable: RunnableLoadJob, *args: object, **kwargs: object) -> object:
            before = self.phase
            self.phase = f"run {runs[0]} load job {runnable.job_id()}"
            try:
                return run_managed(runnable, *args, **kwargs)  # type: ignore[arg-type]
            finally:
                self.phase = before

        RunnableLoadJob.run_managed = job  # type: ignore[method-assign]
        self._hook_direct_replace()

    def _hook_direct_replace(self) -> None:
        """Label the direct full refresh's steps: each table's staging copy, each swap."""
        from pipelines.clio import direct_replace

        stage, swap = direct_replace._stage, direct_replace._swap

        def staging(con: object, dataset: str, table: str, file: object) -> None:
            before = self.phase
            self.phase = f"direct replace: stage {table}"
            try:
                stage(con, dataset, table, file)  # type: ignore[arg-type]
            finally:
                self.phase = before

        def swapping(con: object, dataset: str, table: str) -> None:
            self.phase = "direct replace: swap"
            swap(con, dataset, table)  # type: ignore[arg-type]

        direct_replace._stage = staging  # type: ignore[assignment]
        direct_replace._swap = swapping  # type: ignore[assignment]

    def top(self, count: int = 10) -> list[str]:
        """The highest phases, then each dlt run's steps (its load jobs in its load)."""
        ranked = sorted(self.peaks.items(), key=lambda item: -item[1])[:count]
        steps: dict[str, int] = {}
        for phase, kb in self.peaks.items():
            run, job, _ = phase.partition(" load job ")
            step = f"{run} load" if job else phase
            steps[step] = max(kb, steps.get(step, 0))
        return ([f"{kb / 1024:.0f} MB  {phase}" for phase, kb in ranked]
                + [f"{kb / 1024:.0f} MB  step: {step}" for step, kb in steps.items()])


def worker(db: Path, profile_to: Path | None, memory: bool = False,
           full_refresh: bool = True) -> dict:
    at_start = _cpu()
    from pipelines.clio import load
    from pipelines.clio.config import load_settings
    from pipelines.clio.sync import sync

    imported = _cpu()
    steps = _Lines()
    logger = logging.getLogger(load.__name__)
    logger.addHandler(steps)
    logger.setLevel(logging.DEBUG)
    settled: list[float] = []
    settle = load.settle

    def timed_settle(*args: object, **kwargs: object) -> object:
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            return settle(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            settled.append(round(time.perf_counter() - wall, 2))
            settled.append(round(time.thread_time() - cpu, 2))

    import pipelines.clio.source as source_module
    import pipelines.clio.sync as sync_module

    sync_module.settle = timed_settle  # type: ignore[assignment]
    typing_cpu = [0.0]
    flush = source_module._Batch.flush  # the main thread's typing: declined pages, dlt's columns

    def timed_flush(self: object) -> Iterator[object]:
        items = flush(self)  # type: ignore[arg-type]
        while True:
            cpu = time.thread_time()
            try:
                item = next(items)
            except StopIteration:
                return
            finally:
                typing_cpu[0] += time.thread_time() - cpu
            yield item

    source_module._Batch.flush = timed_flush  # type: ignore[method-assign,assignment]
    profiler = None
    if profile_to is not None:
        import cProfile

        profiler = cProfile.Profile()
    wall, main_cpu, process_cpu = time.perf_counter(), time.thread_time(), _cpu()
    peaks = _PhasePeaks() if memory else None
    if profiler is not None:
        profiler.enable()
    with peaks if peaks is not None else contextlib.nullcontext():
        summary = sync(db, load_settings(), full_refresh=full_refresh)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(str(profile_to))
    return {
        "records": summary.records,
        "sync_wall_s": round(time.perf_counter() - wall, 2),
        "startup_cpu_s": round(at_start, 2),
        "import_cpu_s": round(imported - at_start, 2),
        "sync_cpu_s": round(_cpu() - process_cpu, 2),
        "sync_main_thread_cpu_s": round(time.thread_time() - main_cpu, 2),
        "main-thread typing cpu_s (declined pages, dlt columns)": round(typing_cpu[0], 2),
        "total_cpu_s": round(_cpu(), 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "steps": steps.lines,
        "settle_wall_cpu_s": settled,
        "peak_rss_by_phase": peaks.top() if peaks is not None else [],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--profile-to", help=argparse.SUPPRESS)
    add_firm_arguments(parser)
    parser.add_argument("--cprofile", action="store_true",
                        help="profile the main thread with cProfile (slower; shares only)")
    parser.add_argument("--top", type=int, default=40, help="functions listed per ordering")
    parser.add_argument("--save", metavar="PATH", help="keep the cProfile stats in PATH")
    parser.add_argument("--before", metavar="COMMIT",
                        help="first profile the pipelines package as of COMMIT, the same way")
    parser.add_argument("--memory", action="store_true",
                        help="sample the RSS: its peak per phase (extract, normalize, load job)")
    parser.add_argument("--base", metavar="URL",
                        help="profile against this running sandbox instead of serving one")
    parser.add_argument("--first-run", action="store_true",
                        help="a first run (merged) instead of a full refresh (replaced)")
    parser.add_argument("--code", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        if args.code:
            sys.path.insert(0, args.code)  # another revision's `pipelines` wins
        result = worker(Path(args.db), Path(args.profile_to) if args.profile_to else None,
                        args.memory, not args.first_run)
        print(json.dumps(result), flush=True)
        return

    served = (contextlib.nullcontext((args.base, f"the sandbox at {args.base}")) if args.base
              else sandbox_process(args.scale, args.seed))
    with served as (base, built), tempfile.TemporaryDirectory() as tmp:
        print(built, flush=True)
        revisions: list[tuple[str, Path | None]] = [("this checkout", None)]
        if args.before:
            revisions.insert(0, (args.before, checkout(args.before, Path(tmp) / "before")))
        for name, code in revisions:
            print(f"\n# {name}", flush=True)
            profile(args, base, Path(tmp) / name.replace(" ", "-"), code)


def profile(args: argparse.Namespace, base: str, folder: Path, code: Path | None) -> None:
    folder.mkdir()
    stats = folder / "sync.prof"
    if args.save:  # the other revision's beside this one's
        stats = Path(args.save + (".before" if code is not None else "")).resolve()
    cmd = [sys.executable, __file__, "--worker", "--db", str(folder / "bench.duckdb")]
    if code is not None:
        cmd += ["--code", str(code)]
    if args.cprofile:
        cmd += ["--profile-to", str(stats)]
    if args.memory:
        cmd += ["--memory"]
    if args.first_run:
        cmd += ["--first-run"]
    done = subprocess.run(cmd, env=sandbox_env(base, folder / "token.json"),
                          capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        failed_jobs = [line for line in done.stderr.splitlines() if "exception in job" in line]
        raise SystemExit(f"the worker failed:\n{done.stderr[-3000:]}\n" + "\n".join(failed_jobs))
    result = json.loads(done.stdout.strip().splitlines()[-1])
    for step in result.pop("steps"):
        print("dlt run:", step)
    for line in result.pop("peak_rss_by_phase"):
        print("peak RSS:", line)
    for key, value in result.items():
        print(f"{key}: {value}")
    if args.cprofile:
        import pstats

        for order in ("tottime", "cumulative"):
            print(f"\n== main thread, top {args.top} by {order} ==")
            pstats.Stats(str(stats)).sort_stats(order).print_stats(args.top)


if __name__ == "__main__":
    main()
