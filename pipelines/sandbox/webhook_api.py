"""`/api/v4/webhooks...`: index, show, create, PATCH, DELETE and `PUT .../activate`."""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from pipelines.sandbox import spec
from pipelines.sandbox.errors import ApiError, bad_request, not_found
from pipelines.sandbox.fields import Projector, parse_fields, projector
from pipelines.sandbox.paging import cursor_page, page_url, parse_limit
from pipelines.sandbox.render import json_response
from pipelines.sandbox.scopes import WEBHOOK_MODEL_PERMISSION, grants, required_scope
from pipelines.sandbox.webhooks import Webhook

if TYPE_CHECKING:
    from pipelines.sandbox.state import SandboxState
    from pipelines.sandbox.tokens import AccessToken

MAX_FIELDS = 1000
DEFAULT_LIFETIME = timedelta(days=3)
MAX_LIFETIME = timedelta(days=31)
BASE_EVENTS = ("created", "updated", "deleted")
MATTER_ONLY = ("matter_opened", "matter_pended", "matter_closed")
LOOPBACK_NAMES = {"localhost"}


def _invalid(message: str) -> ApiError:
    return ApiError(422, "UnprocessableEntity", message)


async def dispatch(
    state: SandboxState,
    request: Request,
    token: AccessToken,
    record_id: str | None,
    action: str | None,
) -> Response:
    """Route a webhooks request (after authentication and rate limiting)."""
    from pipelines.sandbox.api import authorize, query_params

    method = request.method
    write = method != "GET"
    authorize(state, token, "webhooks", write=write)
    params = query_params(request)
    if record_id is None:
        if method == "GET":
            return _index(state, request, params)
        if method == "POST":
            return await _create(state, request, token, params)
        raise ApiError(405, "MethodNotAllowed", f"{method} is not allowed here.")
    hook = _get(state, record_id)
    if action:
        if method != "PUT":
            raise ApiError(405, "MethodNotAllowed", f"{method} is not allowed here.")
        return _activate(state, request, hook, params)
    if method == "GET":
        return _show(state, hook, params)
    if method == "PATCH":
        return await _patch(state, request, hook, params)
    if method == "DELETE":
        state.webhooks.remove(hook.id)
        return Response(status_code=204)
    raise ApiError(405, "MethodNotAllowed", f"{method} is not allowed here.")


def _get(state: SandboxState, raw: str) -> Webhook:
    try:
        return state.webhooks.hooks[int(raw)]
    except (ValueError, KeyError):
        raise not_found(f"No webhook with id {raw!r}.") from None


def _project(params: dict[str, list[str]]) -> Projector:
    raw = params.get("fields", [None])[-1]
    return projector(parse_fields(raw, "Webhook"), lambda table, record_id: None)


def _index(state: SandboxState, request: Request, params: dict[str, list[str]]) -> Response:
    project = _project(params)
    limit = parse_limit(params, spec.index("webhooks"))
    page = cursor_page(
        state.webhooks.records(), "id", False, params.get("page_token", [None])[-1], limit
    )
    paging = {}
    if page.next_token:
        base = f"{str(request.base_url).rstrip('/')}{request.url.path}"
        paging["next"] = page_url(base, params, page_token=page.next_token)
    body = {
        "data": [project(r) for r in page.records],
        "meta": {"paging": paging, "records": page.total},
    }
    return json_response(body)


def _show(
    state: SandboxState, hook: Webhook, params: dict[str, list[str]], status: int = 200
) -> Response:
    record = hook.as_record()
    return json_response({"data": _project(params)(record)}, status, {"ETag": record["etag"]})


