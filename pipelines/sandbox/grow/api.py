"""The Grow API under `/grow`: authentication, the per-application limit, routes, scopes.

Every request: bearer token (401), the app's rate limit (429, shared by every token of
the application), routing (404, 405), the scope (403 naming it without `grow_`, or a
redirect to the auth host, an option), then the endpoint. Lists are ordered by id and
cursor-paged (`meta.paging.next`, `page_size` records a page); `created_since` and
`updated_since` mean "on or after"; `ids[]` takes 1 to 50 ids; unknown parameters are
ignored. Single records carry `ETag` and `Last-Modified` and answer 304 when unchanged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from pipelines.sandbox.errors import OAuthError
from pipelines.sandbox.grow.errors import GrowError, bad_request, not_found, too_many, unauthorized
from pipelines.sandbox.grow.render import View, render
from pipelines.sandbox.grow.scopes import ALL_LEADS, READ_SCOPE, WRITE_SCOPE, bare, holds
from pipelines.sandbox.render import json_response

if TYPE_CHECKING:
    from pipelines.sandbox.grow.service import GrowService
    from pipelines.sandbox.state import SandboxState
    from pipelines.sandbox.tokens import AccessToken

PREFIX = "/grow"
LISTS = frozenset({"contacts", "matters", "inbox_leads", "sources", "matter_types",
                   "locations", "users"})
SHOWN = frozenset({"contacts", "matters", "inbox_leads", "matter_types", "locations"})
WITH_CUSTOM_FIELDS = frozenset({"contacts", "matters"})
LEAD_STATES = ("untriaged", "ignored")
MAX_IDS = 50
_ROUTE = re.compile(r"^/grow/(?P<resource>[a-z_]+)(?:/(?P<id>[^/]+))?(?P<notes>/notes)?/?$")
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


async def handle(request: Request) -> Response:
    """Answer one `/grow/...` request."""
    state: SandboxState = request.app.state.sandbox
    grow = state.grow
    state.count_api_request()
    try:
        token = authenticate(grow, request)
    except GrowError as exc:
        return exc.response()
    if not grow.limiter.hit(f"app:{token.grant.client_id}").allowed:
        return too_many()
    try:
        return await route(grow, request, token)
    except GrowError as exc:
        return exc.response()
    except _Redirect as exc:
        return RedirectResponse(exc.location, status_code=302)


def authenticate(grow: GrowService, request: Request) -> AccessToken:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise unauthorized()
    try:
        return grow.tokens.check(value.strip())
    except OAuthError:
        raise unauthorized() from None


class _Redirect(Exception):
    def __init__(self, location: str) -> None:
        self.location = location


async def route(grow: GrowService, request: Request, token: AccessToken) -> Response:
    path, method = request.url.path, request.method
    match = _ROUTE.match(path)
    if not match:
        raise not_found(f"No route matches {method} {path}.")
    resource, record_id, notes = match["resource"], match["id"], match["notes"]
    if resource == "users" and record_id == "who_am_i" and not notes:
        _allow(method, "GET")
        _require(grow, request, token, READ_SCOPE["users"])
        return who_am_i(grow, token)
    if notes:
        if resource not in ("contacts", "matters"):
            raise not_found(f"No route matches {method} {path}.")
        table = f"{resource.removesuffix('s')}_notes"
        parent = _record(grow, resource, record_id)
        _allow(method, "GET", "POST")
        if method == "POST":
            _require(grow, request, token, WRITE_SCOPE[table])
            return await create_note(grow, request, table, parent["id"])
        _require(grow, request, token, READ_SCOPE[table])
        rows = grow.world.notes_of(table, parent["id"])
        return index(grow, request, token, table, rows)
    if resource not in LISTS:
        raise not_found(f"No route matches {method} {path}.")
    if record_id is None:
        if resource == "inbox_leads" and method == "POST":
            _require(grow, request, token, WRITE_SCOPE["inbox_leads"])
            return await create_lead(grow, request, token)
        _allow(method, "GET")
        _require(grow, request, token, READ_SCOPE[resource])
        return index(grow, request, token, resource, _listed(grow, request, token, resource))
    if resource not in SHOWN:
        raise not_found(f"No route matches {method} {path}.")
    _allow(method, "GET")
    _require(grow, request, token, READ_SCOPE[resource])
    return show(grow, request, token, resource, record_id)


def _allow(method: str, *allowed: str) -> None:
    if method not in allowed:
        raise GrowError(405, f"{method} is not allowed here.")


def _require(grow: GrowService, request: Request, token: AccessToken, scope: str) -> None:
    """403 naming the scope as Grow does (without `grow_`), or a redirect to the auth host."""
    if holds(token.grant.scopes, scope):
        return
    if grow.options.missing_scope == "redirect":
        raise _Redirect(f"{str(request.base_url).rstrip('/')}/platform/oauth/authorize")
    raise GrowError(403, f"The access token is missing the required scope: {bare(scope)}.")


def _record(grow: GrowService, table: str, raw_id: str | None) -> dict:
    try:
        record_id = int(raw_id or "")
    except ValueError:
        raise not_found(f"No {table} record with id {raw_id!r}.") from None
    record = grow.world.tables[table].get(record_id)
    if record is None:
        raise not_found(f"No {table} record with id {record_id}.")
    return record


# ----- lists --------------------------------------------------------------------------


def params_of(request: Request) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return params


def _one(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[-1] if values else None


def _listed(grow: GrowService, request: Request, token: AccessToken, resource: str) -> list[dict]:
    """The records `resource` lists before the common filters."""
    world, params = grow.world, params_of(request)
    rows = world.records(resource)
    if resource == "inbox_leads":
        state = _one(params, "state")
        if state not in LEAD_STATES:
            raise bad_request("state is required and must be one of: untriaged, ignored.")
        rows = [r for r in rows if r["state"] == state and _lead_visible(r, token)]
    if resource == "matters":
        lead = _one(params, "inbox_lead_id")
        if lead is not None:
            wanted = _int(lead, "inbox_lead_id")
            if not holds(token.grant.scopes, ALL_LEADS):  # hidden ids do not match
                rows = [r for r in rows if _own_lead(grow, r, token)]
            rows = [r for r in rows if r["inbox_lead_id"] == wanted]
        if (_one(params, "submitted_only") or "").lower() == "true":
            rows = [r for r in rows if _own_lead(grow, r, token)]
    query = (_one(params, "query") or "").strip().lower()
    if query and resource in ("contacts", "inbox_leads"):
        rows = [r for r in rows if query in _searchable(r)]
    return rows


def _lead_visible(lead: dict, token: AccessToken) -> bool:
    """Without `grow_lead_inbox_all_read`, an app sees only the leads it submitted."""
    return holds(token.grant.scopes, ALL_LEADS) or lead["_submitted_by"] == token.grant.client_id


def _own_lead(grow: GrowService, matter: dict, token: AccessToken) -> bool:
    lead = grow.world.tables["inbox_leads"].get(matter["inbox_lead_id"] or 0)
    return lead is not None and lead["_submitted_by"] == token.grant.client_id


def _searchable(record: dict) -> str:
    parts = [record.get("name"), record.get("first_name"), record.get("last_name"),
             record.get("email"), record.get("phone_number"),
             *(record.get("emails") or ()), *(record.get("phone_numbers") or ())]
    return " ".join(p for p in parts if p).lower()


def _int(raw: str, name: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"{name} must be an integer, got {raw!r}.") from None


def _since(params: dict[str, list[str]], name: str) -> float | None:
    raw = _one(params, name)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.strip().replace(" ", "+").replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"{name} must be an ISO-8601 timestamp, got {raw!r}.") from None
    if moment.tzinfo is None:
        raise bad_request(f"{name} must carry a UTC offset or Z, got {raw!r}.")
    return moment.timestamp()


def _ids(params: dict[str, list[str]]) -> set[int] | None:
    raw = params.get("ids[]")
    if raw is None:
        return None
    if not 1 <= len(raw) <= MAX_IDS:
        raise bad_request(f"ids[] takes between 1 and {MAX_IDS} ids.")
    return {_int(value, "ids[]") for value in raw}


def _filters(params: dict[str, list[str]]) -> list[Callable[[dict], bool]]:
    checks: list[Callable[[dict], bool]] = []
    updated, created, ids = _since(params, "updated_since"), _since(params, "created_since"), _ids(params)
    if updated is not None:  # "on or after" (the spec), unlike Manage's "after"
        checks.append(lambda r: r["updated_at"] >= updated)
    if created is not None:
        checks.append(lambda r: r["created_at"] >= created)
    if ids is not None:
        checks.append(lambda r: r["id"] in ids)
    return checks


def _after(token: str | None) -> int:
    if not token:
        return 0
    try:
        last = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad_request("page_token is not valid.") from None
    if not isinstance(last, int):
        raise bad_request("page_token is not valid.")
    return last


def _token_after(record_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps(record_id).encode()).decode().rstrip("=")


def index(grow: GrowService, request: Request, token: AccessToken, table: str,
          rows: list[dict]) -> Response:
    """One page of `rows` (already in id order), filtered, rendered for `token`."""
    params = params_of(request)
    for check in _filters(params):
        rows = [r for r in rows if check(r)]
    after = _after(_one(params, "page_token"))
    rows = [r for r in rows if r["id"] > after] if after else rows
    size = grow.options.page_size
    page, more = rows[:size], len(rows) > size
    view = _view(grow, token, table, params)
    body: dict = {"data": [render(grow.world, table, r, view) for r in page]}
    if more:
        base = f"{str(request.base_url).rstrip('/')}{request.url.path}"
        pairs = [(k, v) for k, values in params.items() if k != "page_token" for v in values]
        pairs.append(("page_token", _token_after(page[-1]["id"])))
        body["meta"] = {"paging": {"next": f"{base}?{urlencode(pairs)}"}}
    else:
        end = grow.options.end_of_list
        if end != "no_meta":
            body["meta"] = {"paging": {"absent": {}, "null": {"next": None},
                                       "empty": {"next": ""}}[end]}
    return json_response(body)


def _view(grow: GrowService, token: AccessToken, table: str, params: dict[str, list[str]]) -> View:
    include = {part.strip() for value in params.get("include", ()) for part in value.split(",")}
    return grow.view(token, custom_fields=table in WITH_CUSTOM_FIELDS
                     and "custom_field_values" in include)


# ----- single records -------------------------------------------------------------------


def show(grow: GrowService, request: Request, token: AccessToken, table: str,
         raw_id: str | None) -> Response:
    record = _record(grow, table, raw_id)
    if table == "inbox_leads":
        if not _lead_visible(record, token):
            raise not_found(f"No inbox_leads record with id {record['id']}.")
        if record["state"] == "accepted" and grow.options.converted_leads == "404":
            raise not_found(f"No inbox_leads record with id {record['id']}.")
    version = f"{table}:{record['id']}:{record['updated_at']}"
    etag = f'"{hashlib.md5(version.encode()).hexdigest()}"'
    modified = datetime.fromtimestamp(record["updated_at"], UTC)
    headers = {"ETag": etag, "Last-Modified": format_datetime(modified, usegmt=True)}
    if request.headers.get("if-none-match") == etag or _not_modified_since(request, record):
        return Response(status_code=304, headers=headers)
    view = _view(grow, token, table, params_of(request))
    return json_response({"data": render(grow.world, table, record, view)}, 200, headers)


def _not_modified_since(request: Request, record: dict) -> bool:
    raw = request.headers.get("if-modified-since")
    if not raw or request.headers.get("if-none-match"):
        return False
    try:
        return record["updated_at"] <= parsedate_to_datetime(raw).timestamp()
    except (TypeError, ValueError):
        return False


def who_am_i(grow: GrowService, token: AccessToken) -> Response:
    """The user who authorized the token: the account owner (the firm's first user)."""
    users = grow.world.records("users")
    if not users:
        raise not_found("This account has no users.")
    user = render(grow.world, "users", users[0], grow.view(token))
    return json_response(user if grow.options.who_am_i == "bare" else {"data": user})


# ----- writes ---------------------------------------------------------------------------


async def _data(request: Request) -> dict:
    try:
        body = json.loads(await request.body() or b"null")
    except (ValueError, UnicodeDecodeError):
        raise bad_request("The request body is not valid JSON.") from None
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        raise bad_request('The request body must be {"data": {...}}.')
    return body["data"]


def _text(data: dict, name: str, limit: int | None = None, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise GrowError(422, f"{name} is required and must be a non-empty string.")
    if limit is not None and len(value) > limit:
        raise GrowError(422, f"{name} must be at most {limit} characters.")
    return value


def _ref(grow: GrowService, data: dict, name: str, table: str) -> int | None:
    """`{"id": n}` of an optional reference; ignored when it does not resolve."""
    value = data.get(name)
    record_id = value.get("id") if isinstance(value, dict) else None
    return record_id if isinstance(record_id, int) and record_id in grow.world.tables[table] else None


async def create_lead(grow: GrowService, request: Request, token: AccessToken) -> Response:
    """`POST /inbox_leads`: an untriaged lead submitted by this app."""
    data = await _data(request)
    unknown = set(data) - {"first_name", "last_name", "from_message", "referring_url",
                           "from_source", "email", "phone_number", "marketing_source",
                           "matter_type", "matter_location"}
    if unknown:
        raise GrowError(422, f"Unknown fields: {', '.join(sorted(unknown))}.")
    fields = {
        "first_name": _text(data, "first_name"), "last_name": _text(data, "last_name"),
        "from_message": _text(data, "from_message"), "from_source": _text(data, "from_source"),
        "referring_url": _text(data, "referring_url"),
        "email": _text(data, "email", required=False),
        "phone_number": _text(data, "phone_number", required=False),
        "marketing_source_id": _ref(grow, data, "marketing_source", "sources"),
        "matter_type_id": _ref(grow, data, "matter_type", "matter_types"),
        "location_id": _ref(grow, data, "matter_location", "locations"),
    }  # fmt: skip
    if not str(fields["referring_url"]).startswith(("http://", "https://")):
        raise GrowError(422, "referring_url must be a URL.")
    with grow.world.lock:
        lead = grow.intake.new_lead(None, submitted_by=token.grant.client_id, fields=fields)
    body = render(grow.world, "inbox_leads", lead, grow.view(token), created=True)
    return json_response({"data": body}, 201)


async def create_note(grow: GrowService, request: Request, table: str, parent_id: int) -> Response:
    data = await _data(request)
    subject, body = _text(data, "subject", 255), _text(data, "body", 65535)
    with grow.world.lock:
        note = grow.intake.add_note(table, parent_id, str(subject), str(body))
    return json_response({"data": render(grow.world, table, note, grow.view(None))}, 201)
