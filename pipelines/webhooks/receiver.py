"""The HTTP receiver Clio delivers to: handshakes and signed deliveries.

    POST {path}/{token}   handshake (X-Hook-Secret) or delivery (X-Hook-Signature)
    GET  /healthz         liveness and the inbox backlog, for a proxy or a monitor

A handshake's body is never read. A delivery is checked in this order, and nothing is
stored unless all pass: the URL token names a live webhook (401, before a byte of the
body is read), that webhook has a secret (401), the body arrives within its size (413)
and time (408), the signature of the raw body under that webhook's own secret (401),
JSON with `data.id`, `meta.event` and `meta.webhook_id` (400), `meta.webhook_id` equal
to the webhook's id (401). Only then is it appended to the inbox, fsynced, and answered
200. An authentic delivery the inbox cannot queue (a record id no INTEGER holds,
`malformed.py`) is kept set aside with its reason, also fsynced before its 200: Clio
would only retry it, then suspend the webhook. Every error answer closes the
connection, so no unread body keeps it open.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypedDict

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from pipelines.clio import decoding
from pipelines.clio.endpoints import has_text_ids
from pipelines.webhooks import inbox, malformed, registry, store
from pipelines.webhooks.inbox_writer import InboxWriter
from pipelines.webhooks.limits import BODY_TIMEOUT
from pipelines.webhooks.malformed import Malformed
from pipelines.webhooks.registry import Subscription
from pipelines.webhooks.signature import is_valid

DEFAULT_PATH = "/webhooks/clio"
MAX_BODY = 1024 * 1024  # bytes; Clio's deliveries are a few kilobytes
SEQ_HEADER = "X-Inbox-Seq"  # the accepted delivery's place in the inbox (audit, tests)
SUBSCRIPTION_TTL = 1.0  # seconds a known webhook's row is reused without reading the file

log = logging.getLogger(__name__)

_Headers = list[tuple[bytes, bytes]]


class State(TypedDict):
    writer: InboxWriter
    reader: sqlite3.Connection
    webhooks: KnownWebhooks
    max_body: int
    body_timeout: float


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


class NotADelivery(ValueError):
    """The body is not Clio's envelope: a JSON object with `data` and `meta` objects."""


