"""Readers against freshness: a notebook-like reader querying every second while webhook
events arrive at 100/s, for three ways of reading, side by side in one run.

Each round, for each way, on a fresh copy of one warehouse (10,000 contacts and 5,000
bills loaded by the sync's loader, the SQL models built): `clio-sync serve` as a real
process (receiver + `webhooks apply --follow`, no scheduled sync), a reader process
started before the load, then signed deliveries at a fixed offered rate (open loop,
`webhooks_applier.py`'s generator and events). The reader runs one query a second (AR
from `reports.ar_aging_detail`, clients from `reports.outstanding_balances`, and the
newest event it can see) in one of three ways:

- hold: one read-only connection on the warehouse, opened at start and kept (what the
  docs advised before: `warehouse.connect(db, read_only=True)` in a notebook);
- short: a read-only connection on the warehouse per query, retried for up to 5 s while
  a writer has the file;
- snapshot: `pipelines.readers.read_sql` (the published snapshot).

Measured: applier lag (sent -> committed in DuckDB) p50/p99/max, failed queries, reader
query latency, staleness seen by the reader (query time - arrival of the newest event it
can see), the applier's failed batches, and the snapshot's publishes. A second table
gives the cost of one publish against the warehouse's size (real sandbox firms and
padded copies of the bench warehouse).

Goal (issue 8, item 16): applier lag p99 under 5 s and zero failed queries at 100/s.

    .venv/bin/python bench/readers.py [--rate 100 --seconds 15 --repeats 3]
    .venv/bin/python bench/readers.py --pad-mb 1000 --modes none:DIR,snapshot

`--pad-mb` grows the warehouse; a mode written `mode:DIR` runs `serve` from the checkout
in DIR (e.g. the commit before the snapshot, or other publish settings) in the same
rounds. Results: bench/results/readers.md, one section per warehouse and label.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).parent))
from webhooks_applier import (
    _wait_up,
    build_warehouse,
    events,
    lags,
    register,
    send_all,
    wait_applied,
)

from pipelines import readers, snapshot, warehouse
from pipelines.clio.sync import build_models_if_present
from pipelines.sandbox.harness import free_port
from pipelines.webhooks import ledger, store

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "readers.md"
MODES = {
    "none": "no reader (the applier alone)",
    "hold": "(a) one read-only connection held on the warehouse",
    "short": "(b) a read-only connection per query, retried up to 5 s",
    "snapshot": "(c) `read_sql` on the published snapshot",
}
RETRY_FOR = 5.0  # seconds a short-lived reader retries a busy warehouse
QUERY = """
    select (select sum(balance) from reports.ar_aging_detail) as ar,
           (select count(*) from reports.outstanding_balances) as clients,
           (select epoch(max(received_at)) from clio._webhook_applies) as newest
