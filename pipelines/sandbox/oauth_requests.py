"""What the sandbox's two OAuth servers (Clio Manage's and the Clio Platform's for Grow)
read from a request the same way: the redirect back to the app, the form-encoded body,
the client's credentials (form fields or HTTP Basic) and an authorization code's checks."""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from typing import Any
from urllib.parse import parse_qs, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse

from pipelines.sandbox.errors import OAuthError


def redirect(uri: str, **params: str) -> RedirectResponse:
    joiner = "&" if "?" in uri else "?"
    return RedirectResponse(f"{uri}{joiner}{urlencode(params)}", status_code=302)


async def read_form(request: Request) -> dict[str, str]:
    """The form-encoded body, last value of each field (parsed by hand: Starlette's form
    parser needs python-multipart for one flat form)."""
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        raise OAuthError(400, "invalid_request", "The request must be form-encoded.")
    return {k: v[-1] for k, v in parse_qs((await request.body()).decode("latin-1")).items()}


def client_credentials(request: Request, form: dict[str, str]) -> tuple[str | None, str | None]:
    """(client id, secret) from HTTP Basic when sent, else from the form."""
    client_id, secret = form.get("client_id"), form.get("client_secret")
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            client_id = secret = None
    return client_id, secret


def redeem(codes: dict[str, dict[str, Any]], form: dict[str, str],
           client_id: str | None = None) -> dict[str, Any]:
    """Take the authorization code of `form` out of `codes` (single use) and return what was
    granted with it, or raise `invalid_grant`: unknown, expired, another client's (when the
    code names one), another redirect_uri, or a PKCE verifier that does not match."""
    code = codes.pop(form.get("code", ""), None)
    if (code is None or code["expires"] < time.time()
            or code.get("client_id", client_id) != client_id):
        raise OAuthError(400, "invalid_grant", "The authorization code is invalid or expired.")
    if form.get("redirect_uri") != code["redirect_uri"]:
        raise OAuthError(400, "invalid_grant", "redirect_uri does not match the authorization.")
    if code["challenge"] and not _pkce_matches(code, form.get("code_verifier", "")):
        raise OAuthError(400, "invalid_grant", "The PKCE code_verifier does not match.")
    return code


def _pkce_matches(code: dict[str, Any], verifier: str) -> bool:
    if code.get("method", "S256") == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=") == code["challenge"]
    return bool(verifier == code["challenge"])
