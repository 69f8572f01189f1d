"""`clio-sync run --all-firms --parallel N`: every firm profile, each in its own process.

A process per firm keeps firms apart: a firm whose token was revoked, whose Clio answers
503s, or whose run crashes outright fails alone, with its name, while the others go on;
its schema gets nothing partial (a failed run commits nothing, DESIGN invariant 6). At
most N run at once (a thread per slot waits on its process, with a time limit). Each
has its own token store, watermarks, dlt pipeline and rate budget (its own client: a
token's rate limit is the firm's). With DuckDB they share one file: their loads take
turns under the writer lock while their reads of Clio overlap (`turns.py`).

Each run writes its outcome to a small JSON file and its log to
`<dlt folder>/firm_logs/<firm>.log`; once all are done, the cross-firm views are rebuilt
(`views.py`), the read snapshot is published once, and a table per firm is printed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from pipelines import warehouse
from pipelines.errors import ClioSyncError, ConfigError
from pipelines.firms.commands import MAX_PARALLEL
from pipelines.firms.profiles import firm_names
from pipelines.private_files import make_private_dirs

log = logging.getLogger(__name__)


class FirmsFailed(ClioSyncError):
    """One or more firms' runs failed (the others completed)."""


@dataclass
class FirmOutcome:
    """How one firm's run ended."""

    firm: str
    status: str = "failed"
    records: int = 0
    requests: int = 0
    retries: int = 0
    throttled_429: int = 0
    seconds: float = 0.0
    held_seconds: float | None = None  # time it held the writer lock (its loads)
    error: str | None = None
    log: Path | None = None


def run_all(args: argparse.Namespace) -> int:
    """Run every firm (see the module doc); raise `FirmsFailed` if any failed."""
    from pipelines.clio.commands import _plain

    parallel = args.parallel
    if not 1 <= parallel <= MAX_PARALLEL:
        raise ConfigError(f"--parallel is {parallel}; give a number from 1 to {MAX_PARALLEL} "
                          "(firms synced at once; each waits on its own Clio rate limit).")
    if args.firm_timeout <= 0:
        raise ConfigError("--firm-timeout must be more than 0 seconds.")
    names = firm_names()
    if not names:
        raise ConfigError(
            "--all-firms found no firm profile. Add a [firms.<name>] section per firm to "
            ".dlt/secrets.toml (or FIRMS__<NAME>__... variables), with the keys of "
            "[sources.clio]; see docs/many-firms.md."
        )
    db = warehouse.resolve_db(args.db)
    warehouse.make_folders(db)
    logs = warehouse.pipelines_dir(db) / "firm_logs"
    make_private_dirs(logs)
    started = time.monotonic()
    with (tempfile.TemporaryDirectory(prefix="clio-sync-firms-") as scratch,
          ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="firm") as pool):
        outcomes = list(pool.map(
            lambda name: _run_one(name, args, db, logs / f"{name}.log", Path(scratch)), names))
    if args.destination == "duckdb":
        from pipelines.firms.views import build_cross_firm_views

        with warehouse.writer_lock(db, "clio-sync run --all-firms", timeout=_lock_timeout(args)):
            build_cross_firm_views(db, [o.firm for o in outcomes])
    if not args.quiet:
        print_outcomes(outcomes, time.monotonic() - started, parallel, plain=_plain(args))
    failed = [o for o in outcomes if o.status != "ok"]
    if failed:
        causes = "; ".join(f"{o.firm} ({o.error or 'no cause recorded'})" for o in failed)
        raise FirmsFailed(
            f"{len(failed)} of {len(outcomes)} firms failed: {causes}. The other firms were "
            "synced. Each failed firm's log is in " + str(logs) + "; fix its cause (its token, "
            "its settings) and run `clio-sync --firm NAME run` for it, or the next "
            "--all-firms run retries it."
        )
    return 0


