"""CI type-checks the package: the README's test command (which `.ci/run` runs) runs mypy
before pytest, and pyproject's mypy configuration is strict for clio, webhooks, reports and
grow, with mypy's default checks for the rest of pipelines/.

Whether pipelines/ passes is the CI step itself; here mypy checks stand-ins for a few
modules (`--shadow-file`, imports not followed: about a second) to show which rules the
configuration applies to which package.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TEST_COMMAND = re.compile(r"^python3 -m venv .*python -m pytest$", re.MULTILINE)

# Untyped code that mypy's default checks accept and strict mode refuses.
LOOSE = '''\
def untyped(value):
    return value


def bare_generic() -> dict:
    return {}
'''
STRICT = ("pipelines/clio/regions.py", "pipelines/webhooks/errors.py",
          "pipelines/reports/settings.py", "pipelines/grow/scopes.py")
DEFAULT = ("pipelines/sandbox/clock.py", "pipelines/cli.py", "pipelines/warehouse.py")


def test_the_readme_test_command_runs_mypy_before_pytest_and_ci_runs_it_verbatim() -> None:
    (command,) = TEST_COMMAND.findall((REPO / "README.md").read_text())
    steps = command.split(" && ")
    assert ".venv/bin/mypy" in steps, command
    assert steps.index(".venv/bin/mypy") < steps.index(".venv/bin/python -m pytest")
    ci = (REPO / ".ci" / "run").read_text()
    assert any(line.startswith(command) for line in ci.splitlines()), ci


def test_mypy_is_strict_for_clio_webhooks_reports_and_grow_only(tmp_path: Path) -> None:
    loose = tmp_path / "loose.py"
    loose.write_text(LOOSE)
    shadows = [arg for path in STRICT + DEFAULT for arg in ("--shadow-file", path, str(loose))]
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "pyproject.toml",
         "--cache-dir", str(tmp_path / "cache"), "--follow-imports", "skip",
         *shadows, *STRICT, *DEFAULT],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    codes = {path: set(re.findall(rf"^{re.escape(path)}:\d+: error: .*\[([a-z-]+)\]$",
                                  done.stdout, re.MULTILINE))
             for path in STRICT + DEFAULT}
    for path in STRICT:
        assert codes[path] == {"no-untyped-def", "type-arg"}, done.stdout
    for path in DEFAULT:
        assert codes[path] == set(), done.stdout
