"""Shared by the sync benchmarks: a sandbox in its own process, workers, medians, results.

The sandbox runs as `clio-sync sandbox serve` in a separate process (as Clio would be a
separate machine), so the server's CPU does not compete with the client's GIL. Each
measured variant runs in a fresh worker process, which reports its numbers and its peak
RSS as JSON on its last line of stdout.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shlex
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
CLIENT = {"client_id": "sandbox", "client_secret": "sandbox-secret"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def sandbox_process(scale: str, rate_limit: int = 0, window: float = 60.0,
                    seed: int = 7) -> Iterator[str]:
    """`clio-sync sandbox serve` on a free port; yields its base URL.

    `scale="synthetic"` serves `sync_synthetic_firm.py`'s fixture firm instead.
    """
    port = free_port()
    if scale == "synthetic":
        cmd = [sys.executable, str(REPO / "bench" / "sync_synthetic_firm.py"), str(port),
               str(rate_limit), str(window)]
    else:
        cmd = [sys.executable, "-m", "pipelines", "-q", "sandbox", "serve", "--port", str(port),
               "--scale", scale, "--seed", str(seed), "--rate-limit", str(rate_limit),
               "--rate-window", str(window)]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("Serving at"):
                break
        else:
            raise RuntimeError("the sandbox did not start")
        base = f"http://127.0.0.1:{port}"
        _drain(proc)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _drain(proc: subprocess.Popen) -> None:
    """Keep reading the server's output so it never blocks on a full pipe."""
    import threading

    def read() -> None:
        assert proc.stdout is not None
        for _ in proc.stdout:
            pass

    threading.Thread(target=read, daemon=True).start()


def control(base: str, method: str, path: str, body: dict | None = None) -> Any:
    import httpx

    answer = httpx.request(method, f"{base}/_sandbox/{path}", json=body, timeout=120)
    answer.raise_for_status()
    return answer.json()


def mint_token(base: str) -> dict:
    return control(base, "POST", "tokens", {})


def sandbox_env(base: str, token_store: Path) -> dict[str, str]:
    """Environment of a worker: where the sandbox is, a fresh token in its own store."""
    token = mint_token(base)
    return {
        **os.environ,
        "SOURCES__CLIO__BASE_URL": base,
        "SOURCES__CLIO__REGION": "us",
        "SOURCES__CLIO__API": "manage",
        "SOURCES__CLIO__TOKEN_STORE": str(token_store),
        "SOURCES__CLIO__CREDENTIALS__CLIENT_ID": CLIENT["client_id"],
        "SOURCES__CLIO__CREDENTIALS__CLIENT_SECRET": CLIENT["client_secret"],
        "SOURCES__CLIO__CREDENTIALS__REFRESH_TOKEN": token["refresh_token"],
        "SOURCES__CLIO__CREDENTIALS__ACCESS_TOKEN": token["access_token"],
        "RUNTIME__LOG_LEVEL": "WARNING",
    }


def run_worker(script: Path, args: Sequence[str], env: dict[str, str]) -> dict[str, Any]:
    """Run `script --worker ...` in a fresh process; its last stdout line is JSON."""
    cmd = [sys.executable, str(script), "--worker", *args]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"worker {shlex.join(cmd)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(result: dict[str, Any]) -> None:
    """Print a worker's result as its last line (with the process's peak RSS)."""
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result), flush=True)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def command_line() -> str:
    argv = [".venv/bin/python", os.path.relpath(sys.argv[0], REPO), *sys.argv[1:]]
    return shlex.join(argv)


def api_request_count(base: str) -> int:
    return sum(1 for r in control(base, "GET", "stats")["requests"]
               if r["path"].startswith("/api/v4/"))


def write_results(name: str, text: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.md"
    path.write_text(text)
    return path


def machine() -> str:
    return f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def describe_firm(scale: str) -> str:
    """One line saying which firm a benchmark synced."""
    if scale == "synthetic":
        return ("Firm: synthetic (`bench/sync_synthetic_firm.py`: the `large` scale's "
                "proportions, every catalog field filled), served by the sandbox from a "
                "fixture; the generated `large` firm was not available when this ran.")
    return f"Firm: the sandbox's generated `{scale}` firm (seed 7)."
