"""notebooks/ar_analysis.ipynb runs top to bottom on a real warehouse, and is committed clean."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from .conftest import FIRM_TZ, TODAY

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "ar_analysis.ipynb"


def test_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


@pytest.mark.slow
def test_runs_every_cell_on_the_firm_warehouse(firm_db, tmp_path, monkeypatch):
    db = tmp_path / "clio_sync.duckdb"
    shutil.copy(firm_db, db)
    monkeypatch.setenv("CLIO_SYNC_DB", str(db))
    monkeypatch.setenv("REPORTS__TODAY", TODAY)
    monkeypatch.setenv("REPORTS__TIMEZONE", FIRM_TZ)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        nb, timeout=120, kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    ).execute()  # raises CellExecutionError on the first failing cell
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 6  # aging x2 currencies, overdue x2, billed/collected x2, ...
    assert any(f"as of {TODAY} ({FIRM_TZ})" in o.get("text", "") for o in outputs)
