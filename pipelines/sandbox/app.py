"""The sandbox ASGI app: Clio's paths, OAuth, and the control API, on one Starlette app."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipelines.sandbox import api, control, oauth
from pipelines.sandbox.config import SandboxConfig
from pipelines.sandbox.errors import ApiError, OAuthError
from pipelines.sandbox.firm import Firm
from pipelines.sandbox.grow import api as grow_api
from pipelines.sandbox.grow import control as grow_control
from pipelines.sandbox.grow import oauth as grow_oauth
from pipelines.sandbox.middleware import SandboxMiddleware
from pipelines.sandbox.state import SandboxState

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
_STATUS_TYPES = {404: "RecordNotFound", 405: "MethodNotAllowed"}


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError | OAuthError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    error_type = _STATUS_TYPES.get(exc.status_code, "BadRequest")
    return ApiError(exc.status_code, error_type, f"{exc.detail}: {request.url.path}").response()


async def _crash(request: Request, exc: Exception) -> Response:
    # Never a traceback on the wire: a Clio-shaped 500 (the log keeps the details).
    return ApiError(500, "InternalServerError", "The sandbox failed to answer.").response()


def create_app(config: SandboxConfig | None = None, firm: Firm | None = None) -> Starlette:
    """The sandbox app for `config`, serving `firm` (default: built from the config)."""
    state = SandboxState(config or SandboxConfig(), firm)
    routes = [
        *oauth.routes,
        *control.routes,
        Route("/api/v4/{path:path}", api.handle, methods=_METHODS),
        *grow_oauth.routes,
        *grow_control.routes,
        Route("/grow/{path:path}", grow_api.handle, methods=_METHODS),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SandboxMiddleware, state=state)],
        exception_handlers={
            ApiError: _api_error,
            OAuthError: _api_error,
            HTTPException: _http_error,
            Exception: _crash,
        },
    )
    app.state.sandbox = state
    return app
