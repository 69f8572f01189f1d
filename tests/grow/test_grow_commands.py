"""Grow in the commands: `run`, `reconcile`, `doctor` and `auth login|status|logout --grow`,
as real processes against the sandbox (login in-process, its redirect listener is real)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from grow_helpers import grow_env, query

from pipelines.cli import main
from pipelines.sandbox.grow.options import GrowOptions
from pipelines.sandbox.harness import SandboxServer, free_port, serve_sandbox


def manage_env(sb: SandboxServer, tmp_path: Path) -> dict[str, str]:
    pair = sb.token()
    return {
        "SOURCES__CLIO__BASE_URL": sb.base_url,
        "SOURCES__CLIO__TOKEN_STORE": str(tmp_path / "token.json"),
        "SOURCES__CLIO__CREDENTIALS__CLIENT_ID": "sandbox",
        "SOURCES__CLIO__CREDENTIALS__CLIENT_SECRET": "sandbox-secret",
        "SOURCES__CLIO__CREDENTIALS__REFRESH_TOKEN": pair["refresh_token"],
        "SOURCES__CLIO__CREDENTIALS__ACCESS_TOKEN": pair["access_token"],
    }


def cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("SOURCES__")}
    return subprocess.run([sys.executable, "-m", "pipelines", *args], env={**full, **env,
                          "COLUMNS": "200"}, cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def sb() -> SandboxServer:
    with serve_sandbox(rate_limit=None, grow=GrowOptions(rate_limit=None)) as server:
        yield server


def paths(sb: SandboxServer) -> set[str]:
    return {r["path"].split("/")[1] for r in sb.stats()["requests"]}


def test_run_syncs_grow_when_it_is_configured_and_builds_the_models(sb, tmp_path) -> None:
    db = tmp_path / "w.duckdb"
    env = {**manage_env(sb, tmp_path), **grow_env(sb, tmp_path)}
    result = cli(["run", "--db", str(db), "--log-format", "plain"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert query(db, "select count(*) from grow.matters")[0][0] == sb.grow.counts()["matters"]
    assert query(db, "select count(*) from clio.matters")[0][0] == len(sb.truth("matters"))
    assert query(db, "select count(distinct run_id) from grow._sync_runs") == [(1,)]
    assert "grow.matters" in result.stderr  # the summary names Grow's resources
    assert query(db, "select count(*) from reports.intake_funnel_monthly")[0][0] > 0


def test_resources_pick_one_products_tables(sb, tmp_path) -> None:
    db = tmp_path / "w.duckdb"
    env = {**manage_env(sb, tmp_path), **grow_env(sb, tmp_path)}
    sb.reset_stats()
    assert cli(["run", "--db", str(db), "--resources", "grow.matters,grow.inbox_leads",
                "-q"], env, tmp_path).returncode == 0
    assert paths(sb) == {"grow"}
    tables = {t for (t,) in query(db, "select table_name from information_schema.tables "
                                      "where table_schema = 'grow' and table_name not like '\\_%' "
                                      "escape '\\'")}
    assert {"matters", "inbox_leads"} <= tables and "contacts" not in tables
    sb.reset_stats()
    assert cli(["run", "--db", str(db), "--resources", "practice_areas", "-q"], env,
               tmp_path).returncode == 0
    assert paths(sb) == {"api"}


def test_grow_tables_without_grow_configured_are_refused(sb, tmp_path) -> None:
    result = cli(["run", "--db", str(tmp_path / "w.duckdb"), "--resources", "grow.matters"],
                 manage_env(sb, tmp_path), tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "SOURCES__GROW__CREDENTIALS__CLIENT_ID" in result.stderr


@pytest.mark.soak
def test_reconcile_covers_grow(tmp_path) -> None:
    with serve_sandbox(rate_limit=None, grow=GrowOptions(rate_limit=None)) as sb:
        db = tmp_path / "w.duckdb"
        env = {**manage_env(sb, tmp_path), **grow_env(sb, tmp_path)}
        assert cli(["run", "--db", str(db), "-q"], env, tmp_path).returncode == 0
        ignored = next(r for r in sb.grow.truth("inbox_leads") if r["state"] == "ignored")
        sb.grow.delete("inbox_leads", ignored["id"])
        result = cli(["reconcile", "--db", str(db), "--log-format", "plain"], env, tmp_path)
        assert result.returncode == 0, result.stderr
        assert "grow.inbox_leads" in result.stderr
        assert query(db, "select table_name, id from grow._tombstones") == [
            ("inbox_leads", ignored["id"])]


def test_doctor_checks_grow_and_names_a_missing_platform_scope(sb, tmp_path) -> None:
    env = {**manage_env(sb, tmp_path), **grow_env(sb, tmp_path)}
    healthy = cli(["doctor"], env, tmp_path)
    assert healthy.returncode == 0, healthy.stdout
    assert "grow endpoint matters" in healthy.stdout and "grow endpoint inbox_leads" in healthy.stdout
    scopes = ["grow_user_read", "grow_matter_read", "grow_lead_inbox_all_read",
              "grow_custom_field_read", "grow_contact_read"]
    env = {**manage_env(sb, tmp_path), **grow_env(sb, tmp_path / "narrow", scopes=scopes)}
    (tmp_path / "narrow").mkdir()
    narrow = cli(["doctor"], env, tmp_path)
    assert narrow.returncode == 1
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip()
            for line in narrow.stdout.splitlines() if line.count("│") >= 3 and line.split("│")[1].strip()}
    assert rows["grow endpoint matters"] == "ok" and rows["grow endpoint locations"] == "fail"
    assert "grow_location_read" in narrow.stdout and "auth login --grow" in narrow.stdout


def test_login_status_and_logout_with_grow(sb, tmp_path, monkeypatch, capsys) -> None:
    store = tmp_path / "grow-token.json"
    monkeypatch.setenv("SOURCES__GROW__BASE_URL", sb.base_url)
    monkeypatch.setenv("SOURCES__GROW__TOKEN_STORE", str(store))
    monkeypatch.setenv("SOURCES__GROW__CREDENTIALS__CLIENT_ID", "grow-sandbox")
    monkeypatch.setenv("SOURCES__GROW__CREDENTIALS__CLIENT_SECRET", "grow-sandbox-secret")
    opened: list[httpx.URL] = []

    def browser(url: str) -> bool:  # plays the user: approve, follow the redirect
        opened.append(httpx.URL(url))
        httpx.get(url, follow_redirects=True, timeout=10)
        return True

    monkeypatch.setattr("webbrowser.open", browser)
    assert main(["auth", "login", "--grow", "--port", str(free_port()), "--timeout", "20"]) == 0
    asked = opened[0]
    assert asked.path == "/platform/oauth/authorize"
    assert asked.params["code_challenge_method"] == "S256" and asked.params["code_challenge"]
    assert "grow_lead_inbox_all_read" in asked.params["scope"].split()
    stored = json.loads(store.read_text())
    assert stored["refresh_token"] and store.stat().st_mode & 0o777 == 0o600
    capsys.readouterr()
    assert main(["auth", "status", "--grow"]) == 0
    out = capsys.readouterr().out
    assert "Hartwell & Quinn LLP" in out and "Clio Grow" in out
    assert stored["access_token"] not in out and stored["refresh_token"] not in out
    assert main(["auth", "logout", "--grow"]) == 0
    assert "revoked at Clio" in capsys.readouterr().out and not store.exists()
    form = {"grant_type": "refresh_token", "refresh_token": json.loads(json.dumps(stored))[
        "refresh_token"], "client_id": "grow-sandbox", "client_secret": "grow-sandbox-secret"}
    assert httpx.post(f"{sb.grow.auth_url}/oauth/token", data=form).status_code == 400
