"""Benchmark (a): a full sync of the sandbox's generated firm, rate limiting off.

Three variants, side by side, each in a fresh process against the same sandbox process
(interleaved, so drift in the machine's load hits every variant alike; in each round the
slow baseline runs first, so that the floor, `before` and clio-sync, whose ratios matter
most, run back to back rather than five minutes apart):

- floor: the same pages fetched and JSON-parsed by the same client, nothing loaded;
- baseline: dlt's generic `rest_api` source on the same endpoints, fields, page sizes and
  state filters (`JSONLinkPaginator` on `meta.paging.next`, `updated_since` incremental
  on `updated_at`), merged into DuckDB;
- clio-sync: `pipelines.clio.sync.sync` (what `clio-sync run` does, minus the SQL models).

Goal (issue 12, item 2, on `large`): clio-sync records/s >= 6x the baseline and >= 0.9x the
floor; peak RSS of the clio-sync process < 300 MB (issues 3 and 9 asked 5x, 0.75x, 500 MB).
How cost and memory grow with the firm: `bench/sync_scaling.py`. Requests are counted by the sandbox for every
variant, and the rows each loader left in DuckDB are counted against the records served.

    .venv/bin/python bench/sync_full.py [--scale large|small] [--seed 7] [--repeat 3]
                                        [--before COMMIT]

`--before COMMIT` adds a variant `before`: clio-sync as of that commit (exported with
`git archive` to a temporary folder and run from there), interleaved with the others, so
a change is measured against its base in the same run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.revisions import checkout
from bench.sync_common import (
    LoadWatch,
    add_firm_arguments,
    clear_server_counts,
    command_line,
    describe_firm,
    machine,
    median,
    report,
    run_worker,
    sandbox_env,
    sandbox_process,
    server_counts,
    write_results,
)

VARIANTS = ("baseline", "floor", "clio-sync")  # the order of each round


def floor_worker(db: Path) -> dict:
    from pipelines.clio.client import ClioClient
    from pipelines.clio.config import load_settings
    from pipelines.clio.endpoints import ENDPOINTS
    from pipelines.clio.source import page_params
    from pipelines.clio.stats import RunStats

    stats = RunStats()
    records = 0
    started = time.perf_counter()
    with ClioClient(load_settings(), stats=stats) as client:
        for endpoint in ENDPOINTS:
            for filters in endpoint.walks:
                params = page_params(endpoint, endpoint.limit, None, filters)
                # not `typed`: the floor parses each page once, into records
                for page in client.iter_pages(endpoint.path, params, resource=endpoint.table):
                    records += len(page.records)
    return {"seconds": time.perf_counter() - started, "records": records,
            "client_requests": stats.total().requests}


def baseline_source(base_url: str, access_token: str):  # type: ignore[no-untyped-def]
    from dlt.sources.rest_api import rest_api_source

    from pipelines.clio.endpoints import API_VERSION, ENDPOINTS

    resources = []
    for endpoint in ENDPOINTS:
        for filters in endpoint.walks:
            # rest_api reads `{...}` in params as placeholders: double the braces
            fields = endpoint.fields.replace("{", "{{").replace("}", "}}")
            params: dict = {"fields": fields, "limit": endpoint.limit}
            if endpoint.takes_order:
                params["order"] = "id(asc)"
            params.update(filters)
            if endpoint.incremental:
                params["updated_since"] = {
                    "type": "incremental", "cursor_path": "updated_at",
                    "initial_value": "1970-01-01T00:00:00+00:00",
                }
            resources.append({
                "name": "_".join([endpoint.table, *filters.values()]),
                "table_name": endpoint.table,
                "write_disposition": "merge" if endpoint.incremental else "replace",
                "endpoint": {"path": endpoint.path, "params": params, "data_selector": "data"},
            })
    return rest_api_source({
        "client": {
            "base_url": f"{base_url}/api/v4/",
            "auth": {"type": "bearer", "token": access_token},
            "headers": {"X-API-VERSION": API_VERSION},
            "paginator": {"type": "json_link", "next_url_path": "meta.paging.next"},
        },
        "resource_defaults": {"primary_key": "id"},
        "resources": resources,
    }, name="clio_rest_api")


def baseline_worker(db: Path) -> dict:
    import os

    import dlt

    from pipelines.clio.config import load_settings

    settings = load_settings()
    source = baseline_source(settings.base_url, os.environ["SOURCES__CLIO__CREDENTIALS__ACCESS_TOKEN"])
    pipeline = dlt.pipeline("baseline", pipelines_dir=str(db.parent / ".dlt"),
                            destination=dlt.destinations.duckdb(str(db)), dataset_name="clio")
    started = time.perf_counter()
    info = pipeline.run(source)
    seconds = time.perf_counter() - started
    info.raise_on_failed_jobs()
    normalized = pipeline.last_trace.last_normalize_info
    counts = normalized.row_counts if normalized else {}
    records = sum(n for table, n in counts.items() if table in _root_tables())
    return {"seconds": seconds, "records": records, "rows": stored_rows(db)}


def _root_tables() -> set[str]:
    from pipelines.clio.endpoints import BY_TABLE

    return set(BY_TABLE)


def stored_rows(db: Path) -> int:
    """Rows in the catalog's root tables of schema `clio` once the load is done."""
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        present = {t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'clio'"
        ).fetchall()}
        return sum(con.execute(f'select count(*) from clio."{t}"').fetchone()[0]  # type: ignore[index]
                   for t in sorted(_root_tables() & present))


