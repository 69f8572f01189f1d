"""The Airflow DAG of docs/orchestrators.md (#10.5): the page shows examples/airflow_dag.py
verbatim, and what the DAG uses exists (Airflow itself is not installed here)."""

from __future__ import annotations

import ast
import importlib
import re
from importlib.util import find_spec
from pathlib import Path

ROOT = Path(__file__).parents[2]
DAG = ROOT / "examples" / "airflow_dag.py"
DOC = ROOT / "docs" / "orchestrators.md"


def imported_names(tree: ast.Module) -> dict[str, list[str]]:
    return {node.module: [a.name for a in node.names]
            for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}


def test_the_page_shows_the_example_file_verbatim() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert DAG.read_text() in blocks


def test_what_the_dag_imports_from_clio_sync_exists() -> None:
    names = imported_names(ast.parse(DAG.read_text()))
    ours = {module: items for module, items in names.items() if module.startswith("pipelines")}
    assert ours
    for module, items in ours.items():
        imported = importlib.import_module(module)
        assert all(hasattr(imported, item) for item in items), module


def test_dlts_airflow_helper_has_what_the_dag_calls() -> None:
    # the helper imports Airflow, so read it instead of importing it
    spec = find_spec("dlt.helpers.airflow_helper")
    assert spec is not None and spec.origin is not None
    helper = ast.parse(Path(spec.origin).read_text())
    group = next(n for n in helper.body
                 if isinstance(n, ast.ClassDef) and n.name == "PipelineTasksGroup")
    methods = {n.name: n for n in group.body if isinstance(n, ast.FunctionDef)}
    init_args = {a.arg for a in methods["__init__"].args.args + methods["__init__"].args.kwonlyargs}
    assert "wipe_local_data" in init_args
    run_args = {a.arg for a in methods["add_run"].args.args + methods["add_run"].args.kwonlyargs}
    assert {"pipeline", "data", "decompose"} <= run_args
    assert "PipelineTasksGroup" in imported_names(ast.parse(DAG.read_text()))[
        "dlt.helpers.airflow_helper"]
