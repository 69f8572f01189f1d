"""The token store: atomic replace, mode 0600, seeding, and the inter-process lock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest

from pipelines.clio.errors import ClioAuthError
from pipelines.clio.token_store import TokenSet, TokenStore
from pipelines.errors import ConfigError

ONE = TokenSet(access_token="a1", refresh_token="r1", expires_at=datetime(2026, 12, 1, tzinfo=UTC))
TWO = TokenSet(access_token="a2", refresh_token="r2")

HOLD_AND_WRITE = """
import sys, time
from pathlib import Path
from pipelines.clio.token_store import TokenSet, TokenStore
store = TokenStore(Path(sys.argv[1]))
with store.locked():
    Path(sys.argv[2]).touch()          # tell the test we hold the lock
    time.sleep(1.0)
    store.save(TokenSet(access_token="from-other-process", refresh_token="r-other"))
"""


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
    @pytest.mark.slow
    def test_locked_waits_for_another_process_and_rereads(self, tmp_path) -> None:
        path, held = tmp_path / "token.json", tmp_path / "held"
        store = TokenStore(path)
        store.save(ONE)
        other = subprocess.Popen([sys.executable, "-c", HOLD_AND_WRITE, str(path), str(held)])
        while not held.exists():
            time.sleep(0.01)
        started = time.monotonic()
        with store.locked() as tokens:
            waited = time.monotonic() - started
        other.wait(timeout=30)
        assert waited >= 0.5  # blocked until the other process released the lock
        assert tokens.access_token == "from-other-process"  # read after acquiring, not before

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
