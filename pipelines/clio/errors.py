"""Errors raised while talking to Clio, each naming its cause and its fix.

    ClioSyncError                       (pipelines.errors)
    └── ClioApiError                    Clio (or the network to it) refused or failed a request
        ├── ClioAuthError               401, or the token endpoint refused a refresh/login
        ├── ClioPermissionError         403: a missing app scope or a Clio role that forbids it
        ├── ClioRateLimited             429s until the attempts ran out
        ├── ClioUnavailable             5xx, timeouts or dropped connections until the attempts ran out
        ├── ClioBadResponse             a page that is not the JSON envelope Clio documents
        ├── ClioNotFound                404
        └── ClioBadRequest              400, 410, 412, 422 and other client errors

Every error carries `status` (the last HTTP status, if any) and `path` (the URL path only:
query strings are dropped so nothing sensitive can ride along). Messages never hold a token
or a client secret.
"""

from __future__ import annotations

from pipelines.errors import ClioSyncError


class ClioApiError(ClioSyncError):
    """A request to Clio failed in a way the user has to hear about."""

    def __init__(
        self, message: str, *, status: int | None = None, path: str | None = None,
        attempts: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.path = path
        self.attempts = attempts

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, path={self.path!r}, message={self.message!r})"


class ClioAuthError(ClioApiError):
    """Clio did not accept the credentials (401, or a refused refresh or login)."""


class ClioPermissionError(ClioApiError):
    """Clio understood who is asking but forbids it (403)."""


class ClioRateLimited(ClioApiError):
    """Clio kept answering 429 until every attempt was spent."""


class ClioUnavailable(ClioApiError):
    """Clio kept failing (5xx, timeouts, dropped connections) until every attempt was spent."""


class ClioBadResponse(ClioApiError):
    """Clio answered 2xx with a body that is not the documented JSON envelope."""


class ClioNotFound(ClioApiError):
    """The path or record does not exist (404)."""


class ClioBadRequest(ClioApiError):
    """Clio rejected the request itself (400, 410, 412, 422, ...)."""
