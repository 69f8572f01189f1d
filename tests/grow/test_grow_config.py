"""Grow's settings: hosts per region, the sandbox shortcut, overrides, scopes, typos."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.errors import ConfigError
from pipelines.grow.config import grow_configured, grow_hosts, load_grow_settings
from pipelines.grow.scopes import DEFAULT_SCOPES, named_in, scope_for

APP = {"client_id": "app-key", "client_secret": "secret"}


@pytest.mark.parametrize(("region", "api", "auth"), [
    ("us", "https://api.clio.com/grow", "https://auth.api.clio.com"),
    ("eu", "https://eu.api.clio.com/grow", "https://eu.auth.api.clio.com"),
    ("ca", "https://ca.api.clio.com/grow", "https://ca.auth.api.clio.com"),
    ("au", "https://au.api.clio.com/grow", "https://au.auth.api.clio.com"),
])
def test_each_region_has_its_own_hosts(region: str, api: str, auth: str) -> None:
    settings = load_grow_settings(region=region, **APP)
    assert (settings.api_root, settings.oauth_base) == (api, auth)
    assert settings.token_url == f"{auth}/oauth/token"
    assert settings.authorize_url == f"{auth}/oauth/authorize"
    assert settings.revoke_url == f"{auth}/oauth/revoke"
    assert settings.api == "platform" and settings.api_version == ""


def test_the_sandbox_shortcut_and_explicit_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    assert grow_hosts("us", "http://127.0.0.1:8750/") == (
        "http://127.0.0.1:8750/grow", "http://127.0.0.1:8750/platform")
    monkeypatch.setenv("SOURCES__GROW__API_URL", "https://api.clio.com/grow/v2")
    monkeypatch.setenv("SOURCES__GROW__AUTH_URL", "https://grow.clio.com")
    settings = load_grow_settings(**APP)
    assert settings.api_root == "https://api.clio.com/grow/v2"
    assert settings.authorize_url == "https://grow.clio.com/oauth/authorize"


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch,
                                            private_config_dir: Path) -> None:
    assert not grow_configured()
    monkeypatch.setenv("SOURCES__GROW__CREDENTIALS__CLIENT_ID", "key")
    monkeypatch.setenv("SOURCES__GROW__CREDENTIALS__CLIENT_SECRET", "s3cret")
    monkeypatch.setenv("SOURCES__GROW__REGION", "EU")
    monkeypatch.setenv("SOURCES__GROW__SCOPES", "grow_matter_read, grow_user_read")
    assert grow_configured()
    settings = load_grow_settings()
    assert settings.region == "eu" and settings.scopes == ("grow_matter_read", "grow_user_read")
    assert "s3cret" not in repr(settings)
    store = settings.token_store
    assert store.parent == private_config_dir / "clio-sync" / "tokens"
    assert store.name.startswith("grow-eu-")
    assert settings.uses_default_token_store


@pytest.mark.parametrize(("name", "value", "named"), [
    ("SOURCES__GROW__REGION", "mars", "SOURCES__GROW__REGION"),
    ("SOURCES__GROW__SCOPES", "grow_matter_write", "grow_matter_write"),
    ("SOURCES__GROW__REQUESTS_PER_SECOND", "0", "SOURCES__GROW__REQUESTS_PER_SECOND"),
    ("SOURCES__GROW__REQUESTS_PER_SECONDS", "2", "did you mean SOURCES__GROW__REQUESTS_PER_SECOND"),
    ("SOURCES__GROW__BASE_URL", "127.0.0.1:8750", "SOURCES__GROW__BASE_URL"),
])
def test_bad_settings_are_named(monkeypatch: pytest.MonkeyPatch, name: str, value: str,
                                named: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=named):
        load_grow_settings(**APP)


def test_missing_credentials_are_named() -> None:
    with pytest.raises(ConfigError, match="SOURCES__GROW__CREDENTIALS__CLIENT_ID"):
        load_grow_settings()


def test_scopes_of_paths_and_messages() -> None:
    assert "grow_lead_inbox_all_read" in DEFAULT_SCOPES
    assert scope_for("/grow/matters/12/notes") == "grow_matter_note_read"
    assert scope_for("contacts") == "grow_contact_read"
    assert scope_for("inbox_leads/3") == "grow_lead_inbox_read"
    assert named_in("The access token is missing the required scope: location_read.") == \
        "grow_location_read"
    assert named_in("nothing here") is None
