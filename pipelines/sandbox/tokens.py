"""Access and refresh tokens: minting, lookup, refresh (reusable or rotating), revocation.

Tokens are opaque strings prefixed with the region that minted them (`us-...`), so a
sandbox refuses another region's tokens (401) as Clio does. Manage refresh tokens are
reusable and the refresh answer omits `refresh_token`; Platform refresh tokens rotate:
each use returns a new one and revokes the old at once.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

from pipelines.sandbox.errors import OAuthError, invalid_token


@dataclass
class Grant:
    """One authorization: the app's consent, which refresh and access tokens belong to."""

    client_id: str
    api: str
    scopes: frozenset[str] | None
    region: str
    refresh_token: str
    revoked: bool = False


@dataclass
class AccessToken:
    value: str
    grant: Grant
    expires_at: float  # wall clock (time.time())
    revoked: bool = False


@dataclass
class TokenRegistry:
    """Every token this sandbox minted, by value."""

    region: str
    lifetime: int
    access: dict[str, AccessToken] = field(default_factory=dict)
    refresh: dict[str, Grant] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _new(self, region: str, kind: str) -> str:
        return f"{region}-{kind}-{secrets.token_urlsafe(24)}"

    def authorize(
        self,
        client_id: str,
        api: str,
        scopes: frozenset[str] | None,
        region: str | None = None,
        expires_in: int | None = None,
    ) -> dict:
        """A new grant with its first token pair, as the token endpoint answers it."""
        region = region or self.region
        grant = Grant(client_id, api, scopes, region, self._new(region, "r"))
        with self.lock:
            self.refresh[grant.refresh_token] = grant
        return self._answer(grant, expires_in, include_refresh=True)

    def _answer(self, grant: Grant, expires_in: int | None, include_refresh: bool) -> dict:
        lifetime = self.lifetime if expires_in is None else expires_in
        token = AccessToken(self._new(grant.region, "a"), grant, time.time() + lifetime)
        with self.lock:
            self.access[token.value] = token
        answer = {"token_type": "bearer", "access_token": token.value, "expires_in": lifetime}
        if include_refresh:
            answer["refresh_token"] = grant.refresh_token
        return answer

    def use_refresh(self, value: str, client_id: str) -> dict:
        """A refresh grant: a new access token (and for Platform a new refresh token)."""
        if not value.startswith(f"{self.region}-"):
            # The app is registered in another region: Clio answers as for a bad client.
            raise OAuthError(401, "invalid_client", "Client authentication failed.")
        with self.lock:
            grant = self.refresh.get(value)
            if grant is None or grant.revoked or grant.client_id != client_id:
                raise OAuthError(400, "invalid_grant", "The refresh token is invalid or revoked.")
            rotate = grant.api == "platform"
            if rotate:
                del self.refresh[value]
                grant.refresh_token = self._new(grant.region, "r")
                self.refresh[grant.refresh_token] = grant
        return self._answer(grant, None, include_refresh=rotate)

    def check(self, value: str) -> AccessToken:
        """The live access token `value`; OAuthError 401 `invalid_token` otherwise."""
        token = self.access.get(value) if value.startswith(f"{self.region}-") else None
        if token is None or token.revoked or token.grant.revoked or token.expires_at <= time.time():
            raise invalid_token()
        return token

    def deauthorize(self, value: str) -> None:
        """Revoke the grant behind access token `value` (all its tokens)."""
        self.check(value).grant.revoked = True

    def expire_all(self) -> None:
        with self.lock:
            for token in self.access.values():
                token.expires_at = 0.0

    def revoke_all(self) -> None:
        with self.lock:
            for token in self.access.values():
                token.revoked = True
            for grant in self.refresh.values():
                grant.revoked = True
