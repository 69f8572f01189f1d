"""Clio's resource paths under `/api/v4`: authentication, limits, routing, and the handlers.

Every request goes through `handle`: bearer token (401, flat OAuth body), rate limit (429),
`X-API-VERSION` (410 for an unknown version), routing (404, 405), the user's role and
the token's scopes (403), then the endpoint. Answers carry the rate-limit headers, and
successful ones echo the API version.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from pipelines.sandbox import spec
from pipelines.sandbox.errors import ApiError, OAuthError, bad_request, invalid_token, not_found
from pipelines.sandbox.fields import parse_fields, projector
from pipelines.sandbox.firm import FirmRuleError, RecordNotFound
from pipelines.sandbox.paging import (
    cursor_page,
    offset_page,
    page_url,
    parse_ids,
    parse_limit,
    parse_order,
    parse_since,
    record_filters,
    require,
    sort_records,
)
from pipelines.sandbox.ratelimit import Verdict
from pipelines.sandbox.render import dumps, json_response
from pipelines.sandbox.scopes import PERMISSION_OF_ENDPOINT, grants, required_scope

if TYPE_CHECKING:
    from pipelines.sandbox.state import SandboxState
    from pipelines.sandbox.tokens import AccessToken

API_PREFIX = "/api/v4"
DEFAULT_VERSION = "4.0.13"
KNOWN_VERSIONS = frozenset(f"4.0.{minor}" for minor in range(14))
HIDDEN_BILL_STATES = frozenset({"deleted", "void"})
SERVED = frozenset(spec.index_names()) - {"webhooks"}
_ROUTE = re.compile(
    r"^/(?P<resource>[a-z_]+)(?:/(?P<id>[^/]+?))?(?P<action>/activate)?(?:\.json)?$"
)


async def handle(request: Request) -> Response:
    """Answer one `/api/v4/...` request (the single entry point of the Clio paths)."""
    state: SandboxState = request.app.state.sandbox
    state.count_api_request()
    try:
        token = authenticate(state, request)
    except OAuthError as exc:
        return _with_headers(exc.response(), state.limiter.peek("anonymous"))
    verdict = state.limiter.hit(_limit_key(state, token))
    if not verdict.allowed:
        return _with_headers(_too_many(state, verdict), verdict)
    try:
        version = _api_version(request)
        response = await route(state, request, token)
        if response.status_code < 400:
            response.headers["X-API-VERSION"] = version
    except ApiError as exc:
        response = exc.response()
    return _with_headers(response, verdict)


def authenticate(state: SandboxState, request: Request) -> AccessToken:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise invalid_token()
    return state.tokens.check(value.strip())


def _limit_key(state: SandboxState, token: AccessToken) -> str:
    # Manage limits each access token; Platform limits the application.
    return f"app:{token.grant.client_id}" if token.grant.api == "platform" else token.value


def _too_many(state: SandboxState, verdict: Verdict) -> Response:
    if state.config.api == "platform":
        return json_response({"message": "Too Many Requests"}, 429)
    message = f"Rate limit exceeded. Retry in {verdict.retry_after} seconds."
    return ApiError(429, "RateLimited", message).response()


def _api_version(request: Request) -> str:
    asked = request.headers.get("x-api-version")
    if asked is None:
        return DEFAULT_VERSION
    if asked.strip() not in KNOWN_VERSIONS:
        raise ApiError(410, "Gone", f"API version {asked!r} is invalid or no longer supported.")
    return asked.strip()


def _with_headers(response: Response, verdict: Verdict) -> Response:
    response.headers.update(verdict.headers())
    return response


async def route(state: SandboxState, request: Request, token: AccessToken) -> Response:
    """Dispatch on the path below `/api/v4` and the method."""
    path = request.url.path.removeprefix(API_PREFIX)
    match = _ROUTE.match(path)
    if not match:
        raise not_found(f"No route matches {request.method} {request.url.path}.")
    resource, record_id, action = match["resource"], match["id"], match["action"]
    method = request.method
    if resource == "users" and record_id == "who_am_i" and not action:
        _allow(method, "GET")
        return who_am_i(state, request, token)
    if resource == "webhooks":
        from pipelines.sandbox import webhook_api

        return await webhook_api.dispatch(state, request, token, record_id, action)
    if resource not in SERVED or action:
        raise not_found(f"No route matches {method} {request.url.path}.")
    if record_id is None:
        _allow(method, "GET")
        authorize(state, token, resource, write=False)
        return index(state, request, resource)
    _allow_item(resource, method, request.url.path)
    number = _record_id(record_id)
    authorize(state, token, resource, write=method == "DELETE")
    if method == "DELETE":
        return delete_bill(state, number)
    return show(state, request, resource, number)


def _allow(method: str, *allowed: str) -> None:
    if method not in allowed:
        raise ApiError(405, "MethodNotAllowed", f"{method} is not allowed here.")


def _allow_item(resource: str, method: str, path: str) -> None:
    """Single-record paths exist only where the spec has them; the sandbox serves GET and
    the bills DELETE, and answers 405 for the spec's other (write) methods."""
    defined = spec.index(resource).item_methods
    if not defined:
        raise not_found(f"No route matches {method} {path}.")
    served = {"GET", "DELETE"} if resource == "bills" else {"GET"}
    if method not in defined & served:
        raise ApiError(405, "MethodNotAllowed", f"{method} is not allowed on {path}.")


