"""Grow in the `clio-sync` commands: which resources a run takes, login, status, logout,
and doctor's checks. The command handlers (`pipelines.clio.commands`, `auth_commands`)
compose these with Manage's.

`--resources` names Manage tables as they are (`bills`) and Grow's with their schema
(`grow.matters`); a run without `--resources` syncs Manage, and Grow when it is
configured; one that names only one product's tables syncs only that product.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import httpx

from pipelines.clio.doctor import Check
from pipelines.clio.errors import ClioApiError, ClioAuthError
from pipelines.clio.token_location import describe_store
from pipelines.clio.token_store import TokenSet
from pipelines.errors import ClioSyncError, ConfigError
from pipelines.grow.advice import grow_advice
from pipelines.grow.catalog import RESOURCES, GrowResource
from pipelines.grow.client import GrowClient, grow_store
from pipelines.grow.config import GrowSettings, grow_configured, load_grow_settings
from pipelines.grow.source import prepare
from pipelines.grow.sync import PREFIX


@dataclass(frozen=True)
class Selection:
    """What a run or reconcile covers: Manage's tables and Grow's (None: all of them)."""

    manage: bool
    manage_names: list[str] | None
    grow: bool
    grow_names: list[str] | None


def select(names: Sequence[str] | None) -> Selection:
    """Split `--resources` between Manage and Grow (see the module doc).

    Raises:
        ConfigError: Grow tables are named but Grow is not configured.
    """
    if not names:
        return Selection(True, None, grow_configured(), None)
    cleaned = [n.strip() for n in names if n.strip()]
    grow_names = [n for n in cleaned if n.startswith(PREFIX)]
    manage_names = [n.removeprefix("clio.") for n in cleaned if not n.startswith(PREFIX)]
    if grow_names and not grow_configured():
        raise ConfigError(
            f"--resources names Grow tables ({', '.join(grow_names)}), but Grow is not "
            "configured: set SOURCES__GROW__CREDENTIALS__CLIENT_ID and __CLIENT_SECRET (see "
            "docs/connecting-grow.md), or leave the grow.* names out."
        )
    return Selection(bool(manage_names), manage_names or None, bool(grow_names), grow_names or None)


def grow_settings_or_none(chosen: Selection) -> GrowSettings | None:
    """Grow's settings when the selection covers Grow."""
    if not chosen.grow:
        return None
    with grow_advice():
        return load_grow_settings()


def login(scopes: tuple[str, ...] | None, port: int, no_browser: bool, timeout: float,
          paste: Callable[[str], str], open_url: Callable[[str], object],
          ) -> tuple[GrowSettings, TokenSet]:
    """The Platform's authorization-code grant with PKCE and Grow's scopes; writes Grow's
    store. `paste(url)` returns the redirect URL the user pastes (`--no-browser`)."""
    from pipelines.clio.login import (
        authorization_request,
        code_from_redirect,
        exchange_code,
        listen_for_redirect,
        redirect_uri_for,
    )

    with grow_advice():
        settings = load_grow_settings()
        request = authorization_request(settings, redirect_uri_for(port), scopes or settings.scopes)
        redirect = paste(request.url) if no_browser else \
            listen_for_redirect(port, open_url, request.url, timeout)
        code = code_from_redirect(redirect, request.state)
        tokens = exchange_code(settings, request, code, store=grow_store(settings))
    return settings, tokens


