"""Clio's error answers, raised anywhere in a handler and rendered in one place.

ApiError      `{"error": {"type", "message"}}` with a status (400, 403, 404, 405, 410, 422, 429)
OAuthError    the flat OAuth body `{"error", "error_description"}` (401 and /oauth/token)
"""

from __future__ import annotations

from starlette.responses import Response

from pipelines.sandbox.render import json_response

INVALID_TOKEN = (
    "The access token provided is expired, revoked, malformed or invalid for other reasons."
)


class ApiError(Exception):
    """An answer in Clio's API error shape."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message

    def response(self) -> Response:
        body = {"error": {"type": self.error_type, "message": self.message}}
        return json_response(body, self.status)


class OAuthError(Exception):
    """An answer in the flat OAuth shape (`invalid_token`, `invalid_client`, `invalid_grant`)."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    def response(self) -> Response:
        body = {"error": self.error, "error_description": self.description}
        headers = {"WWW-Authenticate": f'Bearer error="{self.error}"'} if self.status == 401 else {}
        return json_response(body, self.status, headers)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def not_found(message: str = "The requested resource was not found.") -> ApiError:
    return ApiError(404, "RecordNotFound", message)


def invalid_token() -> OAuthError:
    return OAuthError(401, "invalid_token", INVALID_TOKEN)
