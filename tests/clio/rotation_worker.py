"""A separate process for the concurrent-refresh test: waits for a go file, then calls Clio.

    python rotation_worker.py BASE_URL API TOKEN_STORE GO_FILE
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from pipelines.clio.client import ClioClient
from pipelines.clio.config import load_settings


def main(base_url: str, api: str, store: str, go_file: str) -> int:
    settings = load_settings(base_url=base_url, api=api, token_store=store,
                             client_id="sandbox", client_secret="sandbox-secret",
                             platform_requests_per_second=100.0)
    with ClioClient(settings) as client:
        client.auth.current()  # both processes hold the same stale tokens before the race
        while not Path(go_file).exists():
            time.sleep(0.001)
        client.get("users/who_am_i.json", params={"fields": "id,name"})
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