def _lock_timeout(args: argparse.Namespace) -> float:
    return args.lock_timeout if args.lock_timeout is not None else warehouse.DEFAULT_LOCK_TIMEOUT


def child_command(name: str, args: argparse.Namespace, db: Path, summary: Path) -> list[str]:
    """The command line of one firm's run (the same interpreter and package)."""
    command = [sys.executable, "-m", "pipelines", "--log-format", "plain", "--firm", name,
               "run", "--db", str(db), "--taking-turns", "--summary-json", str(summary),
               "--destination", args.destination, "--quiet"]
    if args.resources:
        command += ["--resources", args.resources]
    if args.full_refresh:
        command.append("--full-refresh")
    if args.lock_timeout is not None:
        command += ["--lock-timeout", str(args.lock_timeout)]
    return command


def _run_one(name: str, args: argparse.Namespace, db: Path, log_path: Path,
             scratch: Path) -> FirmOutcome:
    summary = scratch / f"{name}.json"
    log.info("%s: sync started", name)
    with log_path.open("w", encoding="utf-8") as log_file:
        try:
            proc = subprocess.run(child_command(name, args, db, summary), stdin=subprocess.DEVNULL,
                                  stdout=log_file, stderr=subprocess.STDOUT,
                                  timeout=args.firm_timeout, env=os.environ.copy())
            code: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            code = None
    outcome = _read_outcome(name, summary, log_path)
    if code is None:
        outcome.status = "failed"
        outcome.error = (f"FirmTimeout: still running after {args.firm_timeout:.0f} s "
                         "(--firm-timeout); stopped")
    elif code != 0 and outcome.status == "ok":
        outcome.status = "failed"
        outcome.error = f"exit status {code}"
    elif code != 0 and outcome.error is None:
        outcome.error = _last_line(log_path) or f"exit status {code}"
    log.log(logging.INFO if outcome.status == "ok" else logging.WARNING, "%s: %s%s", name,
            outcome.status, f" ({outcome.error})" if outcome.error else "")
    return outcome


def _read_outcome(name: str, path: Path, log_path: Path) -> FirmOutcome:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return FirmOutcome(firm=name, log=log_path)  # killed before it could say
    fields = {k: data[k] for k in ("status", "records", "requests", "retries", "throttled_429",
                                   "seconds", "held_seconds", "error") if k in data}
    return FirmOutcome(firm=name, log=log_path, **fields)


def _last_line(path: Path) -> str | None:
    try:
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    except OSError:
        return None
    lines = [line for line in lines if line]
    return lines[-1][:300] if lines else None


def print_outcomes(outcomes: list[FirmOutcome], elapsed: float, parallel: int,
                   plain: bool) -> None:
    """One line per firm: a table on a terminal, log lines for cron."""
    ok = sum(1 for o in outcomes if o.status == "ok")
    title = (f"clio-sync run --all-firms: {ok} of {len(outcomes)} firms ok in {elapsed:.1f} s "
             f"(--parallel {parallel})")
    if plain:
        for o in outcomes:
            log.info("firm %s %s: %d records, %d requests, %d retries, %d 429s, %.1f s%s%s",
                     o.firm, o.status, o.records, o.requests, o.retries, o.throttled_429,
                     o.seconds, "" if o.held_seconds is None else
                     f", writer lock held {o.held_seconds:.1f} s",
                     f" ({o.error})" if o.error else "")
        log.info("%s", title)
        return
    table = Table(title=title, title_justify="left")
    for name in ("firm", "status", "records", "requests", "retries", "429s", "seconds", "error"):
        table.add_column(name, justify="left" if name in ("firm", "status", "error") else "right")
    for o in outcomes:
        table.add_row(o.firm, o.status, str(o.records), str(o.requests), str(o.retries),
                      str(o.throttled_429), f"{o.seconds:.1f}", o.error or "",
                      style=None if o.status == "ok" else "red")
    Console(stderr=False).print(table)
