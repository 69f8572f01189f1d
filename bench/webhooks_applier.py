"""Applier throughput and end-to-end lag: delivery sent -> row visible in DuckDB.

Builds a warehouse of 10,000 contacts and 5,000 bills (with their child rows) through
the sync's own loader, registers two webhooks, and starts `clio-sync serve` (receiver +
continuous applier; no scheduled sync) as a real process. Both write paths side by side
in each round (`WEBHOOKS__WRITE_PATH`: `dlt`, a dlt load per batch, the old path; `direct`,
one DuckDB transaction per batch, the default), each against a fresh warehouse and inbox:

- continuous: signed deliveries at a fixed offered rate (default 500/s, open loop) for
  a few seconds: 85% updates of existing records, 10% creations, 5% deletions, every
  one a full record as Clio sends it. Lag of each event = the moment its batch was
  committed in DuckDB (`clio._webhook_applies.applied_at`) minus the moment the load
  generator sent it; the receiver's share (sent -> fsynced in the inbox) is shown too.
- one pass: a backlog of the same events queued while no applier runs, then timed
  `clio-sync webhooks apply` (its maximum throughput, as after an outage).

Goal (issue 12): at 1,000 events/s offered the applier keeps up, p99 lag under 1 s.
The 1-minute load average is recorded with each measurement (a shared 2-core machine).

    .venv/bin/python bench/webhooks_applier.py [--rate 1000 --seconds 15 --repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import random
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from pipelines.clio.endpoints import BY_TABLE
from pipelines.clio.load import load_records
from pipelines.webhooks import registry, store

sys.path.insert(0, str(Path(__file__).parent))
import webhook_sender
from webhooks_receiver import RESULTS, Variant, _replace_section, start_receiver

from pipelines.sandbox.harness import free_port

REPO = Path(__file__).resolve().parents[1]
SECRETS = {"contact": "contact-secret", "bill": "bill-secret"}
WEBHOOK_IDS = {"contact": 1, "bill": 2}
RECEIVER = Variant("this checkout", REPO, None)  # the receiver the applier is fed by
SIZES = {"contact": 10_000, "bill": 5_000}
TABLE = {"contact": "contacts", "bill": "bills"}


def full_record(model: str, record_id: int, version: int) -> dict:
    """A record with every catalog field, as a webhook with the catalog's fields sends it."""
    endpoint = BY_TABLE[TABLE[model]]
    record: dict = dict.fromkeys(endpoint.scalars)
    record.update(id=record_id, etag=f'"{record_id}-{version}"',
                  created_at="2026-01-05T09:00:00-05:00",
                  updated_at=_stamp(version))
    if model == "contact":
        record.update(name=f"Contact {record_id} v{version}", type="Company", is_client=True,
                      company=None, account_balances=[],
                      custom_field_values=[{
                          "id": f"{record_id}-1", "field_name": "Referral Source",
                          "field_type": "text_line", "value": f"Referral v{version}",
                          "soft_deleted": False, "created_at": "2026-01-05T09:00:00-05:00",
                          "updated_at": _stamp(version), "custom_field": {"id": 1},
                          "picklist_option": None}])
    else:
        total = round(100 + (record_id * 37 + version) % 5000 + 0.29, 2)
        record.update(number=str(record_id), state="awaiting_payment", total=total,
                      balance=total, issued_at="2026-11-01", due_at="2026-12-01",
                      client={"id": 1 + record_id % SIZES["contact"], "name": "Client"},
                      user={"id": 1, "name": "Ada"}, currency={"id": 1, "code": "USD"},
                      matters=[{"id": record_id, "display_number": f"{record_id:05d}-M"}],
                      balances=[{"id": record_id, "type": "Matter", "amount": total,
                                 "interest_amount": 0.0, "due": total}])
    missing = {c.field for c in endpoint.children} - record.keys()
    assert not missing, f"the catalog has more child lists than the bench sends: {missing}"
    return record


def _stamp(version: int) -> str:
    """Strictly increasing with `version` (one second apart), Clio's format."""
    seconds = 1_800_000_000 + version
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(seconds))


def build_warehouse(db: Path) -> None:
    for model, size in SIZES.items():
        load_records(db, TABLE[model], [full_record(model, i, 0) for i in range(1, size + 1)])


