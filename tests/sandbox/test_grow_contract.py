"""Contract: every Grow answer of the sandbox validates against Clio's Grow OpenAPI file.

The file is SPEC-R of GROW_API.md (`romanoandsumner/Clio-mcp-server`, commit c1d5ff2),
kept in `tests/fixtures` reduced to its paths and schemas. Unlike Manage's spec, Grow's
says which fields are nullable, so `nullable` is honoured as written (OpenAPI 3.0 ->
JSON Schema); `$ref`s are inlined, `allOf` merged, and every object is closed, so a
field the spec does not define fails. One documented exception: `redacted_fields` on
contacts and matters, which Grow's docs mention and no schema declares (§7.9). The 429
is checked against the rate-limit page's body instead (§7.8).
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jsonschema
import pytest

from pipelines.sandbox.grow.options import GrowOptions
from pipelines.sandbox.harness import SandboxServer, serve_sandbox

SPEC = Path(__file__).parents[1] / "fixtures" / "clio-grow-openapi-r-c1d5ff2.json"
LISTS = ("contacts", "matters", "sources", "matter_types", "locations", "users")
SHOWN = ("contacts", "matters", "matter_types", "locations")
REDACTABLE = ("contact", "matter")  # schemas that may carry `redacted_fields`
FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    return not isinstance(value, str) or (bool(date.fromisoformat(value)) and len(value) == 10)


@FORMATS.checks("date-time", raises=ValueError)
def _is_timestamp(value: object) -> bool:
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


@FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    parts = urlsplit(value) if isinstance(value, str) else None
    return parts is None or bool(parts.scheme and parts.netloc)


@cache
def spec() -> dict:
    return json.loads(SPEC.read_text())


def _nullable(schema: dict) -> dict:
    if "type" in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        out = {**schema, "type": [*kinds, "null"]}
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        return out
    return {"anyOf": [schema, {"type": "null"}]}


_RESOLVED: dict[str, dict] = {}


def resolve(schema: dict, name: str | None = None) -> dict:
    """`schema` as JSON Schema: refs inlined, allOf merged, objects closed, nullable kept."""
    if "$ref" in schema:
        ref = schema["$ref"].rsplit("/", 1)[-1]
        if ref not in _RESOLVED:
            _RESOLVED[ref] = {}
            _RESOLVED[ref] = resolve(spec()["components"]["schemas"][ref], ref)
        return _RESOLVED[ref]
    nullable = schema.get("nullable", False)
    if "allOf" in schema:
        out = resolve(schema["allOf"][0]) if len(schema["allOf"]) == 1 else _merge(schema["allOf"])
    elif "oneOf" in schema:
        out = {"oneOf": [resolve(part) for part in schema["oneOf"]]}
    else:
        out = {k: v for k, v in schema.items() if k not in ("nullable", "properties", "items")}
        if "properties" in schema or schema.get("type") == "object":
            props = {key: resolve(value) for key, value in schema.get("properties", {}).items()}
            if name in REDACTABLE:
                props["redacted_fields"] = {"type": "array", "items": {"type": "string"}}
            out["properties"] = props
            out["additionalProperties"] = False
        if "items" in schema:
            out["items"] = resolve(schema["items"])
    return _nullable(out) if nullable else out


def _merge(parts: list[dict]) -> dict:
    merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
    for part in parts:
        flat = resolve(part)
        merged["properties"].update(flat.get("properties", {}))
        merged["required"] += flat.get("required", [])
    merged["additionalProperties"] = False
    return merged


def operation(path: str, method: str) -> dict:
    """The spec operation of a concrete sandbox path (`/grow/matters/12` -> `/matters/{id}`)."""
    tail = path.removeprefix("/grow")
    templated = re.sub(r"^/(contacts|matters)/\d+/notes$", lambda m: f"/{m[1]}/{{{m[1][:-1]}_id}}/notes", tail)
    templated = re.sub(r"/\d+$", "/{id}", templated)
    return spec()["paths"][templated][method.lower()]


def response_schema(op: dict, status: int) -> dict | None:
    documented = op["responses"].get(str(status))
    assert documented is not None, f"{status} not documented for {op['operationId']}"
    if "$ref" in documented:
        documented = spec()["components"]["responses"][documented["$ref"].rsplit("/", 1)[-1]]
    content = documented.get("content")
    return None if content is None else content["application/json"]["schema"]


def check(response: httpx.Response) -> None:
    """Validate one answer against its documented response (the status must be documented)."""
    op = operation(response.request.url.path, response.request.method)
    schema = response_schema(op, response.status_code)
    if schema is None:
        assert response.content == b""
        return
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    jsonschema.Draft7Validator(resolve(schema), format_checker=FORMATS).validate(response.json())


@pytest.fixture(scope="module")
def sb() -> SandboxServer:
    with serve_sandbox(rate_limit=None, grow=GrowOptions(rate_limit=None, page_size=7)) as server:
        yield server


def client(sb: SandboxServer, scopes: list[str] | None = None) -> httpx.Client:
    token = sb.grow.token(scopes=scopes)["access_token"]
    return httpx.Client(base_url=sb.grow.api_url, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture(scope="module")
def http(sb: SandboxServer) -> httpx.Client:
    with client(sb) as session:
        yield session


@pytest.mark.parametrize("resource", LISTS)
@pytest.mark.parametrize("include", [None, "custom_field_values"])
def test_lists_pages_and_records_match_the_spec(http: httpx.Client, resource: str,
                                                include: str | None) -> None:
    params = {"include": include} if include else {}
    first = http.get(resource, params=params)
    assert first.status_code == 200
    check(first)
    nxt = (first.json().get("meta") or {}).get("paging", {}).get("next")
    if nxt:
        check(http.get(nxt))
    if resource in SHOWN:
        for record in first.json()["data"][:2]:
            check(http.get(f"{resource}/{record['id']}", params=params))


@pytest.mark.parametrize("state", ["untriaged", "ignored"])
def test_inbox_leads_match_the_spec(http: httpx.Client, state: str) -> None:
    page = http.get("inbox_leads", params={"state": state})
    check(page)
    for lead in page.json()["data"][:2]:
        check(http.get(f"inbox_leads/{lead['id']}"))


def test_notes_who_am_i_and_filters_match_the_spec(sb: SandboxServer, http: httpx.Client) -> None:
    matter = sb.grow.truth("matter_notes")[0]["matter_id"]
    contact = sb.grow.truth("contact_notes")[0]["contact_id"]
    check(http.get(f"matters/{matter}/notes"))
    check(http.get(f"contacts/{contact}/notes", params={"updated_since": "2025-01-01T00:00:00Z"}))
    check(http.get("users/who_am_i"))
    check(http.get("matters", params={"ids[]": [1, 2, 3], "created_since": "2025-06-01T00:00:00Z"}))
    check(http.get("matters", params={"inbox_lead_id": 1}))


def test_writes_match_the_spec(sb: SandboxServer, http: httpx.Client) -> None:
    lead = {"first_name": "Jane", "last_name": "Smith", "from_message": "Hello",
            "referring_url": "https://example.com/contact", "from_source": "website_chat",
            "email": "jane@example.com", "marketing_source": {"id": 1}}
    created = http.post("inbox_leads", json={"data": lead})
    assert created.status_code == 201
    check(created)
    matter = sb.grow.truth("matters")[0]["id"]
    note = http.post(f"matters/{matter}/notes", json={"data": {"subject": "Call", "body": "Text"}})
    assert note.status_code == 201
    check(note)
    check(http.post(f"matters/{matter}/notes", json={"data": {"subject": "No body"}}))  # 422


def test_errors_match_the_spec(sb: SandboxServer, http: httpx.Client) -> None:
    check(http.get("inbox_leads"))  # 400: state is required
    check(http.get("matters", params={"ids[]": list(range(1, 52))}))  # 400: more than 50
    check(http.get("matters/999999"))  # 404
    check(httpx.get(f"{sb.grow.api_url}/contacts"))  # 401
    with client(sb, scopes=["grow_matter_read"]) as narrow:
        forbidden = narrow.get("contacts")
        check(forbidden)
        assert forbidden.status_code == 403
        assert "contact_read" in forbidden.json()["error"]["message"]
        redacted = narrow.get("matters", params={"include": "custom_field_values"})
        check(redacted)
        hidden = [m for m in redacted.json()["data"] if m.get("redacted_fields")]
        assert hidden and all(m["custom_field_values"] is None for m in hidden)


def test_throttled_answer_is_the_rate_limit_pages_body(sb: SandboxServer, http: httpx.Client) -> None:
    sb.grow.faults(rate_limit={"limit": 1, "window": 60})
    try:
        http.get("sources")
        throttled = http.get("sources")
    finally:
        sb.grow.faults(rate_limit=None)
    assert throttled.status_code == 429
    assert throttled.json() == {"message": "Too Many Requests"}
    assert not [h for h in throttled.headers if h.lower().startswith(("x-ratelimit", "retry-after"))]


@pytest.mark.parametrize("options", [
    GrowOptions(rate_limit=None, page_size=5, end_of_list="null", timestamps="offset"),
    GrowOptions(rate_limit=None, page_size=5, end_of_list="no_meta", lead_rollout=False),
])
def test_other_answers_to_open_questions_match_the_spec_too(options: GrowOptions) -> None:
    with serve_sandbox(rate_limit=None, grow=options) as other, client(other) as session:
        for resource in ("locations", "matters"):
            page = session.get(resource)
            check(page)
            assert page.json()["data"][0]["created_at"].endswith(
                "Z" if options.timestamps == "utc" else "-05:00")
        check(session.get("inbox_leads", params={"state": "ignored"}))


def test_the_checker_rejects_what_the_spec_does_not_allow() -> None:
    matter = jsonschema.Draft7Validator(resolve({"$ref": "#/components/schemas/matter"}),
                                        format_checker=FORMATS)
    base = {"id": 1, "global_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV",
            "created_at": "2024-01-15T10:30:00Z", "updated_at": "2024-02-20T14:45:00Z"}
    matter.validate({**base, "clio_id": None, "redacted_fields": ["inbox_lead_id"]})
    for bad in (
        {**base, "colour": "red"},
        {**base, "status_category": "open"},
        {**base, "is_locked": None},
        {**base, "updated_at": "2024-02-20T14:45:00"},
        {**base, "hired_date": "04/01/2024"},
        {"id": 1, "created_at": base["created_at"], "updated_at": base["updated_at"]},
    ):
        with pytest.raises(jsonschema.ValidationError):
            matter.validate(bad)
