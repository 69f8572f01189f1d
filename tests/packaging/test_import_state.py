"""Importing the package changes nothing outside it.

An orchestrator worker imports `pipelines` next to its own dlt pipelines: an environment
variable, a dlt config value, a logging handler or level, a warnings filter or a sys.path
entry set at import would change every one of them. A fresh interpreter imports every
module of the package (its dependencies first, since their own import-time habits are not
ours to fix) and compares that state before and after.
"""

from __future__ import annotations

import json
import subprocess
import sys

IMPORT_EVERYTHING = r'''
import copy, json, logging, os, pkgutil, sys, warnings, importlib

# the dependencies' own import-time effects happen first, so only ours are compared
import dlt, duckdb, filelock, httpx, pandas, pyarrow, rich, starlette, uvicorn  # noqa
from dlt.common.configuration.container import Container
from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext
from dlt.common.runtime import telemetry


def logger_state(logger):
    return [logging.getLevelName(logger.level), [repr(h) for h in logger.handlers],
            logger.propagate, logger.disabled]


def snapshot():
    providers = Container()[PluggableRunContext].providers.providers
    loggers = {name: logger_state(logger)
               for name, logger in logging.root.manager.loggerDict.items()
               if isinstance(logger, logging.Logger)}
    return {
        "os.environ": dict(os.environ),
        "sys.path": list(sys.path),
        "warnings.filters": [repr(f) for f in warnings.filters],
        "logging.root": logger_state(logging.root),
        "logging.disable": logging.root.manager.disable,
        "loggers": loggers,
        "dlt providers": [[p.name, json.dumps(getattr(p, "_config_doc", None), default=str,
                                              sort_keys=True)] for p in providers],
        "dlt telemetry started": telemetry.is_telemetry_started(),
    }


before = snapshot()
import pipelines
names = [m.name for m in pkgutil.walk_packages(pipelines.__path__, "pipelines.")
         if m.name != "pipelines.__main__"]  # that one runs the command line
for name in names:
    importlib.import_module(name)
after = snapshot()

changes = {}
for key in before:
    if key == "loggers":
        continue
    if before[key] != after[key]:
        changes[key] = {"before": before[key], "after": after[key]}
fresh = [logging.getLevelName(logging.NOTSET), [], True, False]
for name, state in after["loggers"].items():
    if before["loggers"].get(name, fresh) != state:
        changes[f"logger {name}"] = {"before": before["loggers"].get(name), "after": state}
env_changes = {k: [before["os.environ"].get(k), after["os.environ"].get(k)]
               for k in set(before["os.environ"]) | set(after["os.environ"])
               if before["os.environ"].get(k) != after["os.environ"].get(k)}
if env_changes:
    changes["os.environ"] = env_changes
print(json.dumps({"modules": len(names), "changes": changes}, default=str))
'''


def test_importing_every_module_changes_no_global_state(tmp_path) -> None:
    done = subprocess.run([sys.executable, "-c", IMPORT_EVERYTHING], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["modules"] > 80  # every module of the package was imported
    assert result["changes"] == {}
