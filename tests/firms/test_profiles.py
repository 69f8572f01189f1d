"""Firm profiles: names from env and TOML, per-firm settings, schemas, token stores, typos."""

from __future__ import annotations

import subprocess
import sys

import pytest
from firm_helpers import clean_env

from pipelines.errors import ConfigError
from pipelines.firms import profiles

APP = {"CREDENTIALS__CLIENT_ID": "app-id", "CREDENTIALS__CLIENT_SECRET": "app-secret"}


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name in list(__import__("os").environ):
        if name.startswith(("FIRMS__", "SOURCES__CLIO__")):
            monkeypatch.delenv(name)
    return monkeypatch


def set_firm(env, name: str, **values: str) -> None:
    for key, value in {**APP, **values}.items():
        env.setenv(f"FIRMS__{name.upper()}__{key.upper()}", value)


def test_firm_names_come_from_the_environment_sorted(env) -> None:
    set_firm(env, "beta_law")
    set_firm(env, "acme")
    assert profiles.firm_names() == ["acme", "beta_law"]


def test_no_profile_means_no_firm(env) -> None:
    assert profiles.firm_names() == []


def test_each_firm_reads_its_own_section(env) -> None:
    set_firm(env, "acme", region="eu", base_url="http://127.0.0.1:9001")
    set_firm(env, "beta", region="au", api="platform")
    env.setenv("SOURCES__CLIO__REGION", "ca")  # the single-firm section is not read
    acme, beta = profiles.firm_settings("acme"), profiles.firm_settings("beta")
    assert (acme.region, acme.api_root, acme.firm) == ("eu", "http://127.0.0.1:9001/api/v4", "acme")
    assert (beta.region, beta.api, beta.base_url) == ("au", "platform", "https://au.api.clio.com")


def test_firms_of_one_app_get_their_own_default_token_stores(env) -> None:
    set_firm(env, "acme")
    set_firm(env, "beta")
    acme, beta = profiles.firm_settings("acme"), profiles.firm_settings("beta")
    assert acme.token_store != beta.token_store
    assert acme.token_store.parent == beta.token_store.parent
    assert acme.uses_default_token_store and "firm-acme-" in acme.token_store.name


def test_schema_names_per_firm_and_without_one() -> None:
    acme = profiles.schemas("acme")
    assert (acme.raw, acme.staging, acme.intermediate, acme.reports, acme.pipeline) == (
        "clio_acme", "staging_acme", "intermediate_acme", "reports_acme", "clio_sync_acme")
    plain = profiles.schemas()
    assert (plain.raw, plain.staging, plain.intermediate, plain.reports, plain.pipeline) == (
        "clio", "staging", "intermediate", "reports", "clio_sync")


@pytest.mark.parametrize("name", ["Acme", "acme-law", "acme__law", "1acme", "acme_", "a" * 41, ""])
def test_invalid_firm_names_are_refused(name) -> None:
    with pytest.raises(ConfigError, match="not a valid firm name"):
        profiles.schemas(name or "_")


def test_a_mixed_case_variable_is_refused_not_ignored(env) -> None:
    env.setenv("FIRMS__Acme__REGION", "eu")
    with pytest.raises(ConfigError, match="FIRMS__ACME__"):
        profiles.firm_names()


def test_an_unknown_firm_is_named_with_a_suggestion(env) -> None:
    set_firm(env, "acme_law")
    with pytest.raises(ConfigError, match="Did you mean 'acme_law'"):
        profiles.firm_settings("acme_lwa")


def test_a_typo_in_a_firm_key_is_refused(env) -> None:
    set_firm(env, "acme", rate_limt_bufer="3")
    with pytest.raises(ConfigError, match=r"FIRMS__ACME__RATE_LIMT_BUFER.*FIRMS__ACME__RATE_LIMIT_BUFFER"):
        profiles.firm_settings("acme")


def test_a_bad_value_names_the_firm_key(env) -> None:
    set_firm(env, "acme", region="mars")
    with pytest.raises(ConfigError, match="FIRMS__ACME__REGION is 'mars'"):
        profiles.firm_settings("acme")


def test_a_missing_secret_names_the_firm_key(env) -> None:
    env.setenv("FIRMS__ACME__CREDENTIALS__CLIENT_ID", "app-id")
    with pytest.raises(ConfigError, match=r"FIRMS__ACME__CREDENTIALS__CLIENT_SECRET is not set"):
        profiles.firm_settings("acme")


def test_profiles_from_secrets_toml_with_typos_refused(tmp_path) -> None:
    # A fresh process: dlt settles its project directory (and .dlt/) once per process.
    (tmp_path / ".dlt").mkdir()
    (tmp_path / ".dlt" / "secrets.toml").write_text(
        '[firms.acme]\nregion = "eu"\n[firms.acme.credentials]\nclient_id = "a"\n'
        'client_secret = "s3cret"\n'
        '[firms.beta.credentials]\nclient_id = "b"\nclient_secret = "s3cret"\nclient_secrt = "x"\n')
    code = ("from pipelines.errors import ConfigError\n"
            "from pipelines.firms import profiles\n"
            "print(profiles.firm_names(), profiles.firm_settings('acme').region)\n"
            "try:\n    profiles.firm_settings('beta')\nexcept ConfigError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=clean_env(), text=True,
                         capture_output=True, check=True).stdout
    assert out.startswith("['acme', 'beta'] eu")
    assert "`client_secrt` under [firms.beta.credentials]" in out
    assert "did you mean client_secret" in out and "s3cret" not in out
