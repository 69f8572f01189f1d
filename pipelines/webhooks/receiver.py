"""The HTTP receiver Clio delivers to: handshakes and signed deliveries.

    POST {path}/{token}   handshake (X-Hook-Secret) or delivery (X-Hook-Signature)
    GET  /healthz         liveness and the inbox backlog, for a proxy or a monitor

A delivery is checked in this order, and nothing is stored unless all pass: size (413),
the token names a live webhook with a known secret (401), the signature of the raw
body under that webhook's own secret (401), JSON with `data.id` and `meta.event`
(400), `meta.webhook_id` equal to the webhook's id (401). Only then is it appended
to the inbox, fsynced, and answered 200.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TypedDict

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pipelines.webhooks import inbox, registry, store
from pipelines.webhooks.inbox_writer import InboxWriter
from pipelines.webhooks.registry import Subscription
from pipelines.webhooks.signature import SECRET_HEADER, SIGNATURE_HEADER, is_valid

DEFAULT_PATH = "/webhooks/clio"
MAX_BODY = 1024 * 1024  # bytes; Clio's deliveries are a few kilobytes
SEQ_HEADER = "X-Inbox-Seq"  # the accepted delivery's place in the inbox (audit, tests)
SUBSCRIPTION_TTL = 1.0  # seconds a known webhook's row is reused without reading the file

log = logging.getLogger(__name__)


class State(TypedDict):
    writer: InboxWriter
    reader: sqlite3.Connection
    webhooks: KnownWebhooks
    max_body: int


class KnownWebhooks:
    """Webhook rows by URL token, each read from the file at most once a second.

    A delivery is checked on the event loop, and a SQLite read there costs about as much
    as the rest of the request; under load the same few webhooks deliver everything.
    Only webhooks with a secret are kept, so a handshake is never missed; a webhook
    retired by `unsubscribe` is refused at most `SUBSCRIPTION_TTL` later.
    """

    def __init__(self, conn: sqlite3.Connection, ttl: float = SUBSCRIPTION_TTL) -> None:
        self._conn, self._ttl = conn, ttl
        self._rows: dict[str, tuple[float, Subscription]] = {}

    def get(self, token: str) -> Subscription | None:
        now = time.monotonic()
        cached = self._rows.get(token)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        sub = registry.by_token(self._conn, token)
        if sub is not None and sub.secret is not None and sub.status != "retired":
            self._rows[token] = (now, sub)
        else:
            self._rows.pop(token, None)
        return sub


class BodyTooLarge(Exception):
    """The request body exceeded the limit while streaming."""


def build_app(inbox_file: Path, path: str = DEFAULT_PATH, max_body: int = MAX_BODY,
              on_shutdown: Callable[[], None] | None = None) -> Starlette:
    """The receiver as an ASGI app appending to `inbox_file`.

    `on_shutdown` runs once the server has stopped taking requests, before the inbox closes.
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[State]:
        writer = InboxWriter(inbox_file)
        writer.start()
        reader = store.connect(inbox_file)
        log.info("receiving webhooks at %s/<token>, inbox %s", path.rstrip("/"), inbox_file)
        try:
            yield {"writer": writer, "reader": reader, "webhooks": KnownWebhooks(reader),
                   "max_body": max_body}
        finally:
            if on_shutdown is not None:
                await asyncio.to_thread(on_shutdown)
            writer.stop()  # every accepted delivery is already committed; this drains the rest
            reader.close()

    routes = [
        Route(f"{path.rstrip('/')}/{{token}}", receive, methods=["POST"]),
        Route("/healthz", health, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


async def receive(request: Request) -> Response:
    """Answer a handshake or accept a signed delivery."""
    try:
        body = await _read_body(request, request.state.max_body)
    except BodyTooLarge:
        return _error(413, "body too large")
    token = request.path_params["token"]
    secret = request.headers.get(SECRET_HEADER)
    if secret is not None:
        return await _handshake(request, token, secret)
    return await _delivery(request, token, body)


async def health(request: Request) -> Response:
    backlog = inbox.pending(request.state.reader)
    return JSONResponse({"status": "ok", "pending": backlog})


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def _handshake(request: Request, token: str, secret: str) -> Response:
    writer: InboxWriter = request.state.writer
    accepted = await asyncio.wrap_future(
        writer.call(lambda conn: registry.record_handshake(conn, token, secret))
    )
    if not accepted:
        log.warning("refused a handshake for unknown or mismatched webhook %s…", token[:4])
        return _error(401, "unknown webhook")
    log.info("handshake accepted for webhook %s…", token[:4])
    return Response(status_code=200, headers={SECRET_HEADER: secret})


async def _delivery(request: Request, token: str, body: bytes) -> Response:
    received_at = time.time()
    sub = _verified_subscription(request, token, body)
    if sub is None:
        return _error(401, "unknown webhook or bad signature")
    try:
        payload = json.loads(body)
        data, meta = payload["data"], payload["meta"]
        record_id, event = int(data["id"]), str(meta["event"])
        claimed_id = int(meta["webhook_id"])
    except (ValueError, TypeError, KeyError):
        return _error(400, "not a Clio delivery (JSON with data.id, meta.event, meta.webhook_id)")
    if sub.webhook_id is not None and claimed_id != sub.webhook_id:
        log.warning("delivery to webhook %s claims webhook_id %s", sub.webhook_id, claimed_id)
        return _error(401, "webhook id does not match its URL")
    delivery = inbox.Delivery(
        received_at=received_at, webhook_id=claimed_id, model=sub.model, record_id=record_id,
        event=event, etag=data.get("etag"), body=body,
    )
    seq = await asyncio.wrap_future(request.state.writer.append(delivery))
    # No body: one write to the socket instead of two, on the hot path.
    return Response(status_code=200, headers={SEQ_HEADER: str(seq)})


def _verified_subscription(request: Request, token: str, body: bytes) -> Subscription | None:
    """The webhook behind `token` if `body` carries its valid signature, else None (logged)."""
    sub = request.state.webhooks.get(token)
    signature = request.headers.get(SIGNATURE_HEADER)
    if sub is None or sub.status == "retired":
        log.warning("rejected a delivery for unknown webhook %s…", token[:4])
        return None
    if sub.secret is None or not is_valid(body, sub.secret, signature):
        why = ("it has no secret yet" if sub.secret is None
               else "missing signature" if not signature else "wrong signature")
        log.warning("rejected a delivery for webhook %s: %s", sub.webhook_id, why)
        return None
    return sub


def _error(status: int, reason: str) -> Response:
    return JSONResponse({"error": reason}, status_code=status)