"""


# ----- the reader process ----------------------------------------------------------------

def reader(mode: str, db: Path, out: Path, stop: Path) -> None:
    """Query once a second until `stop` exists; one JSON line per query in `out`."""
    held: duckdb.DuckDBPyConnection | None = None
    tick = time.time()
    with out.open("w") as log:
        while not stop.exists():
            started = time.time()
            record: dict = {"t": started}
            try:
                if mode == "hold":
                    held = held or _open_retrying(db)
                    row = held.execute(QUERY).fetchone()
                elif mode == "short":
                    con = _open_retrying(db)
                    try:
                        row = con.execute(QUERY).fetchone()
                    finally:
                        con.close()
                else:
                    row = tuple(readers.read_sql(QUERY, db=db).iloc[0])
                newest = row[2] if row[2] is not None and row[2] == row[2] else None  # NaN
                record.update(ok=True, newest=newest)
            except Exception as exc:  # a failed query is what is being counted
                record.update(ok=False, error=" ".join(str(exc).split())[:160])
            record["latency"] = time.time() - started
            log.write(json.dumps(record) + "\n")
            log.flush()
            tick += 1.0
            time.sleep(max(0.0, tick - time.time()))


def _open_retrying(db: Path) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + RETRY_FOR
    while True:
        try:
            return warehouse.connect(db, read_only=True)
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


# ----- one measured window ------------------------------------------------------------------

def prepare(folder: Path) -> Path:
    """The bench warehouse with its models and the apply ledger, as a template to copy."""
    folder.mkdir()
    db = folder / "clio_sync.duckdb"
    build_warehouse(db)
    build_models_if_present(db)
    con = warehouse.connect(db)
    try:
        ledger.ensure_tables(con)
    finally:
        con.close()
    return db


def window(template: Path, variant: str, args: argparse.Namespace, seed: int) -> dict:
    """One load window; `variant` is a mode, or `mode:DIR` to run `serve` from checkout DIR
    (its `pipelines` first on the path: `-m` puts the working folder first)."""
    mode, _, serve_from = variant.partition(":")
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(template.parent, tmp, dirs_exist_ok=True)
        os.sync()  # the copy's writeback must not land on the measured window
        db = Path(tmp) / template.name
        inbox_file = store.inbox_path(db)
        tokens = register(inbox_file)
        batch = events(int(args.rate * args.seconds), seed, 1_000)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        serve_log = Path(tmp) / "serve.log"
        env = {**os.environ, "PYTHONPATH": serve_from} if serve_from else None
        with serve_log.open("w") as sink:
            proc = subprocess.Popen(
                [sys.executable, "-m", "pipelines", "--log-format", "plain", "serve", "--db",
                 str(db), "--port", str(port), "--sync-every", "0", "--reconcile-every", "0",
                 "--renew-every", "0"], cwd=serve_from or REPO, env=env, stdout=sink,
                stderr=subprocess.STDOUT)
        stop, queries = Path(tmp) / "stop", Path(tmp) / "queries.jsonl"
        reading = subprocess.Popen([sys.executable, __file__, "--reader", mode, str(db),
                                    str(queries), str(stop)], cwd=REPO) if mode != "none" else None
        try:
            _wait_up(base)
            if reading:
                _wait_for_first_query(queries)
            published_before = snapshot._last_generation(db)
            started = time.time()
            sent = asyncio.run(send_all(base, tokens, batch, args.rate))
            ended = time.time()
            stop.touch()
            if reading:
                reading.wait(60)
            wait_applied(inbox_file, 180)
        finally:
            stop.touch()
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
            if reading and reading.poll() is None:
                reading.kill()
        lag = lags(batch, sent, inbox_file, db)
        rows = [json.loads(line) for line in queries.read_text().splitlines()] if reading else []
        log = serve_log.read_text()
        publishes = snapshot._last_generation(db) - published_before
    during = [r for r in rows if started <= r["t"] <= ended + 1]
    ok = [r for r in during if r["ok"]]
    # a reader that sees no event yet is as stale as the load is old
    stale = [r["t"] - max(r.get("newest") or started, started) for r in ok]
    latency = [r["latency"] for r in ok]
    return {
        "mode": mode, "events": len(lag),
        "lag_p50": statistics.median(lag), "lag_p99": _p99(lag), "lag_max": max(lag),
        "queries": len(during), "failed": len(during) - len(ok),
        "latency_p50": statistics.median(latency) if latency else float("nan"),
        "latency_p99": _p99(latency) if latency else float("nan"),
        "stale_p50": statistics.median(stale) if stale else float("nan"),
        "stale_p99": _p99(stale) if stale else float("nan"),
        "failed_batches": log.count("applying webhook events failed"),
        "publishes": publishes, "seconds": ended - started,
        "errors": sorted({r["error"][:90] for r in during if not r["ok"]})[:2],
    }


def _wait_for_first_query(queries: Path) -> None:
    deadline = time.monotonic() + 60
    while not (queries.exists() and queries.read_text().strip()):
        if time.monotonic() > deadline:
            raise SystemExit("the reader did not start")
        time.sleep(0.05)


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) > 1 else values[0]


# ----- publish cost against size -----------------------------------------------------------

def publish_cost(db: Path, repeats: int = 5) -> tuple[float, float]:
    """(size in MB, median seconds of one publish after a small committed write).

    One publish and a sync first, untimed: a file just written is still dirty in the page
    cache, and the first fsync would pay for writing it out too.
    """
    with warehouse.writer_lock(db, "bench"):
        pass
    os.sync()
    times = []
    for n in range(repeats):
        with warehouse.writer_lock(db, "bench", publish=False):
            con = warehouse.connect(db)
            try:
                con.execute("create or replace table main.bench_touch as select ? as n", [n])
            finally:
                con.close()
            started = time.perf_counter()
            snapshot.publish(db)
            times.append(time.perf_counter() - started)
    return db.stat().st_size / 1e6, statistics.median(times)


def padded(template: Path, folder: Path, megabytes: int) -> Path:
    """A copy of the bench warehouse grown by about `megabytes` of incompressible rows."""
    shutil.copytree(template.parent, folder, dirs_exist_ok=True)
    db = folder / template.name
    con = warehouse.connect(db)
    try:
        con.execute("set enable_progress_bar = false")
        con.execute("create table main.padding as select random() as a, random() as b "
                    "from range(?)", [megabytes * 1_000_000 // 16])
    finally:
        con.close()
    return db


def sandbox_firm(scale: str, folder: Path) -> Path:
    """A generated sandbox firm synced into a fresh warehouse, as `clio-sync demo` does."""
    from pipelines.clio.demo import demo_settings
    from pipelines.clio.sync import sync
    from pipelines.sandbox.harness import serve_sandbox

    db = folder / "clio_sync.duckdb"
    with serve_sandbox(scale=scale, seed=7, rate_limit=None) as sb:
        settings = demo_settings(sb.base_url, sb.token(), folder / "token.json")
        sync(db, settings, full_refresh=True)
    build_models_if_present(db)
    return db


def publish_costs(template: Path, args: argparse.Namespace) -> list[tuple[str, float, float]]:
    if not args.firms and not args.padded:
        return []
    out = [("bench warehouse", *publish_cost(_copy_of(template)))]
    for scale in args.firms:
        with tempfile.TemporaryDirectory() as tmp:
            out.append((f"sandbox `{scale}` firm", *publish_cost(sandbox_firm(scale, Path(tmp)))))
    for megabytes in args.padded:
        with tempfile.TemporaryDirectory() as tmp:
            out.append((f"bench warehouse + {megabytes} MB",
                        *publish_cost(padded(template, Path(tmp), megabytes), repeats=3)))
    return out


def _copy_of(template: Path) -> Path:
    folder = Path(tempfile.mkdtemp())
    shutil.copytree(template.parent, folder, dirs_exist_ok=True)
    return folder / template.name


# ----- report --------------------------------------------------------------------------------

def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--reader":
        reader(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="offered events/s")
    parser.add_argument("--seconds", type=float, default=15.0, help="load duration")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--modes", default=",".join(MODES),
                        help="comma-separated; `mode:DIR` runs `serve` from checkout DIR")
    parser.add_argument("--pad-mb", type=int, default=0,
                        help="grow the bench warehouse by this many MB for the load windows")
    parser.add_argument("--label", default="",
                        help="what differs in this run (names its section of the results)")
    parser.add_argument("--firms", default="small,large", type=lambda s: s.split(",") if s else [],
                        help="sandbox firms whose publish cost is measured ('' for none)")
    parser.add_argument("--padded", default="250,1000",
                        type=lambda s: [int(x) for x in s.split(",")] if s else [],
                        help="MB added to the bench warehouse for the publish cost")
    args = parser.parse_args()
    modes = [m for m in args.modes.split(",") if m]  # none: only the publish costs
    with tempfile.TemporaryDirectory() as tmp:
        template = prepare(Path(tmp) / "base")
        loaded = padded(template, Path(tmp) / "padded", args.pad_mb) if args.pad_mb else template
        size = loaded.stat().st_size / 1e6
        runs: dict[str, list[dict]] = {m: [] for m in modes}
        for r in range(args.repeats):
            for mode in modes:
                runs[mode].append(window(loaded, mode, args, r))
                print(f"round {r + 1} (load {os.getloadavg()[0]:.2f}): {runs[mode][-1]}",
                      flush=True)
        costs = publish_costs(template, args)
    write_results(runs, size, costs, args)


def write_results(runs: dict[str, list[dict]], size: float,
                  costs: list[tuple[str, float, float]], args: argparse.Namespace) -> None:
    def med(mode: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[mode])

    def name(variant: str) -> str:
        mode, _, serve_from = variant.partition(":")
        return MODES[mode] + (f", `serve` from {serve_from}" if serve_from else "")

    command = f"`.venv/bin/python {shlex.join(['bench/readers.py', *sys.argv[1:]])}`"
    warehouse_name = "bench warehouse" + (f" + {args.pad_mb} MB" if args.pad_mb else "")
    lines = [
        f"## Readers at {args.rate:.0f} events/s, {warehouse_name} ({size:.0f} MB)"
        + (f", {args.label}" if args.label else ""),
        "",
        f"Command: {command}",
        "",
        f"2-core machine shared with other work (1-minute load average at the end: "
        f"{os.getloadavg()[0]:.2f}). Medians over {args.repeats} rounds; in each round the "
        "ways ran one after the other on fresh copies of the same warehouse (10,000 "
        "contacts, 5,000 bills, models built"
        + (f", plus {args.pad_mb} MB of padding" if args.pad_mb else "") + "). Load: "
        f"{args.rate:.0f} signed deliveries/s for {args.seconds:.0f} s into `clio-sync serve` "
        "(receiver + `webhooks apply --follow`); a reader process queries once a second, "
        "started before the load. Lag: sent -> committed in DuckDB. Staleness: query time - "
        "arrival of the newest event the reader sees. Queries counted during the load (and "
        "1 s after). Publishes: snapshots the follower published during the load.",
        "",
        "| reader | events | lag p50 s | lag p99 s | lag max s | failed queries | query p50 ms "
        "| query p99 ms | staleness p50 s | staleness p99 s | failed applier batches "
        "| publishes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for mode, rounds in runs.items():
        failed = sum(r["failed"] for r in rounds)
        total = sum(r["queries"] for r in rounds)
        reads = (f"{failed} of {total} | {med(mode, 'latency_p50') * 1000:.0f} | "
                 f"{med(mode, 'latency_p99') * 1000:.0f} | {med(mode, 'stale_p50'):.2f} | "
                 f"{med(mode, 'stale_p99'):.2f}") if not mode.startswith("none") \
            else "- | - | - | - | -"
        lines.append(
            f"| {name(mode)} | {med(mode, 'events'):.0f} | {med(mode, 'lag_p50'):.2f} | "
            f"{med(mode, 'lag_p99'):.2f} | {med(mode, 'lag_max'):.2f} | {reads} | "
            f"{med(mode, 'failed_batches'):.0f} | {med(mode, 'publishes'):.0f} |")
    lines += ["", "Per round (lag p99 s / failed queries):"]
    for mode, rounds in runs.items():
        each = ", ".join(f"{r['lag_p99']:.2f} / {r['failed']}" for r in rounds)
        errors = sorted({e for r in rounds for e in r["errors"]})[:2]
        lines.append(f"- {mode}: {each}" + (f"; errors seen: {'; '.join(errors)}" if errors
                                            else ""))
    document = RESULTS.read_text() if RESULTS.exists() else "# Readers against freshness\n\n"
    if runs:
        document = _replace_section(document, lines[0], "\n".join(lines) + "\n")
    if costs:
        section = [
            "## Cost of one publish against the warehouse's size",
            "",
            f"Command: {command}",
            "",
            "A committed write, then `snapshot.publish` timed: checkpoint, copy (in the "
            "kernel), fsync, switch of the link, removal of the previous generation (median of "
            "5, 3 for the padded copies, after one untimed publish and a sync), same machine.",
            "",
            "| warehouse | MB | publish s | ms per MB |",
            "|---|---:|---:|---:|",
            *(f"| {name} | {mb:.0f} | {s:.3f} | {s * 1000 / mb:.2f} |" for name, mb, s in costs),
            "",
        ]
        document = _replace_section(document, section[0], "\n".join(section))
    print(document)
    RESULTS.write_text(document)


def _replace_section(document: str, heading: str, section: str) -> str:
    """Swap one `## ...` section of the results file, keeping the others in place."""
    parts = document.split("\n## ")
    body = section.removeprefix("## ").rstrip() + "\n"
    for i, part in enumerate(parts[1:], 1):
        if "## " + part.split("\n", 1)[0] == heading:
            parts[i] = body
            return "\n## ".join(parts).rstrip() + "\n"
    return document.rstrip() + "\n\n" + section.rstrip() + "\n"


if __name__ == "__main__":
    main()
