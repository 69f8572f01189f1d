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
from pipelines.sandbox.grow.scopes import ALL_SCOPES
from pipelines.sandbox.render import json_response

if TYPE_CHECKING:
    from pipelines.sandbox.grow.service import GrowService

CODE_LIFETIME = 600  # seconds an authorization code can be exchanged
PREFIX = "/platform/oauth"


def _grow(request: Request) -> GrowService:
    return request.app.state.sandbox.grow


def _redirect(uri: str, **params: str) -> RedirectResponse:
    joiner = "&" if "?" in uri else "?"
    return RedirectResponse(f"{uri}{joiner}{urlencode(params)}", status_code=302)


async def authorize(request: Request) -> Response:
    grow, q = _grow(request), request.query_params
    if grow.options.secret_of(q.get("client_id")) is None:
        return PlainTextResponse("client_id is incorrect for this region.", status_code=400)
    redirect_uri = q.get("redirect_uri")
    if not redirect_uri or q.get("response_type") != "code":
        return PlainTextResponse("redirect_uri and response_type=code are required.", 400)
    extra = {"state": q["state"]} if "state" in q else {}
    if q.get("decline") in ("1", "true"):
        return _redirect(redirect_uri, error="access_denied", **extra)
    asked = frozenset((q.get("scope") or "").split())
    if not asked or not asked <= ALL_SCOPES or not asked <= grow.options.app_scopes:
        return _redirect(redirect_uri, error="invalid_scope", **extra)
    challenge, method = q.get("code_challenge"), q.get("code_challenge_method", "S256")
    if (challenge is None and grow.options.pkce_required) or (challenge and method != "S256"):
        return _redirect(redirect_uri, error="invalid_request", **extra)
    code = secrets.token_urlsafe(16)
    grow.codes[code] = {
        "client_id": q["client_id"], "redirect_uri": redirect_uri, "scopes": asked,
        "expires": time.time() + CODE_LIFETIME, "challenge": challenge,
    }  # fmt: skip
    return _redirect(redirect_uri, code=code, **extra)


def _client(request: Request, form: dict) -> str:
    client_id, secret = form.get("client_id"), form.get("client_secret")
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            client_id = secret = None
    expected = _grow(request).options.secret_of(client_id)
    if expected is None or secret != expected:
        raise OAuthError(401, "invalid_client", "Client authentication failed.")
    return str(client_id)


async def _form(request: Request) -> dict[str, str]:
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        raise OAuthError(400, "invalid_request", "The request must be form-encoded.")
    return {k: v[-1] for k, v in parse_qs((await request.body()).decode("latin-1")).items()}


async def token(request: Request) -> Response:
    grow = _grow(request)
    form = await _form(request)
    client_id = _client(request, form)
    grant_type = form.get("grant_type")
    if grant_type == "refresh_token":
        answer = grow.tokens.use_refresh(form.get("refresh_token", ""), client_id)
    elif grant_type == "authorization_code":
        scopes = _redeem(grow, form, client_id)
        answer = grow.tokens.authorize(client_id, "platform", scopes)
    else:
        raise OAuthError(400, "unsupported_grant_type", f"Unsupported grant_type {grant_type!r}.")
    grant = grow.tokens.access[answer["access_token"]].grant
    answer["scope"] = " ".join(sorted(grant.scopes or ALL_SCOPES))
    return json_response(answer)


def _redeem(grow: GrowService, form: dict, client_id: str) -> frozenset[str]:
    code = grow.codes.pop(form.get("code", ""), None)
    if code is None or code["expires"] < time.time() or code["client_id"] != client_id:
        raise OAuthError(400, "invalid_grant", "The authorization code is invalid or expired.")
    if form.get("redirect_uri") != code["redirect_uri"]:
        raise OAuthError(400, "invalid_grant", "redirect_uri does not match the authorization.")
    if code["challenge"]:
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        if base64.urlsafe_b64encode(digest).decode().rstrip("=") != code["challenge"]:
            raise OAuthError(400, "invalid_grant", "The PKCE code_verifier does not match.")
    return code["scopes"]


async def revoke(request: Request) -> Response:
    grow = _grow(request)
    form = await _form(request)
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
