"""Where the token store lives: one per OS user and authorization, whatever the working
directory; a store of another region, host or API is refused; the old default is adopted."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.clio.auth import ClioAuth, store_for
from pipelines.clio.client import ClioClient
from pipelines.clio.config import load_settings
from pipelines.clio.errors import ClioAuthError
from pipelines.clio.token_store import TokenSet

APP = {"SOURCES__CLIO__CREDENTIALS__CLIENT_ID": "app-id",
       "SOURCES__CLIO__CREDENTIALS__CLIENT_SECRET": "app-secret"}
LEGACY = Path(".clio-sync") / "token.json"


@pytest.fixture
def app_env(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for key, value in APP.items():
        monkeypatch.setenv(key, value)
    return monkeypatch


def tokens_dir(config_home: Path) -> Path:
    return config_home / "clio-sync" / "tokens"


class TestDefaultLocation:
    def test_every_working_dir_shares_one_store_in_the_config_dir(
            self, app_env, tmp_path, private_config_dir) -> None:
        paths = []
        for folder in ("cron", "project"):
            (tmp_path / folder).mkdir()
            app_env.chdir(tmp_path / folder)
            paths.append(load_settings().token_store)
        assert paths[0] == paths[1]
        assert paths[0].parent == tokens_dir(private_config_dir)
        assert paths[0].name.endswith(".json")

    @pytest.mark.parametrize("xdg", [None, "", "relative/config"])
    def test_home_config_when_xdg_config_home_is_unset_or_not_absolute(
            self, app_env, tmp_path, xdg) -> None:
        app_env.setenv("HOME", str(tmp_path / "home"))
        if xdg is None:
            app_env.delenv("XDG_CONFIG_HOME")
        else:
            app_env.setenv("XDG_CONFIG_HOME", xdg)
        assert load_settings().token_store.parent == tokens_dir(tmp_path / "home" / ".config")

    @pytest.mark.parametrize("change", [
        {"SOURCES__CLIO__REGION": "eu"},
        {"SOURCES__CLIO__API": "platform"},
        {"SOURCES__CLIO__BASE_URL": "http://127.0.0.1:8750"},
        {"SOURCES__CLIO__CREDENTIALS__CLIENT_ID": "another-app"},
    ])
    def test_each_authorization_has_its_own_store(self, app_env, change) -> None:
        usual = load_settings().token_store
        for key, value in change.items():
            app_env.setenv(key, value)
        assert load_settings().token_store != usual

    def test_the_regions_own_host_names_the_same_store_as_no_host(self, app_env) -> None:
        usual = load_settings().token_store
        app_env.setenv("SOURCES__CLIO__BASE_URL", "https://app.clio.com/")
        assert load_settings().token_store == usual

    def test_the_client_id_is_not_spelled_out_in_the_name(self, app_env) -> None:
        app_env.setenv("SOURCES__CLIO__CREDENTIALS__CLIENT_ID", "id/with:odd chars")
        name = load_settings().token_store.name
        assert "/" not in name and ":" not in name and " " not in name

    def test_the_token_store_setting_still_wins(self, app_env, tmp_path) -> None:
        app_env.setenv("SOURCES__CLIO__TOKEN_STORE", str(tmp_path / "mine.json"))
        assert load_settings().token_store == tmp_path / "mine.json"

    def test_folders_it_creates_are_private(self, app_env, tmp_path) -> None:
        home = tmp_path / "fresh" / "config"
        app_env.setenv("XDG_CONFIG_HOME", str(home))
        settings = load_settings()
        store_for(settings).save(TokenSet(access_token="a", refresh_token="r"))
        for folder in (tmp_path / "fresh", home, home / "clio-sync", tokens_dir(home)):
            assert folder.stat().st_mode & 0o777 == 0o700, folder
        assert settings.token_store.stat().st_mode & 0o777 == 0o600


class TestRegionMismatch:
    def write(self, path: Path, **fields: object) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"access_token": "a-x", "refresh_token": "r-x", **fields}))

    @pytest.mark.parametrize(("stored", "named"), [
        ({"region": "eu", "base_url": "https://eu.app.clio.com", "api": "manage"},
         "region eu"),
        ({"region": "us", "base_url": "https://api.clio.com", "api": "platform"},
         "api platform"),
        ({"base_url": "https://eu.app.clio.com"}, "https://eu.app.clio.com"),
    ])
    def test_a_store_saved_for_another_region_host_or_api_is_refused(
            self, app_env, tmp_path, stored, named) -> None:
        path = tmp_path / "elsewhere.json"
        self.write(path, **stored)
        app_env.setenv("SOURCES__CLIO__TOKEN_STORE", str(path))
        settings = load_settings()
        with pytest.raises(ClioAuthError) as info:
            ClioAuth(settings).current()
        message = str(info.value)
        assert named in message and "region us" in message and "https://app.clio.com" in message
        assert str(path) in message and "clio-sync auth login" in message
        assert "SOURCES__CLIO__TOKEN_STORE" in message
        assert "a-x" not in message and "r-x" not in message

    def test_an_older_store_without_its_origin_is_accepted(self, app_env, tmp_path) -> None:
        path = tmp_path / "old.json"
        self.write(path)
        app_env.setenv("SOURCES__CLIO__TOKEN_STORE", str(path))
        assert ClioAuth(load_settings()).current().access_token == "a-x"

    def test_nothing_is_sent_with_a_token_of_another_region(
            self, clio_sandbox, sandbox_settings, store_path, statuses) -> None:
        sb = clio_sandbox(region="us")
        pair = sb.token(region="eu")
        self.write(store_path, access_token=pair["access_token"], region="eu",
                   base_url=sb.base_url, api="manage")
        with ClioClient(sandbox_settings(sb, seed=False)) as client, \
                pytest.raises(ClioAuthError, match="region eu"):
            client.get("practice_areas.json")
        assert statuses(sb) == []


class TestOldDefault:
    """`.clio-sync/token.json` in the working directory was the default before."""

    def save_legacy(self, tokens: TokenSet) -> Path:
        LEGACY.parent.mkdir()
        LEGACY.write_text(json.dumps(tokens.to_json()))
        LEGACY.chmod(0o600)
        return LEGACY.absolute()

    def test_it_is_moved_to_the_new_default_once_with_a_log_line(self, app_env, caplog) -> None:
        settings = load_settings()
        tokens = TokenSet(access_token="a-old", refresh_token="r-old", region="us",
                          base_url=settings.base_url, api="manage")
        legacy = self.save_legacy(tokens)
        with caplog.at_level(logging.INFO, logger="pipelines.clio"):
            assert ClioAuth(settings).current() == tokens
        assert not legacy.exists()
        assert json.loads(settings.token_store.read_text()) == tokens.to_json()
        assert settings.token_store.stat().st_mode & 0o777 == 0o600
        moved = [r.getMessage() for r in caplog.records if "Moved" in r.getMessage()]
        assert len(moved) == 1 and str(legacy) in moved[0] and str(settings.token_store) in moved[0]

    def test_a_store_without_its_origin_is_moved_too(self, app_env) -> None:
        settings = load_settings()
        legacy = self.save_legacy(TokenSet(access_token="a-old", refresh_token="r-old"))
        assert ClioAuth(settings).current().access_token == "a-old"
        assert not legacy.exists() and settings.token_store.exists()

    def test_it_wins_over_the_configured_seed(self, app_env) -> None:
        app_env.setenv("SOURCES__CLIO__CREDENTIALS__REFRESH_TOKEN", "stale-seed")
        settings = load_settings()
        self.save_legacy(TokenSet(access_token="a-old", refresh_token="r-rotated"))
        assert ClioAuth(settings).current().refresh_token == "r-rotated"

    def test_one_of_another_region_stays_where_it_is(self, app_env, caplog) -> None:
        legacy = self.save_legacy(TokenSet(access_token="a-eu", refresh_token="r-eu",
                                           region="eu", base_url="https://eu.app.clio.com",
                                           api="manage"))
        app_env.setenv("SOURCES__CLIO__CREDENTIALS__REFRESH_TOKEN", "seed")
        settings = load_settings()
        with caplog.at_level(logging.WARNING, logger="pipelines.clio"):
            assert ClioAuth(settings).current().refresh_token == "seed"
        assert legacy.exists() and "region eu" in caplog.text

    def test_it_is_left_alone_when_the_new_default_exists(self, app_env, caplog) -> None:
        settings = load_settings()
        store_for(settings).save(TokenSet(access_token="a-new", refresh_token="r-new"))
        legacy = self.save_legacy(TokenSet(access_token="a-old", refresh_token="r-old"))
        with caplog.at_level(logging.WARNING, logger="pipelines.clio"):
            assert ClioAuth(settings).current().access_token == "a-new"
        assert legacy.exists() and str(legacy) in caplog.text

    def test_an_explicit_store_never_adopts_it(self, app_env, tmp_path) -> None:
        legacy = self.save_legacy(TokenSet(access_token="a-old", refresh_token="r-old"))
        app_env.setenv("SOURCES__CLIO__TOKEN_STORE", str(tmp_path / "mine.json"))
        app_env.setenv("SOURCES__CLIO__CREDENTIALS__REFRESH_TOKEN", "seed")
        assert ClioAuth(load_settings()).current().refresh_token == "seed"
        assert legacy.exists()


def cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def sandbox_env(sb, **extra: str) -> dict[str, str]:
    """The environment of a `clio-sync` process for `sb`, with no SOURCES__CLIO__TOKEN_STORE."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOURCES__")}
    return env | {
        "SOURCES__CLIO__BASE_URL": sb.base_url,
        "SOURCES__CLIO__CREDENTIALS__CLIENT_ID": "sandbox",
        "SOURCES__CLIO__CREDENTIALS__CLIENT_SECRET": "sandbox-secret",
        "COLUMNS": "250",
    } | extra


