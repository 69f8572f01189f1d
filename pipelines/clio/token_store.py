"""The token store: one JSON file holding the current OAuth tokens, shared by processes.

Invariant 3 of DESIGN.md lives here. Writes replace the file atomically (a temp file in
the same directory, fsynced, `os.replace`d, then the directory fsynced) with mode 0600, so
a reader sees the old tokens or the new ones, never half of each, and a token Clio just
rotated is on disk before anyone uses it. Refreshing happens under an inter-process file
lock (`<store>.lock`), and whoever holds it re-reads the file first: another process may
have refreshed while we waited.

The store is seeded once from the configured secrets (refresh token, optional access
token) when it does not exist; from then on it wins, because a rotated refresh token
makes the seed stale. Before seeding, a store left at the old default location (`legacy`)
is adopted: copied here atomically, then removed, with a log line.

Tokens are valid only where they were issued: a store whose recorded region, API host or
API differs from the configuration's (`origin`) is refused. Older files without those
fields are accepted.

```json
{"access_token": "...", "refresh_token": "...", "expires_at": "2026-11-28T19:00:00+00:00",
 "obtained_at": "2026-11-28T18:00:00+00:00", "region": "us", "base_url": "https://app.clio.com",
 "api": "manage"}
```
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from pipelines.clio.errors import ClioAuthError
from pipelines.errors import ConfigError

log = logging.getLogger(__name__)

LOCK_TIMEOUT = 120.0  # seconds; a refresh is one HTTP request, so this is generous


@dataclass(frozen=True)
class TokenSet:
    """The tokens of one authorization, plus where they are valid. Secrets stay out of repr."""

    access_token: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None  # UTC; None when unknown (a seeded access token)
    obtained_at: datetime | None = None
    region: str | None = None
    base_url: str | None = None
    api: str | None = None

    def expires_within(self, seconds: float, now: datetime | None = None) -> bool:
        """True if the access token is missing or expires in less than `seconds`."""
        if not self.access_token:
            return True
        if self.expires_at is None:
            return False  # unknown expiry: find out from a 401
        now = now or datetime.now(UTC)
        return (self.expires_at - now).total_seconds() < seconds

    def with_changes(self, **changes: Any) -> TokenSet:
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("expires_at", "obtained_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TokenSet:
        known = {k: data.get(k) for k in cls.__dataclass_fields__}
        for key in ("expires_at", "obtained_at"):
            known[key] = datetime.fromisoformat(str(known[key])) if known[key] else None
        return cls(**known)


@dataclass(frozen=True)
class Origin:
    """Where an authorization is valid: the API flavour, the region and the API host."""

    api: str
    region: str
    base_url: str

    def __str__(self) -> str:
        return f"api {self.api}, region {self.region}, host {self.base_url}"


class TokenStore:
    """The token file at `path`, its lock, and the seed used when it does not exist yet.

    Args:
        path: The token file.
        seed: Tokens to create the store with when it does not exist.
        origin: Where this configuration's tokens are valid; a store saved for another
            origin is refused.
        legacy: A store at an older default location, adopted when `path` does not exist.
    """

    def __init__(self, path: Path, seed: TokenSet | None = None,
                 lock_timeout: float = LOCK_TIMEOUT, origin: Origin | None = None,
                 legacy: Path | None = None) -> None:
        self.path = Path(path)
        self.seed = seed
        self.origin = origin
        self.legacy = legacy if legacy is not None and Path(legacy) != self.path else None
        self._lock = FileLock(str(self.path) + ".lock", timeout=lock_timeout)
        self._legacy_noted = False

    def __repr__(self) -> str:
        return f"TokenStore({str(self.path)!r})"

    def exists(self) -> bool:
        return self.path.exists()

    def load(self) -> TokenSet:
        """The stored tokens, seeding the store first if it does not exist.

        Raises:
            ClioAuthError: There is no store and nothing to seed it with, or the store was
                saved for another region, API host or API.
            ConfigError: The file is not a token store.
        """
        if not self.path.exists():
            with self.locked() as tokens:
                return tokens
        self._note_legacy()
        return self._read()

    @contextlib.contextmanager
    def locked(self) -> Iterator[TokenSet]:
        """Hold the inter-process lock and yield the tokens as re-read under it."""
        with self._held():
            if not self.path.exists() and not self._adopt_legacy():
                self._write(self._seed_or_fail())
            yield self._read()

    def adopt_legacy(self) -> bool:
        """Move a store from the old default location here if this one does not exist yet.
        Returns whether it did."""
        with self._held():
            return not self.path.exists() and self._adopt_legacy()

    def save(self, tokens: TokenSet) -> None:
        """Atomically replace the store with `tokens` (fsynced, mode 0600), under the lock."""
        with self._held():
            self._write(tokens)

    def delete(self) -> bool:
        """Remove the store (under the lock). Returns whether there was one."""
        with self._held():
            try:
                self.path.unlink()
            except FileNotFoundError:
                return False
            _fsync_dir(self.path.parent)
            return True

    @contextlib.contextmanager
    def _held(self, lock: FileLock | None = None) -> Iterator[None]:
        """The inter-process lock (re-entrant within a thread), or a clear error on timeout."""
        lock = lock or self._lock
        make_private_dirs(Path(lock.lock_file).parent)
        try:
            lock.acquire()
        except Timeout:
            raise ClioAuthError(
                f"Another clio-sync process has held the token lock {lock.lock_file} "
                f"for over {lock.timeout:.0f} s. Wait for it to finish, or, if no "
                "clio-sync process is running, delete that lock file."
            ) from None
        try:
            yield
        finally:
            lock.release()

    def _adopt_legacy(self) -> bool:
        """Under our lock: copy the legacy store here (atomically, 0600), then remove it.

        Its own lock is held meanwhile, since an older clio-sync may be refreshing it. A
        crash between the two steps leaves two copies of the same tokens; this one wins.
        """
        legacy = self.legacy
        if legacy is None or not legacy.is_file():
            return False
        with self._held(FileLock(str(legacy) + ".lock", timeout=self._lock.timeout)):
            try:
                payload = legacy.read_bytes()
                mismatch = self._mismatch(TokenSet.from_json(json.loads(payload)))
            except FileNotFoundError:
                return False
            except (OSError, ValueError, TypeError, AttributeError) as exc:
                log.warning("The token store %s at the old default location is not readable "
                            "(%s); it was left where it is", legacy, type(exc).__name__)
                return False
            if mismatch:
                log.warning("The token store %s at the old default location holds %s; it was "
                            "left where it is", legacy, mismatch)
                return False
            self._write_bytes(payload)
            legacy.unlink()
            _fsync_dir(legacy.parent)
        log.warning("Moved the token store %s to %s, its new default location, shared by every "
                    "working directory", legacy, self.path)
        return True

    def _note_legacy(self) -> None:
        if self.legacy is None or self._legacy_noted or not self.legacy.exists():
            return
        self._legacy_noted = True
        log.warning("The token store %s at the old default location is not used (the store is "
                    "%s); delete it once you no longer need it", self.legacy, self.path)

    def _mismatch(self, tokens: TokenSet) -> str | None:
        """How `tokens` were saved for another origin than ours, or None (unknown fields
        match: older stores did not record them)."""
        if self.origin is None:
            return None
        stored = {"api": tokens.api, "region": tokens.region,
                  "base_url": tokens.base_url.rstrip("/") if tokens.base_url else None}
        expected = {"api": self.origin.api, "region": self.origin.region,
                    "base_url": self.origin.base_url.rstrip("/")}
        if all(value is None or value == expected[key] for key, value in stored.items()):
            return None
        described = [f"{name} {stored[key]}" for key, name in
                     (("api", "api"), ("region", "region"), ("base_url", "host")) if stored[key]]
        return "tokens saved for " + ", ".join(described)

    def _refuse_mismatch(self, tokens: TokenSet) -> None:
        mismatch = self._mismatch(tokens)
        if mismatch:
            raise ClioAuthError(
                f"The token store {self.path} holds {mismatch}, but the configuration is "
                f"{self.origin}: a token is valid only where it was issued. If the "
                "configuration is right, run `clio-sync auth login` to authorize it (that "
                "writes this file anew), or point SOURCES__CLIO__TOKEN_STORE at the store of "
                "this authorization (without that setting, each region, host and app gets a "
                "store of its own under $XDG_CONFIG_HOME/clio-sync/tokens or "
                "~/.config/clio-sync/tokens); if it is wrong, fix SOURCES__CLIO__REGION, "
                "SOURCES__CLIO__API or SOURCES__CLIO__BASE_URL."
            )

    def _seed_or_fail(self) -> TokenSet:
        if self.seed and (self.seed.refresh_token or self.seed.access_token):
            log.info("Seeding the token store %s from the configured credentials", self.path)
            return self.seed
        raise ClioAuthError(
            f"No Clio token: the token store {self.path} does not exist and no refresh "
            "token is configured. Run `clio-sync auth login` to authorize this machine, or "
            "set SOURCES__CLIO__CREDENTIALS__REFRESH_TOKEN (see docs/connecting-clio.md)."
        )

    def _read(self) -> TokenSet:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            tokens = TokenSet.from_json(data)
        except (ValueError, TypeError, AttributeError) as exc:
            raise ConfigError(
                f"The token store {self.path} is not a valid token file ({type(exc).__name__}). "
                "Delete it and run `clio-sync auth login`, or let it be re-seeded from "
                "SOURCES__CLIO__CREDENTIALS__REFRESH_TOKEN."
            ) from None
        self._tighten_mode()
        self._refuse_mismatch(tokens)
        return tokens

    def _tighten_mode(self) -> None:
        mode = self.path.stat().st_mode & 0o777
        if mode & 0o077:
            log.warning("Token store %s was readable by others; setting mode 0600", self.path)
            os.chmod(self.path, 0o600)

    def _write(self, tokens: TokenSet) -> None:
        self._write_bytes(json.dumps(tokens.to_json(), indent=2).encode())

    def _write_bytes(self, payload: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".token-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:  # mkstemp creates it 0600
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        _fsync_dir(self.path.parent)


def make_private_dirs(directory: Path) -> None:
    """Create `directory` and its missing parents, each readable by the owner only (0700)."""
    missing = []
    for folder in (directory, *directory.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process was quicker
            folder.mkdir(mode=0o700)


def _fsync_dir(directory: Path) -> None:
    """Make a rename or unlink in `directory` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
