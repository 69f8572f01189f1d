"""Receiver throughput and ack latency on loopback.

Starts `clio-sync webhooks serve` as a real process with a fresh inbox, registers one
webhook, and sends signed deliveries (distinct records, so none is a duplicate) with a
raw-socket load generator (`webhook_sender.py`: the sandbox deliverer's exact bytes,
serialised and signed before the clock starts) in two modes:

- closed loop: C concurrent senders, as fast as the receiver answers (max throughput);
- open loop: a fixed offered rate (default 1,000/s) for a few seconds (ack latency at
  the goal's load; latency counts from each request's scheduled send time, so queueing
  in the generator is not hidden).

Variants run round by round, interleaved, each against a fresh receiver: this checkout;
with `--before COMMIT`, that commit's `pipelines` package too; with `--compare-path DIR`,
each of those again with DIR on the receiver's PYTHONPATH (httptools + uvloop).

Goals: issue 5, >= 1,000 events/s accepted with p99 ack < 50 ms; issue 12, p99 ack
under 10 ms at 2,000 deliveries/s offered (`--rate 2000`).

    .venv/bin/python bench/webhooks_receiver.py --rate 2000 --before main --compare-path DIR
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import webhook_sender as sender
from revisions import checkout

from pipelines.webhooks import inbox, registry, store

REPO = Path(__file__).resolve().parents[1]
SECRET = "bench-secret"
RESULTS = REPO / "bench" / "results" / "webhooks.md"
POOL = 64  # keep-alive connections, as a reverse proxy in front would hold them


@dataclass(frozen=True)
class Variant:
    name: str
    code: Path  # the folder whose `pipelines` package the receiver runs
    extra_path: str | None  # e.g. httptools + uvloop, which uvicorn picks up when importable


def start_receiver(inbox_file: Path, variant: Variant) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ)
    # `python -m` puts the working folder first on sys.path: its `pipelines` wins
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(variant.code), variant.extra_path,
                                                      env.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines", "-q", "webhooks", "serve", "--port", str(port),
         "--inbox", str(inbox_file)], cwd=variant.code, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            return proc, base
        except httpx.TransportError:
            time.sleep(0.05)
    raise SystemExit("receiver did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bodies(count: int, start: int) -> list[bytes]:
    record = {"etag": '"e"', "updated_at": "2026-11-20T09:15:02-05:00", "name": "x" * 400}
    return [json.dumps({"data": {**record, "id": start + i},
                        "meta": {"event": "updated", "webhook_id": 1}}).encode()
            for i in range(count)]


async def measured(pid: int, name: str, run: Awaitable[list[float]], count: int) -> dict:
    """Run one mode; add the receiver's and the generator's CPU per delivery."""
    cpu, own = cpu_seconds(pid), time.process_time()
    started = time.perf_counter()
    latencies = await run
    row = summarize(name, latencies, time.perf_counter() - started)
    row["cpu_us"] = (cpu_seconds(pid) - cpu) / count * 1e6
    row["sender_us"] = (time.process_time() - own) / count * 1e6
    return row


async def one_round(url: str, pid: int, events: int, rate: float, seconds: float,
                    offset: int) -> list[dict]:
    """Warm up (opens the keep-alive connections a proxy in front would hold), then each mode."""
    plans = [(f"closed loop, {concurrency} senders", concurrency,
              bodies(events, offset + 10_000 * (i + 1))) for i, concurrency in enumerate((1, 16, 64))]
    plans.append((f"open loop, offered {rate:.0f}/s", 0, bodies(int(rate * seconds),
                                                               offset + 100_000)))
    prepared = [(name, c, sender.requests(url, payloads, SECRET)) for name, c, payloads in plans]
    pool = sender.Pool(*sender.host_port(url), POOL)
    try:
        await pool.fill()
        await sender.closed_loop(pool, sender.requests(url, bodies(500, offset), SECRET), 32)
        rows = []
        for name, concurrency, requests in prepared:
            await pool.fill()  # the receiver may have closed idle ones (keep-alive timeout)
            run = (sender.closed_loop(pool, requests, concurrency) if concurrency
                   else sender.open_loop(pool, requests, rate))
            rows.append(await measured(pid, name, run, len(requests)))
    finally:
        pool.close()
    return rows


def commit_latency(commits: int = 200) -> tuple[float, float]:
    """p50 and p99 ms of one fsynced inbox commit of one delivery, on the bench's disk now.

    Every 200 waits for such a commit, so its tail is a floor under the ack's.
    """
    with tempfile.TemporaryDirectory() as tmp:
        conn = store.connect(Path(tmp) / "probe.sqlite")
        took = []
        for n, body in enumerate(bodies(commits, 0)):
            started = time.perf_counter()
            inbox.append(conn, [inbox.Delivery(received_at=time.time(), webhook_id=1,
                                               model="bill", record_id=n, event="updated",
                                               etag=None, body=body)])
            took.append((time.perf_counter() - started) * 1000)
        conn.close()
    pct = statistics.quantiles(took, n=100)
    return pct[49], pct[98]


def summarize(name: str, latencies: list[float], elapsed: float) -> dict:
    ms = sorted(x * 1000 for x in latencies)
    pct = statistics.quantiles(ms, n=100)
    return {"mode": name, "events": len(ms), "per_second": len(ms) / elapsed,
            "p50_ms": statistics.median(ms), "p99_ms": pct[98], "max_ms": ms[-1]}


def run_variant(variant: Variant, args: argparse.Namespace, offset: int) -> tuple:
    """One round against a fresh receiver process and inbox: (rows, stored, sent)."""
    with tempfile.TemporaryDirectory() as tmp:
        inbox_file = Path(tmp) / "webhooks.sqlite"
        conn = store.connect(inbox_file)
        token = registry.new_token()
        registry.add(conn, token, "bill", "https://bench.test", "id", False)
        registry.update(conn, token, webhook_id=1, secret=SECRET, status="enabled")
        proc, base = start_receiver(inbox_file, variant)
        try:
            rows = asyncio.run(one_round(f"{base}/webhooks/clio/{token}", proc.pid,
                                         args.events, args.rate, args.seconds, offset))
        finally:
            proc.terminate()
            proc.wait()
        stored = conn.execute("SELECT count(*) FROM events WHERE state = 'pending'").fetchone()[0]
        conn.close()
    return rows, stored, 500 + 3 * args.events + int(args.rate * args.seconds)


def variants(args: argparse.Namespace, stack: ExitStack) -> list[Variant]:
    trees = [("this checkout", REPO)]
    if args.before:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        trees.insert(0, (f"before ({args.before})", checkout(args.before, tmp, "pipelines")))
    extras: list[str | None] = [None, args.compare_path] if args.compare_path else [None]
    return [Variant(name + (f" + {extra}" if extra else ""), code, extra)
            for extra in extras for name, code in trees]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="per closed-loop run")
    parser.add_argument("--rate", type=float, default=1000.0, help="open-loop offered rate")
    parser.add_argument("--seconds", type=float, default=5.0, help="open-loop duration")
    parser.add_argument("--repeats", type=int, default=5, help="rounds, each a fresh receiver")
    parser.add_argument("--before", metavar="COMMIT",
                        help="also run each round with COMMIT's receiver (e.g. main)")
    parser.add_argument("--compare-path", metavar="DIR",
                        help="also run each variant with DIR on the receiver's PYTHONPATH "
                        "(e.g. httptools + uvloop installed with pip --target DIR)")
    parser.add_argument("--no-results", action="store_true",
                        help=f"print the table only, leave {RESULTS.relative_to(REPO)} alone")
    args = parser.parse_args()
    with ExitStack() as stack:
        chosen = variants(args, stack)
        rounds: dict[str, list] = {v.name: [] for v in chosen}
        stored = sent = 0
        disk: list[tuple[float, float]] = []
        for r in range(args.repeats):
            disk.append(commit_latency())
            for variant in chosen:  # interleaved, so machine noise hits every variant
                rows, kept, total = run_variant(variant, args, r * 1_000_000)
                rows[-1]["load"] = os.getloadavg()[0]  # right after the open-loop run
                rounds[variant.name].append(rows)
                stored, sent = stored + kept, sent + total
                print(f"round {r + 1}, {variant.name} (load average "
                      f"{os.getloadavg()[0]:.2f}): " + "; ".join(
                          f"{row['mode']}: p99 {row['p99_ms']:.1f} ms, {row['cpu_us']:.0f} µs"
                          for row in rows), flush=True)
    write_results(rounds, stored, sent, disk, None if args.no_results else RESULTS)


def _medians(rounds: list[list[dict]]) -> list[dict]:
    return [{key: (row[0][key] if key == "mode" else statistics.median(r.get(key, 0) for r in row))
             for key in row[0]} for row in zip(*rounds, strict=True)]


def write_results(rounds: dict[str, list[list[dict]]], stored: int, expected: int,
                  disk: list[tuple[float, float]], results: Path | None) -> None:
    first = next(iter(rounds))
    lines = [
        "## Receiver: throughput and ack latency (loopback, 2-core machine)",
        "",
        f"Command: `.venv/bin/python {shlex.join(['bench/webhooks_receiver.py', *sys.argv[1:]])}`",
        "",
        f"Medians over {len(rounds[first])} rounds, each against a fresh `clio-sync webhooks "
        "serve` process and inbox, after a warm-up that opens the keep-alive connections (as "
        f"the reverse proxy in front would hold them: {POOL}). The load generator shares the "
        "2 cores. CPU is the receiver process's user + system time per delivery, the figure "
        "least disturbed by other work on the machine; sender CPU is the load generator's "
        f"per request (1-minute load average at the end: {os.getloadavg()[0]:.2f}).",
        "",
        "| receiver | mode | events | accepted/s | p50 ack ms | p99 ack ms | max ms "
        f"| CPU µs/delivery | sender CPU µs | p99 vs {first} |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    baseline = _medians(rounds[first])
    for name, variant in rounds.items():
        for r, base in zip(_medians(variant), baseline, strict=True):
            lines.append(
                f"| {name} | {r['mode']} | {r['events']:.0f} | {r['per_second']:.0f} | "
                f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.1f} | "
                f"{r['cpu_us']:.0f} | {r['sender_us']:.0f} | "
                f"{r['p99_ms'] / base['p99_ms']:.2f}x |")
    lines.append("")
    for name, variant in rounds.items():
        each = ", ".join(f"{row[-1]['p99_ms']:.1f} ({row[-1]['load']:.2f})" for row in variant)
        lines.append(f"Open-loop p99 of each round, {name} (ms, with the 1-minute load "
                     f"average after it): {each}.")
    lines.append("One fsynced inbox commit of one delivery, measured on the same disk before "
                 "each round (p50 / p99 ms of 200): "
                 + ", ".join(f"{p50:.2f} / {p99:.1f}" for p50, p99 in disk) + ".")
    lines += ["", f"Inbox after the runs: {stored} events stored of {expected} sent "
              "(each fsynced before its 200).", ""]
    text = "\n".join(lines)
    print(text)
    if results is None:
        return
    section_start = "## Receiver"
    old = results.read_text() if results.exists() else "# Webhooks benchmarks\n\n"
    results.write_text(_replace_section(old, section_start, text))


def _replace_section(document: str, heading: str, section: str) -> str:
    """Swap one `## …` section of the results file, keeping the others."""
    parts = document.split("\n## ")
    kept = [p for p in parts[1:] if not ("## " + p).startswith(heading)]
    return "\n## ".join([parts[0].rstrip() + "\n", *kept]).rstrip() + "\n\n" + section


if __name__ == "__main__":
    main()
