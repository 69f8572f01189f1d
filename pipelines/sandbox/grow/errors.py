"""Grow's error answers: `{"error": {"status": "<code>", "message": "..."}}` (the spec's
`Error` schema, for 400/401/403/404/405/422 and 5xx), and the 429 of the Platform's
rate-limit page, `{"message": "Too Many Requests"}` with no rate headers (DOC-rate; the
spec's generic shape for 429 is the documented conflict, GROW_API.md §7.8)."""

from __future__ import annotations

from starlette.responses import Response

from pipelines.sandbox.render import json_response

TOO_MANY = {"message": "Too Many Requests"}


class GrowError(Exception):
    """An answer in Grow's error shape."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}

    def response(self) -> Response:
        body = {"error": {"status": str(self.status), "message": self.message}}
        return json_response(body, self.status, self.headers)


def too_many() -> Response:
    return json_response(TOO_MANY, 429)


def unauthorized() -> GrowError:
    return GrowError(401, "The access token is missing, expired, revoked or invalid.",
                     {"WWW-Authenticate": 'Bearer error="invalid_token"'})


def not_found(message: str = "The requested resource was not found.") -> GrowError:
    return GrowError(404, message)


def bad_request(message: str) -> GrowError:
    return GrowError(400, message)


def fault_response(kind: str) -> Response:
    """The answer of an injected fault on a Grow path (see `pipelines.sandbox.faults`)."""
    if kind == "429":
        return too_many()
    if kind == "empty":
        return json_response({"data": [], "meta": {"paging": {}}})
    return GrowError(int(kind), "The server could not answer; try again later.").response()
