"""Settings through dlt's providers: env vars, .dlt/secrets.toml, explicit arguments."""

from __future__ import annotations

import os
import subprocess
import sys

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

    @pytest.mark.parametrize(("name", "value"), [
        ("TIMEOUT", "0"), ("MAX_ATTEMPTS", "-1"), ("TIMEOUT", "soon"), ("TIMEOUT", "nan"),
        ("REFRESH_SKEW", "inf"), ("BACKOFF_BASE", "nan"), ("MAX_WAIT", "0"), ("MAX_WAIT", "inf"),
        ("MAX_WAIT", "-5"), ("RATE_LIMIT_BUFFER", "1000"), ("RATE_LIMIT_BUFFER", "50"),
        ("RATE_LIMIT_BUFFER", "-1"), ("PLATFORM_REQUESTS_PER_SECOND", "inf"),
        ("PLATFORM_REQUESTS_PER_SECOND", "0"),
        ("MAX_ATTEMPTS", "1000"), ("BAD_PAGE_ATTEMPTS", "0"),
    ])
    def test_bad_numbers_are_config_errors(self, app_env, name, value) -> None:
        app_env.setenv(f"SOURCES__CLIO__{name}", value)
        with pytest.raises(ConfigError, match=f"SOURCES__CLIO__{name}"):
            load_settings()

    @pytest.mark.parametrize(("name", "value"), [
        ("BACKOFF_CAP", "400"), ("PLATFORM_REQUESTS_PER_SECOND", "0.001")])
    def test_no_single_wait_may_exceed_the_cap(self, app_env, name, value) -> None:
        app_env.setenv(f"SOURCES__CLIO__{name}", value)
        with pytest.raises(ConfigError, match=f"SOURCES__CLIO__{name}.*SOURCES__CLIO__MAX_WAIT"):
            load_settings()
        app_env.setenv("SOURCES__CLIO__MAX_WAIT", "1000")
        assert load_settings().max_wait == 1000

    @pytest.mark.parametrize(("name", "value"), [
        ("max_attempts", 2.5), ("max_attempts", True), ("rate_limit_buffer", 1.0),
        ("timeout", "30"), ("max_wait", float("nan"))])
    def test_explicit_values_are_checked_too(self, app_env, name, value) -> None:
        with pytest.raises(ConfigError, match=f"SOURCES__CLIO__{name.upper()}"):
            load_settings(**{name: value})

    def test_the_defaults_are_valid_and_bounded(self, app_env) -> None:
        settings = load_settings()
        assert settings.max_wait == 300
        assert settings.backoff_cap <= settings.max_wait


class TestTypos:
    @pytest.mark.parametrize(("typo", "meant"), [
        ("SOURCES__CLIO__RATE_LIMT_BUFER", "SOURCES__CLIO__RATE_LIMIT_BUFFER"),
        ("SOURCES__CLIO__MAXWAIT", "SOURCES__CLIO__MAX_WAIT"),
        ("SOURCES__CLIO__REGOIN", "SOURCES__CLIO__REGION"),
        ("SOURCES__CLIO__CREDENTIALS__CLIENT_SECRT", "SOURCES__CLIO__CREDENTIALS__CLIENT_SECRET"),
        ("SOURCES__CLIO__CREDENTIAL__REFRESH_TOKEN",
         "SOURCES__CLIO__CREDENTIALS__REFRESH_TOKEN"),
    ])
    def test_a_mistyped_variable_is_refused_with_a_suggestion(self, app_env, typo,
                                                              meant) -> None:
        app_env.setenv(typo, "secret-looking-value")
        with pytest.raises(ConfigError) as info:
            load_settings()
        message = str(info.value)
        assert typo in message and f"did you mean {meant}" in message
        assert "secret-looking-value" not in message

    def test_an_unrelated_variable_is_only_mentioned(self, app_env, caplog) -> None:
        app_env.setenv("SOURCES__CLIO__BILLS__PRIMARY_KEY", "id")
        assert load_settings().region == "us"
        assert "SOURCES__CLIO__BILLS__PRIMARY_KEY" in caplog.text

    def test_a_mistyped_key_in_config_toml_is_refused(self, tmp_path) -> None:
        # A fresh process: dlt settles its project directory (and .dlt/) once per process.
        (tmp_path / ".dlt").mkdir()
        (tmp_path / ".dlt" / "config.toml").write_text(
            '[sources.clio]\nrate_limt_bufer = 3\n')
        (tmp_path / ".dlt" / "secrets.toml").write_text(
            '[sources.clio.credentials]\nclient_id = "id"\nclient_secret = "s3cret"\n'
            'client_secrt = "s3cret"\n')
        code = ("from pipelines.errors import ConfigError\n"
                "from pipelines.clio.config import load_settings\n"
                "try:\n    load_settings()\nexcept ConfigError as e:\n    print(e)\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("SOURCES__")}
        out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, text=True,
                             capture_output=True, check=True).stdout
        assert "rate_limt_bufer" in out and "did you mean rate_limit_buffer" in out
        assert "client_secrt" in out and "did you mean client_secret" in out
        assert "s3cret" not in out
