"""Compact JSON responses (what Clio sends: `application/json; charset=utf-8`)."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

JSON_TYPE = "application/json; charset=utf-8"
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def dumps(body: Any) -> bytes:
    """The compact UTF-8 JSON text of `body`."""
    return _encode(body).encode()


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response with Clio's content type."""
    return Response(dumps(body), status, headers, media_type=JSON_TYPE)
