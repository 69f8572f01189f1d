"""The token store: atomic replace, mode 0600, seeding, and the inter-process lock."""

from __future__ import annotations

import json
import logging
import os
import select
import subprocess
import sys
import threading
from datetime import UTC, datetime

import pytest

from pipelines.clio.errors import ClioAuthError
from pipelines.clio.token_store import TokenSet, TokenStore
from pipelines.errors import ConfigError

ONE = TokenSet(access_token="a1", refresh_token="r1", expires_at=datetime(2026, 12, 1, tzinfo=UTC))
TWO = TokenSet(access_token="a2", refresh_token="r2")

HOLD_AND_WRITE = """
import sys
from pathlib import Path
from pipelines.clio.token_store import TokenSet, TokenStore
store = TokenStore(Path(sys.argv[1]))
with store.locked():
    print("held", flush=True)                      # tell the test we hold the lock
    if sys.stdin.readline().strip() != "write":    # and hold it until the test says
        sys.exit(2)
    store.save(TokenSet(access_token="from-other-process", refresh_token="r-other"))
"""


class Refusals(logging.Handler):
    """Sets `refused` when filelock reports an attempt on `lock_file` that found it held."""

    def __init__(self, lock_file: str) -> None:
        super().__init__(logging.DEBUG)
        self.lock_file = lock_file
        self.refused = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "not acquired" in message and self.lock_file in message:
            self.refused.set()


class TestWrites:
    def test_save_round_trips_with_mode_0600(self, tmp_path) -> None:
        store = TokenStore(tmp_path / "d" / "token.json")
        store.save(ONE)
        assert store.load() == ONE
        assert (tmp_path / "d" / "token.json").stat().st_mode & 0o777 == 0o600
        assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["token.json", "token.json.lock"]

    def test_a_failed_replace_keeps_the_old_tokens_and_no_temp_file(self, tmp_path,
                                                                    monkeypatch) -> None:
        store = TokenStore(tmp_path / "token.json")
        store.save(ONE)

        def crash(*args: object) -> None:
            raise OSError("disk full")

        monkeypatch.setattr(os, "replace", crash)
        with pytest.raises(OSError):
            store.save(TWO)
        assert store.load() == ONE
        assert not list(tmp_path.glob(".token-*"))

    def test_a_store_readable_by_others_is_tightened(self, tmp_path) -> None:
        path = tmp_path / "token.json"
        path.write_text(json.dumps(ONE.to_json()))
        path.chmod(0o644)
        TokenStore(path).load()
        assert path.stat().st_mode & 0o777 == 0o600

    def test_a_corrupt_store_is_a_config_error(self, tmp_path) -> None:
        (tmp_path / "token.json").write_text('{"access_token": ')
        with pytest.raises(ConfigError, match="not a valid token file"):
            TokenStore(tmp_path / "token.json").load()


class TestSeeding:
    def test_the_seed_creates_the_store(self, tmp_path) -> None:
        store = TokenStore(tmp_path / "token.json", seed=ONE)
        assert store.load() == ONE and store.exists()

    def test_an_existing_store_wins_over_the_seed(self, tmp_path) -> None:
        TokenStore(tmp_path / "token.json").save(TWO)
        assert TokenStore(tmp_path / "token.json", seed=ONE).load() == TWO

    def test_no_store_and_no_seed_says_auth_login(self, tmp_path) -> None:
        with pytest.raises(ClioAuthError, match="clio-sync auth login"):
            TokenStore(tmp_path / "token.json", seed=TokenSet()).load()


class TestLock:
    def test_locked_waits_for_another_process_and_rereads(self, tmp_path) -> None:
        path = tmp_path / "token.json"
        store = TokenStore(path)
        store.save(ONE)
        other = subprocess.Popen([sys.executable, "-c", HOLD_AND_WRITE, str(path)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        refusals = Refusals(str(path) + ".lock")
        filelock_log = logging.getLogger("filelock")  # its DEBUG line for a refused attempt
        level = filelock_log.level
        filelock_log.setLevel(logging.DEBUG)
        filelock_log.addHandler(refusals)
        got: dict[str, TokenSet] = {}

        def take_the_lock() -> None:
            with store.locked() as tokens:
                got["tokens"] = tokens

        waiter = threading.Thread(target=take_the_lock, daemon=True)
        try:
            readable, _, _ = select.select([other.stdout], [], [], 30)
            assert readable and other.stdout.readline().strip() == "held"
            waiter.start()
            # the barrier: our attempt met the other process's lock, which it still holds
            assert refusals.refused.wait(30), "the lock was never found held"
            assert "tokens" not in got
            other.stdin.write("write\n")
            other.stdin.flush()
            waiter.join(timeout=30)
            assert other.wait(timeout=30) == 0
        finally:
            filelock_log.removeHandler(refusals)
            filelock_log.setLevel(level)
            if other.poll() is None:
                other.kill()
                other.wait()
        assert got["tokens"].access_token == "from-other-process"  # read after acquiring

    def test_a_lock_held_too_long_names_the_lock_file(self, tmp_path) -> None:
        path = tmp_path / "token.json"
        holder = TokenStore(path, seed=ONE)
        waiter = TokenStore(path, lock_timeout=0.2)
        with holder.locked():
            other = subprocess.Popen([sys.executable, "-c", (
                "import sys; from pathlib import Path\n"
                "from pipelines.clio.token_store import TokenSet, TokenStore\n"
                "try:\n    TokenStore(Path(sys.argv[1]), lock_timeout=0.2).save(TokenSet())\n"
                "except Exception as e:\n    print(type(e).__name__, e)\n"), str(path)],
                stdout=subprocess.PIPE, text=True)
            out, _ = other.communicate(timeout=30)
        assert "ClioAuthError" in out and "token.json.lock" in out
        assert waiter.load() == ONE
