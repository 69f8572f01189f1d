"""The control API under `/_sandbox/` (never under `/api/v4`): what tests and the demo drive.

POST /_sandbox/tokens        {"scopes"?, "region"?, "api"?, "expires_in"?} -> token pair
POST /_sandbox/advance       {"days": 1, "after_requests"?} -> changes by model
POST /_sandbox/edit          {"endpoint", "id", "changes"?, "after_requests"?} -> record
POST /_sandbox/delete        {"endpoint", "id"} -> {}
POST /_sandbox/custom_field_value  {"endpoint", "id", "custom_field_id", "value", "after_requests"?}
POST /_sandbox/delete_custom_field {"id"} -> the definition (deleted; its values soft-deleted)
GET  /_sandbox/truth/{endpoint}  every live record, all fields
GET  /_sandbox/stats         requests by path and status;  DELETE clears them
POST /_sandbox/faults        see `faults.py`
GET  /_sandbox/webhooks      webhook records;  POST /_sandbox/webhooks/flush {"timeout"}
POST /_sandbox/reset         a fresh firm, no faults, stats or webhooks
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipelines.sandbox import custom_values, spec
from pipelines.sandbox.api import read_json
from pipelines.sandbox.config import REGIONS
from pipelines.sandbox.errors import ApiError, bad_request, not_found
from pipelines.sandbox.faults import Fault
from pipelines.sandbox.firm import FirmError, RecordNotFound
from pipelines.sandbox.render import json_response
from pipelines.sandbox.scopes import ALL_SCOPES
from pipelines.sandbox.state import Scheduled, Stats

if TYPE_CHECKING:
    from pipelines.sandbox.state import SandboxState


def _state(request: Request) -> SandboxState:
    return request.app.state.sandbox


def _firm_call(action: Callable[[], Any]) -> Any:
    try:
        return action()
    except RecordNotFound as exc:
        raise not_found(str(exc)) from None
    except (FirmError, KeyError) as exc:
        raise ApiError(422, "UnprocessableEntity", str(exc)) from None


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"id must be an integer, got {value!r}.") from None


def _schedule(state: SandboxState, body: dict, action: Callable[[], Any]) -> Any:
    """Run `action` now, or when the `after_requests`-th next API request arrives."""
    after = body.get("after_requests")
    if after is None:
        return _firm_call(action)
    if not isinstance(after, int) or after < 1:
        raise bad_request("after_requests must be a positive integer.")
    state.scheduled.append(Scheduled(after, lambda: _firm_call(action)))
    return None


async def tokens(request: Request) -> Response:
    body = await read_json(request)
    state = _state(request)
    scopes = body.get("scopes")
    if scopes is not None and not (isinstance(scopes, list) and set(scopes) <= ALL_SCOPES):
        raise bad_request(f"scopes must be a list drawn from {sorted(ALL_SCOPES)}.")
    region = body.get("region") or state.config.region
    api = body.get("api") or state.config.api
    if region not in REGIONS or api not in ("manage", "platform"):
        raise bad_request("region must be us|eu|ca|au and api manage|platform.")
    expires_in = body.get("expires_in")
    pair = state.tokens.authorize(
        state.config.client_id,
        api,
        None if scopes is None else frozenset(scopes),
        region,
        None if expires_in is None else int(expires_in),
    )
    return json_response(pair)


async def advance(request: Request) -> Response:
    body = await read_json(request)
    state = _state(request)
    days = int(body.get("days", 1))
    counts = _schedule(state, body, lambda: {**state.firm.advance(days),
                                             **state.grow.world.take_tally()})
    return json_response(counts if counts is not None else {"scheduled": True})


async def edit(request: Request) -> Response:
    body = await read_json(request)
    state = _state(request)
    endpoint: Any = body.get("endpoint")  # as sent: the firm answers 404 for an unknown one
    record_id = _int(body.get("id"))
    record = _schedule(
        state, body, lambda: state.firm.edit(endpoint, record_id, body.get("changes"))
    )
    return json_response(record if record is not None else {"scheduled": True})


async def delete(request: Request) -> Response:
    body = await read_json(request)
    state = _state(request)
    endpoint: Any = body.get("endpoint")  # as sent: the firm answers 404 for an unknown one
    record_id = _int(body.get("id"))
    _firm_call(lambda: state.firm.delete(endpoint, record_id))
    return json_response({})


async def custom_field_value(request: Request) -> Response:
    body = await read_json(request)
    state = _state(request)
    parent_id, field_id = _int(body.get("id")), _int(body.get("custom_field_id"))
    table: Any = body.get("endpoint")  # as sent: the firm refuses an unknown one
    record = _schedule(
        state,
        body,
        lambda: custom_values.set_value(
            state.firm, table, parent_id, field_id, body.get("value")
        ),
    )
    return json_response(record if record is not None else {"scheduled": True})


async def delete_custom_field(request: Request) -> Response:
    body = await read_json(request)
    state = _state(request)
    field_id = _int(body.get("id"))
    return json_response(_firm_call(lambda: custom_values.delete_definition(state.firm, field_id)))


async def truth(request: Request) -> Response:
    endpoint = request.path_params["endpoint"]
    state = _state(request)
    if endpoint not in state.firm.tables:
        raise not_found(f"The sandbox has no endpoint {endpoint!r}.")
    return json_response({"data": _as_served(endpoint, state.firm.records(endpoint))})


def _as_served(endpoint: str, records: list[dict]) -> list[dict]:
    """Records as the API sends their ids (calendar entries' ids are strings)."""
    if endpoint not in spec.index_names() or not spec.schema(spec.index(endpoint).schema).string_id:
        return records
    return [{**record, "id": str(record["id"])} for record in records]


async def stats(request: Request) -> Response:
    state = _state(request)
    if request.method == "DELETE":
        state.stats = Stats()
        return json_response({})
    return json_response(state.stats.as_json())


async def faults(request: Request) -> Response:
    body = await read_json(request)
    plan = _state(request).faults
    if body.get("clear"):
        plan.clear()
    state = _state(request)
    if body.get("expire_tokens"):
        state.tokens.expire_all()
    if body.get("revoke_tokens"):
        state.tokens.revoke_all()
    if "rate_limit" in body:
        limits = body["rate_limit"]
        if limits is None:
            state.limiter.configure(None, 60.0)
        else:
            state.limiter.configure(int(limits["limit"]), float(limits["window"]))
    if "role_forbids" in body:
        plan.role_forbids |= set(body["role_forbids"])
    if "kind" in body:
        plan.pending.append(Fault.from_spec(body))
    if "webhook_duplicates" in body:
        state.webhooks.duplicates = bool(body["webhook_duplicates"])
    if "webhook_reorder" in body:
        state.webhooks.reorder = bool(body["webhook_reorder"])
    if "webhook_enable_delay" in body:
        state.webhooks.enable_delay = float(body["webhook_enable_delay"])
    return json_response({"pending": len(plan.pending), "role_forbids": sorted(plan.role_forbids)})


async def webhooks(request: Request) -> Response:
    return json_response({"data": _state(request).webhooks.records()})


async def flush_webhooks(request: Request) -> Response:
    body = await read_json(request)
    timeout = float(body.get("timeout", 10))
    done = await asyncio.to_thread(_state(request).webhooks.flush, timeout)
    if not done:
        raise ApiError(504, "Timeout", f"Webhook deliveries still pending after {timeout} s.")
    return json_response({"flushed": True})


async def reset(request: Request) -> Response:
    _state(request).reset()
    return json_response({})


routes = [
    Route("/_sandbox/tokens", tokens, methods=["POST"]),
    Route("/_sandbox/advance", advance, methods=["POST"]),
    Route("/_sandbox/edit", edit, methods=["POST"]),
    Route("/_sandbox/delete", delete, methods=["POST"]),
    Route("/_sandbox/custom_field_value", custom_field_value, methods=["POST"]),
    Route("/_sandbox/delete_custom_field", delete_custom_field, methods=["POST"]),
    Route("/_sandbox/truth/{endpoint}", truth, methods=["GET"]),
    Route("/_sandbox/stats", stats, methods=["GET", "DELETE"]),
    Route("/_sandbox/faults", faults, methods=["POST"]),
    Route("/_sandbox/webhooks", webhooks, methods=["GET"]),
    Route("/_sandbox/webhooks/flush", flush_webhooks, methods=["POST"]),
    Route("/_sandbox/reset", reset, methods=["POST"]),
]
