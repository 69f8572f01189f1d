"""The field catalog and query parameters of Clio's spec, from `spec_fields.json`.

`build_spec_fields.py` distils the OpenAPI file into that JSON; this module only reads it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

CATALOG = files("pipelines.sandbox") / "spec_fields.json"  # ships in the package

# Spec schema -> the firm table holding such records (to serve nested subfields the
# record itself does not carry). Schemas without a table resolve to what the record has.
TABLE_OF_SCHEMA = {
    "Bill": "bills", "LineItem": "line_items", "Activity": "activities", "Matter": "matters",
    "Contact": "contacts", "User": "users", "Allocation": "allocations",
    "CreditMemo": "credit_memos", "InterestCharge": "interest_charges",
    "PracticeArea": "practice_areas", "BankAccount": "bank_accounts",
    "BankTransaction": "bank_transactions", "TrustLineItem": "trust_line_items",
    "CustomField": "custom_fields", "CustomFieldSet": "custom_field_sets",
    "ActivityDescription": "activity_descriptions", "ExpenseCategory": "expense_categories",
    "ActivityRate": "activity_rates", "Group": "groups", "MatterStage": "matter_stages",
    "Task": "tasks", "Activity_Task": "tasks", "TaskType": "task_types",
    "CalendarEntry": "calendar_entries", "Activity_CalendarEntry": "calendar_entries",
    "Note": "notes", "Communication": "communications", "Relationship": "relationships",
}  # fmt: skip


@dataclass(frozen=True)
class Schema:
    """A spec model: its scalar fields and its relations (name -> (schema, is_list))."""

    name: str
    scalars: frozenset[str]
    relations: dict[str, tuple[str, bool]]
    string_id: bool = False  # the spec types its `id` as a string (calendar entries)

    def knows(self, name: str) -> bool:
        return name in self.scalars or name in self.relations


@dataclass(frozen=True)
class IndexSpec:
    """Query parameters of one index endpoint, as the spec declares them."""

    name: str
    schema: str
    params: frozenset[str]
    limit_max: int
    order_default: str | None  # None: the endpoint takes no `order`
    order_values: tuple[str, ...]
    enums: dict[str, tuple[str, ...]]
    item_methods: frozenset[str]  # methods the spec defines on `/{name}/{id}.json`
    required: tuple[str, ...] = ()  # filters the index cannot do without (notes: `type`)
    booleans: frozenset[str] = frozenset()  # parameters the spec types as booleans


@cache
def _catalog() -> dict:
    return json.loads(CATALOG.read_text(encoding="utf-8"))


@cache
def schema(name: str) -> Schema:
    """The schema called `name` (e.g. `Bill`); KeyError if the catalog lacks it."""
    entry = _catalog()["schemas"][name]
    relations = {k: (v[0], bool(v[1])) for k, v in entry["relations"].items()}
    return Schema(name, frozenset(entry["scalars"]), relations, bool(entry.get("string_id")))


@cache
def index(name: str) -> IndexSpec:
    """The index endpoint `name` (e.g. `bills`); KeyError if not served."""
    entry = _catalog()["endpoints"][name]
    return IndexSpec(
        name=name,
        schema=entry["schema"],
        params=frozenset(entry["params"]),
        limit_max=entry["limit_max"],
        order_default=entry.get("order_default"),
        order_values=tuple(entry.get("order_values", ())),
        enums={k: tuple(v) for k, v in entry.get("enums", {}).items()},
        item_methods=frozenset(entry["item_methods"]),
        required=tuple(entry.get("required", ())),
        booleans=frozenset(entry.get("booleans", ())),
    )


def index_names() -> tuple[str, ...]:
    """Every index endpoint in the catalog."""
    return tuple(_catalog()["endpoints"])


def webhook_models() -> dict[str, str]:
    """Webhook model name -> spec schema name."""
    return dict(_catalog()["webhook_models"])
