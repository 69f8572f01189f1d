"""The control API of the Grow side, under `/_sandbox/grow/` (never under `/grow`).

POST /_sandbox/grow/tokens   {"scopes"?, "expires_in"?, "client_id"?} -> token pair
GET  /_sandbox/grow/truth/{table}   every record, all fields, custom field values included
                                    (notes carry `contact_id` / `matter_id`)
POST /_sandbox/grow/edit     {"table", "id", "changes"?, "after_requests"?} -> record
POST /_sandbox/grow/delete   {"table", "id", "after_requests"?}
POST /_sandbox/grow/convert  {"lead_id", "after_requests"?} -> the new intake matter
POST /_sandbox/grow/hire     {"clio_id"} -> the Grow matter hired as that Manage matter
POST /_sandbox/grow/decline  {"matter_id"} -> the matter
POST /_sandbox/grow/faults   {"rate_limit": {"limit", "window"} | null, "expire_tokens",
                              "revoke_tokens"}
GET  /_sandbox/grow/counts   records per table

`/_sandbox/advance` moves Grow with the firm (a day of intake after each Manage day);
`/_sandbox/stats`, `/_sandbox/faults` and `/_sandbox/reset` cover Grow's paths too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipelines.sandbox.api import read_json
from pipelines.sandbox.control import _schedule
from pipelines.sandbox.errors import bad_request, not_found
from pipelines.sandbox.firm import FirmRuleError
from pipelines.sandbox.grow.render import View, render, truth
from pipelines.sandbox.grow.scopes import ALL_SCOPES
from pipelines.sandbox.grow.world import TABLES
from pipelines.sandbox.render import json_response

if TYPE_CHECKING:
    from pipelines.sandbox.grow.service import GrowService
    from pipelines.sandbox.state import SandboxState

# what `edit` may change, per table (ids, stamps and links are the sandbox's to keep)
EDITABLE = {
    "contacts": {"name", "first_name", "last_name", "emails", "phone_numbers", "status",
                 "addresses", "type"},
    "matters": {"description", "location", "type", "status", "is_locked",
                "matter_assignee_ids"},
    "inbox_leads": {"first_name", "last_name", "email", "phone_number", "state"},
    "sources": {"name", "is_editable"},
    "matter_types": {"name"},
    "locations": {"name"},
    "users": {"first_name", "last_name", "email"},
    "contact_notes": {"subject", "body"},
    "matter_notes": {"subject", "body"},
}
_SUMMARY = {"name", "emails", "phone_numbers", "addresses"}  # shown on the contact's matters


def _state(request: Request) -> SandboxState:
    return request.app.state.sandbox


def _grow(request: Request) -> GrowService:
    return request.app.state.sandbox.grow


def _table(value: Any) -> str:
    if value not in TABLES:
        raise bad_request(f"table must be one of {', '.join(TABLES)}.")
    return str(value)


def _id(value: Any, name: str = "id") -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"{name} must be an integer, got {value!r}.") from None


def _locked(grow: GrowService, action: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        with grow.world.lock:
            return action()
    return run


async def tokens(request: Request) -> Response:
    body = await read_json(request)
    grow, state = _grow(request), _state(request)
    scopes = body.get("scopes")
    if scopes is not None and not (isinstance(scopes, list) and set(scopes) <= ALL_SCOPES):
        raise bad_request(f"scopes must be a list drawn from {sorted(ALL_SCOPES)}.")
    client_id = body.get("client_id") or grow.options.client_id
    if grow.options.secret_of(client_id) is None:
        raise bad_request(f"client_id {client_id!r} is not an app of this sandbox.")
    expires_in = body.get("expires_in")
    pair = grow.tokens.authorize(
        client_id, "platform", frozenset(scopes if scopes is not None else ALL_SCOPES),
        state.config.region, None if expires_in is None else int(expires_in),
    )
    return json_response(pair)


async def truth_of(request: Request) -> Response:
    grow = _grow(request)
    table = request.path_params["table"]
    if table not in TABLES:
        raise not_found(f"The Grow sandbox has no table {table!r}.")
    options = grow.options
    return json_response({"data": truth(grow.world, table, options.timestamps,
                                        options.lead_rollout)})


def _edit(grow: GrowService, table: str, record_id: int, changes: dict | None) -> dict:
    world = grow.world
    record = world.get(table, record_id)
    changes = changes or {}
    bad = set(changes) - EDITABLE[table]
    if bad:
        raise FirmRuleError(f"cannot set {sorted(bad)} on Grow {table}")
    record.update(changes)
    world.touch(table, record)
    if table == "contacts" and _SUMMARY & set(changes):
        world.touch_all("matters", world.matters_of(record_id))
    return render(world, table, record, View(custom_fields=True, timestamps=grow.options.timestamps))


async def edit(request: Request) -> Response:
    body = await read_json(request)
    grow = _grow(request)
    table, record_id = _table(body.get("table")), _id(body.get("id"))
    changes = body.get("changes")
    if changes is not None and not isinstance(changes, dict):
        raise bad_request("changes must be an object.")
    done = _schedule(_state(request), body,
                     _locked(grow, lambda: _edit(grow, table, record_id, changes)))
    return json_response(done if done is not None else {"scheduled": True})


async def delete(request: Request) -> Response:
    body = await read_json(request)
    grow = _grow(request)
    table, record_id = _table(body.get("table")), _id(body.get("id"))
    def remove() -> dict:
        grow.world.delete(table, record_id)
        return {}

    done = _schedule(_state(request), body, _locked(grow, remove))
    return json_response(done if done is not None else {"scheduled": True})


def _convert(grow: GrowService, lead_id: int) -> dict:
    lead = grow.world.get("inbox_leads", lead_id)
    if lead["state"] == "accepted":
        raise FirmRuleError(f"lead {lead_id} is already a matter")
    matter = grow.intake.convert(lead)
    return render(grow.world, "matters", matter, View(timestamps=grow.options.timestamps))


async def convert(request: Request) -> Response:
    body = await read_json(request)
    grow = _grow(request)
    lead_id = _id(body.get("lead_id"), "lead_id")
    done = _schedule(_state(request), body, _locked(grow, lambda: _convert(grow, lead_id)))
    return json_response(done if done is not None else {"scheduled": True})


def _hire(grow: GrowService, clio_id: int) -> dict:
    matter = grow.intake.hire_for(clio_id)
    if matter is None:
        raise FirmRuleError(f"Manage matter {clio_id} does not exist or is already hired in Grow")
    return render(grow.world, "matters", matter, View(timestamps=grow.options.timestamps))


async def hire(request: Request) -> Response:
    body = await read_json(request)
    grow = _grow(request)
    clio_id = _id(body.get("clio_id"), "clio_id")
    done = _schedule(_state(request), body, _locked(grow, lambda: _hire(grow, clio_id)))
    return json_response(done if done is not None else {"scheduled": True})


def _decline(grow: GrowService, matter_id: int) -> dict:
    matter = grow.world.get("matters", matter_id)
    if matter["status_category"] != "intake":
        raise FirmRuleError(f"matter {matter_id} is {matter['status_category']}, not intake")
    grow.intake.decline(matter)
    return render(grow.world, "matters", matter, View(timestamps=grow.options.timestamps))


async def decline(request: Request) -> Response:
    body = await read_json(request)
    grow = _grow(request)
    matter_id = _id(body.get("matter_id"), "matter_id")
    done = _schedule(_state(request), body, _locked(grow, lambda: _decline(grow, matter_id)))
    return json_response(done if done is not None else {"scheduled": True})


async def faults(request: Request) -> Response:
    body = await read_json(request)
    grow = _grow(request)
    if "rate_limit" in body:
        limits = body["rate_limit"]
        try:
            if limits is None:
                grow.limiter.configure(None, 1.0)
            else:
                grow.limiter.configure(int(limits["limit"]), float(limits["window"]))
        except (KeyError, TypeError, ValueError):
            raise bad_request('rate_limit must be null or {"limit": int, "window": seconds}.') \
                from None
    if body.get("expire_tokens"):
        grow.tokens.expire_all()
    if body.get("revoke_tokens"):
        grow.tokens.revoke_all()
    return json_response({})


async def counts(request: Request) -> Response:
    return json_response(_grow(request).world.counts())


def _route(path: str, handler: Callable[[Request], Any], methods: list[str]) -> Route:
    return Route(f"/_sandbox/grow/{path}", handler, methods=methods)


routes = [
    _route("tokens", tokens, ["POST"]),
    _route("truth/{table}", truth_of, ["GET"]),
    _route("edit", edit, ["POST"]),
    _route("delete", delete, ["POST"]),
    _route("convert", convert, ["POST"]),
    _route("hire", hire, ["POST"]),
    _route("decline", decline, ["POST"]),
    _route("faults", faults, ["POST"]),
    _route("counts", counts, ["GET"]),
]
