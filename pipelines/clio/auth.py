"""OAuth for every request: an httpx `Auth` flow over the token store.

The flow adds the bearer token, refreshes it shortly before it expires and once more on a
401 (then sends the request again, once). A refresh runs under the token store's lock and
re-reads the store first, so when another process (or thread) refreshed while we waited,
its token is used and Clio is not asked twice: with Platform's rotating refresh tokens a
second refresh would revoke the first one's token.

Manage refresh answers may omit `refresh_token` (the old one stays valid and is kept);
Platform answers carry a new one, which is written to disk (fsynced) before the new access
token is used.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Generator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from pipelines.clio import diagnostics
from pipelines.clio.config import ClioSettings
from pipelines.clio.retry import RetriableError
from pipelines.clio.token_location import LEGACY_TOKEN_STORE
from pipelines.clio.token_store import Origin, TokenSet, TokenStore

log = logging.getLogger(__name__)

REFRESHED = "clio_refreshed"  # request extension: a refresh happened while sending it


def store_for(settings: ClioSettings) -> TokenStore:
    """The token store of `settings`: seeded from its configured tokens, refusing tokens of
    another origin, and adopting one left at the old default location (the working
    directory's `.clio-sync/token.json`) when the default store is used."""
    seed = TokenSet(
        access_token=settings.access_token, refresh_token=settings.refresh_token,
        region=settings.region, base_url=settings.base_url, api=settings.api,
    )
    origin = Origin(api=settings.api, region=settings.region, base_url=settings.base_url)
    legacy = LEGACY_TOKEN_STORE.absolute() if settings.uses_default_token_store else None
    return TokenStore(settings.token_store, seed=seed, origin=origin, legacy=legacy)


def token_set_from_answer(
    answer: dict[str, Any], settings: ClioSettings, previous: TokenSet | None = None,
) -> TokenSet:
    """The tokens of a token-endpoint answer, keeping a reusable refresh token it omits."""
    now = datetime.now(UTC)
    expires_in = answer.get("expires_in")
    return TokenSet(
        access_token=answer["access_token"],
        refresh_token=answer.get("refresh_token") or (previous.refresh_token if previous else None),
        expires_at=now + timedelta(seconds=float(expires_in)) if expires_in else None,
        obtained_at=now,
        region=settings.region, base_url=settings.base_url, api=settings.api,
    )


class ClioAuth(httpx.Auth):
    """Bearer auth with proactive and on-401 refresh through the shared token store."""

    def __init__(self, settings: ClioSettings, store: TokenStore | None = None) -> None:
        self.settings = settings
        self.store = store or store_for(settings)
        self._tokens: TokenSet | None = None
        self._memory_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ClioAuth(store={self.store!r})"

    def current(self) -> TokenSet:
        """The tokens in use (loaded from the store on first use)."""
        with self._memory_lock:
            if self._tokens is None:
                self._tokens = self.store.load()
            return self._tokens

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        tokens = self.current()
        if tokens.expires_within(self.settings.refresh_skew) or _malformed(tokens):
            tokens = yield from self._refresh(tokens, request)
        if _malformed(tokens):  # never put it on the wire: httpx would echo it in its error
            raise diagnostics.malformed_token(self.settings.region)
        request.headers["Authorization"] = f"Bearer {tokens.access_token}"
        response = yield request
        if response.status_code != 401 or request.extensions.get(REFRESHED):
            return
        if not self._can_refresh(tokens):
            return
        response.read()
        response.close()
        tokens = yield from self._refresh(tokens, request)
        request.headers["Authorization"] = f"Bearer {tokens.access_token}"
        yield request

    def can_refresh(self) -> bool:
        return self._can_refresh(self.current())

    def _can_refresh(self, tokens: TokenSet) -> bool:
        return bool(tokens.refresh_token and self.settings.client_id and self.settings.client_secret)

    def _refresh(
        self, stale: TokenSet, request: httpx.Request,
    ) -> Generator[httpx.Request, httpx.Response, TokenSet]:
        """Refresh `stale` under the store's lock, unless someone already did."""
        with self.store.locked() as current:
            if current.access_token != stale.access_token and not current.expires_within(
                self.settings.refresh_skew
            ):
                log.debug("Using the token another process refreshed")
                return self._remember(current)
            if not self._can_refresh(current):
                return self._remember(current)  # the request's 401 tells the user what to do
            log.info("Refreshing the Clio access token")
            answer = yield self._refresh_request(current)
            answer.read()
            refreshed = self._parse(answer, current)
            self.store.save(refreshed)  # on disk (fsynced) before first use
        request.extensions = {**request.extensions, REFRESHED: True}
        return self._remember(refreshed)

    def _remember(self, tokens: TokenSet) -> TokenSet:
        with self._memory_lock:
            self._tokens = tokens
        return tokens

    def _refresh_request(self, tokens: TokenSet) -> httpx.Request:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": tokens.refresh_token or "",
            "client_id": self.settings.client_id,
            "client_secret": self.settings.client_secret,
        }
        return httpx.Request("POST", self.settings.token_url, data=form,
                             headers={"Accept": "application/json"})

    def _parse(self, answer: httpx.Response, current: TokenSet) -> TokenSet:
        status = answer.status_code
        if status == 429 or status >= 500:
            raise RetriableError(f"token endpoint answered {status}", status)
        if status != 200:
            raise diagnostics.refresh_refused(answer, api=self.settings.api,
                                              region=self.settings.region)
        try:
            body = answer.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not body.get("access_token"):
            raise RetriableError("token endpoint answered 200 without an access token", status)
        if self.settings.api == "platform" and not body.get("refresh_token"):
            log.warning("Platform refresh answer carried no new refresh token; keeping the old one")
        return token_set_from_answer(body, self.settings, previous=current)


def _malformed(tokens: TokenSet) -> bool:
    return tokens.access_token is not None and diagnostics.token_is_malformed(tokens.access_token)
