"""What a user installs: the wheel carries every file the package reads at run time, and
the command installed from it builds every SQL model from a folder outside the checkout.

`.ci/run` also installs the wheel with its dependencies into a fresh venv and runs the
demo from it (about 40 s); here the venv borrows this one's dependencies, so the test
stays fast while the package itself comes only from the wheel.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pipelines.reports.custom_field_tables import PARENTS

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "pipelines", "sql")  # what a build reads


def files_under(root: Path) -> set[str]:
    """Every file below `root` (following links), as POSIX paths relative to it."""
    return {
        Path(folder, name).relative_to(root).as_posix()
        for folder, dirs, names in os.walk(root, followlinks=True)
        if "__pycache__" not in Path(folder).parts
        for name in names
        if not name.endswith(".pyc")
    }


def clean_env() -> dict[str, str]:
    """This environment without what would put the checkout on a child's import path."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


def model_files() -> list[str]:
    return sorted(f for f in files_under(REPO / "sql") if not f.startswith("checks/"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built by pip from a copy of the checkout (the build writes beside its sources)."""
    root = tmp_path_factory.mktemp("dist")
    source = root / "source"
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, source / name, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(path, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q",
                    "-w", str(root / "wheels")], check=True, timeout=300, env=clean_env(),
                   cwd=root)
    (built,) = (root / "wheels").glob("clio_sync-*.whl")
    return built


@pytest.mark.slow
def test_the_wheel_ships_every_sql_file_and_every_data_file_of_the_package(wheel) -> None:
    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())
    expected = {f"pipelines/{f}" for f in files_under(REPO / "pipelines")}
    expected |= {f"pipelines/sql/{f}" for f in files_under(REPO / "sql")}
    assert "pipelines/sandbox/spec_fields.json" in expected
    assert len(model_files()) > 20
    assert sorted(expected - shipped) == []


@pytest.mark.slow
def test_the_installed_command_builds_every_model_from_outside_the_checkout(
        wheel, tmp_path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                    "--no-deps", str(wheel)], check=True, timeout=300, env=clean_env(),
                   cwd=tmp_path)
    (own_site,) = Path(venv / "lib").glob("python3*/site-packages")
    # dependencies come from this venv, after the venv's own site-packages (a path line
    # runs no .pth file there, so this venv's editable install of the checkout stays out)
    (own_site / "borrowed.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = clean_env()

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(args, cwd=elsewhere, env=env, capture_output=True, text=True,
                              timeout=120)

    where = run(str(python), "-c", "import pipelines; print(pipelines.__file__)")
    assert Path(where.stdout.strip()).is_relative_to(own_site), where
    command = str(venv / "bin" / "clio-sync")
    built = run(command, "--log-format", "plain", "models", "--db", "w.duckdb")
    assert built.returncode == 0, built.stderr
    # the files' models plus the wide custom-field tables generated from the data
    assert f"built {len(model_files()) + len(PARENTS)} models" in built.stderr
    checked = run(command, "--log-format", "plain", "models", "--check", "--db", "w.duckdb")
    assert checked.returncode == 0, checked.stderr
    for check in files_under(REPO / "sql" / "checks"):
        assert f"{Path(check).stem}: " in checked.stdout, checked.stdout
