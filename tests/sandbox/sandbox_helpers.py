"""Helpers of the sandbox server tests (a uniquely named module, imported by the tests)."""

from __future__ import annotations

import httpx
from starlette.requests import Request
from starlette.responses import Response

from pipelines.sandbox.harness import SandboxServer


def api_client(sb: SandboxServer, **token_kwargs: object) -> httpx.Client:
    """An httpx client on the sandbox's API root with a fresh bearer token."""
    token = sb.token(**token_kwargs)["access_token"]  # type: ignore[arg-type]
    return httpx.Client(
        base_url=f"{sb.base_url}/api/v4", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


class Receiver:
    """A real HTTP receiver on loopback that records what it gets and answers as told."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, str], bytes]] = []
        self.echo = True
        self.statuses: list[int] = []  # answers to deliveries, in order; then 200

    async def endpoint(self, request: Request) -> Response:
        body = await request.body()
        self.calls.append((dict(request.headers), body))
        secret = request.headers.get("x-hook-secret")
        if secret is not None:
            return Response(headers={"X-Hook-Secret": secret} if self.echo else {})
        return Response(status_code=self.statuses.pop(0) if self.statuses else 200)

    @property
    def deliveries(self) -> list[tuple[dict[str, str], bytes]]:
        return [(h, b) for h, b in self.calls if "x-hook-signature" in h]