def clio_sync_worker(db: Path) -> dict:
    from pipelines.clio.config import load_settings
    from pipelines.clio.sync import sync

    started = time.perf_counter()
    summary = sync(db, load_settings(), full_refresh=True)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "records": summary.records, "rows": stored_rows(db),
            "client_requests": summary.requests,
            "throttled_429": sum(s.throttled_429 for s in summary.resources.values())}


WORKERS = {"floor": floor_worker, "baseline": baseline_worker, "clio-sync": clio_sync_worker}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    add_firm_arguments(parser)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", help="comma-separated variants to run (default: all)")
    parser.add_argument("--before", metavar="COMMIT",
                        help="also run clio-sync as of COMMIT (variant `before`)")
    args = parser.parse_args()
    if args.worker:
        report(WORKERS[args.variant](Path(args.db)))
        return

    variants = args.only.split(",") if args.only else list(VARIANTS)
    if args.before:
        variants.insert(variants.index("clio-sync") if "clio-sync" in variants else len(variants), "before")
    runs: dict[str, list[dict]] = {v: [] for v in variants}
    load = LoadWatch()
    with sandbox_process(args.scale, args.seed) as (base, built), \
            tempfile.TemporaryDirectory() as tmp:
        print(built, flush=True)
        before = Path(tmp) / "before"
        if args.before:
            checkout(args.before, before)
        for i in range(args.repeat):
            for variant in variants:  # interleaved, so drift hits every variant alike
                folder = Path(tmp) / f"{variant}-{i}"
                folder.mkdir()
                env = sandbox_env(base, folder / "token.json")
                script = Path(__file__)
                if variant == "before":  # the old checkout's own worker and package
                    script = before / "bench" / "sync_full.py"
                    env["PYTHONPATH"] = os.pathsep.join([str(before), env.get("PYTHONPATH", "")])
                clear_server_counts(base)
                result = run_worker(script, ["--variant", "clio-sync" if variant == "before" else variant,
                                             "--db", str(folder / "bench.duckdb")], env)
                served = server_counts(base)
                result["requests"], result["served_429"] = served["requests"], served["429"]
                runs[variant].append(result)
                print(f"{variant} #{i + 1}: {result}", flush=True)
                shutil.rmtree(folder)  # a large firm's DuckDB files add up
    write_results("sync_full", args.scale, render(args, built, runs, load.stop()))


