"""The Grow side of a running sandbox's control API, for tests and the demo:

    sb.grow.token(scopes=["grow_matter_read"])      # a fresh token pair
    sb.grow.truth("matters")                        # every record, all fields
    sb.grow.convert(lead_id)                        # a lead becomes an intake matter
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipelines.sandbox.harness import SandboxServer


class GrowControl:
    """Calls `/_sandbox/grow/...` of one sandbox (through its `SandboxServer`)."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server

    @property
    def api_url(self) -> str:
        """Root of the Grow API, as `https://api.clio.com/grow` at Clio."""
        return f"{self.server.base_url}/grow"

    @property
    def auth_url(self) -> str:
        """Where the Platform's OAuth lives: endpoints at `{auth_url}/oauth/...`."""
        return f"{self.server.base_url}/platform"

    def _call(self, method: str, path: str, body: dict | None = None) -> Any:
        return self.server._call(method, f"grow/{path}", body)

    def token(self, scopes: list[str] | None = None, expires_in: int | None = None,
              client_id: str | None = None) -> dict:
        body = {"scopes": scopes, "expires_in": expires_in, "client_id": client_id}
        return self._call("POST", "tokens", {k: v for k, v in body.items() if v is not None})

    def truth(self, table: str) -> list[dict]:
        return self._call("GET", f"truth/{table}")["data"]

    def counts(self) -> dict[str, int]:
        return self._call("GET", "counts")

    def edit(self, table: str, record_id: int, changes: dict | None = None,
             after_requests: int | None = None) -> dict:
        return self._call("POST", "edit", {"table": table, "id": record_id, "changes": changes,
                                           "after_requests": after_requests})

    def delete(self, table: str, record_id: int, after_requests: int | None = None) -> None:
        self._call("POST", "delete", {"table": table, "id": record_id,
                                      "after_requests": after_requests})

    def convert(self, lead_id: int, after_requests: int | None = None) -> dict:
        return self._call("POST", "convert", {"lead_id": lead_id, "after_requests": after_requests})

    def hire(self, clio_id: int) -> dict:
        return self._call("POST", "hire", {"clio_id": clio_id})

    def decline(self, matter_id: int) -> dict:
        return self._call("POST", "decline", {"matter_id": matter_id})

    def faults(self, **spec: Any) -> None:
        self._call("POST", "faults", spec)