def folders(tmp_path: Path, *names: str) -> list[Path]:
    for name in names:
        (tmp_path / name).mkdir()
    return [tmp_path / name for name in names]


class TestCommands:
    def test_a_cron_job_started_elsewhere_uses_the_rotated_token(self, clio_sandbox,
                                                                 tmp_path) -> None:
        # Platform rotates refresh tokens: a second store seeded from the configured (now
        # stale) refresh token would be refused with invalid_grant.
        sb = clio_sandbox(api="platform")
        seed = sb.token(api="platform")["refresh_token"]
        env = sandbox_env(sb, SOURCES__CLIO__API="platform",
                          SOURCES__CLIO__CREDENTIALS__REFRESH_TOKEN=seed)
        project, cron = folders(tmp_path, "project", "cron")
        first = cli(["auth", "status"], env, project)
        assert first.returncode == 0, first.stderr
        second = cli(["auth", "status"], env, cron)
        assert second.returncode == 0, second.stderr
        assert "Ann Owner" in second.stdout

    def test_status_and_doctor_print_the_store_in_use(self, clio_sandbox, tmp_path,
                                                      private_config_dir) -> None:
        sb = clio_sandbox()
        env = sandbox_env(sb, SOURCES__CLIO__CREDENTIALS__REFRESH_TOKEN=sb.token()["refresh_token"])
        where = str(tokens_dir(private_config_dir))
        status = cli(["auth", "status"], env, tmp_path)
        assert status.returncode == 0, status.stderr
        doctor = cli(["doctor"], env, tmp_path)
        assert doctor.returncode == 0, doctor.stdout
        store_rows = [line for line in doctor.stdout.splitlines() if "token store" in line]
        assert len(store_rows) == 1 and where in store_rows[0] and "default" in store_rows[0]
        assert where in status.stdout

    def test_status_names_the_store_even_when_clio_refuses_the_token(
            self, clio_sandbox, tmp_path, private_config_dir) -> None:
        sb = clio_sandbox()
        env = sandbox_env(sb, SOURCES__CLIO__CREDENTIALS__REFRESH_TOKEN=sb.token()["refresh_token"])
        assert cli(["auth", "status"], env, tmp_path).returncode == 0
        sb.faults(revoke_tokens=True)
        status = cli(["auth", "status"], env, tmp_path)
        assert status.returncode == 1
        assert str(tokens_dir(private_config_dir)) in status.stdout
        assert "ClioAuthError:" in status.stderr and "Traceback" not in status.stderr

    def test_a_store_of_another_region_is_refused_and_kept(self, clio_sandbox,
                                                           tmp_path) -> None:
        sb = clio_sandbox(region="us")
        store = tmp_path / "eu-token.json"
        store.write_text(json.dumps({"access_token": sb.token(region="eu")["access_token"],
                                     "region": "eu", "base_url": sb.base_url,
                                     "api": "manage"}))
        env = sandbox_env(sb, SOURCES__CLIO__TOKEN_STORE=str(store))
        for command in (["auth", "status"], ["auth", "logout"], ["run", "--db",
                                                                  str(tmp_path / "w.duckdb")]):
            result = cli(command, env, tmp_path)
            assert result.returncode == 1, command
            assert "ClioAuthError:" in result.stderr and "region eu" in result.stderr, command
            assert "Traceback" not in result.stderr
        assert store.exists()
        assert not [r for r in sb.stats()["requests"] if r["path"].startswith("/api/v4/")]
