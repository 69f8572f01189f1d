"""One rate budget for a whole Platform application, shared by every process on this machine.

The Platform limits an application, not a token: 3 requests per second "across all users"
(DOC-rate), so two firms synced at once by two processes of the same app draw on one
budget. Each process takes its next slot from a small file in the user's config dir,
keyed by App Key and host, under a file lock: the file holds the earliest time (wall
clock, which every process shares) the next request of the app may go. Slots are spaced
`SPACING / requests_per_second` apart (6 % slack: at 3 per second, 20 ms), so a request
that travels a little slower than the one before it still lands inside the limit. Nothing is sent without
headers to learn from: the Platform publishes none.

    ~/.config/clio-sync/pacing/grow-<hash of app and host>.json    {"next_slot": 1732140000.35}
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock, Timeout

from pipelines.clio.token_location import APP_DIR, config_home
from pipelines.clio.token_store import make_private_dirs
from pipelines.errors import ConfigError

SPACING = 1.06  # slots a little wider than the limit's, for requests that travel unevenly
LOCK_TIMEOUT = 30.0  # the lock is held for a read and a write: waiting this long is a fault
MAX_AHEAD = 3600.0  # a slot further than this is a clock that jumped back: start afresh


def budget_file(client_id: str, api_root: str) -> Path:
    """The shared budget file of an application at a host."""
    digest = hashlib.sha256(f"{client_id}\n{api_root.rstrip('/')}".encode()).hexdigest()[:16]
    return config_home() / APP_DIR / "pacing" / f"grow-{digest}.json"


class SharedBucket:
    """At most `rate` requests per second (evenly spaced) for all processes using `path`."""

    def __init__(self, path: Path, rate: float, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.interval = SPACING / rate
        self._clock = clock
        make_private_dirs(path.parent)
        self._lock = FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT)

    def reserve(self) -> float:
        """Take the app's next slot; seconds to wait before sending."""
        try:
            with self._lock:
                now = self._clock()
                slot = self._read()
                if slot > now + MAX_AHEAD:
                    slot = now
                slot = max(now, slot)
                self._write(slot + self.interval)
                return slot - now
        except Timeout:
            raise ConfigError(
                f"The shared rate budget {self.path} stayed locked for {LOCK_TIMEOUT:.0f} s. "
                "A clio-sync process may hang while holding it: stop it, or delete "
                f"{self._lock.lock_file} if no clio-sync process is running."
            ) from None

    def _read(self) -> float:
        try:
            value = json.loads(self.path.read_text(encoding="utf-8"))["next_slot"]
            return float(value)
        except (FileNotFoundError, ValueError, TypeError, KeyError):
            return 0.0  # none yet, or a write cut short: no request is owed a wait

    def _write(self, next_slot: float) -> None:
        self.path.write_text(json.dumps({"next_slot": next_slot}), encoding="utf-8")
