"""Clio's OAuth endpoints: `/oauth/authorize`, `/oauth/token`, `/oauth/deauthorize`.

- authorize auto-approves and redirects to `redirect_uri` with `code` and `state`. The
  sandbox-only parameter `decline=1` plays a user who declines: with
  `redirect_on_decline=true` the redirect carries `error=access_denied`, else a 403 page.
  Platform (`--api platform`) requires `scope` (space-separated) and supports PKCE (S256).
- token takes form-encoded `authorization_code` and `refresh_token` grants; the client's
  id and secret come from the form or HTTP Basic.
- deauthorize revokes the grant behind the bearer token.
"""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from pipelines.sandbox.errors import OAuthError
from pipelines.sandbox.oauth_requests import client_credentials, read_form, redeem, redirect
from pipelines.sandbox.render import json_response
from pipelines.sandbox.scopes import ALL_SCOPES

if TYPE_CHECKING:
    from pipelines.sandbox.state import SandboxState

CODE_LIFETIME = 600  # seconds an authorization code can be exchanged


def _state(request: Request) -> SandboxState:
    return request.app.state.sandbox


async def authorize(request: Request) -> Response:
    state = _state(request)
    q = request.query_params
    if q.get("client_id") != state.config.client_id:
        return PlainTextResponse("Unknown client_id for this region.", status_code=400)
    redirect_uri = q.get("redirect_uri")
    if not redirect_uri or q.get("response_type", "code") != "code":
        return PlainTextResponse("redirect_uri and response_type=code are required.", 400)
    extra = {"state": q["state"]} if "state" in q else {}
    if q.get("decline") in ("1", "true"):
        if q.get("redirect_on_decline") == "true":
            return redirect(redirect_uri, error="access_denied", **extra)
        return PlainTextResponse("The user declined to authorize the application.", 403)
    scopes = None
    if state.config.api == "platform":
        if not q.get("scope"):
            return redirect(redirect_uri, error="invalid_scope", **extra)
        scopes = frozenset(q["scope"].split()) & ALL_SCOPES
    code = secrets.token_urlsafe(16)
    state.codes[code] = {
        "redirect_uri": redirect_uri,
        "scopes": scopes,
        "expires": time.time() + CODE_LIFETIME,
        "challenge": q.get("code_challenge"),
        "method": q.get("code_challenge_method", "plain"),
    }
    return redirect(redirect_uri, code=code, **extra)


def _client(request: Request, form: dict[str, str]) -> str:
    client_id, secret = client_credentials(request, form)
    config = _state(request).config
    if client_id != config.client_id or secret != config.client_secret:
        raise OAuthError(401, "invalid_client", "Client authentication failed.")
    return str(client_id)


async def token(request: Request) -> Response:
    if request.method != "POST":
        return json_response({"error": "invalid_request", "error_description": "Use POST."}, 405)
    form = await read_form(request)
    client_id = _client(request, form)
    grant_type = form.get("grant_type")
    tokens = _state(request).tokens
    if grant_type == "refresh_token":
        return json_response(tokens.use_refresh(str(form.get("refresh_token", "")), client_id))
    if grant_type == "authorization_code":
        scopes = redeem(_state(request).codes, form)["scopes"]
        return json_response(tokens.authorize(client_id, _state(request).config.api, scopes))
    raise OAuthError(400, "unsupported_grant_type", f"Unsupported grant_type {grant_type!r}.")


async def deauthorize(request: Request) -> Response:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        raise OAuthError(401, "invalid_token", "A bearer token is required.")
    _state(request).tokens.deauthorize(value.strip())
    return json_response({}, 200)


routes = [
    Route("/oauth/authorize", authorize, methods=["GET"]),
    Route("/oauth/token", token, methods=["POST", "GET"]),
    Route("/oauth/deauthorize", deauthorize, methods=["POST"]),
]
