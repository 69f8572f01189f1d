"""Create, activate, list, extend, re-create and delete our Clio webhooks.

One webhook per model, subscribed to created, updated and deleted, for the 31 days Clio
allows, delivering the catalog's fields (or `id,etag,updated_at` when those exceed
Clio's 1000-character `fields` limit; the applier then fetches the records by id).
Each webhook has its own URL, `<url>/<token>`, registered here before it is created so
the receiver can answer its handshake. Activation is the handshake; failing that, the
`activate` endpoint with the secret from the create response.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from pipelines.clio.endpoints import BY_WEBHOOK_MODEL
from pipelines.clio.errors import ClioNotFound
from pipelines.webhooks import registry
from pipelines.webhooks.errors import SubscriptionError
from pipelines.webhooks.registry import Subscription
from pipelines.webhooks.signature import SECRET_HEADER

EVENTS = ("created", "updated", "deleted")
MAX_FIELDS_LENGTH = 1000  # Clio's limit on a webhook's `fields`
SHORT_FIELDS = "id,etag,updated_at"
MAX_LIFETIME = timedelta(days=31)
WEBHOOK_FIELDS = "id,etag,url,fields,shared_secret,model,status,events,expires_at"
HANDSHAKE_WAIT = 5.0  # seconds to wait for Clio's handshake before activating explicitly

log = logging.getLogger(__name__)


def delivery_fields(model: str) -> tuple[str, bool]:
    """(`fields` to subscribe with, whether deliveries must be completed by fetching)."""
    fields = BY_WEBHOOK_MODEL[model].fields
    if len(fields) <= MAX_FIELDS_LENGTH:
        return fields, False
    return SHORT_FIELDS, True


def check_models(models: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(m.strip() for m in models if m.strip()))
    unknown = [m for m in chosen if m not in BY_WEBHOOK_MODEL]
    if unknown or not chosen:
        raise SubscriptionError(
            f"Cannot subscribe to {', '.join(unknown) or 'nothing'}: webhooks are applied for "
            f"the synced models {', '.join(BY_WEBHOOK_MODEL)}. Pick from those with --models."
        )
    return chosen


def check_url(url: str, allow_http: bool) -> str:
    if not url.startswith("https://") and not (allow_http and url.startswith("http://")):
        raise SubscriptionError(
            f"Clio only delivers to https URLs, and {url!r} is not one. Put the receiver "
            "behind an HTTPS reverse proxy (docs/webhooks.md) and pass its public URL."
        )
    return url.rstrip("/")


def subscribe(conn: sqlite3.Connection, client: Any, url: str, model: str,
              now: datetime, handshake_wait: float = HANDSHAKE_WAIT) -> Subscription:
    """Create and activate the webhook of one model; returns its registry row."""
    fields, fetch_records = delivery_fields(model)
    token = registry.new_token()
    hook_url = f"{url}/{token}"
    registry.add(conn, token, model, hook_url, fields, fetch_records)
    body = {"data": {"url": hook_url, "model": model, "events": list(EVENTS),
                     "fields": fields, "expires_at": _iso(now + MAX_LIFETIME)}}
    try:
        hook = client.post("webhooks.json", json=body, params={"fields": WEBHOOK_FIELDS}).json()
    except Exception:
        registry.update(conn, token, status="retired", retired_at=time.time())
        raise
    data = hook["data"]
    registry.update(conn, token, webhook_id=data["id"], expires_at=data.get("expires_at"))
    if data.get("shared_secret"):
        registry.update(conn, token, secret=data["shared_secret"])  # authoritative
    _activate(conn, client, token, data, handshake_wait)
    sub = registry.by_token(conn, token)
    assert sub is not None
    log.info("webhook %s for %s is %s until %s", sub.webhook_id, model, sub.status,
             sub.expires_at)
    return sub


def _activate(conn: sqlite3.Connection, client: Any, token: str, data: dict[str, Any],
              wait: float) -> None:
    """Wait for the handshake; if it does not come, activate with the secret."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        sub = registry.by_token(conn, token)
        if sub is not None and sub.handshake_at is not None:
            registry.update(conn, token, status=_enabled_at_clio(client, data["id"], deadline))
            return
        time.sleep(0.05)
    sub = registry.by_token(conn, token)
    assert sub is not None
    if sub.secret is None:
        raise SubscriptionError(
            f"Clio created webhook {data['id']} for {sub.model} but neither sent its secret "
            "nor completed the handshake. Check that the receiver is reachable at the URL "
            "(`clio-sync webhooks serve` behind your HTTPS proxy), then run `webhooks renew`."
        )
    log.info("no handshake for webhook %s within %.0fs; activating it", data["id"], wait)
    client.put(f"webhooks/{data['id']}/activate.json", headers={SECRET_HEADER: sub.secret})
    status = _remote(client, data["id"]).get("status", "enabled")
    registry.update(conn, token, status=status)


