"""A separate process for the Grow process tests: loads its settings, says it is ready,
waits at the barrier, then calls Grow.

    python grow_worker.py rotate BASE_URL TOKEN_STORE
    python grow_worker.py pace BASE_URL TOKEN_STORE REQUESTS RATE

Protocol (one line each): it prints `ready <fingerprint of the access token it holds>`,
waits for `go` on stdin (at most WAIT seconds), then `rotate` makes one request and
prints `done <fingerprint of the access token it ended with>`; `pace` makes REQUESTS
requests at RATE per second (the app's budget shared through the user's config dir)
and prints `done <429 answers received>`.
"""

from __future__ import annotations

import hashlib
import select
import sys

from pipelines.clio.stats import RunStats
from pipelines.grow.client import GrowClient
from pipelines.grow.config import load_grow_settings

WAIT = 60.0  # a parent that never says go must not leave this process behind


def fingerprint(token: str | None) -> str:
    return hashlib.sha256((token or "").encode()).hexdigest()[:12]


def main(mode: str, base_url: str, store: str, *rest: str) -> int:
    requests = int(rest[0]) if rest else 1
    rate = float(rest[1]) if len(rest) > 1 else 1000.0
    settings = load_grow_settings(base_url=base_url, token_store=store, client_id="grow-sandbox",
                                  client_secret="grow-sandbox-secret", requests_per_second=rate,
                                  backoff_base=0.05, backoff_cap=0.2, max_attempts=20)
    stats = RunStats()
    with GrowClient(settings, stats) as client:
        held = client.auth.current()
        print("ready", fingerprint(held.access_token), flush=True)
        readable, _, _ = select.select([sys.stdin], [], [], WAIT)
        if not readable or sys.stdin.readline().strip() != "go":
            print("no go from the test", file=sys.stderr)
            return 2
        for _ in range(requests):
            client.get("locations", resource="locations")
        if mode == "rotate":
            print("done", fingerprint(client.auth.current().access_token), flush=True)
        else:
            print("done", stats.get("locations").throttled_429, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
