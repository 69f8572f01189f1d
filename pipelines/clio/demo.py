"""`clio-sync demo`: the whole pipeline against the sandbox, in under a minute.

Starts the sandbox (a generated firm) on a free loopback port, mints a token through its
control API into a token store beside the database, runs a full sync (of Clio Manage, then
of Clio Grow, the firm's intake), lets the firm live a day, runs an incremental sync (a
handful of requests instead of hundreds), rebuilds the SQL models when they exist and
prints what landed where, and a line of the intake funnel.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
from rich.console import Console
from rich.table import Table

from pipelines import warehouse
from pipelines.clio.auth import store_for, token_set_from_answer
from pipelines.clio.config import ClioSettings, load_settings
from pipelines.clio.deletions import DATASET
from pipelines.clio.summary import RunSummary
from pipelines.clio.sync import build_models_if_present, sync
from pipelines.reports.summary import summary_lines

if TYPE_CHECKING:
    from pipelines.sandbox.config import Scale

DEMO_DB = Path("data/demo.duckdb")
SANDBOX_APP = {"client_id": "sandbox", "client_secret": "sandbox-secret"}
DEMO_RATE_LIMIT = (1000, 1.0)  # generous, yet the headers are there and pacing is live

log = logging.getLogger(__name__)


def demo_settings(base_url: str, answer: dict[str, Any], token_store: Path) -> ClioSettings:
    """Settings of the sandbox connection, with the minted token written to `token_store`."""
    settings = load_settings(base_url=base_url, region="us", api="manage",
                             token_store=token_store, **SANDBOX_APP)
    store_for(settings).save(token_set_from_answer(answer, settings))
    return settings


def run_demo(db: Path, scale: Scale = "small", console: Console | None = None) -> dict[str, int]:
    """Run the demo into `db`; returns the row count of every raw table."""
    from pipelines.clio.reconcile import reconcile
    from pipelines.grow.demo import DEMO_LIMIT, demo_grow_settings, funnel_line
    from pipelines.grow.sync import grow_sync
    from pipelines.sandbox.grow.options import GrowOptions
    from pipelines.sandbox.harness import serve_sandbox

    console = console or Console()
    progress = sys.stderr.isatty()
    started = time.monotonic()
    console.print(f"Starting the sandbox ({scale} firm)...")
    grow_options = GrowOptions(rate_limit=DEMO_LIMIT)
    with serve_sandbox(scale=scale, seed=7, rate_limit=DEMO_RATE_LIMIT, grow=grow_options) as sb:
        console.print(f"Sandbox at {sb.base_url}")
        settings = demo_settings(sb.base_url, sb.token(), db.parent / f"{db.stem}-token.json")
        grow = demo_grow_settings(sb.base_url, sb.grow.token(), db.parent, db.stem)
        with warehouse.writer_lock(db, "clio-sync demo"):
            full = sync(db, settings, full_refresh=True, show_progress=progress)
            _said("Full sync", full, console)
            _said("Clio Grow full sync", grow_sync(db, grow, full_refresh=True,
                                                   show_progress=progress), console)
            changes = sb.advance(days=1)
            console.print(f"The firm lived a day: {sum(changes.values())} changes "
                          f"({', '.join(f'{k} {v}' for k, v in changes.items() if v)})")
            incremental = sync(db, settings, show_progress=progress)
            _said("Incremental sync", incremental, console)
            console.print(f"The incremental run needed {incremental.requests} requests instead "
                          f"of {full.requests}.")
            # the day deleted records outright, which no `updated_since` lists: a nightly
            # reconcile (an ids-only scan) removes them, so the checks agree with Clio
            gone = reconcile(db, settings)
            console.print(f"Reconcile removed {sum(r.deleted for r in gone)} records deleted at "
                          f"Clio, in {sum(r.requests for r in gone)} requests.")
            _said("Clio Grow incremental sync", grow_sync(db, grow, show_progress=progress),
                  console)
            built = build_models_if_present(db)
    counts = _print_tables(db, built, console)
    line = funnel_line(db) if built else None
    if line:
        console.print(line, soft_wrap=True)
    console.print(f"Done in {time.monotonic() - started:.0f} s. The warehouse is {db}", soft_wrap=True)
    console.print(f"Try: clio-sync sql --db {db} \"select * from {DATASET}.bills limit 5\"",
                  soft_wrap=True)
    if built:
        console.print(f"     clio-sync report ar-aging --db {db}", soft_wrap=True)
        console.print(f"     clio-sync report intake-funnel --db {db}", soft_wrap=True)
    return counts


def _said(what: str, summary: RunSummary, console: Console) -> None:
    console.print(f"{what}: {summary.records} records in {summary.requests} requests, "
                  f"{summary.elapsed:.1f} s")


def _print_tables(db: Path, built: list[str] | None, console: Console) -> dict[str, int]:
    con = warehouse.connect(db, read_only=True)
    try:
        names = [n for (n,) in con.execute(
            "select table_name from information_schema.tables where table_schema = ? "
            "and table_type = 'BASE TABLE' and table_name not like '\\_%' escape '\\' "
            "order by 1", [DATASET]).fetchall()]
        counts = {n: (con.execute(f'select count(*) from {DATASET}."{n}"').fetchone() or (0,))[0]
                  for n in names}
        ar = _ar_total(con) if built else None
        firm_lines = summary_lines(con) if built else []
    finally:
        con.close()
    table = Table(title=f"schema {DATASET}", title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in counts.items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    if built:
        console.print(f"Built {len(built)} SQL models (schema reports).")
    if ar:
        console.print("Accounts receivable: " + ", ".join(f"{cur} {amount:,.2f}" for cur, amount in ar))
    for line in firm_lines:
        console.print(line, soft_wrap=True)
    return counts


def _ar_total(con: duckdb.DuckDBPyConnection) -> list[tuple[str, float]] | None:
    """Outstanding receivables per currency from the AR report, if it is there."""
    try:
        return con.execute(
            "select currency, sum(total_outstanding) from reports.outstanding_balances "
            "group by 1 order by 1"
        ).fetchall()
    except Exception as exc:  # the report is optional; the demo still succeeded
        log.debug("no AR total: %s", exc)
        return None
