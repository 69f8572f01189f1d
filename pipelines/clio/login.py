"""`clio-sync auth login`: Clio's authorization-code grant with a local redirect listener.

1. Listen on `http://127.0.0.1:<port>/callback` (the redirect URI registered with the app).
2. Open (or print) `{oauth}/oauth/authorize?response_type=code&client_id=…&redirect_uri=…&state=…`;
   Platform also gets `scope` and a PKCE S256 challenge.
3. Clio redirects the browser to the listener with `code` and our `state` (checked, so a
   forged redirect cannot plant someone else's code), or the user pastes that URL.
4. Exchange the code at `{oauth}/oauth/token` and write the token store.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from pipelines.clio import diagnostics
from pipelines.clio.auth import store_for, token_set_from_answer
from pipelines.clio.config import ClioSettings
from pipelines.clio.errors import ClioAuthError
from pipelines.clio.token_store import TokenSet, TokenStore

log = logging.getLogger(__name__)

DEFAULT_PORT = 8976
CALLBACK_PATH = "/callback"
# Scopes asked for on Platform (Manage sets permissions on the app instead): read access to
# every synced endpoint, plus webhooks. Names as the sandbox spells them; check the app's
# scope list in Clio's developer portal.
PLATFORM_SCOPES = ("billing:read", "activities:read", "matters:read", "contacts:read",
                   "users:read", "accounts:read", "webhooks:write")


@dataclass(frozen=True)
class AuthorizationRequest:
    """One attempt at the grant: where to send the user and what must come back."""

    url: str
    redirect_uri: str
    state: str
    code_verifier: str | None  # PKCE, Platform only


def redirect_uri_for(port: int) -> str:
    return f"http://127.0.0.1:{port}{CALLBACK_PATH}"


def authorization_request(settings: ClioSettings, redirect_uri: str,
                          scopes: tuple[str, ...] = PLATFORM_SCOPES) -> AuthorizationRequest:
    """The authorize URL with a fresh `state` (and PKCE challenge on Platform)."""
    state = secrets.token_urlsafe(24)
    params = {"response_type": "code", "client_id": settings.client_id,
              "redirect_uri": redirect_uri, "state": state, "redirect_on_decline": "true"}
    verifier = None
    if settings.api == "platform":
        verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(verifier.encode()).digest()
        params |= {"scope": " ".join(scopes), "code_challenge_method": "S256",
                   "code_challenge": base64.urlsafe_b64encode(digest).decode().rstrip("=")}
    url = f"{settings.oauth_base}/oauth/authorize?{urlencode(params)}"
    return AuthorizationRequest(url, redirect_uri, state, verifier)


def code_from_redirect(redirect_url: str, expected_state: str) -> str:
    """The `code` of the redirect Clio sent, after checking `state`.

    Raises:
        ClioAuthError: The user declined, the state does not match, or there is no code.
    """
    if not redirect_url.strip():
        raise ClioAuthError(
            "No redirect URL was pasted. Run `clio-sync auth login --no-browser` again, approve "
            "in a browser, and paste the whole URL the browser was sent to."
        )
    query = parse_qs(urlsplit(redirect_url.strip()).query)
    if "error" in query:
        raise ClioAuthError(
            f"Clio did not authorize the app ({query['error'][0]}): the user declined, or the "
            "app is not allowed for this account. Run `clio-sync auth login` again and approve."
        )
    if query.get("state", [""])[0] != expected_state:
        raise ClioAuthError(
            "The redirect's state does not match this login attempt, so its code was not used "
            "(a stale browser tab, or a forged redirect). Run `clio-sync auth login` again."
        )
    code = query.get("code", [""])[0]
    if not code:
        raise ClioAuthError(
            "The redirect URL carries no `code`. Paste the whole URL the browser was sent to "
            "after approving (it starts with the redirect URI), or run `clio-sync auth login` again."
        )
    return code


def exchange_code(settings: ClioSettings, request: AuthorizationRequest, code: str,
                  http: httpx.Client | None = None, store: TokenStore | None = None) -> TokenSet:
    """Trade `code` for tokens at the token endpoint and write them to the token store
    (`store`, or the one of `settings`)."""
    form = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": request.redirect_uri, "client_id": settings.client_id,
            "client_secret": settings.client_secret}
    if request.code_verifier:
        form["code_verifier"] = request.code_verifier
    owner = http or httpx.Client(timeout=settings.timeout)
    try:
        answer = owner.post(settings.token_url, data=form, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise ClioAuthError(
            f"Could not reach Clio's token endpoint {settings.token_url} "
            f"({type(exc).__name__}). Check the network and SOURCES__CLIO__REGION/BASE_URL."
        ) from None
    finally:
        if http is None:
            owner.close()
    if answer.status_code != 200:
        raise diagnostics.refresh_refused(answer, api=settings.api, region=settings.region,
                                          exchanging_code=True)
    try:
        tokens = token_set_from_answer(answer.json(), settings)
    except (ValueError, KeyError, TypeError):
        raise ClioAuthError("Clio's token endpoint answered 200 without tokens; try again.") from None
    (store or store_for(settings)).save(tokens)
    return tokens


class _CallbackHandler(http.server.BaseHTTPRequestHandler):
    server: _CallbackServer

    def do_GET(self) -> None:
        if urlsplit(self.path).path != CALLBACK_PATH:
            self.send_error(404)
            return
        self.server.redirect_url = f"http://127.0.0.1{self.path}"
        body = b"<h1>clio-sync</h1><p>Authorization received. You can close this tab.</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.server.received.set()

    def log_message(self, format: str, *args: object) -> None:  # the URL holds the code
        return


class _CallbackServer(http.server.HTTPServer):
    def __init__(self, port: int) -> None:
        super().__init__(("127.0.0.1", port), _CallbackHandler)
        self.received = threading.Event()
        self.redirect_url = ""


def listen_for_redirect(port: int, open_url: Callable[[str], object], url: str,
                        timeout: float) -> str:
    """Serve the callback on 127.0.0.1:`port`, open `url`, return the redirect URL received."""
    try:
        server = _CallbackServer(port)
    except OSError as exc:
        raise ClioAuthError(
            f"Cannot listen on 127.0.0.1:{port} for Clio's redirect ({exc.strerror}). Use "
            "--port with the port of the redirect URI registered for the app, or --no-browser."
        ) from None
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        open_url(url)
        if not server.received.wait(timeout):
            raise ClioAuthError(
                f"No redirect from Clio reached 127.0.0.1:{port} within {timeout:.0f} s. Check "
                f"that the app's redirect URI is exactly {redirect_uri_for(port)}, or use "
                "--no-browser and paste the URL."
            )
        return server.redirect_url
    finally:
        server.shutdown()
        server.server_close()
