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

import base64
import binascii
import hashlib
import secrets
import time
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from pipelines.sandbox.errors import OAuthError
from pipelines.sandbox.render import json_response
from pipelines.sandbox.scopes import ALL_SCOPES

if TYPE_CHECKING:
    from pipelines.sandbox.state import SandboxState

CODE_LIFETIME = 600  # seconds an authorization code can be exchanged


def _state(request: Request) -> SandboxState:
    return request.app.state.sandbox


def _redirect(uri: str, **params: str) -> RedirectResponse:
    joiner = "&" if "?" in uri else "?"
    return RedirectResponse(f"{uri}{joiner}{urlencode(params)}", status_code=302)


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
            return _redirect(redirect_uri, error="access_denied", **extra)
        return PlainTextResponse("The user declined to authorize the application.", 403)
    scopes = None
    if state.config.api == "platform":
        if not q.get("scope"):
            return _redirect(redirect_uri, error="invalid_scope", **extra)
        scopes = frozenset(q["scope"].split()) & ALL_SCOPES
    code = secrets.token_urlsafe(16)
    state.codes[code] = {
        "redirect_uri": redirect_uri,
        "scopes": scopes,
        "expires": time.time() + CODE_LIFETIME,
        "challenge": q.get("code_challenge"),
        "method": q.get("code_challenge_method", "plain"),
    }
    return _redirect(redirect_uri, code=code, **extra)


def _client(request: Request, form: dict) -> str:
    client_id, secret = form.get("client_id"), form.get("client_secret")
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            client_id = secret = None
    config = _state(request).config
    if client_id != config.client_id or secret != config.client_secret:
        raise OAuthError(401, "invalid_client", "Client authentication failed.")
    return client_id


async def token(request: Request) -> Response:
    if request.method != "POST":
        return json_response({"error": "invalid_request", "error_description": "Use POST."}, 405)
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        raise OAuthError(400, "invalid_request", "The token request must be form-encoded.")
    # Parsed by hand: Starlette's form parser needs python-multipart for one flat form.
    form = {k: v[-1] for k, v in parse_qs((await request.body()).decode("latin-1")).items()}
    client_id = _client(request, form)
    grant_type = form.get("grant_type")
    tokens = _state(request).tokens
    if grant_type == "refresh_token":
        return json_response(tokens.use_refresh(str(form.get("refresh_token", "")), client_id))
    if grant_type == "authorization_code":
        scopes = _redeem(_state(request), form)
        return json_response(tokens.authorize(client_id, _state(request).config.api, scopes))
    raise OAuthError(400, "unsupported_grant_type", f"Unsupported grant_type {grant_type!r}.")


def _redeem(state: SandboxState, form: dict) -> frozenset[str] | None:
    code = state.codes.pop(str(form.get("code", "")), None)
    if code is None or code["expires"] < time.time():
        raise OAuthError(400, "invalid_grant", "The authorization code is invalid or expired.")
    if form.get("redirect_uri") != code["redirect_uri"]:
        raise OAuthError(400, "invalid_grant", "redirect_uri does not match the authorization.")
    if code["challenge"] and not _pkce_ok(code, str(form.get("code_verifier", ""))):
        raise OAuthError(400, "invalid_grant", "The PKCE code_verifier does not match.")
    return code["scopes"]


def _pkce_ok(code: dict, verifier: str) -> bool:
    if code["method"] == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=") == code["challenge"]
    return verifier == code["challenge"]


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