def register(inbox_file: Path) -> dict[str, str]:
    """One enabled webhook per model, as `subscribe` leaves them; their URL tokens."""
    conn = store.connect(inbox_file)
    tokens = {}
    for model, secret in SECRETS.items():
        token = tokens[model] = registry.new_token()
        registry.add(conn, token, model, f"https://bench.test/{token}", "…", False)
        registry.update(conn, token, webhook_id=WEBHOOK_IDS[model], secret=secret,
                        status="enabled")
    conn.close()
    return tokens


Event = tuple[tuple[str, int, str, str], bytes]  # ((model, id, event, etag), body)


def events(count: int, seed: int, first_version: int) -> list[Event]:
    """In sending order: 85% updates, 10% creations, 5% deletions."""
    rng = random.Random(seed)
    next_id = {m: size + 1 + seed * 100_000 for m, size in SIZES.items()}
    out = []
    for n in range(count):
        model = "contact" if rng.random() < 0.6 else "bill"
        roll, version = rng.random(), first_version + n
        if roll < 0.10:
            event, record_id = "created", next_id[model]
            next_id[model] += 1
            data = full_record(model, record_id, version)
        elif roll < 0.15:  # contacts only: Clio keeps a deleted bill (state `deleted`,
            # `void`), so the applier would ask Clio about it, and there is no Clio here
            model = "contact"
            event, record_id = "deleted", rng.randint(1, SIZES[model])
            data = {"id": record_id, "etag": f'"{record_id}-gone"'}
        else:
            event, record_id = "updated", rng.randint(1, SIZES[model])
            data = full_record(model, record_id, version)
        body = json.dumps({"data": data, "meta": {"event": event,
                                                  "webhook_id": WEBHOOK_IDS[model]}}).encode()
        out.append(((model, record_id, event, data["etag"]), body))
    return out


async def send_all(base: str, tokens: dict[str, str], batch: list[Event],
                   rate: float | None) -> dict[int, float]:
    """POST every event (at `rate`/s, or 32 at a time as fast as possible) through the
    receiver bench's raw sender (the sandbox deliverer's bytes, signed before the clock
    starts); the wall-clock send time of each, by its position."""
    payloads: list[bytes] = [b""] * len(batch)
    positions: dict[str, list[int]] = collections.defaultdict(list)
    for i, (key, _body) in enumerate(batch):
        positions[key[0]].append(i)
    for model, where in positions.items():
        signed = webhook_sender.requests(f"{base}/webhooks/clio/{tokens[model]}",
                                         [batch[i][1] for i in where], SECRETS[model])
        for i, request in zip(where, signed, strict=True):
            payloads[i] = request
    pool = webhook_sender.Pool(*webhook_sender.host_port(base), 128 if rate else 32)
    await pool.fill()
    sent: dict[int, float] = {}
    finished = asyncio.get_running_loop().create_future()
    left = [len(payloads)]

    def done(status: int, _at: float) -> None:
        if status != 200 and not finished.done():
            finished.set_exception(AssertionError(f"status {status}"))
        left[0] -= 1
        if left[0] == 0 and not finished.done():
            finished.set_result(None)

    started = time.perf_counter()
    try:
        for i, request in enumerate(payloads):
            if rate is not None:
                delay = started + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            sent[i] = time.time()
            pool.submit(request, done)  # queued in order while all connections are busy
        if payloads:
            await finished
    finally:
        pool.close()
    return sent


def wait_applied(inbox_file: Path, timeout: float) -> None:
    conn = store.connect(inbox_file)
    deadline = time.monotonic() + timeout
    try:
        while conn.execute("SELECT count(*) FROM events WHERE state IN ('pending', 'claimed')"
                           ).fetchone()[0]:
            if time.monotonic() > deadline:
                raise SystemExit("the applier did not catch up")
            time.sleep(0.05)
    finally:
        conn.close()


def warm_up(base: str, tokens: dict[str, str], inbox_file: Path) -> None:
    """One event applied before the measurement: `serve` starts its applier as a child
    process, which takes seconds to import on a busy machine, and is no steady state."""
    asyncio.run(send_all(base, tokens, events(1, 99, 500), None))
    wait_applied(inbox_file, 120)


