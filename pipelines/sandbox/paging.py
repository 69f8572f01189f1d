"""Index queries: filters, order, `limit`, cursor (`page_token`) and offset paging.

Cursor paging (no `offset`): the page token is an opaque base64 of the last record's
sort key and id; the next page starts strictly after it, so records edited behind the
cursor keep their place (ordered by id) and new ones appear at the end. Offset paging
stops at Clio's 10,000-record cap with a 422 `ArgumentError`.
"""

from __future__ import annotations

import base64
import binascii
import json
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from pipelines.sandbox.errors import ApiError, bad_request
from pipelines.sandbox.spec import IndexSpec

OFFSET_CAP = 10_000
# Filters the sandbox honours generically; other declared params are accepted and ignored.
_ID_FILTERS = {
    "bill_id": "bill", "matter_id": "matter", "client_id": "client", "contact_id": "contact",
    "user_id": "user", "activity_id": "activity", "parent_id": "parent",
    "bank_account_id": "bank_account_id", "currency_id": "currency",
    "task_type_id": "task_type", "practice_area_id": "practice_area_id",
}  # fmt: skip
# Where an endpoint's id filter reads another field than `_ID_FILTERS` says.
_ID_FIELD_OF = {("billable_matters", "matter_id"): "id"}
# Boolean filters that are not a field of the record: the predicate they stand for.
_BOOLEAN_MEANS = {("tasks", "complete"): lambda r: r.get("status") == "complete"}
_CONTROL_PARAMS = {"fields", "limit", "order", "page_token", "offset", "ids[]"}


@dataclass(frozen=True)
class Page:
    """One page of an index answer."""

    records: list[dict]
    total: int  # records matching the query, all pages together (`meta.records`)
    next_token: str | None
    next_offset: int | None
    previous_offset: int | None


def parse_limit(params: dict[str, list[str]], spec: IndexSpec) -> int:
    raw = _single(params, "limit")
    if raw is None:
        return spec.limit_max
    try:
        limit = int(raw)
    except ValueError:
        raise bad_request(f"limit must be an integer, got {raw!r}.") from None
    if not 1 <= limit <= spec.limit_max:
        raise bad_request(f"limit must be between 1 and {spec.limit_max}, got {limit}.")
    return limit


def parse_order(params: dict[str, list[str]], spec: IndexSpec) -> tuple[str, bool]:
    """(field, descending) of the requested or default order; 400 where not allowed."""
    raw = _single(params, "order")
    if spec.order_default is None:
        if raw is not None:
            raise bad_request(f"{spec.name} does not accept the order parameter.")
        return "id", False
    value = raw or spec.order_default
    if value not in spec.order_values:
        allowed = ", ".join(spec.order_values)
        raise bad_request(f"order must be one of {allowed}; got {value!r}.")
    field, _, direction = value.partition("(")
    return field, direction.startswith("desc")


def parse_since(params: dict[str, list[str]], name: str) -> datetime | None:
    raw = _single(params, name)
    if raw is None:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace(" ", "+").replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"{name} must be an ISO-8601 timestamp, got {raw!r}.") from None
    if parsed.tzinfo is None:
        raise bad_request(f"{name} must carry a UTC offset, got {raw!r}.")
    return parsed


def parse_ids(params: dict[str, list[str]]) -> set[int] | None:
    raw = params.get("ids[]") or params.get("ids")
    if not raw:
        return None
    try:
        return {int(v) for value in raw for v in value.split(",") if v}
    except ValueError:
        raise bad_request("ids[] must be integers.") from None


def require(params: dict[str, list[str]], spec: IndexSpec) -> None:
    """400 when a filter the spec marks required is missing (notes: `type`)."""
    for name in spec.required:
        if not params.get(name):
            allowed = spec.enums.get(name)
            one_of = f" (one of {', '.join(allowed)})" if allowed else ""
            raise bad_request(f"The {name} parameter is required{one_of}.")


def record_filters(params: dict[str, list[str]], spec: IndexSpec) -> list[Callable[[dict], bool]]:
    """Predicates for the declared id, enum and boolean filters present in the query."""
    checks: list[Callable[[dict], bool]] = []
    for name, values in params.items():
        if name in _CONTROL_PARAMS or name not in spec.params or not values:
            continue
        value = values[-1]
        if name in spec.enums:
            if value not in spec.enums[name]:
                raise bad_request(f"{name} must be one of {', '.join(spec.enums[name])}.")
            checks.append(_enum_check(spec.name, name, value))
        elif name in spec.booleans:
            checks.append(_bool_check(spec.name, name, value))
        elif name in _ID_FILTERS:
            field = _ID_FIELD_OF.get((spec.name, name), _ID_FILTERS[name])
            checks.append(_id_check(field, value, name))
    return checks


