"""Contract: every Clio-path answer of the sandbox validates against Clio's OpenAPI file.

The response schema of each (path, method, status) comes from the spec copy in
`tests/fixtures`. `$ref`s are resolved and `allOf` parts merged, and each object is
closed (`additionalProperties: false`) so a field the spec does not define fails.
Every property is made nullable: Clio answers `null` for absent values, and the spec does
not say so. Dates and timestamps are checked too (a timestamp must carry an offset).
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from fixture_firm import records

from pipelines.sandbox.harness import SandboxServer, serve_sandbox

SPEC = Path(__file__).parents[1] / "fixtures" / "clio-manage-openapi-2026-04-08.json"
ENDPOINTS = (
    "bills", "line_items", "activities", "matters", "contacts", "users", "allocations",
    "credit_memos", "interest_charges", "practice_areas", "bank_accounts",
    "bank_transactions", "trust_line_items", "outstanding_client_balances",
)  # fmt: skip
WHOLE_FIRM = (
    "custom_fields", "custom_field_sets", "activity_descriptions", "expense_categories",
    "activity_rates", "groups", "matter_stages", "tasks", "task_types", "calendar_entries",
    "notes", "communications", "relationships", "billable_matters",
)  # fmt: skip
# Filters an index cannot do without: each value is its own walk (notes: `type`).
REQUIRED = {"notes": ({"type": "Matter"}, {"type": "Contact"})}
FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    return not isinstance(value, str) or (bool(date.fromisoformat(value)) and len(value) == 10)


@FORMATS.checks("date-time", raises=ValueError)
def _is_timestamp(value: object) -> bool:
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


@cache
def spec() -> dict:
    return json.loads(SPEC.read_text())


_RESOLVED: dict[str, dict] = {}


def resolve(schema: dict) -> dict:
    """`schema` with refs inlined, allOf merged, objects closed and properties nullable."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in _RESOLVED:
            _RESOLVED[name] = {}  # a cycle resolves to "anything" rather than recursing
            _RESOLVED[name] = resolve(spec()["components"]["schemas"][name])
        return _RESOLVED[name]
    if "allOf" in schema:
        merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
        for part in schema["allOf"]:
            flat = resolve(part)
            merged["properties"].update(flat.get("properties", {}))
            merged["required"] += flat.get("required", [])
        merged["additionalProperties"] = False
        return merged
    out = dict(schema)
    if "properties" in schema:
        out["properties"] = {
            name: {"anyOf": [resolve(prop), {"type": "null"}]}
            for name, prop in schema["properties"].items()
        }
        out["additionalProperties"] = False
    if "items" in schema:
        out["items"] = resolve(schema["items"])
    return out


def operation(path: str, method: str) -> dict:
    """The spec operation of a concrete sandbox path (`/bills/12.json` -> `/bills/{id}.json`)."""
    templated = re.sub(r"/\d+(\.json|/)", r"/{id}\1", path.removeprefix("/api/v4"))
    return spec()["paths"][templated][method.lower()]


def check(response: httpx.Response) -> None:
    """Validate one answer against its documented response (status must be documented)."""
    op = operation(response.request.url.path, response.request.method)
    documented = op["responses"].get(str(response.status_code))
    assert documented is not None, f"{response.status_code} not documented for {op['operationId']}"
    content = documented.get("content")
    if content is None:
        assert response.content == b""
        return
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body = response.json()
    if response.status_code == 401:  # the OAuth layer answers its flat shape (CLIO_API.md)
        assert set(body) == {"error", "error_description"}
        return
    validator(next(iter(content.values()))["schema"]["$ref"]).validate(body)


@cache
def validator(ref: str) -> jsonschema.Validator:
    schema = {**resolve({"$ref": ref})}
    schema["additionalProperties"] = True  # the envelope also carries `meta`
    return jsonschema.Draft7Validator(schema, format_checker=FORMATS)


@pytest.fixture(scope="module")
def sb() -> SandboxServer:
    with serve_sandbox(fixture=records(), rate_limit=None) as server:
        yield server


@pytest.fixture(scope="module")
def generated() -> SandboxServer:
    """A generated tiny firm: every shape the generator and life make."""
    with serve_sandbox(scale="tiny", seed=11, rate_limit=None) as server:
        server.advance(days=3)
        yield server


def _client(server: SandboxServer) -> httpx.Client:
    token = server.token()["access_token"]
    return httpx.Client(
        base_url=f"{server.base_url}/api/v4", headers={"Authorization": f"Bearer {token}"}
    )


@pytest.fixture(scope="module")
def http(sb: SandboxServer) -> httpx.Client:
    with _client(sb) as client:
        yield client


@pytest.fixture(scope="module", params=["hand-built", "generated"])
def any_http(request: pytest.FixtureRequest) -> httpx.Client:
    """The hand-built firm (known values) and the generated one that lived some days."""
    server = request.getfixturevalue("sb" if request.param == "hand-built" else "generated")
    with _client(server) as client:
        yield client


def all_fields(endpoint: str) -> str:
    """Every scalar and relation of the endpoint's model, relations with default fields."""
    from pipelines.sandbox import spec as catalog

    model = catalog.schema(catalog.index(endpoint).schema)
    return ",".join(sorted(model.scalars) + sorted(model.relations))


