"""Fixtures of the Clio HTTP/auth tests: settings pointing at a temp token store, clean env."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.clio.config import ClioSettings, load_settings

SECRET_ENV = ("SOURCES__CLIO__", "DESTINATION__")


@pytest.fixture(autouse=True)
def clean_environ() -> Iterator[None]:
    """Tests must not see (or leave behind) SOURCES__CLIO__* settings."""
    saved = dict(os.environ)
    for key in list(os.environ):
        if key.startswith(SECRET_ENV):
            del os.environ[key]
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "tokens" / "token.json"


@pytest.fixture
def make_settings(store_path: Path):
    """Settings for a fake or sandbox Clio at `base_url`, with fast retries."""

    def make(base_url: str = "http://clio.test", **overrides: object) -> ClioSettings:
        values: dict[str, object] = {
            "client_id": "sandbox", "client_secret": "sandbox-secret",
            "max_attempts": 4, "backoff_base": 0.01, "backoff_cap": 0.05,
        }
        values.update(overrides)
        return load_settings(base_url=base_url, token_store=store_path, **values)

    return make


FIRM_NOW = "2026-11-20T09:00:00-05:00"
SMALL_FIRM = {
    "users": [{"id": 1, "name": "Ann Owner", "email": "ann@example.com", "account_owner": True}],
    "practice_areas": [{"id": i, "name": f"Practice area {i}"} for i in range(1, 13)],
}


@pytest.fixture
def clio_sandbox(sandbox_factory):
    """`clio_sandbox(**serve_sandbox_kwargs)`: a sandbox holding a small hand-built firm
    (one user, 12 practice areas), so these tests need no generated data."""

    def start(**kwargs: object):
        kwargs.setdefault("fixture", SMALL_FIRM)
        kwargs.setdefault("fixture_now", FIRM_NOW)
        return sandbox_factory(**kwargs)

    return start


@pytest.fixture
def sandbox_settings(make_settings):
    """`sandbox_settings(sb, token_kwargs=None, **overrides)`: settings seeded with a fresh
    token pair minted by the sandbox (pass seed=False to mint nothing)."""

    def make(sb, token_kwargs: dict | None = None, seed: bool = True, **overrides: object):
        if seed:
            pair = sb.token(**(token_kwargs or {}))
            overrides.setdefault("access_token", pair["access_token"])
            overrides.setdefault("refresh_token", pair["refresh_token"])
        return make_settings(sb.base_url, **overrides)

    return make


@pytest.fixture
def statuses():
    """`statuses(sb, path_part="/")`: statuses of the Clio-path requests the sandbox answered."""

    def read(sb, path_part: str = "/") -> list[int]:
        return [r["status"] for r in sb.stats()["requests"] if path_part in r["path"]]

    return read
