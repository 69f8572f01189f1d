"""How long the sandbox takes to generate its firm and to live one simulated day.

Per scale, in one run: `Firm.generate(seed, scale)` (median of N runs), the number of
records it holds, and beside it a floor: rebuilding the same records from a pickle (the
bare cost of creating that many Python dicts), with the ratio. Then `advance(1)` on the
generated firm: the first day (which also builds the life engine's view of the firm) and
the median of the following days, with the median number of changes a day. Writes
`bench/results/sandbox_generate.md`. Targets: large >= 250,000 records, generated in
<= 20 s; small in a few seconds (the server generates its firm at startup).

    .venv/bin/python bench/sandbox_generate.py [--scales tiny,small,large] [--runs 21,5,3] [--days 5]
"""

from __future__ import annotations

import argparse
import gc
import os
import pickle
import platform
import statistics
import sys
import time
from pathlib import Path

from pipelines.sandbox.firm import Firm
from pipelines.sandbox.shapes import ENDPOINTS

RESULTS = Path(__file__).parent / "results" / "sandbox_generate.md"
SEED = 3


def timed(run) -> tuple[float, object]:
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def measure(scale: str, runs: int, days: int) -> dict:
    seconds, firm = [], None
    for _ in range(runs):
        elapsed, firm = timed(lambda: Firm.generate(SEED, scale))
        seconds.append(elapsed)
    assert isinstance(firm, Firm)
    records = {endpoint: firm.records(endpoint) for endpoint in ENDPOINTS}
    count = sum(len(rows) for rows in records.values())
    frozen = pickle.dumps(records, protocol=pickle.HIGHEST_PROTOCOL)
    gc.disable()  # as generate does
    floor = statistics.median(timed(lambda: pickle.loads(frozen))[0] for _ in range(3))
    gc.enable()
    first, changes = timed(lambda: firm.advance(1))
    later, per_day = [], [sum(changes.values())]
    for _ in range(days):
        elapsed, changes = timed(lambda: firm.advance(1))
        later.append(elapsed)
        per_day.append(sum(changes.values()))
    generate = statistics.median(seconds)
    return {
        "scale": scale, "runs": runs, "generate": generate, "records": count,
        "bills": len(records["bills"]), "activities": len(records["activities"]),
        "floor": floor, "ratio": generate / floor, "first_day": first,
        "day": statistics.median(later), "changes": statistics.median(per_day),
    }  # fmt: skip


def report(rows: list[dict], command: str, days: int) -> str:
    lines = [
        "# Sandbox: generating the firm and living a day",
        "",
        f"Command: `{command}` (from the repository root)",
        "",
        f"Python {platform.python_version()} on {os.cpu_count()} cores; seed {SEED}; generate is the "
        f"median of the runs shown; a day is the median of {days} `advance(1)` after the first. "
        "Floor: unpickling the firm's records with the garbage collector paused, as generate does "
        "(the bare cost of building that many dicts).",
        "",
        "| scale | runs | generate s | records | bills | activities | floor s | ratio to floor "
        "| first day ms | a day ms | changes a day |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['scale']} | {r['runs']} | {r['generate']:.2f} | {r['records']:,} | {r['bills']:,} "
            f"| {r['activities']:,} | {r['floor']:.2f} | {r['ratio']:.1f} | {r['first_day'] * 1000:.1f} "
            f"| {r['day'] * 1000:.1f} | {r['changes']:.0f} |"
        )
    large = next((r for r in rows if r["scale"] == "large"), None)
    if large:
        size = "met" if large["records"] >= 250_000 else "NOT met"
        speed = "met" if large["generate"] <= 20 else "NOT met"
        lines += [
            "",
            f"Targets: large >= 250,000 records: {size} ({large['records']:,}); "
            f"large generated in <= 20 s: {speed} ({large['generate']:.1f} s).",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="tiny,small,large")
    parser.add_argument("--runs", default="21,5,3", help="runs per scale, in the order of --scales")
    parser.add_argument("--days", type=int, default=5)
    args = parser.parse_args()
    scales = args.scales.split(",")
    runs = [int(n) for n in args.runs.split(",")]
    rows = []
    for scale, n in zip(scales, runs, strict=True):
        rows.append(measure(scale, n, args.days))
        print(rows[-1], flush=True)
    command = " ".join([".venv/bin/python bench/sandbox_generate.py", *sys.argv[1:]])
    text = report(rows, command, args.days)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
