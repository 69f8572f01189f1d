"""Shared by the sync benchmarks: a sandbox in its own process, workers, medians, results.

The sandbox runs as `clio-sync sandbox serve` in a separate process (as Clio would be a
separate machine), so the server's CPU does not compete with the client's GIL. Each
measured variant runs in a fresh worker process, which reports its numbers and its peak
RSS as JSON on its last line of stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
CLIENT = {"client_id": "sandbox", "client_secret": "sandbox-secret"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


SCALES = ("large", "small", "xlarge")


def add_firm_arguments(parser: argparse.ArgumentParser) -> None:
    """`--scale` and `--seed` of the generated firm every sync benchmark syncs."""
    parser.add_argument("--scale", choices=SCALES, default="large",
                        help="the sandbox's generated firm (default: large)")
    parser.add_argument("--seed", type=int, default=7)


@dataclass
class Sandbox:
    """A running `clio-sync sandbox serve`: its base URL, the server's own line saying
    what it built and how fast, and its process (to read the server's own memory)."""

    base: str
    built: str
    proc: subprocess.Popen

    def peak_rss_mb(self) -> float:
        """The server process's peak RSS so far (VmHWM), in MB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")


@contextmanager
def sandbox_server(scale: str, seed: int = 7, rate_limit: int = 0,
                   window: float = 60.0) -> Iterator[Sandbox]:
    """`clio-sync sandbox serve` of the generated firm on a free port."""
    port = free_port()
    cmd = [sys.executable, "-m", "pipelines", "-q", "sandbox", "serve", "--port", str(port),
           "--scale", scale, "--seed", str(seed), "--rate-limit", str(rate_limit),
           "--rate-window", str(window)]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        assert proc.stdout is not None
        built = ""
        for line in proc.stdout:
            if line.startswith("Clio sandbox"):
                built = line.strip()
            if line.startswith("Serving at"):
                break
        else:
            raise RuntimeError("the sandbox did not start")
        _drain(proc)  # "Serving at" comes once the port accepts connections
        yield Sandbox(f"http://127.0.0.1:{port}", built, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:  # a huge firm takes minutes to free, object by object
            proc.kill()
            proc.wait(timeout=20)


@contextmanager
def sandbox_process(scale: str, seed: int = 7, rate_limit: int = 0,
                    window: float = 60.0) -> Iterator[tuple[str, str]]:
    """`clio-sync sandbox serve` of the generated firm on a free port.

    Yields its base URL and the server's own line saying what it built and how fast.
    """
    with sandbox_server(scale, seed, rate_limit, window) as server:
        yield server.base, server.built


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
        "RUNTIME__DLTHUB_TELEMETRY": "false",  # as the command runs dlt
    }


def run_worker(script: Path, args: Sequence[str], env: dict[str, str]) -> dict[str, Any]:
    """Run `script --worker ...` in a fresh process; its last stdout line is JSON."""
    cmd = [sys.executable, str(script), "--worker", *args]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"worker {shlex.join(cmd)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(result: dict[str, Any]) -> None:
    """Print a worker's result as its last line (with the process's peak RSS and CPU)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    # CPU seconds of the client process (all its threads): less swayed by a busy machine
    result["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 2)
    print(json.dumps(result), flush=True)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def command_line() -> str:
    argv = [".venv/bin/python", os.path.relpath(sys.argv[0], REPO), *sys.argv[1:]]
    return shlex.join(argv)


def server_counts(base: str) -> dict[str, int]:
    """API requests the sandbox answered since its stats were last cleared, and its 429s."""
    by_path = control(base, "GET", "stats")["by_path"]
    api = [codes for path, codes in by_path.items() if path.startswith("/api/v4/")]
    return {"requests": sum(sum(c.values()) for c in api),
            "429": sum(c.get("429", 0) for c in api)}


def clear_server_counts(base: str) -> None:
    control(base, "DELETE", "stats")


def write_results(name: str, scale: str, text: str) -> Path:
    """bench/results/<name>.md for the large firm, <name>_<scale>.md for another."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / (f"{name}.md" if scale == "large" else f"{name}_{scale}.md")
    path.write_text(text)
    return path


def machine() -> str:
    return f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"


def describe_firm(scale: str, seed: int, built: str) -> str:
    """One line saying which firm a benchmark synced (with the server's own summary)."""
    return f"Firm: the sandbox's generated `{scale}` firm, seed {seed} (server: \"{built}\")."


class LoadWatch:
    """Samples the 1-minute load average every few seconds while a benchmark runs.

    The machine is shared (2 cores, other work running tests), so every result says how
    busy it was: `uptime`'s three numbers at the start and end, and the 1-minute load's
    median and maximum over the run.
    """

    def __init__(self, every: float = 5.0) -> None:
        import threading

        self.start = os.getloadavg()
        self.samples: list[float] = [self.start[0]]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(every,), daemon=True)
        self._thread.start()

    def _sample(self, every: float) -> None:
        while not self._stop.wait(every):
            self.samples.append(os.getloadavg()[0])

    def stop(self) -> str:
        """Stop sampling; one sentence for the results file."""
        self._stop.set()
        self._thread.join()
        end = os.getloadavg()
        fmt = ", ".join
        return (f"Load average (1/5/15 min, as `uptime`): {fmt(f'{x:.2f}' for x in self.start)} "
                f"at the start, {fmt(f'{x:.2f}' for x in end)} at the end; 1-minute load "
                f"during the run: median {statistics.median(self.samples):.2f}, "
                f"max {max(self.samples):.2f} ({len(self.samples)} samples).")
