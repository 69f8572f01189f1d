"""A sync in its own process that stops dead inside the load step, for kill -9 tests.

    python pause_worker.py DB TOKEN_STORE BASE_URL READY_FILE TABLE [--full-refresh]

The worker runs a real sync against the sandbox and stops at the most exposed moment of
writing the final table `clio.TABLE` (not its staging copy): when dlt replaces its rows
(`DELETE FROM t; INSERT INTO t ...` sent as one string), just after the DELETE ran and
before the INSERT; when dlt only inserts (the table was emptied earlier), just after the
INSERT; when the refresh replaces the table without dlt (`direct_replace.py`), just after
the table was swapped for its staging copy, in the transaction that swaps them all (every
staging copy committed). There it writes READY_FILE and blocks forever: the parent kills it with SIGKILL.
Splitting dlt's string in two keeps its meaning: inside a transaction both parts are in
it; outside one, each part commits on its own, which is what a kill would expose.
"""

from __future__ import annotations

import re
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

from dlt.destinations.impl.duckdb.sql_client import DuckDbSqlClient

from pipelines.clio import direct_replace
from pipelines.clio.config import load_settings
from pipelines.clio.sync import sync


def pause_in_write_of(table: str, ready: Path) -> None:
    name = rf'(?:"[^"]+"\.)?"clio"\."{re.escape(table)}"'
    swap = re.compile(rf"^\s*(DELETE FROM {name}[^;]*;)(.*INSERT INTO {name}.*)$",
                      re.IGNORECASE | re.DOTALL)
    insert = re.compile(rf"INSERT INTO {name}", re.IGNORECASE)
    original = DuckDbSqlClient.execute_query

    def stop_here(query: str) -> None:
        ready.write_text(query[:200])
        threading.Event().wait()  # until SIGKILL

    @contextmanager
    def execute_query(self, query, *args, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(query, str) and not ready.exists():
            replaced = swap.match(query)
            if replaced:
                with original(self, replaced.group(1), *args, **kwargs):
                    pass
                stop_here(replaced.group(1))
        with original(self, query, *args, **kwargs) as cursor:
            yield cursor
        if isinstance(query, str) and insert.search(query) and not ready.exists():
            stop_here(query)

    DuckDbSqlClient.execute_query = execute_query  # type: ignore[method-assign]

    original_swap = direct_replace._swap

    def direct_swap(con, dataset, target):  # type: ignore[no-untyped-def]
        original_swap(con, dataset, target)
        if target == table and not ready.exists():
            stop_here(f"{target} swapped for its staging copy; the transaction not committed")

    direct_replace._swap = direct_swap  # type: ignore[assignment]


def main(db: str, store: str, base_url: str, ready: str, table: str, *flags: str) -> int:
    settings = load_settings(base_url=base_url, region="us", api="manage", token_store=store,
                             client_id="sandbox", client_secret="sandbox-secret")
    pause_in_write_of(table, Path(ready))
    sync(Path(db), settings, full_refresh="--full-refresh" in flags)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
