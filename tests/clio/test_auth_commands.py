"""`clio-sync auth login|status|logout` and `clio-sync doctor`, as real processes where
they talk to the sandbox (login with the browser in-process, its listener is real)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from pipelines.cli import main
from pipelines.clio.login import redirect_uri_for
from pipelines.sandbox.harness import free_port

SECRET = "sandbox-secret"


def env_for(sb, store: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOURCES__")}
    env |= {
        "SOURCES__CLIO__BASE_URL": sb.base_url,
        "SOURCES__CLIO__CREDENTIALS__CLIENT_ID": "sandbox",
        "SOURCES__CLIO__CREDENTIALS__CLIENT_SECRET": SECRET,
        "SOURCES__CLIO__TOKEN_STORE": str(store),
        "SOURCES__CLIO__BACKOFF_BASE": "0.01",
        "COLUMNS": "200",
    }
    return env | extra


def cli(args: list[str], env: dict[str, str], cwd: Path, stdin: str | None = None):
    return subprocess.run([sys.executable, "-m", "pipelines", *args], env=env, cwd=cwd,
                          input=stdin, capture_output=True, text=True, timeout=120)


def seeded_env(sb, store: Path, **token_kwargs: object) -> tuple[dict[str, str], dict]:
    pair = sb.token(**token_kwargs)
    return env_for(sb, store, SOURCES__CLIO__CREDENTIALS__REFRESH_TOKEN=pair["refresh_token"]), pair


class TestLogin:
    def test_the_browser_flow_writes_the_store(self, clio_sandbox, tmp_path, monkeypatch) -> None:
        sb = clio_sandbox()
        store = tmp_path / "store" / "token.json"
        for key, value in env_for(sb, store).items():
            monkeypatch.setenv(key, value)
        port = free_port()
        opened: list[str] = []

        def browser(url: str) -> bool:  # plays the user: approve, follow Clio's redirect
            opened.append(url)
            httpx.get(url, follow_redirects=True, timeout=10)
            return True

        monkeypatch.setattr("webbrowser.open", browser)
        assert main(["auth", "login", "--port", str(port), "--timeout", "20"]) == 0
        assert httpx.URL(opened[0]).params["redirect_uri"] == redirect_uri_for(port)
        stored = json.loads(store.read_text())
        assert stored["access_token"] and stored["refresh_token"]
        assert store.stat().st_mode & 0o777 == 0o600

    def test_no_browser_reads_the_pasted_redirect(self, clio_sandbox, tmp_path) -> None:
        sb = clio_sandbox()
        store = tmp_path / "token.json"
        process = subprocess.Popen(
            [sys.executable, "-m", "pipelines", "auth", "login", "--no-browser"],
            env=env_for(sb, store), cwd=tmp_path, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert process.stderr is not None and process.stdin is not None
        url = ""
        while not url:
            line = process.stderr.readline()
            assert line, "the command ended before printing the URL"
            url = line.strip() if line.strip().startswith("http") else ""
        redirect = httpx.get(url).headers["location"]  # the user approves in some browser
        out, err = process.communicate(redirect + "\n", timeout=60)
        assert process.returncode == 0, err
        assert "tokens saved" in out and json.loads(store.read_text())["access_token"]

    def test_a_declined_consent_is_explained(self, clio_sandbox, tmp_path, monkeypatch,
                                             capsys) -> None:
        sb = clio_sandbox()
        for key, value in env_for(sb, tmp_path / "t.json").items():
            monkeypatch.setenv(key, value)

        def declining_user(url: str) -> bool:
            httpx.get(url + "&decline=1", follow_redirects=True, timeout=10)
            return True

        monkeypatch.setattr("webbrowser.open", declining_user)
        assert main(["auth", "login", "--port", str(free_port()), "--timeout", "20"]) == 1
        assert "did not authorize the app (access_denied)" in capsys.readouterr().err
        assert not (tmp_path / "t.json").exists()

    def test_a_forged_state_is_refused(self, clio_sandbox, tmp_path) -> None:
        sb = clio_sandbox()
        result = cli(["auth", "login", "--no-browser"], env_for(sb, tmp_path / "t.json"),
                     tmp_path, stdin="http://127.0.0.1:8976/callback?code=abc&state=forged\n")
        assert result.returncode == 1
        assert "state does not match" in result.stderr and "Traceback" not in result.stderr
        assert not (tmp_path / "t.json").exists()


    def test_nothing_pasted_is_explained(self, clio_sandbox, tmp_path) -> None:
        sb = clio_sandbox()
        result = cli(["auth", "login", "--no-browser"], env_for(sb, tmp_path / "t.json"),
                     tmp_path, stdin="")
        assert result.returncode == 1
        assert "No redirect URL was pasted" in result.stderr

    def test_an_unknown_code_is_explained(self, clio_sandbox, tmp_path, monkeypatch) -> None:
        sb = clio_sandbox()
        for key, value in env_for(sb, tmp_path / "t.json").items():
            monkeypatch.setenv(key, value)
        from pipelines.clio.config import load_settings
        from pipelines.clio.errors import ClioAuthError
        from pipelines.clio.login import authorization_request, exchange_code

        settings = load_settings()
        request = authorization_request(settings, redirect_uri_for(8976))
        with pytest.raises(ClioAuthError, match="refused the authorization code"):
            exchange_code(settings, request, "never-issued")


class TestStatusAndLogout:
    def test_status_names_the_user_and_no_secret_even_verbose(self, clio_sandbox,
                                                              tmp_path) -> None:
        sb = clio_sandbox()
        env, pair = seeded_env(sb, tmp_path / "token.json")
        sb.faults(expire_tokens=True)  # status must refresh, and log about it
        result = cli(["-v", "--log-format", "plain", "auth", "status"], env, tmp_path)
        assert result.returncode == 0, result.stderr
        assert "Ann Owner <ann@example.com>" in result.stdout and "manage" in result.stdout
        assert "Refreshing the Clio access token" in result.stderr
        stored = json.loads((tmp_path / "token.json").read_text())
        for secret in (pair["access_token"], pair["refresh_token"], stored["access_token"],
                       SECRET):
            assert secret not in result.stdout + result.stderr

    def test_logout_revokes_and_deletes_the_store(self, clio_sandbox, tmp_path) -> None:
        sb = clio_sandbox()
        store = tmp_path / "token.json"
        env, pair = seeded_env(sb, store)
        assert cli(["auth", "status"], env, tmp_path).returncode == 0
        result = cli(["auth", "logout"], env, tmp_path)
        assert result.returncode == 0 and "revoked at Clio" in result.stdout
        assert not store.exists()
        form = {"grant_type": "refresh_token", "refresh_token": pair["refresh_token"],
                "client_id": "sandbox", "client_secret": SECRET}
        assert httpx.post(f"{sb.base_url}/oauth/token", data=form).status_code == 400


class TestDoctor:
    def test_all_green_with_a_full_token(self, clio_sandbox, tmp_path) -> None:
        sb = clio_sandbox()
        env, _ = seeded_env(sb, tmp_path / "token.json")
        result = cli(["doctor"], env, tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.count(" ok ") >= 3 + 14  # config, token, region, 14 endpoints
        assert "Ann Owner" in result.stdout

    @pytest.mark.slow
    def test_a_missing_scope_fails_its_endpoints_only(self, clio_sandbox, tmp_path) -> None:
        sb = clio_sandbox()
        env, _ = seeded_env(sb, tmp_path / "token.json", scopes=["users:read", "matters:read"])
        result = cli(["doctor"], env, tmp_path)
        assert result.returncode == 1
        rows = {line.split("│")[1].strip(): line.split("│")[2].strip()
                for line in result.stdout.splitlines() if line.count("│") >= 3
                and line.split("│")[1].strip()}
        assert rows["endpoint users"] == "ok" and rows["endpoint practice_areas"] == "ok"
        assert rows["endpoint bills"] == "fail" and rows["token"] == "ok"
        assert "billing:read" in result.stdout

    def test_bad_config_fails_with_the_setting_named(self, clio_sandbox, tmp_path) -> None:
        sb = clio_sandbox()
        env = env_for(sb, tmp_path / "t.json", SOURCES__CLIO__REGION="moon")
        result = cli(["doctor"], env, tmp_path)
        assert result.returncode == 1
        assert "SOURCES__CLIO__REGION" in result.stdout and "us, eu, ca, au" in result.stdout


def test_platform_login_asks_for_the_given_scopes_with_pkce(clio_sandbox, tmp_path,
                                                            monkeypatch) -> None:
    sb = clio_sandbox(api="platform")
    store = tmp_path / "token.json"
    for key, value in env_for(sb, store, SOURCES__CLIO__API="platform").items():
        monkeypatch.setenv(key, value)
    opened: list[httpx.URL] = []

    def browser(url: str) -> bool:
        opened.append(httpx.URL(url))
        httpx.get(url, follow_redirects=True, timeout=10)
        return True

    monkeypatch.setattr("webbrowser.open", browser)
    assert main(["auth", "login", "--port", str(free_port()), "--scope", "users:read"]) == 0
    assert opened[0].params["scope"] == "users:read"
    assert opened[0].params["code_challenge_method"] == "S256"
    access = json.loads(store.read_text())["access_token"]
    headers = {"Authorization": f"Bearer {access}", "X-API-VERSION": "4.0.13"}
    assert httpx.get(f"{sb.base_url}/api/v4/users.json", headers=headers).status_code == 200
    assert httpx.get(f"{sb.base_url}/api/v4/bills.json", headers=headers).status_code == 403