def applied_at(db: Path) -> dict[int, float]:
    """When each event's batch was committed (unix seconds), by inbox seq."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("SELECT seq, epoch(applied_at) FROM clio._webhook_applies")
        return dict(rows.fetchall())
    finally:
        con.close()


def lags(batch: list[Event], sent: dict[int, float], inbox_file: Path, db: Path
         ) -> tuple[list[float], list[float]]:
    """For the first copy of each distinct event: sent -> visible in DuckDB, and its
    applier's share, received (fsynced in the inbox) -> visible in DuckDB."""
    conn = store.connect(inbox_file)
    seqs = {(m, r, e, t): (seq, received) for seq, m, r, e, t, received in conn.execute(
        "SELECT seq, model, record_id, event, etag, received_at FROM events"
        " WHERE duplicate_of IS NULL")}
    conn.close()
    applied, seen, total, share = applied_at(db), set(), [], []
    for i, (key, _) in enumerate(batch):
        seq, received = seqs[key]
        if seq not in seen:  # a repeated deletion of the same record is one event
            seen.add(seq)
            total.append(applied[seq] - sent[i])  # a KeyError: an event was not applied
            share.append(applied[seq] - received)
    return total, share


PATHS = ("dlt", "direct")  # WEBHOOKS__WRITE_PATH: the old path first, then the new one


def path_env(path: str) -> dict[str, str]:
    return {**os.environ, "WEBHOOKS__WRITE_PATH": path}


def serve_process(db: Path, port: int, path: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines", "-q", "serve", "--db", str(db), "--port", str(port),
         "--sync-every", "0", "--reconcile-every", "0", "--renew-every", "0"], cwd=REPO,
        env=path_env(path))


