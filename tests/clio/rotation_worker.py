"""A separate process for the concurrent-refresh test: loads the stale tokens, says so,
waits at the barrier, then calls Clio.

    python rotation_worker.py BASE_URL API TOKEN_STORE

Protocol (one line each): it prints `ready <fingerprint of the access token it holds>`,
waits for `go` on stdin (at most WAIT seconds), makes one request, and prints
`done <fingerprint of the access token it ended with>`.
"""

from __future__ import annotations

import hashlib
import select
import sys

from pipelines.clio.client import ClioClient
from pipelines.clio.config import load_settings

WAIT = 60.0  # a parent that never says go must not leave this process behind


def fingerprint(token: str | None) -> str:
    return hashlib.sha256((token or "").encode()).hexdigest()[:12]


def main(base_url: str, api: str, store: str) -> int:
    settings = load_settings(base_url=base_url, api=api, token_store=store,
                             client_id="sandbox", client_secret="sandbox-secret",
                             platform_requests_per_second=100.0)
    with ClioClient(settings) as client:
        held = client.auth.current()  # the stale tokens, in memory before the race
        print("ready", fingerprint(held.access_token), flush=True)
        readable, _, _ = select.select([sys.stdin], [], [], WAIT)
        if not readable or sys.stdin.readline().strip() != "go":
            print("no go from the test", file=sys.stderr)
            return 2
        client.get("users/who_am_i.json", params={"fields": "id,name"})
        print("done", fingerprint(client.auth.current().access_token), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
