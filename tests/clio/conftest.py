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