def stamp_fields(endpoint: str) -> str:
    """`id` plus whichever of etag and the stamps the model has."""
    from pipelines.sandbox import spec as catalog

    scalars = catalog.schema(catalog.index(endpoint).schema).scalars
    return ",".join(f for f in ("id", "etag", "created_at", "updated_at") if f in scalars)


@pytest.mark.parametrize("endpoint", ENDPOINTS + WHOLE_FIRM)
@pytest.mark.parametrize("fields", [None, "STAMPS", "ALL"])
def test_index_and_show_answers_match_the_spec(
    any_http: httpx.Client, endpoint: str, fields: str | None
) -> None:
    http = any_http
    chosen = {"ALL": all_fields(endpoint), "STAMPS": stamp_fields(endpoint)}.get(fields or "")
    served = 0
    for required in REQUIRED.get(endpoint, ({},)):
        params = {**required, **({"fields": chosen} if chosen else {})}
        index = http.get(f"{endpoint}.json", params=params)
        assert index.status_code == 200
        check(index)
        served += len(index.json()["data"])
        if "get" in spec()["paths"].get(f"/{endpoint}/{{id}}.json", {}):
            for record in index.json()["data"][:2]:
                check(http.get(f"{endpoint}/{record['id']}.json", params=params))
    assert served > 0 or endpoint not in WHOLE_FIRM, f"{endpoint}: nothing to check"


@pytest.mark.parametrize(
    ("endpoint", "fields"),
    [
        ("matters", "id,custom_field_values{id,etag,field_name,field_type,value,soft_deleted,"
                    "created_at,updated_at,custom_field,picklist_option,contact,matter},"
                    "account_balances{id,balance,type,name,currency_id},matter_stage{id,name},"
                    "group{id,name},evergreen_retainer{id,minimum_threshold}"),
        ("contacts", "id,custom_field_values{id,value,custom_field,picklist_option},"
                     "account_balances{id,balance}"),
        ("activities", "id,activity_description{id,name},expense_category{id,name},task{id,etag}"),
        ("tasks", "id,status,due_at,completed_at,assignee{id,type,name},matter{id,display_number},"
                  "task_type{id,name},time_entries{id}"),
        ("calendar_entries", "id,start_at,matter{id},calendar_owner{id,name,type},attendees"),
        ("custom_fields", "id,name,field_type,deleted,picklist_options{id,option,deleted_at}"),
        ("billable_matters", "id,unbilled_amount,unbilled_hours,amount_in_trust,client{id,name}"),
    ],
)  # fmt: skip
def test_catalog_style_whole_firm_fields_match_the_spec(
    any_http: httpx.Client, endpoint: str, fields: str
) -> None:
    http = any_http
    response = http.get(f"{endpoint}.json", params={"fields": fields})
    assert response.status_code == 200 and response.json()["data"]
    check(response)


def test_catalog_style_nested_fields_match_the_spec(http: httpx.Client) -> None:
    fields = (
        "id,etag,number,total,balance,state,issued_at,due_at,paid_at,client{id,name},"
        "user{id,name},currency{id,code},matters{id,display_number},"
        "balances{id,type,amount,interest_amount,due}"
    )
    check(http.get("bills.json", params={"fields": fields, "state": "void"}))
    check(http.get("allocations.json", params={"fields": "id,parent{id,type},bill{id,number}"}))


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("GET", "bills.json", {"fields": "nope"}),
        ("GET", "bills.json", {"limit": 500}),
        ("GET", "bills/999999.json", {}),
        ("GET", "users/who_am_i.json", {"fields": "id,name,email"}),
        ("DELETE", "bills/201.json", {}),
        ("GET", "webhooks.json", {"fields": "id,url,status,events,expires_at"}),
    ],
)
def test_error_and_other_answers_match_the_spec(
    http: httpx.Client, method: str, path: str, params: dict
) -> None:
    check(http.request(method, path, params=params))


def test_unauthorized_and_throttled_answers(sb: SandboxServer, http: httpx.Client) -> None:
    check(httpx.get(f"{sb.base_url}/api/v4/bills.json"))
    sb.faults(kind="429")
    check(http.get("bills.json"))


def test_webhook_create_show_and_delete_match_the_spec(http: httpx.Client) -> None:
    created = http.post(
        "webhooks.json",
        params={
            "fields": "id,etag,url,fields,shared_secret,model,status,events,expires_at,created_at"
        },
        json={"data": {"url": "https://example.com/h", "model": "bill", "fields": "id,etag,state"}},
    )
    assert created.status_code == 201
    check(created)
    hook = created.json()["data"]["id"]
    check(http.get(f"webhooks/{hook}.json", params={"fields": "id,status,user"}))
    check(
        http.post(
            "webhooks.json",
            json={"data": {"url": "http://example.com", "model": "bill", "fields": "id"}},
        )
    )
    check(http.delete(f"webhooks/{hook}.json"))


def test_the_checker_rejects_what_the_spec_does_not_allow() -> None:
    bills = validator("#/components/schemas/Bill_List")
    bills.validate({"data": [{"id": 1, "total": None, "issued_at": "2026-11-20"}]})
    for bad in (
        {"id": 1, "colour": "red"},
        {"id": "one"},
        {"id": 1, "updated_at": "2026-11-20T09:00:00"},
        {"id": 1, "issued_at": "20/11"},
    ):
        with pytest.raises(jsonschema.ValidationError):
            bills.validate({"data": [bad]})
