"""The catalog against Clio's OpenAPI file: every endpoint, field, relation, limit, order
and filter it uses is the spec's, and every column type agrees with the spec's type."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from pipelines.clio.endpoints import BY_TABLE, BY_WEBHOOK_MODEL, ENDPOINTS, Child, Endpoint
from pipelines.clio.rows import child_columns, child_table

SPEC = Path(__file__).parents[1] / "fixtures" / "clio-manage-openapi-2026-04-08.json"

# DESIGN.md, "The whole firm": the tables and relations the reports are written against.
WHOLE_FIRM_TABLES = (
    "custom_fields", "custom_fields__picklist_options", "custom_field_sets",
    "matters__custom_field_values", "contacts__custom_field_values", "activity_descriptions",
    "expense_categories", "activity_rates", "groups", "matter_stages", "tasks", "task_types",
    "calendar_entries", "notes", "communications", "relationships", "billable_matters",
    "matters__account_balances", "contacts__account_balances",
)  # fmt: skip
WHOLE_FIRM_COLUMNS = {
    "matters": {"matter_stage__id": "bigint", "group__id": "bigint",
                "evergreen_retainer__minimum_threshold": "money"},
    "activities": {"activity_description__id": "bigint", "expense_category__id": "bigint",
                   "task__id": "bigint"},
    "matters__custom_field_values": {
        "matter_id": "bigint", "id": "text", "field_name": "text", "field_type": "text",
        "value": "text", "soft_deleted": "bool", "custom_field__id": "bigint",
        "picklist_option__id": "bigint", "created_at": "timestamp", "updated_at": "timestamp"},
    "contacts__custom_field_values": {"contact_id": "bigint", "id": "text", "value": "text"},
    "billable_matters": {"unbilled_amount": "money", "amount_in_trust": "money",
                         "unbilled_hours": "decimal"},
    "matters__account_balances": {"matter_id": "bigint", "balance": "money"},
    "tasks": {"due_at": "date", "completed_at": "timestamp", "status": "text"},
}  # fmt: skip

# Where a column's type is deliberately not the spec's (and why).
TYPE_EXCEPTIONS = {
    ("matter_stages", "practice_area_id"),  # a practice area's id, sent as a string
    ("bank_accounts", "currency_id"),  # an id, typed `number` by the spec
}


@cache
def spec() -> dict[str, Any]:
    return json.loads(SPEC.read_text(encoding="utf-8"))


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = spec()["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def properties(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A schema's properties, `allOf` parts merged."""
    schema = resolve(schema)
    props = dict(schema.get("properties", {}))
    for part in schema.get("allOf", ()):
        props.update(properties(part))
    return props


def item_schema(path: str) -> dict[str, Any]:
    ok = spec()["paths"][f"/{path}"]["get"]["responses"]["200"]
    body = resolve(next(iter(ok["content"].values()))["schema"])
    return properties(body)["data"]["items"]


def query_params(path: str) -> dict[str, dict[str, Any]]:
    params = spec()["paths"][f"/{path}"]["get"].get("parameters", [])
    return {p["name"]: p for p in params if p.get("in") == "query"}


def related(props: dict[str, dict[str, Any]], name: str) -> dict[str, dict[str, Any]]:
    """The properties of relation `name` (an object or a list of objects)."""
    node = props[name]
    return properties(node.get("items", node))


def spec_allows(column_type: str, prop: dict[str, Any]) -> bool:
    kind, fmt = prop.get("type"), prop.get("format")
    allowed = {
        ("integer", None): {"bigint", "decimal"}, ("number", None): {"money", "decimal", "double"},
        ("boolean", None): {"bool"}, ("string", "date-time"): {"timestamp"},
        ("string", "date"): {"date"}, ("string", None): {"text"},
    }  # fmt: skip
    return column_type in allowed.get((kind, fmt if kind == "string" else None), set())


def test_every_table_and_relation_of_the_whole_firm_is_in_the_catalog() -> None:
    tables = {e.table for e in ENDPOINTS}
    tables |= {child_table(e, c) for e in ENDPOINTS for c in e.children}
    assert set(WHOLE_FIRM_TABLES) <= tables
    for table, expected in WHOLE_FIRM_COLUMNS.items():
        columns = table_columns(table)
        assert {name: columns.get(name) for name in expected} == expected, table
    assert {"task", "calendar_entry", "communication"} <= set(BY_WEBHOOK_MODEL)


def table_columns(table: str) -> dict[str, str]:
    if table in BY_TABLE:
        return dict(BY_TABLE[table].columns)
    for endpoint in ENDPOINTS:
        for child in endpoint.children:
            if child_table(endpoint, child) == table:
                return dict(child_columns(child))
    raise KeyError(table)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.table)
def test_walk_parameters_are_the_specs(endpoint: Endpoint) -> None:
    params = query_params(endpoint.path)
    limit = params["limit"]["description"]
    assert f"between 1 and {endpoint.limit}." in limit
    order = params.get("order", {}).get("schema", {})
    assert endpoint.takes_order == ("order" in params and "id(asc)" in order.get("enum", ["id(asc)"]))
    assert endpoint.incremental == ("updated_since" in params)
    required = {name for name, p in params.items() if p.get("required")}
    walked = {name for walk in endpoint.walks for name in walk}
    assert required <= walked, f"{endpoint.table}: every walk needs {required}"
    for name in required:
        values = {walk[name] for walk in endpoint.walks}
        assert values == set(params[name]["schema"]["enum"]), "each value its own walk"
    for walk in endpoint.walks:
        assert set(walk) <= set(params)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.table)
def test_fields_and_types_are_the_specs(endpoint: Endpoint) -> None:
    props = properties(item_schema(endpoint.path))
    for name in endpoint.scalars:
        assert name in props, f"{endpoint.table}.{name} is not in the spec"
    for relation in endpoint.nested:
        assert relation in props, f"{endpoint.table}.{relation} is not in the spec"
    for column, kind in endpoint.columns.items():
        relation, _, sub = column.partition("__")
        prop = related(props, relation)[sub] if sub else props[column]
        if (endpoint.table, column) not in TYPE_EXCEPTIONS:
            assert spec_allows(kind, prop), f"{endpoint.table}.{column}: {kind} vs {prop}"
    for child in endpoint.children:
        check_child(endpoint, child, props)


def check_child(endpoint: Endpoint, child: Child, props: dict[str, dict[str, Any]]) -> None:
    assert "items" in props[child.field], f"{child.field} is not a list"
    items = related(props, child.field)
    for column, kind in child.columns.items():
        relation, _, sub = column.partition("__")
        if sub:
            assert relation in child.nested and sub == "id"  # default attributes only
            prop = related(items, relation)["id"]
        else:
            prop = items[column]
        assert spec_allows(kind, prop), f"{child_table(endpoint, child)}.{column}: {kind}"


def test_nested_relations_of_a_child_item_are_asked_for_by_name() -> None:
    values = next(c for c in BY_TABLE["matters"].children if c.field == "custom_field_values")
    assert values.fields.startswith("custom_field_values{id,")
    assert values.fields.endswith(",custom_field,picklist_option}")
    assert "{" not in values.fields[len("custom_field_values{"):]  # one nesting level