def render(args: argparse.Namespace, built: str, runs: dict[str, list[dict]], load: str) -> str:
    med = {v: median([r["seconds"] for r in rs]) for v, rs in runs.items()}
    records = {v: rs[0]["records"] for v, rs in runs.items()}
    rate = {v: records[v] / med[v] for v in runs}
    rss = {v: median([r["peak_rss_mb"] for r in rs]) for v, rs in runs.items()}
    lines = [
        f"# Full sync of the `{args.scale}` sandbox (rate limiting off)",
        "",
        f"Command: `{command_line()}`  ",
        f"Machine: {machine()}; sandbox in its own process; {args.repeat} runs per "
        "variant, interleaved; each run in a fresh process with a fresh token and DuckDB file.  ",
        load,
        "",
        describe_firm(args.scale, args.seed, built),
        "",
        "| variant | median s | records | records/s | client CPU s | rows in DuckDB "
        "| requests (server) | 429s | median peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for v, rs in runs.items():
        stored = rs[0].get("rows")
        lines.append(
            f"| {v} | {med[v]:.2f} | {records[v]:,} | {rate[v]:,.0f} | "
            f"{median([r['cpu_seconds'] for r in rs]):.1f} | "
            f"{'-' if stored is None else f'{stored:,}'} | {rs[0]['requests']:,} | "
            f"{sum(r['served_429'] for r in rs)} | {rss[v]:.0f} |")
    lines.append("")
    if "clio-sync" in rate and "baseline" in rate:
        lines.append("- clio-sync / baseline (records/s): "
                     f"**{rate['clio-sync'] / rate['baseline']:.2f}x** (goal >= 6x)")
    if "clio-sync" in rate and "floor" in rate:
        lines.append("- clio-sync / floor (records/s): "
                     f"**{rate['clio-sync'] / rate['floor']:.2f}x** (goal >= 0.9x)")
    if "clio-sync" in rate and "before" in rate:
        lines.append(f"- clio-sync / before ({args.before}, records/s): "
                     f"**{rate['clio-sync'] / rate['before']:.2f}x**; client CPU s "
                     f"{median([r['cpu_seconds'] for r in runs['before']]):.1f} -> "
                     f"{median([r['cpu_seconds'] for r in runs['clio-sync']]):.1f}")
    if "clio-sync" in runs:
        worst = max(r["peak_rss_mb"] for r in runs["clio-sync"])
        lines.append(f"- clio-sync peak RSS: **{rss['clio-sync']:.0f} MB** median, "
                     f"{worst:.0f} MB worst (goal < 300 MB)")
    lines += [
        "- records: what the variant read (floor, clio-sync: records in pages; baseline: rows "
        "dlt normalized into the root tables); rows in DuckDB: rows in the root tables after "
        "the load (fewer than the records read by the number of records two walks list: "
        "deleted custom fields, which the sandbox's plain index lists too, are stored once); "
        "requests: API requests the sandbox answered during the run; client CPU s: "
        "user + system CPU of the whole worker process (imports included, all threads), "
        "median; the sandbox's CPU is not in it.",
        "- baseline: dlt's generic `rest_api` source on the same endpoints, `fields`, page "
        "sizes and state filters (`JSONLinkPaginator` on `meta.paging.next`, `updated_since` "
        "incremental), merged into DuckDB with dlt's defaults (no explicit column types).",
    ]
    every = "; ".join(
        f"{v}: " + ", ".join(f"{r['seconds']:.2f}" for r in rs) for v, rs in runs.items()
    )
    rss_all = "; ".join(
        f"{v}: " + ", ".join(f"{r['peak_rss_mb']:.0f}" for r in rs) for v, rs in runs.items()
    )
    lines += ["", f"All runs (seconds): {every}  ", f"All runs (peak RSS MB): {rss_all}", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