def status_rows() -> list[tuple[str, str]]:
    """`auth status --grow`: who authorized, where, until when (no secrets)."""
    with grow_advice():
        settings = load_grow_settings()
        where = [("product", "Clio Grow (Clio Platform)"), ("region", settings.region),
                 ("API root", settings.api_root), ("OAuth", settings.oauth_base),
                 ("scopes asked", " ".join(settings.scopes)),
                 ("token store", describe_store(settings))]
        try:
            with GrowClient(settings) as client:
                me = client.who_am_i()
                tokens = client.auth.current()
        except ClioSyncError as exc:
            raise type(exc)(f"{exc.message} (Grow: {settings.api_root}, token store "
                            f"{settings.token_store})") from None
    firm = (me.get("account") or {}).get("firm_name")
    name = " ".join(p for p in (me.get("first_name"), me.get("last_name")) if p)
    return [
        ("user", f"{name} <{me.get('email')}> (id {me.get('id')})" + (f", {firm}" if firm else "")),
        *where,
        ("access token expires", f"{tokens.expires_at:%Y-%m-%d %H:%M:%S} UTC"
         if tokens.expires_at else "unknown (refreshed on the first 401)"),
        ("refresh token", "stored (rotates on every use)" if tokens.refresh_token
         else "none: `auth login --grow` when it expires"),
    ]


def logout() -> str:
    """Revoke the grant at the Platform (its refresh token) and delete Grow's store."""
    with grow_advice():
        settings = load_grow_settings()
        store = grow_store(settings)
        if not store.exists():
            return f"No Grow token store at {settings.token_store}: nothing to log out."
        tokens = store.load()  # refuses a store saved for another region or host
        revoked = "not revoked at Clio (no token to revoke)"
        token = tokens.refresh_token or tokens.access_token
        if token:
            try:
                answer = httpx.post(settings.revoke_url, data={"token": token},
                                    auth=(settings.client_id, settings.client_secret),
                                    timeout=settings.timeout)
                revoked = ("revoked at Clio" if answer.status_code == 200
                           else f"not revoked at Clio (it answered {answer.status_code})")
            except httpx.HTTPError as exc:
                revoked = f"not revoked at Clio ({type(exc).__name__}: unreachable)"
        store.delete()
    return f"Grow authorization {revoked}; deleted {settings.token_store}."


def doctor_checks() -> Iterator[Check]:
    """Grow's rows of `clio-sync doctor` (none when Grow is not configured)."""
    try:
        if not grow_configured():
            return
        with grow_advice():
            settings = load_grow_settings()
    except ClioSyncError as exc:
        yield Check("grow config", "fail", str(exc))
        return
    yield Check("grow config", "ok", f"region {settings.region}, API {settings.api_root}, "
                f"OAuth {settings.oauth_base}")
    yield Check("grow token store", "ok", describe_store(settings))
    with GrowClient(settings) as client:
        try:
            with grow_advice():
                me = client.who_am_i()
                expiry = client.auth.current().expires_at
        except ClioSyncError as exc:
            yield Check("grow token", "fail", str(exc))
            for resource in RESOURCES:
                yield Check(f"grow endpoint {resource.table}", "skip", "needs a working token")
            return
        until = f", access token valid until {expiry:%Y-%m-%d %H:%M} UTC" if expiry else ""
        yield Check("grow token", "ok", f"authorized as {me.get('first_name')} "
                    f"{me.get('last_name')} <{me.get('email')}>{until}")
        first_ids: dict[str, int] = {}
        for resource in RESOURCES:
            yield _endpoint_check(client, resource, first_ids)


def _endpoint_check(client: GrowClient, resource: GrowResource,
                    first_ids: dict[str, int]) -> Check:
    name = f"grow endpoint {resource.table}"
    path, params = resource.path, dict[str, str]()
    if resource.parent is not None:
        parent = first_ids.get(resource.parent)
        if parent is None:
            return Check(name, "skip", f"no {resource.parent} to list notes of")
        path = path.replace("{id}", str(parent))
    if resource.states[0] is not None:
        params["state"] = resource.states[0]
    if resource.custom_fields:
        params["include"] = "custom_field_values"
    try:
        with grow_advice():
            body = client.get_json(path, params, resource="doctor")
            records = body.get("data") or []
            for record in records:
                prepare(resource, dict(record))  # a hidden lead or value fails here
    except (ClioApiError, ClioAuthError) as exc:
        return Check(name, "fail", str(exc))
    if records and resource.table in ("contacts", "matters"):
        first_ids[resource.table] = int(records[0]["id"])
    return Check(name, "ok", "readable")
