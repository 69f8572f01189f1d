"""Cross-firm views for integrators, in schema `firms` of the DuckDB warehouse.

    firms.sync_runs       every firm's `clio_<firm>._sync_runs`, with a `firm` column
    firms.last_runs       per firm: its last run's status, times, records and requests
    firms.ar_by_firm      per firm and currency: clients owing, total outstanding (Clio's
                          own `outstanding_client_balances`, replaced on every run)

They are plain unions over the firms' schemas, rebuilt after each `run --all-firms`
(a firm added since shows up then). A firm whose tables do not exist yet is left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb

from pipelines import warehouse
from pipelines.firms.profiles import schemas

SCHEMA = "firms"


def build_cross_firm_views(db: Path, firms: Iterable[str]) -> list[str]:
    """(Re)build the views over `firms` in one transaction; the caller holds the writer
    lock. Returns the views built."""
    con = warehouse.connect(db)
    try:
        con.execute("begin")
        built = _build(con, sorted(set(firms)))
        con.execute("commit")
        return built
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.close()


def _build(con: duckdb.DuckDBPyConnection, firms: list[str]) -> list[str]:
    tables = {(schema, table) for schema, table in con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_catalog = current_database()").fetchall()}
    con.execute(f"create schema if not exists {SCHEMA}")

    def having(table: str) -> list[tuple[str, str]]:
        return [(firm, schemas(firm).raw) for firm in firms
                if (schemas(firm).raw, table) in tables]

    views = {
        "sync_runs": _union(having("_sync_runs"), "select '{firm}' as firm, * from {raw}._sync_runs",
                            "select null::varchar as firm, null::varchar as run_id, "
                            "null::timestamptz as started_at, null::timestamptz as finished_at, "
                            "null::varchar as status, null::varchar as error, "
                            "null::bigint as records, null::bigint as requests"),
        "ar_by_firm": _union(
            having("outstanding_client_balances"),
            "select '{firm}' as firm, currency__code as currency, "
            "count(*) filter (where total_outstanding_balance > 0) as clients_owing, "
            "coalesce(sum(total_outstanding_balance), 0) as total_outstanding "
            "from {raw}.outstanding_client_balances group by all",
            "select null::varchar as firm, null::varchar as currency, "
            "null::bigint as clients_owing, null::decimal(38, 2) as total_outstanding"),
    }
    for name, sql in views.items():
        con.execute(f"create or replace view {SCHEMA}.{name} as {sql}")
    con.execute(
        f"create or replace view {SCHEMA}.last_runs as "
        "select firm, run_id, any_value(status) as status, any_value(error) as error, "
        "min(started_at) as started_at, max(finished_at) as finished_at, "
        "sum(records) as records, sum(requests) as requests "
        f"from {SCHEMA}.sync_runs where firm is not null "
        "group by firm, run_id "
        "qualify row_number() over (partition by firm order by min(started_at) desc) = 1"
    )
    return [f"{SCHEMA}.{name}" for name in (*views, "last_runs")]


def _union(firms: list[tuple[str, str]], template: str, empty: str) -> str:
    if not firms:
        return f"{empty} limit 0"
    return " union all by name ".join(template.format(firm=firm, raw=raw) for firm, raw in firms)
