"""Build `spec_fields.json`, the sandbox's compact view of Clio's OpenAPI file.

The installed package must not read `tests/`, so this script distils what the server
needs from the spec copy in the test fixtures into a small JSON file shipped with the
package: per schema its scalar fields and its relations (target schema, list or not);
per served index endpoint its item schema and query parameters (limit bounds, `order`
values and default, filters, which are required, which are booleans); the schemas whose
`id` is a string (calendar entries). Run it again when the spec copy changes:

    .venv/bin/python -m pipelines.sandbox.build_spec_fields
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "tests" / "fixtures" / "clio-manage-openapi-2026-04-08.json"
OUT = Path(__file__).with_name("spec_fields.json")

INDEXES = (
    "bills",
    "line_items",
    "activities",
    "matters",
    "contacts",
    "users",
    "allocations",
    "credit_memos",
    "interest_charges",
    "practice_areas",
    "bank_accounts",
    "bank_transactions",
    "trust_line_items",
    "outstanding_client_balances",
    "custom_fields",
    "custom_field_sets",
    "activity_descriptions",
    "expense_categories",
    "activity_rates",
    "groups",
    "matter_stages",
    "tasks",
    "task_types",
    "calendar_entries",
    "notes",
    "communications",
    "relationships",
    "billable_matters",
    "webhooks",
)
WEBHOOK_MODELS = {
    "activity": "Activity",
    "bill": "Bill",
    "calendar_entry": "CalendarEntry",
    "clio_payments_payment": "ClioPaymentsPayment",
    "communication": "Communication",
    "contact": "Contact",
    "document": "Document",
    "folder": "Folder",
    "matter": "Matter",
    "task": "Task",
}


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _base_name(name: str) -> str:
    return name.removesuffix("_base")


def schema_entry(schemas: dict[str, Any], name: str) -> dict[str, Any]:
    """Scalars of `<name>_base` and relations declared by `<name>` (one level)."""
    base = schemas.get(f"{name}_base", {}).get("properties", {})
    scalars = [
        f for f, spec in base.items() if "$ref" not in spec and "$ref" not in spec.get("items", {})
    ]
    relations: dict[str, list[Any]] = {}
    for part in schemas.get(name, {}).get("allOf", [])[1:]:
        for field, spec in part.get("properties", {}).items():
            if "$ref" in spec:
                relations[field] = [_base_name(_ref_name(spec["$ref"])), False]
            elif "$ref" in spec.get("items", {}):
                relations[field] = [_base_name(_ref_name(spec["items"]["$ref"])), True]
    entry: dict[str, Any] = {"scalars": scalars, "relations": relations}
    if base.get("id", {}).get("type") == "string":
        entry["string_id"] = True
    return entry


def endpoint_entry(spec: dict[str, Any], endpoint: str) -> dict[str, Any]:
    """Item schema and query parameters of `GET /{endpoint}.json`."""
    get = spec["paths"][f"/{endpoint}.json"]["get"]
    list_ref = get["responses"]["200"]["content"]["application/json; charset=utf-8"]["schema"]
    list_schema = spec["components"]["schemas"][_ref_name(list_ref["$ref"])]
    item = _ref_name(list_schema["properties"]["data"]["items"]["$ref"])
    params = {p["name"]: p for p in get["parameters"] if p["in"] == "query"}
    item_path = spec["paths"].get(f"/{endpoint}/{{id}}.json", {})
    entry: dict[str, Any] = {
        "schema": item,
        "params": sorted(params),
        "item_methods": sorted(m.upper() for m in item_path if m != "parameters"),
    }
    limit = re.search(r"between 1 and (\d+)", params.get("limit", {}).get("description", ""))
    entry["limit_max"] = int(limit.group(1)) if limit else 200
    if "order" in params:
        order = params["order"]
        default = re.search(r"Default: `([^`]+)`", order["description"])
        entry["order_default"] = default.group(1) if default else "id(asc)"
        entry["order_values"] = order["schema"].get("enum") or ["id(asc)", "id(desc)"]
    for name, param in params.items():
        if "enum" in param.get("schema", {}) and name != "order":
            entry.setdefault("enums", {})[name] = param["schema"]["enum"]
    entry["required"] = sorted(n for n, p in params.items() if p.get("required"))
    entry["booleans"] = sorted(
        n for n, p in params.items() if p.get("schema", {}).get("type") == "boolean"
    )
    return entry


def build(spec: dict[str, Any]) -> dict[str, Any]:
    """The compact catalog: endpoints, webhook models, and every schema two levels deep."""
    schemas = spec["components"]["schemas"]
    endpoints = {name: endpoint_entry(spec, name) for name in INDEXES}
    wanted = {e["schema"] for e in endpoints.values()} | set(WEBHOOK_MODELS.values()) | {"User"}
    out_schemas: dict[str, Any] = {}
    for depth in range(3):
        for name in sorted(wanted - out_schemas.keys()):
            out_schemas[name] = schema_entry(schemas, name)
        if depth < 2:
            wanted |= {rel[0] for s in out_schemas.values() for rel in s["relations"].values()}
    return {
        "source": SPEC.name,
        "endpoints": endpoints,
        "webhook_models": WEBHOOK_MODELS,
        "schemas": out_schemas,
    }


def main() -> int:
    catalog = build(json.loads(SPEC.read_text()))
    OUT.write_text(json.dumps(catalog, separators=(",", ":"), sort_keys=True) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(catalog['schemas'])} schemas)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
