"""The Grow HTTP client: the Manage client's pacing, retries, auth and paging, with Grow's
store, a budget shared by the whole application, and 403s naming the Platform's scopes.

A missing scope is answered with a 403 naming it without `grow_` (or, seen by third
parties, a redirect to the auth host); either way the error names the full scope the
developer portal lists, and how to get it.
"""

from __future__ import annotations

from typing import Any

import httpx

from pipelines.clio import diagnostics
from pipelines.clio.auth import ClioAuth
from pipelines.clio.client import ClioClient
from pipelines.clio.errors import ClioApiError, ClioPermissionError
from pipelines.clio.pacing import Bucket
from pipelines.clio.stats import RunStats
from pipelines.clio.token_store import Origin, TokenSet, TokenStore
from pipelines.grow.config import GrowSettings
from pipelines.grow.pacing import SharedBucket, budget_file
from pipelines.grow.scopes import ALL_LEADS, named_in, scope_for


def grow_store(settings: GrowSettings) -> TokenStore:
    """Grow's token store: seeded from the configured tokens, refusing another origin's."""
    seed = TokenSet(access_token=settings.access_token, refresh_token=settings.refresh_token,
                    region=settings.region, base_url=settings.base_url, api=settings.api)
    origin = Origin(api=settings.api, region=settings.region, base_url=settings.base_url)
    return TokenStore(settings.token_store, seed=seed, origin=origin)


def shared_bucket(settings: GrowSettings) -> SharedBucket:
    """The app's budget shared by every process of this user (or of all who use the
    configured `pacing_file`)."""
    path = settings.pacing_file or budget_file(settings.client_id, settings.base_url)
    return SharedBucket(path, settings.requests_per_second)


class GrowClient(ClioClient):
    """One `httpx.Client` per run against the Grow API root."""

    def __init__(self, settings: GrowSettings, stats: RunStats | None = None, *,
                 auth: ClioAuth | None = None, bucket: Bucket | None = None,
                 **kwargs: Any) -> None:
        super().__init__(settings, stats, auth=auth or ClioAuth(settings, store=grow_store(settings)),
                         bucket=bucket or shared_bucket(settings), **kwargs)
        self.grow = settings

    def __enter__(self) -> GrowClient:
        return self

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = super().request(method, path, **kwargs)
        if response.is_redirect:
            raise self._redirected(response)
        return response

    def who_am_i(self) -> dict[str, Any]:
        """The authorizing user (`{"data": user}` per the spec; a bare user is taken too)."""
        body = self.get_json("users/who_am_i", resource="who_am_i")
        user = body.get("data", body)
        return user if isinstance(user, dict) else {}

    def server_time(self) -> Any:
        response = self.get("users/who_am_i", resource="who_am_i")
        return self._date_of(response)

    def _forbidden(self, response: httpx.Response) -> ClioApiError:
        _, said = diagnostics.error_body(response)
        if "role" in said.lower():
            return diagnostics.forbidden(response)
        path = response.request.url.path
        return ClioPermissionError(
            f"Clio Grow answered 403 Forbidden for {path}: {self._lacks(path, said)}",
            status=403, path=path)

    def _redirected(self, response: httpx.Response) -> ClioPermissionError:
        path = response.request.url.path
        return ClioPermissionError(
            f"Clio Grow redirected {path} to its sign-in host instead of answering, which it "
            f"does when a token lacks a scope: {self._lacks(path, '')}",
            status=response.status_code, path=path)

    def _lacks(self, path: str, said: str) -> str:
        needed = named_in(said) or scope_for(path) or "the scope of this endpoint"
        also = f" (and {ALL_LEADS} to see every lead)" if needed == "grow_lead_inbox_read" else ""
        quoted = f' Grow said: "{" ".join(said.split())[:300]}".' if said else ""
        return (
            f"the authorization lacks the Platform scope {needed}{also}. Enable it on the app "
            "in the Clio developer portal of your region, keep it in SOURCES__GROW__SCOPES if "
            "you set that, then run `clio-sync auth login --grow` again: tokens never gain "
            f"scopes they were not granted.{quoted}"
        )
