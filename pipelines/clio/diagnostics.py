"""Turn Clio's 401s, 403s and token-endpoint refusals into messages naming cause and fix.

The causes follow Clio's developer FAQ (`/work/shared/seed/`): a 401 is an expired token,
a revoked token, a missing or malformed `Authorization` header, or a token used against
the wrong region; a 403 is a scope the app lacks (or the user authorized before it was
added) or a Clio role that forbids the action. Clio's own wording is quoted (it names
the permission); our tokens and the client secret never are.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from pipelines.clio.errors import ClioAuthError, ClioPermissionError

LOGIN = "run `clio-sync auth login` to authorize again"
REGION_HINT = (
    "check SOURCES__CLIO__REGION (us, eu, ca or au) against the region of the firm's Clio "
    "account and of the app in the developer portal (or SOURCES__CLIO__BASE_URL), and check "
    "SOURCES__CLIO__CREDENTIALS__CLIENT_SECRET"
)
_TOKEN_CHARS = re.compile(r"^[A-Za-z0-9\-._~+/=]+$")  # RFC 6750 b64token


def error_body(response: httpx.Response) -> tuple[str, str]:
    """(code, message) from either Clio error shape; empty strings when absent."""
    try:
        body: Any = json.loads(response.content or b"{}")
    except ValueError:
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    nested = body.get("error")
    if isinstance(nested, dict):  # {"error": {"type": ..., "message": ...}}
        return str(nested.get("type") or ""), str(nested.get("message") or "")
    return str(nested or ""), str(body.get("error_description") or body.get("message") or "")


def token_is_malformed(token: str | None) -> bool:
    """True if `token` cannot travel in a `Bearer` header as is (spaces, quotes, newlines)."""
    return not token or not _TOKEN_CHARS.match(token)


MALFORMED = (
    "the Authorization header would be malformed: the access token holds spaces, quotes "
    "or line breaks (a copy-paste accident?). Fix SOURCES__CLIO__CREDENTIALS__ACCESS_TOKEN, "
    f"or delete the token store and {LOGIN}."
)


def malformed_token(region: str) -> ClioAuthError:
    """The error for a stored access token that cannot form a `Bearer` header."""
    return ClioAuthError(f"Cannot call Clio (region {region}): {MALFORMED}")


def unauthorized(
    response: httpx.Response, *, refreshed: bool, can_refresh: bool, region: str,
) -> ClioAuthError:
    """The error for a 401 the auth flow could not cure.

    Args:
        response: The 401.
        refreshed: A refresh succeeded during this request and Clio still said 401.
        can_refresh: A refresh token and client credentials were available.
        region: The configured region.

    A store saved for another region or host never gets this far: the token store refuses it.
    """
    path = response.request.url.path
    _, said = error_body(response)
    quoted = f' Clio said: "{_clip(said)}".' if said else ""
    if refreshed:
        cause = (
            "Clio refused an access token it had just issued, which happens when the token "
            f"and the API belong to different regions: {REGION_HINT}."
        )
    elif not can_refresh:
        cause = (
            "the access token expired or was revoked and there is no refresh token to renew "
            f"it: {LOGIN} (or set SOURCES__CLIO__CREDENTIALS__REFRESH_TOKEN)."
        )
    else:
        cause = f"the access token was refused after a refresh attempt: {LOGIN}."
    return ClioAuthError(
        f"Clio answered 401 Unauthorized for {path} (region {region}): {cause}{quoted}",
        status=401, path=path,
    )


def refresh_refused(response: httpx.Response, *, api: str, region: str,
                    exchanging_code: bool = False) -> ClioAuthError:
    """The error for a token endpoint that refused our refresh token, code or client."""
    code, said = error_body(response)
    path = response.request.url.path
    quoted = f' Clio said: "{_clip(said)}".' if said else ""
    if code == "invalid_client":
        cause = (
            "Clio did not recognise the app (invalid_client). Asking another region's token "
            f"endpoint looks exactly like a wrong secret, so {REGION_HINT} "
            "(and SOURCES__CLIO__CREDENTIALS__CLIENT_ID)."
        )
    elif code == "invalid_grant" and exchanging_code:
        cause = (
            "Clio refused the authorization code (invalid_grant): it expired (codes last "
            "minutes), was used already, or the redirect URI differs from the one registered "
            "for the app. Run `clio-sync auth login` again."
        )
    elif code == "invalid_grant":
        rotated = (
            " On Platform a refresh token works once: if another copy of the token store "
            "used it first, the copy here is dead." if api == "platform" else ""
        )
        cause = (
            "Clio refused the refresh token (invalid_grant): it was revoked (the app was "
            f"disconnected or deauthorized) or it belongs to another app or region.{rotated} "
            f"Re-authorize: {LOGIN}."
        )
    else:
        cause = f"the token endpoint refused the refresh ({code or 'no error code'}): {LOGIN}."
    return ClioAuthError(
        f"Clio answered {response.status_code} at {path} (region {region}): {cause}{quoted}",
        status=response.status_code, path=path,
    )


def forbidden(response: httpx.Response) -> ClioPermissionError:
    """The error for a 403: a missing app scope, or a Clio role that forbids the request."""
    path = response.request.url.path
    _, said = error_body(response)
    quoted = f' Clio said: "{_clip(said)}".' if said else ""
    if "role" in said.lower():
        cause = (
            "the Clio role of the user who authorized this app does not allow it. A firm "
            "administrator must change that user's role (Settings > Firm > Users in Clio), "
            "or authorize with a user whose role allows it."
        )
    else:
        cause = (
            f"the app lacks the permission (OAuth scope) for {_resource(path)}, or the user "
            "authorized it before the permission was added. Add it to the app in Clio's "
            f"developer portal, then {LOGIN} (existing tokens keep their old scopes)."
        )
    return ClioPermissionError(
        f"Clio answered 403 Forbidden for {path}: {cause}{quoted}", status=403, path=path,
    )


def _resource(path: str) -> str:
    """`/api/v4/bills/12.json` -> "`bills`"."""
    tail = path.split("/api/v4/", 1)[-1].strip("/")
    name = tail.split("/", 1)[0].removesuffix(".json")
    return f"`{name}`" if name else "this endpoint"


def _clip(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
