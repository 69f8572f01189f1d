"""Benchmark: many firms, `clio-sync run --all-firms --parallel 1` versus `--parallel 4`,
into DuckDB and into PostgreSQL, side by side in one run.

One sandbox process serves the generated firm under Clio-like rate limits, per token;
each of the `--firms` firm profiles gets its own fresh token (so its own rate budget, as
each firm's authorization has at Clio), token store and schema in one DuckDB file. Each
variant runs `clio-sync run --all-firms --parallel N` as a real process into a fresh
warehouse; measured: wall time, the peak RSS of the whole process tree (sampled every
0.2 s: the parent and the firms' processes together) and of its largest process, the CPU
time of all of them, the requests the sandbox answered (and 429s), and per firm its run
time and the time it held the writer lock (its loads, which take turns).

With `--destinations ... postgres` the bench starts a throwaway PostgreSQL server itself
(tests/postgres_server.py, the tests' own start/stop, imported, not copied); each
postgres variant runs `run --all-firms --destination postgres` into a fresh database of
it, and the server's own CPU time and peak RSS are measured too.

    .venv/bin/python bench/firms.py [--firms 10] [--scale small] [--parallel 1 4]
        [--destinations duckdb postgres] [--limit 50] [--window 2]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.sync_common import (
    CLIENT,
    REPO,
    LoadWatch,
    clear_server_counts,
    command_line,
    describe_firm,
    machine,
    mint_token,
    sandbox_process,
    server_counts,
    write_results,
)
from tests.postgres_server import PostgresServer, start_server, stop_server

FIRM_LINE = re.compile(r"firm (\w+) (\w+): (\d+) records, (\d+) requests, (\d+) retries, "
                       r"(\d+) 429s, ([\d.]+) s(?:, writer lock held ([\d.]+) s)?")


def firm_env(base: str, firms: int, folder: Path) -> dict[str, str]:
    """`FIRMS__F01__...` to `FIRMS__F<n>__...`: each firm a fresh token and its own store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "FIRMS__"))}
    for number in range(1, firms + 1):
        prefix = f"FIRMS__F{number:02d}__"
        token = mint_token(base)
        env.update({
            prefix + "BASE_URL": base,
            prefix + "TOKEN_STORE": str(folder / f"token-f{number:02d}.json"),
            prefix + "CREDENTIALS__CLIENT_ID": CLIENT["client_id"],
            prefix + "CREDENTIALS__CLIENT_SECRET": CLIENT["client_secret"],
            prefix + "CREDENTIALS__REFRESH_TOKEN": token["refresh_token"],
            prefix + "CREDENTIALS__ACCESS_TOKEN": token["access_token"],
        })
    env["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    return env


def _rss_by_pid() -> dict[int, tuple[int, int]]:
    """{pid: (parent pid, RSS in kB)} of every process (Linux /proc)."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as status:
                fields = dict(line.split(":", 1) for line in status if ":" in line)
            found[int(entry)] = (int(fields["PPid"]), int(fields.get("VmRSS", "0 kB").split()[0]))
        except (OSError, KeyError, ValueError):
            continue
    return found


def tree_rss_mb(root: int) -> tuple[float, float]:
    """(sum, largest) RSS in MB of `root` and all its descendants, now."""
    table = _rss_by_pid()
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, _) in table.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    sizes = [table[pid][1] for pid in tree if pid in table]
    return sum(sizes) / 1024, max(sizes, default=0) / 1024


@contextmanager
def postgres(wanted: bool) -> Iterator[PostgresServer | None]:
    """A throwaway PostgreSQL server for the postgres variants (None if none is wanted)."""
    if not wanted:
        yield None
        return
    server, _log = start_server()
    try:
        yield server
    finally:
        stop_server(server)


def postmaster_pid(server: PostgresServer) -> int:
    return int((server.data_dir / "postmaster.pid").read_text().splitlines()[0])


def process_cpu_s(pid: int) -> float:
    """utime + stime + cutime + cstime of `pid` (Linux /proc): the postmaster's own CPU and
    that of every backend it has reaped (one per connection, gone when it closes)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def server_tree_cpu_s(root: int) -> float:
    """CPU of the server: the postmaster (with its reaped backends) plus live children."""
    table = _rss_by_pid()
    children = [pid for pid, (ppid, _) in table.items() if ppid == root]
    total = process_cpu_s(root)
    for pid in children:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def run_variant(base: str, firms: int, parallel: int, destination: str,
                server: PostgresServer | None) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-firms-") as folder:
        env = firm_env(base, firms, Path(folder))
        clear_server_counts(base)
        db = Path(folder) / "warehouse.duckdb"
        cmd = [sys.executable, "-m", "pipelines", "--log-format", "plain", "run", "--all-firms",
               "--parallel", str(parallel), "--db", str(db), "--destination", destination]
        server_pid = None
        if destination == "postgres":
            assert server is not None
            env["DESTINATION__POSTGRES__CREDENTIALS"] = server.create_database(
                f"bench_p{parallel}")
            server_pid = postmaster_pid(server)
        server_cpu_before = server_tree_cpu_s(server_pid) if server_pid else 0.0
        peak = {"sum": 0.0, "largest": 0.0, "server": 0.0}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.2):
                total, largest = tree_rss_mb(proc.pid)
                peak["sum"] = max(peak["sum"], total)
                peak["largest"] = max(peak["largest"], largest)
                if server_pid:
                    peak["server"] = max(peak["server"], tree_rss_mb(server_pid)[0])

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, err = proc.communicate(timeout=3600)
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the firms' processes included
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        server_cpu = (server_tree_cpu_s(server_pid) - server_cpu_before) if server_pid else 0.0
        if proc.returncode != 0:
            raise RuntimeError(f"{destination} --parallel {parallel} failed:\n{err[-3000:]}")
        counts = server_counts(base)
    per_firm = [m.groups() for m in FIRM_LINE.finditer(err)]
    if len(per_firm) != firms or any(status != "ok" for _, status, *_ in per_firm):
        raise RuntimeError(f"not every firm reported ok:\n{err[-3000:]}")
    return {
        "destination": destination,
        "parallel": parallel,
        "wall": wall,
        "cpu": cpu,
        "server_cpu": server_cpu,
        "peak_server_mb": peak["server"],
        "peak_tree_mb": peak["sum"],
        "peak_largest_mb": peak["largest"],
        "requests_server": counts["requests"],
        "throttled_server": counts["429"],
        "records": sum(int(f[2]) for f in per_firm),
        "requests_client": sum(int(f[3]) for f in per_firm),
        "firm_seconds": [float(f[6]) for f in per_firm],
        "held_seconds": [float(f[7] or 0) for f in per_firm],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=10)
    parser.add_argument("--scale", choices=("small", "large"), default="small")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--parallel", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--destinations", nargs="+", choices=("duckdb", "postgres"),
                        default=["duckdb", "postgres"])
    parser.add_argument("--limit", type=int, default=50, help="requests per window per token")
    parser.add_argument("--window", type=float, default=2.0, help="seconds")
    args = parser.parse_args()

    watch = LoadWatch()
    with (postgres("postgres" in args.destinations) as server,
          sandbox_process(args.scale, args.seed, rate_limit=args.limit,
                          window=args.window) as (base, built)):
        results = [run_variant(base, args.firms, n, destination, server)
                   for destination in args.destinations for n in args.parallel]
    load = watch.stop()
    text = render(args, built, results, load)
    path = write_results("firms", "large", text)  # one file, whatever the scale
    print(text)
    print(f"wrote {path}")