def _enabled_at_clio(client: Any, webhook_id: int, deadline: float) -> str:
    """Clio's status once it has read our handshake answer ("enabled"), or the last seen.

    Clio enables a webhook only after our reply reaches it, a moment after the receiver
    recorded the handshake; a change made in that moment is never delivered, so
    `subscribe` returns only once Clio itself says the webhook is enabled."""
    while True:
        status: str = _remote(client, webhook_id).get("status", "enabled")
        if status == "enabled" or time.monotonic() >= deadline:
            return status
        time.sleep(0.05)


def remote_hooks(client: Any) -> dict[int, dict[str, Any]]:
    """Every webhook Clio has for this app, by id (one request per 200)."""
    found: dict[int, dict[str, Any]] = {}
    params = {"fields": "id,model,status,expires_at,url", "limit": 200}
    for page in client.iter_pages("webhooks.json", params, resource="webhooks"):
        found.update((h["id"], h) for h in page.records)
    return found


def _remote(client: Any, webhook_id: int) -> dict[str, Any]:
    resp = client.get(f"webhooks/{webhook_id}.json",
                      params={"fields": "id,model,status,expires_at"}, resource="webhooks")
    data: dict[str, Any] = resp.json()["data"]
    return data


def refresh(conn: sqlite3.Connection, remote: dict[int, dict[str, Any]], now: datetime) -> None:
    """Copy Clio's status and expiry into the registry; a webhook Clio lost is `expired`."""
    for sub in registry.live(conn):
        if sub.webhook_id is None:
            continue
        hook = remote.get(sub.webhook_id)
        if hook is None:
            registry.update(conn, sub.token, status="expired")
            continue
        status = hook.get("status") or sub.status
        if hook.get("expires_at") and _parse(hook["expires_at"]) <= now:
            status = "expired"
        registry.update(conn, sub.token, status=status, expires_at=hook.get("expires_at"))


def extend(conn: sqlite3.Connection, client: Any, sub: Subscription, now: datetime) -> None:
    """Push a webhook's expiry to the 31-day maximum."""
    expires_at = _iso(now + MAX_LIFETIME)
    client.patch(f"webhooks/{sub.webhook_id}.json", json={"data": {"expires_at": expires_at}})
    registry.update(conn, sub.token, expires_at=expires_at)


def retire(conn: sqlite3.Connection, client: Any, sub: Subscription) -> None:
    """Delete a webhook at Clio (gone already is fine) and stop accepting its deliveries."""
    if sub.webhook_id is not None:
        with contextlib.suppress(ClioNotFound):
            client.delete(f"webhooks/{sub.webhook_id}.json")
    registry.update(conn, sub.token, status="retired", retired_at=time.time())


def expires_within(sub: Subscription, now: datetime, window: timedelta) -> bool:
    return sub.expires_at is None or _parse(sub.expires_at) - now <= window


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _parse(stamp: str) -> datetime:
    moment = datetime.fromisoformat(stamp)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
