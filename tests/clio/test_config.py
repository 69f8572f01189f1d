"""Settings through dlt's providers: env vars, .dlt/secrets.toml, explicit arguments."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.clio.config import load_settings
from pipelines.errors import ConfigError

APP = {"SOURCES__CLIO__CREDENTIALS__CLIENT_ID": "app-id",
       "SOURCES__CLIO__CREDENTIALS__CLIENT_SECRET": "app-secret"}


@pytest.fixture
def app_env(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for key, value in APP.items():
        monkeypatch.setenv(key, value)
    return monkeypatch


class TestHosts:
    @pytest.mark.parametrize(("region", "api_root", "token_url"), [
        ("us", "https://app.clio.com/api/v4", "https://app.clio.com/oauth/token"),
        ("eu", "https://eu.app.clio.com/api/v4", "https://eu.app.clio.com/oauth/token"),
        ("ca", "https://ca.app.clio.com/api/v4", "https://ca.app.clio.com/oauth/token"),
        ("au", "https://au.app.clio.com/api/v4", "https://au.app.clio.com/oauth/token"),
    ])
    def test_manage_region_hosts(self, app_env, region, api_root, token_url) -> None:
        app_env.setenv("SOURCES__CLIO__REGION", region.upper())
        settings = load_settings()
        assert (settings.region, settings.api_root, settings.token_url) == (region, api_root, token_url)

    def test_platform_hosts(self, app_env) -> None:
        app_env.setenv("SOURCES__CLIO__API", "platform")
        app_env.setenv("SOURCES__CLIO__REGION", "eu")
        settings = load_settings()
        assert settings.base_url == "https://eu.api.clio.com"
        assert settings.token_url == "https://eu.auth.api.clio.com/oauth/token"

    def test_base_url_overrides_both_hosts(self, app_env) -> None:
        app_env.setenv("SOURCES__CLIO__BASE_URL", "http://127.0.0.1:8750/")
        settings = load_settings()
        assert settings.api_root == "http://127.0.0.1:8750/api/v4"
        assert settings.token_url == "http://127.0.0.1:8750/oauth/token"

    def test_explicit_arguments_win(self, app_env) -> None:
        app_env.setenv("SOURCES__CLIO__REGION", "eu")
        assert load_settings(region="au").region == "au"


class TestSources:
    def test_secrets_toml_in_the_working_dir(self, tmp_path) -> None:
        # A fresh process: dlt settles its project directory (and .dlt/) once per process.
        (tmp_path / ".dlt").mkdir()
        (tmp_path / ".dlt" / "secrets.toml").write_text(
            '[sources.clio]\nregion = "ca"\ntoken_store = "tokens/t.json"\nmax_attempts = 2\n'
            '[sources.clio.credentials]\nclient_id = "toml-id"\nclient_secret = "toml-secret"\n'
            'refresh_token = "seed"\n')
        code = ("from pipelines.clio.config import load_settings as l; s = l(); "
                "print(s.region, s.client_id, s.refresh_token, s.token_store, s.max_attempts)")
        env = {k: v for k, v in os.environ.items() if not k.startswith("SOURCES__")}
        out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, text=True,
                             capture_output=True, check=True).stdout.split()
        assert out == ["ca", "toml-id", "seed", str(tmp_path / "tokens" / "t.json"), "2"]

    def test_default_token_store_is_beside_the_working_dir(self, app_env, tmp_path) -> None:
        assert load_settings().token_store == Path(tmp_path) / ".clio-sync" / "token.json"

    def test_secrets_are_not_in_the_repr(self, app_env) -> None:
        app_env.setenv("SOURCES__CLIO__CREDENTIALS__REFRESH_TOKEN", "refresh-seed")
        text = repr(load_settings())
        assert "app-secret" not in text and "refresh-seed" not in text and "app-id" in text


class TestMistakes:
    @pytest.mark.parametrize(("name", "value", "valid"), [
        ("REGION", "uk", "us, eu, ca, au"), ("API", "grow", "manage, platform")])
    def test_a_typo_lists_the_valid_values(self, app_env, name, value, valid) -> None:
        app_env.setenv(f"SOURCES__CLIO__{name}", value)
        with pytest.raises(ConfigError, match=f"SOURCES__CLIO__{name} is '{value}'.*{valid}"):
            load_settings()

    def test_a_base_url_without_scheme_is_refused(self, app_env) -> None:
        app_env.setenv("SOURCES__CLIO__BASE_URL", "127.0.0.1:8750")
        with pytest.raises(ConfigError, match="not an http"):
            load_settings()

    @pytest.mark.parametrize("name", ["CLIENT_ID", "CLIENT_SECRET"])
    def test_missing_app_credentials_name_the_setting_and_where(self, app_env, name) -> None:
        app_env.delenv(f"SOURCES__CLIO__CREDENTIALS__{name}")
        with pytest.raises(ConfigError) as info:
            load_settings()
        assert f"SOURCES__CLIO__CREDENTIALS__{name} is not set" in str(info.value)
        assert ".dlt/secrets.toml" in str(info.value)

    @pytest.mark.parametrize(("name", "value"), [("TIMEOUT", "0"), ("MAX_ATTEMPTS", "-1"),
                                                 ("TIMEOUT", "soon")])
    def test_bad_numbers_are_config_errors(self, app_env, name, value) -> None:
        app_env.setenv(f"SOURCES__CLIO__{name}", value)
        with pytest.raises(ConfigError, match=f"(?i){name}"):
            load_settings()
