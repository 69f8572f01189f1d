"""Receiver throughput and ack latency on loopback.

Starts `clio-sync webhooks serve` as a real process with a fresh inbox, registers one
webhook, and sends signed deliveries (distinct records, so none is a duplicate) with an
aiohttp load generator in two modes side by side:

- closed loop: C concurrent senders, as fast as the receiver answers (max throughput);
- open loop: a fixed offered rate (default 1,000/s) for a few seconds (ack latency at
  the goal's load; latency counts from each request's scheduled send time, so queueing
  in the generator is not hidden).

Goals: issue 5, >= 1,000 events/s accepted with p99 ack < 50 ms; issue 12, p99 ack
under 10 ms at 2,000 deliveries/s offered (`--rate 2000`).

    .venv/bin/python bench/webhooks_receiver.py
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
from pathlib import Path

import aiohttp
import httpx

from pipelines.webhooks import registry, store
from pipelines.webhooks.signature import SIGNATURE_HEADER, sign

REPO = Path(__file__).resolve().parents[1]
SECRET = "bench-secret"
RESULTS = REPO / "bench" / "results" / "webhooks.md"


def start_receiver(inbox_file: Path, extra_path: str | None = None
                   ) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ)
    if extra_path:  # e.g. httptools + uvloop, which uvicorn picks up when importable
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [extra_path, env.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines", "-q", "webhooks", "serve", "--port", str(port),
         "--inbox", str(inbox_file)], cwd=REPO, env=env)
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


async def post(session: aiohttp.ClientSession, url: str, body: bytes) -> int:
    headers = {SIGNATURE_HEADER: sign(body, SECRET), "Content-Type": "application/json"}
    async with session.post(url, data=body, headers=headers) as resp:
        await resp.read()
        return resp.status


async def closed_loop(session: aiohttp.ClientSession, url: str, payloads: list[bytes],
                      concurrency: int) -> dict:
    latencies: list[float] = []
    queue = list(reversed(payloads))

    async def sender() -> None:
        while queue:
            body = queue.pop()
            t = time.perf_counter()
            assert await post(session, url, body) == 200
            latencies.append(time.perf_counter() - t)

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(concurrency)))
    return summarize(f"closed loop, {concurrency} senders", latencies,
                     time.perf_counter() - started)


async def open_loop(session: aiohttp.ClientSession, url: str, payloads: list[bytes],
                    rate: float) -> dict:
    """Send at fixed times; latency counts from the scheduled time (no coordinated omission).

    Requests are started by one dispatcher just in time: creating every task up front
    makes the generator itself late by tens of milliseconds at the start.
    """
    latencies: list[float] = []

    async def one(scheduled: float, body: bytes) -> None:
        assert await post(session, url, body) == 200
        latencies.append(time.perf_counter() - scheduled)

    started = time.perf_counter()
    tasks = []
    for i, body in enumerate(payloads):
        scheduled = started + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled, body)))
    await asyncio.gather(*tasks)
    return summarize(f"open loop, offered {rate:.0f}/s", latencies,
                     time.perf_counter() - started)


async def one_round(url: str, pid: int, events: int, rate: float, seconds: float,
                    offset: int) -> list[dict]:
    """Warm up (opens the keep-alive connections a proxy in front would hold), then each mode."""
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as session:
        await closed_loop(session, url, bodies(500, offset), 32)
        rows = []
        for i, concurrency in enumerate((1, 16, 64)):
            payloads = bodies(events, offset + 10_000 * (i + 1))
            cpu = cpu_seconds(pid)
            row = await closed_loop(session, url, payloads, concurrency)
            row["cpu_us"] = (cpu_seconds(pid) - cpu) / events * 1e6
            rows.append(row)
        payloads = bodies(int(rate * seconds), offset + 100_000)
        cpu = cpu_seconds(pid)
        row = await open_loop(session, url, payloads, rate)
        row["cpu_us"] = (cpu_seconds(pid) - cpu) / len(payloads) * 1e6
        rows.append(row)
    return rows


def summarize(name: str, latencies: list[float], elapsed: float) -> dict:
    ms = sorted(x * 1000 for x in latencies)
    pct = statistics.quantiles(ms, n=100)
    return {"mode": name, "events": len(ms), "per_second": len(ms) / elapsed,
            "p50_ms": statistics.median(ms), "p99_ms": pct[98], "max_ms": ms[-1]}


def run_variant(extra_path: str | None, args: argparse.Namespace, offset: int) -> tuple:
    """One round against a fresh receiver process and inbox: (rows, stored, sent)."""
    with tempfile.TemporaryDirectory() as tmp:
        inbox_file = Path(tmp) / "webhooks.sqlite"
        conn = store.connect(inbox_file)
        token = registry.new_token()
        registry.add(conn, token, "bill", "https://bench.test", "id", False)
        registry.update(conn, token, webhook_id=1, secret=SECRET, status="enabled")
        proc, base = start_receiver(inbox_file, extra_path)
        try:
            rows = asyncio.run(one_round(f"{base}/webhooks/clio/{token}", proc.pid,
                                         args.events, args.rate, args.seconds, offset))
        finally:
            proc.terminate()
            proc.wait()
        stored = conn.execute("SELECT count(*) FROM events WHERE state = 'pending'").fetchone()[0]
        conn.close()
    return rows, stored, 500 + 3 * args.events + int(args.rate * args.seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="per closed-loop run")
    parser.add_argument("--rate", type=float, default=1000.0, help="open-loop offered rate")
    parser.add_argument("--seconds", type=float, default=5.0, help="open-loop duration")
    parser.add_argument("--repeats", type=int, default=5, help="rounds, each a fresh receiver")
    parser.add_argument("--compare-path", metavar="DIR",
                        help="also run each round with DIR on the receiver's PYTHONPATH "
                        "(e.g. httptools + uvloop installed with pip --target DIR)")
    args = parser.parse_args()
    variants = {"installed (asyncio, h11)": None}
    if args.compare_path:
        variants["with " + args.compare_path] = args.compare_path
    rounds: dict[str, list] = {name: [] for name in variants}
    stored = sent = 0
    for r in range(args.repeats):
        for name, extra in variants.items():  # interleaved, so machine noise hits both
            rows, kept, total = run_variant(extra, args, r * 1_000_000)
            rows[-1]["load"] = os.getloadavg()[0]  # right after the open-loop run
            rounds[name].append(rows)
            stored, sent = stored + kept, sent + total
            print(f"round {r + 1}, {name} (load average {os.getloadavg()[0]:.2f}): " + "; ".join(
                f"{row['mode']}: p99 {row['p99_ms']:.1f} ms" for row in rows), flush=True)
    write_results(rounds, stored, sent)


def _medians(rounds: list[list[dict]]) -> list[dict]:
    return [{key: (row[0][key] if key == "mode" else statistics.median(r.get(key, 0) for r in row))
             for key in row[0]} for row in zip(*rounds, strict=True)]


def write_results(rounds: dict[str, list[list[dict]]], stored: int, expected: int) -> None:
    first = next(iter(rounds))
    lines = [
        "## Receiver: throughput and ack latency (loopback, 2-core machine)",
        "",
        f"Command: `.venv/bin/python {shlex.join(['bench/webhooks_receiver.py', *sys.argv[1:]])}`",
        "",
        f"Medians over {len(rounds[first])} rounds, each against a fresh `clio-sync webhooks "
        "serve` process and inbox, after a warm-up that opens the keep-alive connections (as "
        "the reverse proxy in front would hold them). The load generator shares the 2 cores. "
        "CPU is the receiver process's user + system time per delivery, the figure least "
        f"disturbed by other work on the machine (1-minute load average at the end: "
        f"{os.getloadavg()[0]:.2f}).",
        "",
        "| receiver | mode | events | accepted/s | p50 ack ms | p99 ack ms | max ms "
        "| CPU µs/delivery | p99 vs installed |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    baseline = _medians(rounds[first])
    for name, variant in rounds.items():
        for r, base in zip(_medians(variant), baseline, strict=True):
            lines.append(
                f"| {name} | {r['mode']} | {r['events']:.0f} | {r['per_second']:.0f} | "
                f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.1f} | "
                f"{r['cpu_us']:.0f} | {r['p99_ms'] / base['p99_ms']:.2f}x |")
    lines.append("")
    for name, variant in rounds.items():
        each = ", ".join(f"{row[-1]['p99_ms']:.1f} ({row[-1]['load']:.2f})" for row in variant)
        lines.append(f"Open-loop p99 of each round, {name} (ms, with the 1-minute load "
                     f"average after it): {each}.")
    lines += ["", f"Inbox after the runs: {stored} events stored of {expected} sent "
              "(each fsynced before its 200).", ""]
    text = "\n".join(lines)
    print(text)
    section_start = "## Receiver"
    old = RESULTS.read_text() if RESULTS.exists() else "# Webhooks benchmarks\n\n"
    RESULTS.write_text(_replace_section(old, section_start, text))


def _replace_section(document: str, heading: str, section: str) -> str:
    """Swap one `## …` section of the results file, keeping the others."""
    parts = document.split("\n## ")
    kept = [p for p in parts[1:] if not ("## " + p).startswith(heading)]
    return "\n## ".join([parts[0].rstrip() + "\n", *kept]).rstrip() + "\n\n" + section


if __name__ == "__main__":
    main()
