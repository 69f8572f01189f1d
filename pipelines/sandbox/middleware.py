"""The ASGI layer around every request: `Date`, request stats, scheduled faults.

Clio and OAuth paths are counted in the stats and can meet an injected fault; control
paths (`/_sandbox/`) never do. The `Date` header is the firm's simulated clock, so a
client that takes "server time" from it agrees with the records' `updated_at`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC
from email.utils import format_datetime
from typing import TYPE_CHECKING

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipelines.sandbox.errors import ApiError
from pipelines.sandbox.grow.errors import fault_response as grow_fault_response

if TYPE_CHECKING:
    from pipelines.sandbox.faults import Fault
    from pipelines.sandbox.state import SandboxState

FAULTABLE = ("/api/v4/", "/oauth/", "/grow/", "/platform/oauth/")
GROW = "/grow/"  # Grow answers faults in its own shapes
_ERROR_TYPES = {"500": "InternalServerError", "502": "BadGateway", "503": "ServiceUnavailable"}


class DropConnection(Exception):
    """Raised after the response started: uvicorn closes the connection mid-answer."""


class _QuietDrops(logging.Filter):
    """Keep uvicorn from logging a traceback for a connection dropped on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], DropConnection))


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


class SandboxMiddleware:
    """Wraps the Starlette app (innermost user middleware)."""

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        status = {"code": 500}
        send = self._stamped(send, status)
        if not path.startswith(FAULTABLE):
            await self.app(scope, receive, send)
            return
        fault = self.state.faults.take(path)
        try:
            await self._answer(scope, receive, send, fault)
        finally:
            query = scope.get("query_string", b"").decode("latin-1")
            self.state.stats.record(scope["method"], path, status["code"], query)

    async def _answer(
        self, scope: Scope, receive: Receive, send: Send, fault: Fault | None
    ) -> None:
        if fault is None:
            await self.app(scope, receive, send)
        elif fault.kind == "slow":
            await asyncio.sleep(fault.delay)
            await self.app(scope, receive, send)
        elif scope["path"].startswith(GROW) and fault.kind in ("429", "empty", *_ERROR_TYPES):
            await grow_fault_response(fault.kind)(scope, receive, send)
        elif fault.kind in ("429", *_ERROR_TYPES):
            await self._error(scope, receive, send, fault)
        elif fault.kind == "empty":
            await self._empty_page(scope, receive, send)
        else:
            await self.app(scope, receive, _mangler(send, fault.kind))

    async def _error(self, scope: Scope, receive: Receive, send: Send, fault: Fault) -> None:
        if fault.kind == "429":
            message = f"Rate limit exceeded. Retry in {fault.retry_after} seconds."
            error = ApiError(429, "RateLimited", message).response()
            error.headers.update(self.state.limiter.peek("fault").headers())
            error.headers["Retry-After"] = str(fault.retry_after)
            error.headers["X-RateLimit-Remaining"] = "0"
        else:
            message = "The server could not answer; try again later."
            error = ApiError(int(fault.kind), _ERROR_TYPES[fault.kind], message).response()
            error.headers.update(self.state.limiter.peek("fault").headers())
        await error(scope, receive, send)

    async def _empty_page(self, scope: Scope, receive: Receive, send: Send) -> None:
        page = JSONResponse({"data": [], "meta": {"paging": {}, "records": 0}})
        page.headers.update(self.state.limiter.peek("fault").headers())
        await page(scope, receive, send)

    def _stamped(self, send: Send, status: dict) -> Send:
        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                date = format_datetime(self.state.firm.now().astimezone(UTC), usegmt=True)
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                headers.append((b"date", date.encode()))
                message = {**message, "headers": headers}
            await send(message)

        return stamped


def _mangler(send: Send, kind: str) -> Send:
    """Spoil the body: `truncated` and `drop` cut the connection, `invalid_json` the text,
    `bad_record` the first record (same length: the announced length still holds)."""

    async def mangled(message: Message) -> None:
        if message["type"] == "http.response.start":
            if kind == "invalid_json":
                headers = [(k, v) for k, v in message["headers"] if k.lower() != b"content-length"]
                message = {**message, "headers": headers}
            await send(message)
            if kind == "drop":
                raise DropConnection()
            return
        body: bytes = message.get("body", b"")
        if kind == "truncated":
            await send(
                {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
            )
            raise DropConnection()
        if kind == "invalid_json":
            cut = body[: max(1, len(body) // 2)] if body else b"<html>"
            await send({"type": "http.response.body", "body": cut, "more_body": False})
            return
        if kind == "bad_record":
            spoiled = body.replace(b'"data":[{', b'"data":[[', 1)
            await send({**message, "body": spoiled})
            return
        await send(message)

    return mangled