def _record_id(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise not_found(f"No record with id {raw!r}.") from None


def authorize(state: SandboxState, token: AccessToken, resource: str, write: bool) -> None:
    """403 when the user's role forbids `resource` or the token lacks its scope."""
    if resource in state.faults.role_forbids:
        raise ApiError(
            403,
            "Forbidden",
            f"You are not allowed to access {resource}: your role in this Clio account does "
            "not permit it. A firm administrator must change the user's role.",
        )
    needed = required_scope(PERMISSION_OF_ENDPOINT[resource], write)
    if not grants(token.grant.scopes, needed):
        raise ApiError(
            403,
            "Forbidden",
            f"The access token lacks the {needed} permission (OAuth scope) needed for "
            f"{resource}. Add it to the application and have the user re-authorize.",
        )


def index(state: SandboxState, request: Request, resource: str) -> Response:
    """`GET /{resource}.json`: filters, order, paging and `fields`."""
    ispec = spec.index(resource)
    params = query_params(request)
    require(params, ispec)
    project = projector(parse_fields(_one(params, "fields"), ispec.schema), state.lookup)
    limit = parse_limit(params, ispec)
    field, descending = parse_order(params, ispec)
    records = _matching(state, resource, params, ispec)
    ordered = sort_records(records, field, descending)
    if "offset" in params:
        page = offset_page(ordered, params["offset"][-1], limit)
    else:
        page = cursor_page(ordered, field, descending, _one(params, "page_token"), limit)
    base = f"{str(request.base_url).rstrip('/')}{request.url.path}"
    paging: dict[str, str] = {}
    if page.next_token:
        paging["next"] = page_url(base, params, page_token=page.next_token)
    if page.next_offset is not None:
        paging["next"] = page_url(base, params, offset=page.next_offset)
    if page.previous_offset is not None:
        paging["previous"] = page_url(base, params, offset=page.previous_offset)
    body = {
        "data": [project(r) for r in page.records],
        "meta": {"paging": paging, "records": page.total},
    }
    return Response(dumps(body), 200, media_type="application/json; charset=utf-8")


def _matching(
    state: SandboxState, resource: str, params: dict[str, list[str]], ispec: spec.IndexSpec
) -> list[dict]:
    firm = state.firm
    since = parse_since(params, "updated_since") if "updated_since" in ispec.params else None
    created = parse_since(params, "created_since") if "created_since" in ispec.params else None
    records = firm.changed_since(resource, since) if since is not None else firm.records(resource)
    checks = record_filters(params, ispec)
    if created is not None:
        fresh = {r["id"] for r in firm.created_since(resource, created)}
        checks.append(lambda r: r["id"] in fresh)
    ids = parse_ids(params)
    if ids is not None:
        checks.append(lambda r: r["id"] in ids)
    if resource == "bills" and "state" not in params:
        # The plain bills index hides deleted and void bills; `state=` lists them.
        records = [r for r in records if r["state"] not in HIDDEN_BILL_STATES]
    for check in checks:
        records = [r for r in records if check(r)]
    return records


def show(state: SandboxState, request: Request, resource: str, record_id: int) -> Response:
    """`GET /{resource}/{id}.json` with `ETag` and `Last-Modified`; `If-None-Match` -> 304."""
    record = _get(state, resource, record_id)
    params = query_params(request)
    project = projector(
        parse_fields(_one(params, "fields"), spec.index(resource).schema), state.lookup
    )
    headers = {"ETag": record["etag"]} if record.get("etag") else {}
    if record.get("updated_at"):
        updated = datetime.fromisoformat(record["updated_at"]).astimezone(UTC)
        headers["Last-Modified"] = format_datetime(updated, usegmt=True)
    if record.get("etag") and request.headers.get("if-none-match") == record["etag"]:
        return Response(status_code=304, headers=headers)
    return json_response({"data": project(record)}, 200, headers)


def _get(state: SandboxState, resource: str, record_id: int) -> dict:
    try:
        return state.firm.get(resource, record_id)
    except RecordNotFound:
        raise not_found(f"No {resource} record with id {record_id}.") from None


def delete_bill(state: SandboxState, bill_id: int) -> Response:
    """`DELETE /bills/{id}.json`: draft/pending -> deleted, unpaid -> void, else 403."""
    _get(state, "bills", bill_id)
    try:
        state.firm.delete_bill(bill_id)
    except FirmRuleError as exc:
        raise ApiError(403, "Forbidden", f"This bill cannot be deleted: {exc}.") from None
    return Response(status_code=204)


def who_am_i(state: SandboxState, request: Request, token: AccessToken) -> Response:
    """`GET /users/who_am_i.json`: the user who authorized the token (the account owner)."""
    users = state.firm.records("users")
    if not users:
        raise not_found("This account has no users.")
    owner = next((u for u in users if u.get("account_owner")), users[0])
    project = projector(parse_fields(_one(query_params(request), "fields"), "User"), state.lookup)
    return json_response({"data": project(owner)})


def query_params(request: Request) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return params


def _one(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[-1] if values else None


async def read_json(request: Request) -> dict:
    """A JSON object request body; 400 in Clio's shape when malformed."""
    raw = await request.body()
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise bad_request("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    return body