def _bool_check(endpoint: str, name: str, raw: str) -> Callable[[dict], bool]:
    if raw.lower() not in ("true", "false"):
        raise bad_request(f"{name} must be true or false, got {raw!r}.")
    wanted = raw.lower() == "true"
    means = _BOOLEAN_MEANS.get((endpoint, name))
    if means is not None:
        return lambda r: means(r) == wanted
    # a parameter that is no field of the record is accepted and ignored
    return lambda r: name not in r or bool(r.get(name)) == wanted


def _enum_check(endpoint: str, name: str, value: str) -> Callable[[dict], bool]:
    if endpoint == "allocations" and name == "status":  # valid = not voided
        return lambda r: (r.get("voided_at") is None) == (value == "valid")
    wanted = value.lower()
    return lambda r: name not in r or str(r.get(name)).lower() == wanted


def _id_check(field: str, raw: str, name: str) -> Callable[[dict], bool]:
    if raw == "null":
        return lambda r: _ref_id(r.get(field)) is None
    try:
        wanted = int(raw)
    except ValueError:
        raise bad_request(f"{name} must be an integer or null, got {raw!r}.") from None

    def check(record: dict) -> bool:
        value = record.get(field)
        if isinstance(value, list):
            return any(_ref_id(v) == wanted for v in value)
        return _ref_id(value) == wanted

    return check


def _ref_id(value: Any) -> Any:
    value = value.get("id") if isinstance(value, dict) else value
    return int(value) if isinstance(value, str) and value.isdigit() else value


def sort_records(records: list[dict], field: str, descending: bool) -> list[dict]:
    """Records ordered by `field` then id (`None` first ascending), as Clio's `order`."""
    if field == "id":
        return records[::-1] if descending else records
    key = _sort_key(field)
    return sorted(records, key=key, reverse=descending)


def _sort_key(field: str) -> Callable[[dict], tuple]:
    head, _, tail = field.partition(".")

    def key(record: dict) -> tuple:
        value = record.get(head)
        if tail and isinstance(value, dict):
            value = value.get(tail)
        elif tail:
            value = None
        return (value is not None, value if value is not None else 0, record["id"])

    return key


def encode_token(key: Sequence[Any]) -> str:
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad_request("page_token is not valid for this query.") from None
    if not isinstance(key, list) or not key:
        raise bad_request("page_token is not valid for this query.")
    return key


def cursor_page(
    ordered: list[dict], field: str, descending: bool, token: str | None, limit: int
) -> Page:
    """The page after `token` (or the first) of records already in query order."""
    key = _sort_key(field) if field != "id" else (lambda r: r["id"])
    start = 0
    if token:
        after = decode_token(token)
        mark = after[0] if field == "id" else tuple(after)
        try:
            if field == "id" and not descending:
                # ids ascending: bisect on the records themselves, so a page costs the
                # same on a firm of any size (no list of every id per page)
                start = bisect_right(ordered, mark, key=key)
            else:
                start = next(
                    (i for i, r in enumerate(ordered)
                     if (key(r) < mark if descending else key(r) > mark)),
                    len(ordered),
                )
        except TypeError:
            raise bad_request("page_token is not valid for this query.") from None
    chunk = ordered[start : start + limit]
    more = start + limit < len(ordered)
    last = key(chunk[-1]) if chunk and more else None
    token_out = encode_token([last] if field == "id" else list(last)) if last is not None else None
    return Page(chunk, len(ordered), token_out, None, None)


def offset_page(ordered: list[dict], raw_offset: str, limit: int) -> Page:
    try:
        offset = int(raw_offset)
    except ValueError:
        raise bad_request(f"offset must be an integer, got {raw_offset!r}.") from None
    if offset < 0:
        raise bad_request("offset must not be negative.")
    if offset + limit > OFFSET_CAP:
        raise ApiError(
            422,
            "ArgumentError",
            f"Offset paging is limited to the first {OFFSET_CAP} records; "
            "use cursor paging (order=id(asc), follow meta.paging.next) instead.",
        )
    chunk = ordered[offset : offset + limit]
    more = offset + limit < len(ordered)  # the next page may itself hit the cap (422)
    previous = max(offset - limit, 0) if offset > 0 else None
    return Page(chunk, len(ordered), None, offset + limit if more else None, previous)


def page_url(base: str, params: dict[str, list[str]], **replace: object) -> str:
    """`base` with the original query (minus paging) plus `replace`, percent-encoded."""
    pairs = [
        (k, v) for k, values in params.items() if k not in ("page_token", "offset") for v in values
    ]
    pairs += [(k, str(v)) for k, v in replace.items()]
    return f"{base}?{urlencode(pairs)}"


def _single(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[-1] if values else None
