"""Receiver throughput and ack latency on loopback.

Starts `clio-sync webhooks serve` as a real process with a fresh inbox, registers one
webhook, and sends signed deliveries (distinct records, so none is a duplicate) with an
aiohttp load generator in two modes side by side:

- closed loop: C concurrent senders, as fast as the receiver answers (max throughput);
- open loop: a fixed offered rate (default 1,000/s) for a few seconds (ack latency at
  the goal's load; latency counts from each request's scheduled send time, so queueing
  in the generator is not hidden).

Goal (issue 5): >= 1,000 events/s accepted with p99 ack < 50 ms.

    .venv/bin/python bench/webhooks_receiver.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
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


def start_receiver(inbox_file: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines", "-q", "webhooks", "serve", "--port", str(port),
         "--inbox", str(inbox_file)], cwd=REPO)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            return proc, base
        except httpx.TransportError:
            time.sleep(0.05)
    raise SystemExit("receiver did not start")


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


async def closed_loop(url: str, payloads: list[bytes], concurrency: int) -> dict:
    latencies: list[float] = []
    queue = list(reversed(payloads))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def sender() -> None:
            while queue:
                body = queue.pop()
                t = time.perf_counter()
                assert await post(session, url, body) == 200
                latencies.append(time.perf_counter() - t)

        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return summarize(f"closed loop, {concurrency} senders", latencies, elapsed)


async def open_loop(url: str, payloads: list[bytes], rate: float) -> dict:
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=512)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()

        async def one(i: int, body: bytes) -> None:
            scheduled = started + i / rate
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            assert await post(session, url, body) == 200
            latencies.append(time.perf_counter() - scheduled)

        await asyncio.gather(*(one(i, b) for i, b in enumerate(payloads)))
        elapsed = time.perf_counter() - started
    return summarize(f"open loop, offered {rate:.0f}/s", latencies, elapsed)


def summarize(name: str, latencies: list[float], elapsed: float) -> dict:
    ms = sorted(x * 1000 for x in latencies)
    pct = statistics.quantiles(ms, n=100)
    return {"mode": name, "events": len(ms), "per_second": len(ms) / elapsed,
            "p50_ms": statistics.median(ms), "p99_ms": pct[98], "max_ms": ms[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000, help="per closed-loop run")
    parser.add_argument("--rate", type=float, default=1000.0, help="open-loop offered rate")
    parser.add_argument("--seconds", type=float, default=5.0, help="open-loop duration")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        inbox_file = Path(tmp) / "webhooks.sqlite"
        conn = store.connect(inbox_file)
        token = registry.new_token()
        registry.add(conn, token, "bill", "https://bench.test", "id", False)
        registry.update(conn, token, webhook_id=1, secret=SECRET, status="enabled")
        proc, base = start_receiver(inbox_file)
        url = f"{base}/webhooks/clio/{token}"
        try:
            asyncio.run(closed_loop(url, bodies(200, 0), 8))  # warm-up
            rows = [asyncio.run(closed_loop(url, bodies(args.events, 10_000 * (c + 1)), c))
                    for c in (1, 16, 64)]
            n = int(args.rate * args.seconds)
            rows.append(asyncio.run(open_loop(url, bodies(n, 1_000_000), args.rate)))
        finally:
            proc.terminate()
            proc.wait()
        stored = conn.execute("SELECT count(*) FROM events WHERE state = 'pending'").fetchone()[0]
        conn.close()
    expected = 200 + 3 * args.events + n
    write_results(rows, stored, expected)


def write_results(rows: list[dict], stored: int, expected: int) -> None:
    base = rows[0]["per_second"]
    lines = [
        "## Receiver: throughput and ack latency (loopback, 2-core machine)",
        "",
        f"Command: `.venv/bin/python {shlex.join(['bench/webhooks_receiver.py', *sys.argv[1:]])}`",
        "",
        "| mode | events | accepted/s | vs 1 sender | p50 ack ms | p99 ack ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['mode']} | {r['events']} | {r['per_second']:.0f} | "
                     f"{r['per_second'] / base:.1f}x | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
                     f"{r['max_ms']:.1f} |")
    lines += ["", f"Inbox after the run: {stored} events stored of {expected} sent "
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
