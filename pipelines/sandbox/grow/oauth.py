"""The Clio Platform's OAuth for Grow apps, under `/platform/oauth/...` (at Clio:
`https://{region.}auth.api.clio.com/oauth/...`).

- `authorize`: `client_id` (an App Key of this sandbox), `response_type=code`,
  `redirect_uri`, and a required `scope` of space-separated `grow_*` names: none, or one
  that does not exist or is not enabled on the app, redirects with `error=invalid_scope`.
  PKCE is optional (`S256` only) unless the app's toggle (`pkce_required`) is on. The
  user approves at once; `decline=1` plays a user who declines (`error=access_denied`).
- `token`: form-encoded `authorization_code` and `refresh_token` grants; the client
  authenticates in the form or with HTTP Basic. Answers `access_token`, `refresh_token`,
  `expires_in` (24 h), `token_type` and `scope`. Refresh tokens rotate on every use: the
  old one is revoked at once. Errors are OAuth's flat `{"error", "error_description"}`.
- `revoke`: HTTP Basic client auth and form `token=`: a refresh token revokes its whole
  grant, an access token only itself. Always 200, as RFC 7009 asks.
"""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from pipelines.sandbox.errors import OAuthError
from pipelines.sandbox.grow.scopes import ALL_SCOPES
from pipelines.sandbox.oauth_requests import client_credentials, read_form, redeem, redirect
from pipelines.sandbox.render import json_response

if TYPE_CHECKING:
    from pipelines.sandbox.grow.service import GrowService

CODE_LIFETIME = 600  # seconds an authorization code can be exchanged
PREFIX = "/platform/oauth"


def _grow(request: Request) -> GrowService:
    return request.app.state.sandbox.grow


async def authorize(request: Request) -> Response:
    grow, q = _grow(request), request.query_params
    if grow.options.secret_of(q.get("client_id")) is None:
        return PlainTextResponse("client_id is incorrect for this region.", status_code=400)
    redirect_uri = q.get("redirect_uri")
    if not redirect_uri or q.get("response_type") != "code":
        return PlainTextResponse("redirect_uri and response_type=code are required.", 400)
    extra = {"state": q["state"]} if "state" in q else {}
    if q.get("decline") in ("1", "true"):
        return redirect(redirect_uri, error="access_denied", **extra)
    asked = frozenset((q.get("scope") or "").split())
    if not asked or not asked <= ALL_SCOPES or not asked <= grow.options.app_scopes:
        return redirect(redirect_uri, error="invalid_scope", **extra)
    challenge, method = q.get("code_challenge"), q.get("code_challenge_method", "S256")
    if (challenge is None and grow.options.pkce_required) or (challenge and method != "S256"):
        return redirect(redirect_uri, error="invalid_request", **extra)
    code = secrets.token_urlsafe(16)
    grow.codes[code] = {
        "client_id": q["client_id"], "redirect_uri": redirect_uri, "scopes": asked,
        "expires": time.time() + CODE_LIFETIME, "challenge": challenge,
    }  # fmt: skip
    return redirect(redirect_uri, code=code, **extra)


def _client(request: Request, form: dict[str, str]) -> str:
    client_id, secret = client_credentials(request, form)
    expected = _grow(request).options.secret_of(client_id)
    if expected is None or secret != expected:
        raise OAuthError(401, "invalid_client", "Client authentication failed.")
    return str(client_id)


async def token(request: Request) -> Response:
    grow = _grow(request)
    form = await read_form(request)
    client_id = _client(request, form)
    grant_type = form.get("grant_type")
    if grant_type == "refresh_token":
        answer = grow.tokens.use_refresh(form.get("refresh_token", ""), client_id)
    elif grant_type == "authorization_code":
        scopes = redeem(grow.codes, form, client_id)["scopes"]
        answer = grow.tokens.authorize(client_id, "platform", scopes)
    else:
        raise OAuthError(400, "unsupported_grant_type", f"Unsupported grant_type {grant_type!r}.")
    grant = grow.tokens.access[answer["access_token"]].grant
    answer["scope"] = " ".join(sorted(grant.scopes or ALL_SCOPES))
    return json_response(answer)


async def revoke(request: Request) -> Response:
    grow = _grow(request)
    form = await read_form(request)
    _client(request, form)
    value = form.get("token", "")
    registry = grow.tokens
    with registry.lock:
        grant = registry.refresh.get(value)
        if grant is not None:
            grant.revoked = True
        access = registry.access.get(value)
        if access is not None:
            access.revoked = True
    return json_response({})


routes = [
    Route(f"{PREFIX}/authorize", authorize, methods=["GET"]),
    Route(f"{PREFIX}/token", token, methods=["POST"]),
    Route(f"{PREFIX}/revoke", revoke, methods=["POST"]),
]
