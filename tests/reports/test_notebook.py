"""notebooks/ar_analysis.ipynb and notebooks/productivity.ipynb run top to bottom on real
warehouses (the hand-built firms, and the demo firm synced from the sandbox), and are
committed clean."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import nbformat
import pytest
from nbclient import NotebookClient

from .conftest import DEMO_FIRM, FIRM_TZ, SANDBOX_TZ, TODAY

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOK = NOTEBOOKS / "ar_analysis.ipynb"
PRODUCTIVITY = NOTEBOOKS / "productivity.ipynb"


def execute(cwd: Path, notebook: Path = NOTEBOOK) -> list[dict]:
    """Run every cell with the kernel in `cwd`; the outputs of the code cells."""
    nb = nbformat.read(notebook, as_version=4)
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(cwd)}},
    ).execute()  # raises CellExecutionError on the first failing cell
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def images(outputs: list[dict]) -> list[dict]:
    return [o for o in outputs if "image/png" in o.get("data", {})]


@pytest.mark.parametrize("notebook", [NOTEBOOK, PRODUCTIVITY], ids=lambda p: p.stem)
def test_is_committed_without_outputs(notebook):
    nb = nbformat.read(notebook, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


@pytest.mark.slow
def test_runs_every_cell_on_the_firm_warehouse(firm_db, tmp_path, monkeypatch):
    db = tmp_path / "clio_sync.duckdb"
    shutil.copy(firm_db, db)
    monkeypatch.setenv("CLIO_SYNC_DB", str(db))
    monkeypatch.setenv("REPORTS__TODAY", TODAY)
    monkeypatch.setenv("REPORTS__TIMEZONE", FIRM_TZ)
    outputs = execute(NOTEBOOK.parent)
    assert len(images(outputs)) >= 6  # aging x2 currencies, overdue x2, billed/collected x2, ...
    assert any(f"as of {TODAY} ({FIRM_TZ})" in o.get("text", "") for o in outputs)


@pytest.mark.slow
def test_runs_every_cell_on_the_demo_database(generated_firm, tmp_path, monkeypatch):
    """The demo firm synced over HTTP, found where `clio-sync demo` leaves it
    (data/demo.duckdb under the working folder) without CLIO_SYNC_DB."""
    demo = generated_firm(*DEMO_FIRM)["lived"]
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "demo.duckdb").symlink_to(demo.db)
    monkeypatch.delenv("CLIO_SYNC_DB", raising=False)
    monkeypatch.setenv("REPORTS__TODAY", demo.today.isoformat())
    monkeypatch.setenv("REPORTS__TIMEZONE", SANDBOX_TZ)
    outputs = execute(tmp_path)
    with duckdb.connect(str(demo.db), read_only=True) as con:
        charts_per_currency = con.execute("""
            select (select count(distinct currency) from reports.ar_aging_detail)
                 + (select count(distinct currency) from reports.outstanding_balances
                    where overdue_outstanding > 0)
                 + (select count(distinct currency) from reports.billing_kpis_monthly)
        """).fetchone()[0]
    assert charts_per_currency >= 9  # three currencies in each of the three charts
    assert len(images(outputs)) == charts_per_currency + 2  # + days to pay, DSO
    text = "".join(o.get("text", "") for o in outputs)
    assert f"data/demo.duckdb as of {demo.today} ({SANDBOX_TZ})" in text


@pytest.mark.soak
def test_productivity_runs_every_cell_on_the_whole_firm(whole_firm_db, tmp_path, monkeypatch):
    db = tmp_path / "clio_sync.duckdb"
    shutil.copy(whole_firm_db, db)
    monkeypatch.setenv("CLIO_SYNC_DB", str(db))
    monkeypatch.setenv("REPORTS__TODAY", TODAY)
    monkeypatch.setenv("REPORTS__TIMEZONE", FIRM_TZ)
    outputs = execute(NOTEBOOKS, PRODUCTIVITY)
    # unbilled by matter and by timekeeper in EUR and USD, hours, utilization, realization
    # in EUR and USD, utilization per timekeeper
    assert len(images(outputs)) == 9
    assert any(f"as of {TODAY} ({FIRM_TZ}), 8 h a working day" in o.get("text", "")
               for o in outputs)


@pytest.mark.slow
def test_productivity_runs_every_cell_on_the_demo_database(generated_firm, tmp_path, monkeypatch):
    demo = generated_firm(*DEMO_FIRM)["lived"]
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "demo.duckdb").symlink_to(demo.db)
    monkeypatch.delenv("CLIO_SYNC_DB", raising=False)
    monkeypatch.setenv("REPORTS__TODAY", demo.today.isoformat())
    monkeypatch.setenv("REPORTS__TIMEZONE", SANDBOX_TZ)
    outputs = execute(tmp_path, PRODUCTIVITY)
    with duckdb.connect(str(demo.db), read_only=True) as con:
        unbilled, billed = con.execute("""
            select (select count(distinct currency) from reports.unbilled_work),
                   (select count(distinct currency) from reports.timekeeper_productivity_monthly
                    where billed_amount > 0 and currency is not null
                      and month <= date_trunc('month', ?::date))
        """, [demo.today]).fetchone()
    assert unbilled >= 3 and billed >= 3  # the demo firm works in three currencies
    assert len(images(outputs)) == 2 * unbilled + billed + 3  # + hours, utilization x2
    text = "".join(o.get("text", "") for o in outputs)
    assert f"data/demo.duckdb as of {demo.today} ({SANDBOX_TZ})" in text