def render(args: argparse.Namespace, built: str, results: list[dict], load: str) -> str:
    first = {r["destination"]: r for r in reversed(results)}  # each destination's first
    server = any(r["destination"] == "postgres" for r in results)

    def speed_up(r: dict) -> str:
        return f"{first[r['destination']]['wall'] / r['wall']:.2f}x"

    rows = [
        ("wall time, s", [f"{r['wall']:.1f}" for r in results]),
        ("speed-up over `--parallel "
         f"{args.parallel[0]}` (same destination)", [speed_up(r) for r in results]),
        ("CPU, `clio-sync` processes (user + system), s", [f"{r['cpu']:.1f}" for r in results]),
        ("CPU per firm, s", [f"{r['cpu'] / args.firms:.1f}" for r in results]),
    ]
    if server:
        rows += [
            ("CPU, PostgreSQL server, s", [f"{r['server_cpu']:.1f}" if r["destination"]
                                           == "postgres" else "-" for r in results]),
            ("peak RSS, PostgreSQL server, MB", [f"{r['peak_server_mb']:.0f}" if
                                                 r["destination"] == "postgres" else "-"
                                                 for r in results]),
        ]
    rows += [
        ("peak RSS, `clio-sync` process tree, MB", [f"{r['peak_tree_mb']:.0f}" for r in results]),
        ("peak RSS, largest process, MB", [f"{r['peak_largest_mb']:.0f}" for r in results]),
        ("requests (sandbox / client)", [f"{r['requests_server']} / {r['requests_client']}"
                                         for r in results]),
        ("429s answered", [str(r["throttled_server"]) for r in results]),
        ("records", [f"{r['records']:,}" for r in results]),
        ("per firm: run time, median s", [f"{statistics.median(r['firm_seconds']):.1f}"
                                          for r in results]),
        ("per firm: writer lock held, median s", [f"{statistics.median(r['held_seconds']):.2f}"
                                                  for r in results]),
        ("all firms: writer lock held, total s", [f"{sum(r['held_seconds']):.1f}"
                                                  for r in results]),
    ]
    header = "| | " + " | ".join(f"{r['destination']}, `--parallel {r['parallel']}`"
                                 for r in results) + " |"
    lines = [
        f"# {args.firms} firms: `run --all-firms --parallel "
        + "` vs `".join(str(n) for n in args.parallel) + "`, into "
        + " and ".join(args.destinations),
        "",
        f"Command: `{command_line()}`  ",
        f"Machine: {machine()}; one sandbox process serving every firm, rate limit "
        f"{args.limit} requests per {args.window:g} s window per token (each firm its own "
        "fresh token, so its own budget, as at Clio); every duckdb variant a fresh DuckDB file, "
        "every postgres variant a fresh database on one throwaway PostgreSQL server on the same "
        "machine (fsync off, as the tests run it); one schema per firm.  ",
        load,
        "",
        describe_firm(args.scale, args.seed, built) + f" Each of the {args.firms} firm "
        "profiles syncs that firm in full.",
        "",
        header,
        "|---|" + "---:|" * len(results),
        *(f"| {name} | " + " | ".join(values) + " |" for name, values in rows),
        "",
        "- wall time: the `clio-sync run --all-firms` process, start to exit (Python and dlt "
        "start-up of every firm's process, reading Clio under its rate limit, loading, "
        "building each firm's models, the cross-firm views (DuckDB) and the read snapshot).",
        "- CPU: user + system time of the `clio-sync` process and every firm's process (the "
        "sandbox's own CPU is not in it); unlike wall time, it hardly depends on how busy the "
        "shared machine was. The PostgreSQL server's CPU (postmaster and every backend, from "
        "/proc) is its own row: with DuckDB that work is inside the firms' processes.",
        "- peak RSS of the tree: the sum over the parent and the firms' processes, sampled "
        "every 0.2 s; the largest process is one firm's run. The server's RSS is the sum over "
        "its processes (shared buffers counted in each that touched them, so an upper bound).",
        "- writer lock held: the time a firm's process held the writer lock (the file beside "
        "`--db`: its watermark read, load, settle, models and run record); firms take turns "
        "for it, so its total is the serial part of a run of many firms.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