async def _create(
    state: SandboxState, request: Request, token: AccessToken, params: dict[str, list[str]]
) -> Response:
    from pipelines.sandbox.api import read_json

    data = _data(await read_json(request))
    missing = [k for k in ("url", "model", "fields") if not data.get(k)]
    if missing:
        raise _invalid(f"Missing required webhook attribute(s): {', '.join(missing)}.")
    model = _model(data["model"])
    needed = required_scope(WEBHOOK_MODEL_PERMISSION[model], write=False)
    if not grants(token.grant.scopes, needed):
        raise ApiError(
            403,
            "Forbidden",
            f"The access token lacks the {needed} permission "
            f"(OAuth scope) a {model} webhook needs.",
        )
    now = state.firm.now()
    stamp = now.isoformat(timespec="seconds")
    hook = Webhook(
        id=state.webhooks.next_id(),
        url=_url(state, data["url"]),
        fields=_fields(data["fields"], model),
        model=model,
        events=_events(data.get("events"), model),
        expires_at=_expiry(data.get("expires_at"), now),
        created_at=stamp,
        updated_at=stamp,
    )
    state.webhooks.add(hook)
    return _show(state, hook, params, 201)


async def _patch(
    state: SandboxState, request: Request, hook: Webhook, params: dict[str, list[str]]
) -> Response:
    from pipelines.sandbox.api import read_json

    if_match = request.headers.get("if-match")
    if if_match and if_match != hook.etag:
        raise ApiError(412, "PreconditionFailed", "The webhook changed since that ETag.")
    data = _data(await read_json(request))
    now = state.firm.now()
    if "expires_at" in data:
        hook.expires_at = _expiry(data["expires_at"], now)
    if "events" in data:
        hook.events = _events(data["events"], hook.model)
    if "fields" in data:
        hook.fields = _fields(data["fields"], hook.model)
        hook.project = projector(
            parse_fields(hook.fields, spec.webhook_models()[hook.model]), state.lookup
        )
    url_changed = "url" in data and data["url"] != hook.url
    if url_changed:
        hook.url = _url(state, data["url"])
        hook.status = "pending"
    hook.updated_at = now.isoformat(timespec="seconds")
    hook.version += 1
    if url_changed:
        state.webhooks.handshake(hook)
    return _show(state, hook, params)


def _activate(
    state: SandboxState, request: Request, hook: Webhook, params: dict[str, list[str]]
) -> Response:
    if request.headers.get("x-hook-secret") != hook.shared_secret:
        raise _invalid("X-Hook-Secret is missing or does not match this webhook's secret.")
    hook.status = "enabled"
    hook.version += 1
    return _show(state, hook, params)


def _data(body: dict) -> dict:
    data = body.get("data")
    if not isinstance(data, dict):
        raise bad_request('The request body must be {"data": {...}}.')
    return data


def _model(value: object) -> str:
    if value not in spec.webhook_models():
        raise _invalid(f"model must be one of {', '.join(sorted(spec.webhook_models()))}.")
    return str(value)


def _url(state: SandboxState, value: object) -> str:
    url = str(value)
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and state.config.allow_http_webhooks and _loopback(parts.hostname):
        return url
    raise _invalid("url must use the https protocol.")


def _loopback(host: str | None) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def _fields(value: object, model: str) -> str:
    text = str(value)
    if len(text) > MAX_FIELDS:
        raise _invalid(f"fields must be at most {MAX_FIELDS} characters.")
    try:
        parse_fields(text, spec.webhook_models()[model])
    except ApiError as exc:
        raise _invalid(exc.message) from None
    return text


def _events(value: object, model: str) -> list[str]:
    if value is None:
        return list(BASE_EVENTS)
    allowed = BASE_EVENTS + (MATTER_ONLY if model == "matter" else ())
    if model == "clio_payments_payment":
        allowed = ("created", "updated")
    if not isinstance(value, list) or not value or not set(value) <= set(allowed):
        raise _invalid(f"events must be a non-empty list drawn from {', '.join(allowed)}.")
    return list(dict.fromkeys(value))


def _expiry(value: object, now: datetime) -> datetime:
    if value is None:
        return now + DEFAULT_LIFETIME
    try:
        expires = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise _invalid("expires_at must be an ISO-8601 timestamp.") from None
    if expires.tzinfo is None:
        raise _invalid("expires_at must carry a UTC offset.")
    if expires <= now or expires - now > MAX_LIFETIME:
        raise _invalid("expires_at must be in the future and at most 31 days away.")
    return expires.astimezone(now.tzinfo)