def build_app(inbox_file: Path, path: str = DEFAULT_PATH, max_body: int = MAX_BODY,
              on_shutdown: Callable[[], None] | None = None,
              body_timeout: float = BODY_TIMEOUT) -> WebhookApp:
    """The receiver as an ASGI app appending to `inbox_file`.

    `on_shutdown` runs once the server has stopped taking requests, before the inbox closes.
    A delivery's body must arrive within `body_timeout` seconds.
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[State]:
        writer = InboxWriter(inbox_file)
        writer.start()
        reader = store.connect(inbox_file)
        log.info("receiving webhooks at %s/<token>, inbox %s", path.rstrip("/"), inbox_file)
        try:
            yield {"writer": writer, "reader": reader, "webhooks": KnownWebhooks(reader),
                   "max_body": max_body, "body_timeout": body_timeout}
        finally:
            if on_shutdown is not None:
                await asyncio.to_thread(on_shutdown)
            writer.stop()  # every accepted delivery is already committed; this drains the rest
            reader.close()

    rest = Starlette(routes=[Route("/healthz", health, methods=["GET"])], lifespan=lifespan)
    return WebhookApp(path, rest)


class WebhookApp:
    """ASGI: `{path}/{token}` answered here, the rest (lifespan, `/healthz`) by Starlette.

    The webhook route is the hot path, 2,000 deliveries/s on two shared cores: as a plain
    ASGI callable it skips Starlette's routing, middleware, `Request` and `Response`
    objects, about a third of the receiver's CPU per delivery.
    """

    def __init__(self, path: str, rest: Starlette) -> None:
        self.prefix = path.rstrip("/") + "/"
        self.rest = rest

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            token = scope["path"][len(self.prefix):]
            if token and "/" not in token:
                if scope["method"] != "POST":
                    return await _answer(send, 405, [*_error_headers(_NOT_ALLOWED),
                                                     (b"allow", b"POST")], _NOT_ALLOWED)
                return await receive_post(scope["state"], token, scope, receive, send)
        await self.rest(scope, receive, send)


async def receive_post(state: State, token: str, scope: Scope, receive: Receive,
                       send: Send) -> None:
    """Answer a handshake or accept a signed delivery."""
    secret = signature = declared = None
    for name, value in scope["headers"]:  # the first of a repeated header counts
        if name == b"x-hook-signature":
            signature = value if signature is None else signature
        elif name == b"x-hook-secret":
            secret = value if secret is None else secret
        elif name == b"content-length":
            declared = value if declared is None else declared
    if secret is not None:  # its body says nothing we need: it is never read
        return await _handshake(state, send, token, secret.decode("latin-1"))
    sub = state["webhooks"].get(token)
    if sub is None or sub.status == "retired":  # before reading a byte of the body
        log.warning("rejected a delivery for unknown webhook %s…", token[:4])
        return await _error(send, 401, "unknown webhook")
    if sub.secret is None:
        log.warning("rejected a delivery for webhook %s: it has no secret yet", sub.webhook_id)
        return await _error(send, 401, "unknown webhook or bad signature")
    try:
        async with asyncio.timeout(state["body_timeout"]):
            body = await _read_body(receive, declared, state["max_body"])
    except BodyTooLarge:
        return await _error(send, 413, "body too large")
    except TimeoutError:
        log.warning("webhook %s: the body did not arrive within %gs; answered 408",
                    sub.webhook_id, state["body_timeout"])
        return await _error(send, 408, "the body did not arrive in time")
    except ClientDisconnect:
        log.info("webhook %s: the client disconnected before sending the whole body",
                 sub.webhook_id)
        return await _answer(send, 400, _EMPTY)  # nobody is left to read it
    await _delivery(state, send, sub, body, signature)


async def health(request: Request) -> Response:
    reader = request.state.reader
    return JSONResponse({"status": "ok", "pending": inbox.pending(reader),
                         "set_aside": inbox.set_aside_count(reader)})


async def _read_body(receive: Receive, declared: bytes | None, limit: int) -> bytes:
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        if not message.get("more_body", False):
            return chunk if not chunks else b"".join([*chunks, chunk])
        chunks.append(chunk)


async def _handshake(state: State, send: Send, token: str, secret: str) -> None:
    writer = state["writer"]
    accepted = await asyncio.wrap_future(
        writer.call(lambda conn: registry.record_handshake(conn, token, secret))
    )
    if not accepted:
        log.warning("refused a handshake for unknown or mismatched webhook %s…", token[:4])
        return await _error(send, 401, "unknown webhook")
    log.info("handshake accepted for webhook %s…", token[:4])
    await _answer(send, 200, [(b"x-hook-secret", secret.encode("latin-1")), *_EMPTY])


async def _delivery(state: State, send: Send, sub: Subscription, body: bytes,
                    signature: bytes | None) -> None:
    received_at = time.time()
    if sub.secret is None or not is_valid(body, sub.secret, signature):
        why = "missing signature" if not signature else "wrong signature"
        log.warning("rejected a delivery for webhook %s: %s", sub.webhook_id, why)
        return await _error(send, 401, "unknown webhook or bad signature")
    try:
        data, meta = _envelope(body)
        claimed_id = int(meta["webhook_id"])
    except (NotADelivery, ValueError, TypeError, KeyError):
        return await _error(
            send, 400, "not a Clio delivery (JSON with data.id, meta.event, meta.webhook_id)")
    if sub.webhook_id is not None and claimed_id != sub.webhook_id:
        log.warning("delivery to webhook %s claims webhook_id %s", sub.webhook_id, claimed_id)
        return await _error(send, 401, "webhook id does not match its URL")
    if not malformed.BIGINT_MIN <= claimed_id <= malformed.BIGINT_MAX:
        return await _error(send, 400, "meta.webhook_id is out of BIGINT's range")
    try:
        delivery = inbox.Delivery(
            received_at=received_at, webhook_id=claimed_id, model=sub.model,
            record_id=malformed.record_id(data["id"], text=_text_ids(sub.model)),
            event=malformed.event_name(meta["event"]),
            etag=malformed.etag(data.get("etag")), body=body,
        )
    except Malformed as exc:
        return await _set_aside(state, send, inbox.Refused(
            received_at=received_at, webhook_id=claimed_id, model=sub.model,
            record_id=malformed.show(data["id"]), body=body, reason=str(exc),
            event=meta["event"] if isinstance(meta["event"], str) else None))
    seq = await state["writer"].append(delivery)
    # No body: one write to the socket instead of two, on the hot path.
    await _answer(send, 200, [(_SEQ, b"%d" % seq), *_EMPTY])


_SEQ = SEQ_HEADER.lower().encode()
_NOT_ALLOWED = b"Method Not Allowed"
_EMPTY: _Headers = [(b"content-length", b"0")]
_text_ids = functools.cache(has_text_ids)  # per delivery: the catalog lookup is not free


def _envelope(body: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """`data` and `meta` of a delivery, which has at least `data.id` and `meta.event`."""
    try:
        payload = decoding.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python parses
        raise NotADelivery from None
    if not isinstance(payload, dict):
        raise NotADelivery
    data, meta = payload.get("data"), payload.get("meta")
    if not (isinstance(data, dict) and isinstance(meta, dict) and "id" in data
            and "event" in meta and "webhook_id" in meta):
        raise NotADelivery
    return data, meta


async def _set_aside(state: State, send: Send, refused: inbox.Refused) -> None:
    """Keep an authentic delivery the inbox cannot queue, with why; answer 200 once fsynced.

    Clio sent it and would send the same again: a non-2xx only brings retries, then a
    suspended webhook.
    """
    await asyncio.wrap_future(state["writer"].call(lambda conn: inbox.refuse(conn, refused)))
    log.warning("set aside a delivery to webhook %s (%s %s): %s", refused.webhook_id,
                refused.model, refused.record_id, refused.reason)
    await _answer(send, 200, _EMPTY)


async def _answer(send: Send, status: int, headers: _Headers, body: bytes = b"") -> None:
    start: Message = {"type": "http.response.start", "status": status, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": body})


def _error_headers(body: bytes, content_type: bytes = b"text/plain; charset=utf-8"
                   ) -> _Headers:
    return [(b"content-length", b"%d" % len(body)), (b"content-type", content_type),
            (b"connection", b"close")]


async def _error(send: Send, status: int, reason: str) -> None:
    """An error answer that closes the connection (a body we did not read is dropped)."""
    body = json.dumps({"error": reason}, separators=(",", ":")).encode()
    await _answer(send, status, _error_headers(body, b"application/json"), body)
