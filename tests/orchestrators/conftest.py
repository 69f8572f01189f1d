"""Fixtures of the orchestrator tests: two sandbox firms configured as firm profiles."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from pipelines.sandbox.harness import SandboxServer

# the sync tests' helpers (truth tables, request counts) serve here too
sys.path.insert(0, str(Path(__file__).parents[1] / "sync"))

SANDBOX_APP = {"CLIENT_ID": "sandbox", "CLIENT_SECRET": "sandbox-secret"}
FIRMS = {"acme": 7, "beta": 3}  # firm profile -> the seed of its generated sandbox firm


def configure_firm(monkeypatch: pytest.MonkeyPatch, name: str, sb: SandboxServer,
                   tmp: Path) -> None:
    """`FIRMS__<NAME>__*` pointing the profile `name` at sandbox `sb`."""
    token = sb.token()
    prefix = f"FIRMS__{name.upper()}__"
    values = {
        "BASE_URL": sb.base_url, "REGION": "us", "API": "manage",
        "TOKEN_STORE": str(tmp / f"{name}-token.json"),
        **{f"CREDENTIALS__{k}": v for k, v in SANDBOX_APP.items()},
        "CREDENTIALS__REFRESH_TOKEN": token["refresh_token"],
        "CREDENTIALS__ACCESS_TOKEN": token["access_token"],
    }
    for key, value in values.items():
        monkeypatch.setenv(prefix + key, value)


@pytest.fixture
def firm_profile(monkeypatch: pytest.MonkeyPatch,
                 tmp_path: Path) -> Callable[[str, SandboxServer], None]:
    """`firm_profile(name, sandbox)`: configure the profile `name` for that sandbox."""
    return lambda name, sb: configure_firm(monkeypatch, name, sb, tmp_path)


@pytest.fixture
def two_firms(sandbox_factory: Callable[..., SandboxServer], monkeypatch: pytest.MonkeyPatch,
              tmp_path: Path) -> dict[str, SandboxServer]:
    """Two generated tiny firms, each in its own sandbox, as profiles `acme` and `beta`."""
    firms = {}
    for name, seed in FIRMS.items():
        firms[name] = sandbox_factory(scale="tiny", seed=seed, rate_limit=None)
        configure_firm(monkeypatch, name, firms[name], tmp_path)
    return firms


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "clio_sync.duckdb"
