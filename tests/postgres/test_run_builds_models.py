"""`run --destination postgres` builds the SQL models on the server after the load, as `run`
does on DuckDB: the reports are there to read without a separate `models` command."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
from pg_helpers import pg_query
from sync_helpers import requires_generated_firm, sandbox_env

REPO = Path(__file__).resolve().parents[2]
BALANCES = ("select client_id, currency, total_outstanding from reports.outstanding_balances "
            "order by client_id, currency")


def clio_balances(sb) -> list[tuple[int, str, Decimal]]:
    """Clio's own outstanding client balances (the sandbox's truth), non-zero ones."""
    return sorted((r["contact"]["id"], r["currency"]["code"],
                   Decimal(str(r["total_outstanding_balance"])).quantize(Decimal("0.01")))
                  for r in sb.truth("outstanding_client_balances")
                  if r["total_outstanding_balance"])


def run(sb, tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **sandbox_env(sb, tmp_path)}
    return subprocess.run([sys.executable, "-m", "pipelines", "--log-format", "plain", "run",
                           *argv], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)


@requires_generated_firm
def test_run_into_postgres_builds_the_reports_on_the_server(sandbox, pg, tmp_path, db) -> None:
    proc = run(sandbox, tmp_path, "--db", str(db), "--destination", "postgres")
    assert proc.returncode == 0, proc.stderr
    assert "rebuilt" in proc.stderr and "models" in proc.stderr

    on_server = pg_query(pg, BALANCES)
    assert on_server and on_server == clio_balances(sandbox)
    # the same firm run into DuckDB builds the same report, row for row
    local = tmp_path / "local" / "clio_sync.duckdb"
    assert run(sandbox, tmp_path, "--db", str(local)).returncode == 0
    con = duckdb.connect(str(local), read_only=True)
    try:
        assert con.execute(BALANCES).fetchall() == on_server
    finally:
        con.close()
    assert not db.exists()  # the server run left no DuckDB warehouse behind
