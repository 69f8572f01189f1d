"""OAuth: authorize, token grants, refresh behaviour per API, regions, deauthorize."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from pipelines.sandbox.harness import SandboxServer

REDIRECT = "http://127.0.0.1:9/callback"
CLIENT = {"client_id": "sandbox", "client_secret": "sandbox-secret"}


def authorize(sb: SandboxServer, **params: str) -> dict[str, list[str]]:
    query = {
        "response_type": "code",
        "client_id": "sandbox",
        "redirect_uri": REDIRECT,
        "state": "xyz",
        **params,
    }
    response = httpx.get(f"{sb.base_url}/oauth/authorize", params=query)
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT)
    return parse_qs(urlsplit(location).query)


def token(sb: SandboxServer, **form: str) -> httpx.Response:
    return httpx.post(f"{sb.base_url}/oauth/token", data={**CLIENT, **form})


def bills(sb: SandboxServer, access: str) -> httpx.Response:
    return httpx.get(
        f"{sb.base_url}/api/v4/bills.json", headers={"Authorization": f"Bearer {access}"}
    )


class TestAuthorizationCode:
    def test_code_flow_yields_working_tokens(self, fixed: SandboxServer) -> None:
        query = authorize(fixed)
        assert query["state"] == ["xyz"]
        answer = token(
            fixed, grant_type="authorization_code", code=query["code"][0], redirect_uri=REDIRECT
        )
        assert answer.status_code == 200
        pair = answer.json()
        assert pair["token_type"] == "bearer" and pair["expires_in"] == 3600
        assert bills(fixed, pair["access_token"]).status_code == 200
        again = token(
            fixed, grant_type="authorization_code", code=query["code"][0], redirect_uri=REDIRECT
        )
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"

    def test_decline_redirects_with_access_denied(self, fixed: SandboxServer) -> None:
        query = authorize(fixed, decline="1", redirect_on_decline="true")
        assert query["error"] == ["access_denied"] and query["state"] == ["xyz"]

    def test_bad_client_secret_is_invalid_client(self, fixed: SandboxServer) -> None:
        answer = httpx.post(
            f"{fixed.base_url}/oauth/token",
            data={
                "client_id": "sandbox",
                "client_secret": "nope",
                "grant_type": "refresh_token",
                "refresh_token": "x",
            },
        )
        assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"

    def test_token_request_must_be_form_encoded(self, fixed: SandboxServer) -> None:
        answer = httpx.post(f"{fixed.base_url}/oauth/token", json={**CLIENT})
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"


class TestRefresh:
    def test_manage_refresh_tokens_are_reusable_and_not_repeated(
        self, fixed: SandboxServer
    ) -> None:
        refresh = fixed.token()["refresh_token"]
        first = token(fixed, grant_type="refresh_token", refresh_token=refresh).json()
        second = token(fixed, grant_type="refresh_token", refresh_token=refresh).json()
        assert "refresh_token" not in first and "refresh_token" not in second
        assert first["access_token"] != second["access_token"]

    def test_platform_refresh_tokens_rotate(self, sandbox_factory) -> None:
        from fixture_firm import records

        sb = sandbox_factory(fixture=records(), api="platform")
        old = sb.token()["refresh_token"]
        rotated = token(sb, grant_type="refresh_token", refresh_token=old).json()
        assert rotated["refresh_token"] != old
        reused = token(sb, grant_type="refresh_token", refresh_token=old)
        assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
        assert (
            token(
                sb, grant_type="refresh_token", refresh_token=rotated["refresh_token"]
            ).status_code
            == 200
        )

    def test_platform_authorize_needs_scope_and_checks_pkce(self, sandbox_factory) -> None:
        from fixture_firm import records

        sb = sandbox_factory(fixture=records(), api="platform")
        assert authorize(sb)["error"] == ["invalid_scope"]
        verifier = "v" * 50
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        code = authorize(
            sb,
            scope="billing:read",
            code_challenge=challenge.decode().rstrip("="),
            code_challenge_method="S256",
        )["code"][0]
        bad = token(
            sb,
            grant_type="authorization_code",
            code=code,
            redirect_uri=REDIRECT,
            code_verifier="wrong",
        )
        assert bad.status_code == 400
        code = authorize(
            sb,
            scope="billing:read",
            code_challenge=challenge.decode().rstrip("="),
            code_challenge_method="S256",
        )["code"][0]
        good = token(
            sb,
            grant_type="authorization_code",
            code=code,
            redirect_uri=REDIRECT,
            code_verifier=verifier,
        )
        assert good.status_code == 200


class TestExpiryRevocationRegions:
    def test_expired_token_is_401(self, fixed: SandboxServer) -> None:
        assert bills(fixed, fixed.token(expires_in=0)["access_token"]).status_code == 401

    @pytest.mark.parametrize("fault", ["expire_tokens", "revoke_tokens"])
    def test_faults_expire_or_revoke_every_token(self, fixed: SandboxServer, fault: str) -> None:
        pair = fixed.token()
        fixed.faults(**{fault: True})
        assert bills(fixed, pair["access_token"]).json()["error"] == "invalid_token"
        refreshed = token(fixed, grant_type="refresh_token", refresh_token=pair["refresh_token"])
        assert refreshed.status_code == (200 if fault == "expire_tokens" else 400)

    def test_another_regions_tokens_are_refused(self, fixed: SandboxServer) -> None:
        pair = fixed.token(region="eu")
        assert bills(fixed, pair["access_token"]).status_code == 401
        refreshed = token(fixed, grant_type="refresh_token", refresh_token=pair["refresh_token"])
        assert refreshed.status_code == 401 and refreshed.json()["error"] == "invalid_client"

    def test_deauthorize_revokes_the_grant(self, fixed: SandboxServer) -> None:
        pair = fixed.token()
        answer = httpx.post(
            f"{fixed.base_url}/oauth/deauthorize",
            headers={"Authorization": f"Bearer {pair['access_token']}"},
        )
        assert answer.status_code == 200
        assert bills(fixed, pair["access_token"]).status_code == 401
        assert (
            token(
                fixed, grant_type="refresh_token", refresh_token=pair["refresh_token"]
            ).status_code
            == 400
        )


class TestScopesAndRoles:
    def test_missing_scope_is_a_403_naming_the_permission(self, fixed: SandboxServer) -> None:
        access = fixed.token(scopes=["contacts:read"])["access_token"]
        response = bills(fixed, access)
        assert response.status_code == 403
        assert "billing:read" in response.json()["error"]["message"]
        assert "scope" in response.json()["error"]["message"]

    def test_write_scope_implies_read(self, fixed: SandboxServer) -> None:
        assert (
            bills(fixed, fixed.token(scopes=["billing:write"])["access_token"]).status_code == 200
        )

    def test_role_restriction_is_a_403_with_a_different_message(self, fixed: SandboxServer) -> None:
        fixed.faults(role_forbids=["bills"])
        response = bills(fixed, fixed.token()["access_token"])
        assert response.status_code == 403
        assert "role" in response.json()["error"]["message"]
        assert "scope" not in response.json()["error"]["message"]