def write_counts(db: Path) -> int:
    """Batches the applier wrote (one `_dlt_loads` row each, on either path)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return int(con.execute("SELECT count(*) FROM clio._dlt_loads").fetchone()[0])
    finally:
        con.close()


def continuous(args: argparse.Namespace, seed: int, path: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "clio_sync.duckdb"
        build_warehouse(db)
        inbox_file = store.inbox_path(db)
        tokens = register(inbox_file)
        batch = events(int(args.rate * args.seconds), seed, 1_000)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = serve_process(db, port, path)
        loads = write_counts(db)
        try:
            _wait_up(base)
            warm_up(base, tokens, inbox_file)
            started = time.perf_counter()
            sent = asyncio.run(send_all(base, tokens, batch, args.rate))
            wait_applied(inbox_file, 120)
            elapsed = time.perf_counter() - started
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait()
        lag, share = lags(batch, sent, inbox_file, db)
        batches = write_counts(db) - loads
    return {"path": path, "mode": f"continuous, offered {args.rate:.0f}/s", "events": len(lag),
            "per_second": len(lag) / elapsed, "p50_s": statistics.median(lag),
            "p99_s": statistics.quantiles(lag, n=100)[98], "max_s": max(lag),
            "applier_p50_s": statistics.median(share),
            "applier_p99_s": statistics.quantiles(share, n=100)[98],
            "batches": batches, "load": os.getloadavg()[0]}


def one_pass(args: argparse.Namespace, seed: int, path: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "clio_sync.duckdb"
        build_warehouse(db)
        inbox_file = store.inbox_path(db)
        tokens = register(inbox_file)
        batch = events(args.backlog, seed, 1_000)
        receiver, base = start_receiver(inbox_file, RECEIVER)
        try:
            asyncio.run(send_all(base, tokens, batch, None))
        finally:
            receiver.terminate()
            receiver.wait()
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pipelines", "-q", "webhooks", "apply", "--db",
                        str(db)], cwd=REPO, check=True, env=path_env(path))
        elapsed = time.perf_counter() - started
        applied = len(applied_at(db))
    return {"path": path, "mode": f"one pass over a backlog of {args.backlog}",
            "events": applied, "per_second": applied / elapsed, "seconds": elapsed,
            "load": os.getloadavg()[0]}


def _wait_up(base: str) -> None:
    import httpx

    for _ in range(400):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise SystemExit("serve did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=1000.0, help="offered events/s")
    parser.add_argument("--seconds", type=float, default=15.0, help="continuous duration")
    parser.add_argument("--backlog", type=int, default=20_000, help="events for the one pass")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, list[dict]] = {p: [] for p in PATHS}
    passes: dict[str, list[dict]] = {p: [] for p in PATHS}
    for r in range(args.repeats):
        for path in PATHS:  # interleaved, so both paths see the same machine
            runs[path].append(continuous(args, r, path))
            print(f"round {r + 1} {runs[path][-1]}", flush=True)
        for path in PATHS:
            passes[path].append(one_pass(args, r, path))
            print(f"round {r + 1} {passes[path][-1]}", flush=True)
    write_results(runs, passes, args)


def _median(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def write_results(runs: dict[str, list[dict]], passes: dict[str, list[dict]],
                  args: argparse.Namespace) -> None:
    rounds = len(runs["direct"])
    lines = [
        "## Applier: throughput and end-to-end lag, dlt load vs direct write (2-core machine)",
        "",
        f"Command: `.venv/bin/python {shlex.join(['bench/webhooks_applier.py', *sys.argv[1:]])}`",
        "",
        f"Medians over {rounds} rounds; in each round both write paths run one after the "
        "other (`WEBHOOKS__WRITE_PATH=dlt`: a dlt load per batch, the old path; `direct`: "
        "one DuckDB transaction per batch), each against a fresh warehouse of 10,000 "
        "contacts and 5,000 bills (with child rows) loaded by the sync's loader. Events: "
        "60% contacts, 40% bills; 85% updates, 10% creations, 5% deletions (of contacts); "
        "full records. `clio-sync serve`: the receiver, and the applier as its child "
        "process (`webhooks apply --follow`). Lag: sent by the load generator -> committed "
        "in DuckDB (`clio._webhook_applies.applied_at`); applier lag: received (fsynced in "
        "the inbox) -> committed, the applier's share. The load generator shares the 2 "
        "cores with the receiver, the applier and other sessions' work; `load` is the "
        "1-minute load average at the end of each measurement (median of the rounds).",
        "",
        "| path | mode | events | applied/s | p50 lag s | p99 lag s | max lag s "
        "| applier p50 s | applier p99 s | batches | load |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for path in PATHS:
        rows = runs[path]
        lines.append(
            f"| {path} | {rows[0]['mode']} | {_median(rows, 'events'):.0f} | "
            f"{_median(rows, 'per_second'):.0f} | {_median(rows, 'p50_s'):.2f} | "
            f"{_median(rows, 'p99_s'):.2f} | {_median(rows, 'max_s'):.2f} | "
            f"{_median(rows, 'applier_p50_s'):.2f} | {_median(rows, 'applier_p99_s'):.2f} | "
            f"{_median(rows, 'batches'):.0f} | {_median(rows, 'load'):.2f} |")
    for path in PATHS:
        rows = passes[path]
        lines.append(
            f"| {path} | {rows[0]['mode']} | {_median(rows, 'events'):.0f} | "
            f"{_median(rows, 'per_second'):.0f} | | | | | | | {_median(rows, 'load'):.2f} |")
    old, new = runs["dlt"], runs["direct"]
    ratio_p99 = _median(old, "p99_s") / _median(new, "p99_s")
    ratio_share = _median(old, "applier_p99_s") / _median(new, "applier_p99_s")
    ratio_pass = _median(passes["direct"], "per_second") / _median(passes["dlt"], "per_second")
    lines += [
        "",
        "Each round (p99 lag s / applier p99 s, load average): " + "; ".join(
            f"dlt {o['p99_s']:.2f} / {o['applier_p99_s']:.2f} ({o['load']:.2f}), direct "
            f"{n['p99_s']:.2f} / {n['applier_p99_s']:.2f} ({n['load']:.2f})"
            for o, n in zip(old, new, strict=True)) + ".",
        "",
        f"Direct vs dlt at {args.rate:.0f}/s offered: p99 lag {ratio_p99:.1f}x lower, the "
        f"applier's p99 share {ratio_share:.1f}x lower; one pass over a backlog "
        f"{ratio_pass:.1f}x the throughput.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    old_text = RESULTS.read_text() if RESULTS.exists() else "# Webhooks benchmarks\n\n"
    RESULTS.write_text(_replace_section(old_text, "## Applier", text))


if __name__ == "__main__":
    main()
