"""Every 401/403 cause becomes its own message, and no secret reaches logs or errors."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from pipelines.clio.client import ClioClient
from pipelines.clio.errors import ClioApiError, ClioAuthError, ClioPermissionError

SECRET = "sandbox-secret"


def fetch(settings, path: str = "practice_areas.json") -> httpx.Response:
    with ClioClient(settings) as client:
        return client.get(path, params={"fields": "id"})


class TestUnauthorized:
    def test_expired_without_a_refresh_token_says_run_auth_login(self, clio_sandbox,
                                                                 sandbox_settings) -> None:
        sb = clio_sandbox()
        settings = sandbox_settings(sb, refresh_token=None)
        sb.faults(expire_tokens=True)
        with pytest.raises(ClioAuthError) as info:
            fetch(settings)
        assert "expired or was revoked and there is no refresh token" in str(info.value)
        assert "clio-sync auth login" in str(info.value) and info.value.status == 401

    def test_revoked_tokens_say_reauthorize(self, clio_sandbox, sandbox_settings) -> None:
        sb = clio_sandbox()
        settings = sandbox_settings(sb)
        sb.faults(revoke_tokens=True)
        with pytest.raises(ClioAuthError) as info:
            fetch(settings)
        assert "invalid_grant" in str(info.value) and "revoked" in str(info.value)
        assert "clio-sync auth login" in str(info.value)

    def test_a_malformed_header_is_named(self, clio_sandbox, sandbox_settings) -> None:
        sb = clio_sandbox()
        pair = sb.token()
        settings = sandbox_settings(sb, seed=False, access_token=f'"{pair["access_token"]}\n"')
        with pytest.raises(ClioAuthError, match="Authorization header would be malformed"):
            fetch(settings)

    def test_a_token_from_another_region_points_at_the_region(self, clio_sandbox,
                                                              sandbox_settings) -> None:
        sb = clio_sandbox(region="us")
        settings = sandbox_settings(sb, token_kwargs={"region": "eu"})
        with pytest.raises(ClioAuthError) as info:
            fetch(settings)
        assert "invalid_client" in str(info.value)
        assert "SOURCES__CLIO__REGION" in str(info.value)

    def test_a_wrong_client_secret_points_at_region_and_secret(self, clio_sandbox,
                                                               sandbox_settings) -> None:
        sb = clio_sandbox()
        settings = sandbox_settings(sb, client_secret="not-the-secret")
        sb.faults(expire_tokens=True)
        with pytest.raises(ClioAuthError, match="CLIENT_SECRET"):
            fetch(settings)

    def test_a_store_written_for_another_host_is_refused_before_any_request(
            self, clio_sandbox, sandbox_settings, store_path, statuses) -> None:
        sb = clio_sandbox()
        store_path.parent.mkdir(parents=True)
        store_path.write_text(json.dumps({"access_token": "eu-a-x", "refresh_token": None,
                                          "base_url": "https://eu.app.clio.com"}))
        with pytest.raises(ClioAuthError, match=r"holds tokens saved for host https://eu\.app\.clio\.com"
                           rf", but the configuration is api manage, region us, host {sb.base_url}"):
            fetch(sandbox_settings(sb, seed=False))
        assert statuses(sb) == []

    def test_a_401_right_after_a_refresh_means_another_region(self, make_settings) -> None:
        def app(request: httpx.Request) -> httpx.Response:
            if request.url.path == "/oauth/token":
                return httpx.Response(200, json={"access_token": "fresh", "expires_in": 3600})
            return httpx.Response(401, json={"error": "invalid_token"})

        settings = make_settings(access_token="old", refresh_token="r")
        client = ClioClient(settings, transport=httpx.MockTransport(app))
        with client, pytest.raises(ClioAuthError, match="had just issued"):
            client.get("bills.json")


class TestForbidden:
    def test_a_missing_scope_names_the_permission(self, clio_sandbox, sandbox_settings) -> None:
        sb = clio_sandbox()
        settings = sandbox_settings(sb, token_kwargs={"scopes": ["users:read"]})
        with pytest.raises(ClioPermissionError) as info:
            fetch(settings)
        message = str(info.value)
        assert "permission (OAuth scope) for `practice_areas`" in message
        assert "matters:read" in message  # Clio's own words name the permission
        assert "auth login" in message and "role" not in message.split("Clio said")[0]

    def test_a_role_that_forbids_it_sends_the_user_to_an_administrator(
            self, clio_sandbox, sandbox_settings) -> None:
        sb = clio_sandbox()
        sb.faults(role_forbids=["practice_areas"])
        with pytest.raises(ClioPermissionError) as info:
            fetch(sandbox_settings(sb))
        assert "firm administrator must change that user's role" in str(info.value)


def test_no_secret_reaches_logs_errors_or_reprs(clio_sandbox, sandbox_settings, store_path,
                                                caplog) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "pipelines", "filelock"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    sb = clio_sandbox(api="platform")
    settings = sandbox_settings(sb, token_kwargs={"api": "platform"}, api="platform",
                                platform_requests_per_second=100.0)
    texts: list[str] = [repr(settings), str(settings)]
    sb.faults(expire_tokens=True)
    with ClioClient(settings) as client:
        client.get("practice_areas.json")  # refresh with rotation
        texts += [repr(client), repr(client.auth), repr(client.auth.current())]
    rotated = json.loads(store_path.read_text())
    sb.faults(revoke_tokens=True)
    for broken in (settings, sandbox_settings(sb, seed=False, client_secret=SECRET + "x")):
        try:
            fetch(broken)
        except ClioApiError as exc:
            texts += [str(exc), repr(exc)]
    texts.append(caplog.text)
    everything = "\n".join(texts)
    assert "Refreshing the Clio access token" in caplog.text  # logging was on
    for secret in (settings.access_token, settings.refresh_token, rotated["access_token"],
                   rotated["refresh_token"], SECRET):
        assert secret and secret not in everything
