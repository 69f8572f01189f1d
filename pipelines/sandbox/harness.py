"""Run a sandbox on a free loopback port for tests and demos, and drive it over HTTP.

    with serve_sandbox(scale="tiny", seed=7) as sb:
        pair = sb.token(scopes=["billing:read"])
        httpx.get(f"{sb.base_url}/api/v4/bills.json", headers={...})
        sb.advance(days=3)

uvicorn serves in a daemon thread of this process; `SandboxServer` methods call the
control API (`/_sandbox/...`) so they behave the same against a sandbox in another
process (`SandboxServer(base_url)`).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn

from pipelines.errors import ClioSyncError
from pipelines.sandbox.app import create_app
from pipelines.sandbox.config import Api, Region, SandboxConfig, Scale
from pipelines.sandbox.grow.harness import GrowControl


class SandboxError(ClioSyncError):
    """The sandbox could not start or refused a control request."""


class SandboxServer:
    """A client of one running sandbox's control API."""

    def __init__(self, base_url: str, app: Any = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.app = app  # the in-process Starlette app when started by `serve_sandbox`
        self._http = httpx.Client(base_url=self.base_url, timeout=30)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, body: dict | None = None) -> Any:
        response = self._http.request(method, f"/_sandbox/{path}", json=body)
        if response.status_code >= 400:
            raise SandboxError(
                f"sandbox control {path} answered {response.status_code}: {response.text[:300]}"
            )
        return response.json()

    def token(
        self,
        scopes: list[str] | None = None,
        region: str | None = None,
        api: str | None = None,
        expires_in: int | None = None,
    ) -> dict:
        """A fresh token pair: `{"access_token", "refresh_token", "expires_in", ...}`."""
        body = {"scopes": scopes, "region": region, "api": api, "expires_in": expires_in}
        return self._call("POST", "tokens", {k: v for k, v in body.items() if v is not None})

    def advance(self, days: int = 1, after_requests: int | None = None) -> dict:
        """Live `days` of firm life now (counts of changes by model) or after N requests."""
        return self._call("POST", "advance", {"days": days, "after_requests": after_requests})

    def edit(
        self,
        endpoint: str,
        record_id: int,
        changes: dict | None = None,
        after_requests: int | None = None,
    ) -> dict | None:
        """Change a record now (returns it) or when the N-th next API request arrives."""
        body = {
            "endpoint": endpoint,
            "id": record_id,
            "changes": changes,
            "after_requests": after_requests,
        }
        answer = self._call("POST", "edit", body)
        return None if after_requests is not None else answer

    def delete(self, endpoint: str, record_id: int) -> None:
        self._call("POST", "delete", {"endpoint": endpoint, "id": record_id})

    def set_custom_field_value(
        self,
        endpoint: str,
        record_id: int,
        custom_field_id: int,
        value: object,
        after_requests: int | None = None,
    ) -> dict | None:
        """Set (None: clear) a matter's or contact's custom field value, as a user in Clio;
        returns the record (or None when scheduled after N requests)."""
        body = {"endpoint": endpoint, "id": record_id, "custom_field_id": custom_field_id,
                "value": value, "after_requests": after_requests}  # fmt: skip
        answer = self._call("POST", "custom_field_value", body)
        return None if after_requests is not None else answer

    def delete_custom_field(self, custom_field_id: int) -> dict:
        """Delete a custom field definition (its values become soft-deleted)."""
        return self._call("POST", "delete_custom_field", {"id": custom_field_id})

    def truth(self, endpoint: str) -> list[dict]:
        return self._call("GET", f"truth/{endpoint}")["data"]

    def stats(self) -> dict:
        return self._call("GET", "stats")

    def reset_stats(self) -> None:
        self._call("DELETE", "stats")

    def faults(self, **spec: Any) -> None:
        self._call("POST", "faults", spec)

    def webhooks(self) -> list[dict]:
        return self._call("GET", "webhooks")["data"]

    def flush_webhooks(self, timeout: float = 10) -> None:
        self._call("POST", "webhooks/flush", {"timeout": timeout})

    def reset(self) -> None:
        self._call("POST", "reset")

    @property
    def grow(self) -> GrowControl:
        """The Grow side of the control API (`/_sandbox/grow/...`)."""
        return GrowControl(self)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _ThreadServer(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the main thread keeps its handlers
        pass


class AnnouncingServer(uvicorn.Server):
    """Prints `announcement` once the port accepts connections, so whoever reads it (a
    person or a script) can use the server at once."""

    def __init__(self, config: uvicorn.Config, announcement: str) -> None:
        super().__init__(config)
        self.announcement = announcement

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            print(self.announcement, flush=True)


def uvicorn_config(
    app: Any, port: int, host: str = "127.0.0.1", log_level: str = "warning"
) -> uvicorn.Config:
    """uvicorn settings shared by the harness and `clio-sync sandbox serve`."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        date_header=False,  # the app sends the firm's clock as `Date`
        server_header=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
    )


@contextmanager
def serve_sandbox(
    scale: Scale = "tiny",
    seed: int = 7,
    region: Region = "us",
    api: Api = "manage",
    rate_limit: tuple[int, float] | None = None,
    token_lifetime: int = 3600,
    allow_http_webhooks: bool = True,
    webhook_time_scale: float = 0.001,
    fixture: dict | None = None,
    **extra: Any,
) -> Iterator[SandboxServer]:
    """A sandbox served on a free loopback port until the block exits."""
    config = SandboxConfig(
        seed=seed,
        scale=scale,
        region=region,
        api=api,
        rate_limit=rate_limit,
        token_lifetime=token_lifetime,
        allow_http_webhooks=allow_http_webhooks,
        webhook_time_scale=webhook_time_scale,
        fixture=fixture,
        **extra,
    )
    app = create_app(config)
    port = free_port()
    server = _ThreadServer(uvicorn_config(app, port))
    thread = threading.Thread(target=server.run, name=f"sandbox-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise SandboxError(f"the sandbox did not start on 127.0.0.1:{port}")
        time.sleep(0.01)
    sb = SandboxServer(f"http://127.0.0.1:{port}", app)
    try:
        yield sb
    finally:
        sb.close()
        server.should_exit = True
        thread.join(timeout=10)
        app.state.sandbox.close()
