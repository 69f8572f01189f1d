"""The catalog: one frozen `Endpoint` per Clio index the pipeline syncs.

Everything that needs to know an endpoint's shape reads it from here: the dlt source
(paths, `fields`, limits, column types), the webhook applier (model -> table, which
fields a delivery carries) and the SQL staging models (raw column names).

Field lists are the scalar fields of the spec's `*_base` schema (Clio OpenAPI
2026-04-08) plus the ids and names of the nested relations the reports need, one level
deep as Clio allows. Raw tables keep Clio's names; nested objects flatten the dlt way
(`client{id,name}` -> `client__id`, `client__name`), and lists become child tables
(`bills.matters` -> `bills__matters`) carrying their parent's id as `<parent>_id`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["money", "decimal", "timestamp", "date", "bigint", "double", "bool", "text"]
"""How a column is typed; `column_types.py` says how each is stored, `values.py` how
API values are converted. `money` is an amount (2 decimals); `decimal` a rate, price,
quantity or tax/exchange rate (up to 10 decimals); `double` a ratio Clio computes in binary."""

API_VERSION = "4.0.13"  # the spec's default minor version, pinned on every request


@dataclass(frozen=True)
class Child:
    """A list-valued field synced as its own table, e.g. `bills.matters` -> `bills__matters`.

    `nested` names relations of each item (`custom_field_values[].custom_field`): Clio
    nests `fields` one level only, so they are asked for by name and come with their
    default attributes, of which the child keeps `id` (`custom_field__id`).
    """

    field: str
    subfields: tuple[str, ...]
    parent_key: str  # column in the child table holding the parent's id, e.g. `bill_id`
    # `field` is this class's attribute here, not dataclasses.field
    types: dict[str, ColumnType] = dataclasses.field(default_factory=dict)
    nested: tuple[str, ...] = ()  # relations of an item, each stored as `<relation>__id`

    @property
    def fields(self) -> str:
        """This child's part of `fields`: `custom_field_values{id,value,custom_field}`."""
        return f"{self.field}{{{','.join((*self.subfields, *self.nested))}}}"

    @property
    def columns(self) -> dict[str, ColumnType]:
        """The child table's columns from the API (parent id excluded); text by default."""
        cols: dict[str, ColumnType] = {
            sub: self.types.get(sub, "bigint" if sub == "id" else "text") for sub in self.subfields
        }
        for rel in self.nested:
            cols[f"{rel}__id"] = self.types.get(f"{rel}__id", "bigint")
        return cols


@dataclass(frozen=True)
class Endpoint:
    """How to walk one Clio index and how its rows are typed."""

    table: str  # raw table in schema `clio`, named as the endpoint
    path: str  # relative to `{base}/api/v4`
    scalars: tuple[str, ...]  # top-level scalar fields
    nested: dict[str, tuple[str, ...]] = field(default_factory=dict)  # relation -> subfields
    children: tuple[Child, ...] = ()
    types: dict[str, ColumnType] = field(default_factory=dict)  # non-text columns
    limit: int = 200  # the endpoint's maximum page size
    takes_order: bool = True  # `line_items` and `interest_charges` accept no `order`
    incremental: bool = True  # takes `updated_since`
    # Filters walked besides the plain index, for records it may hide (bills in state
    # `deleted` or `void`): each is one more walk, before the plain one.
    extra_filters: tuple[dict[str, str], ...] = ()
    # A filter the endpoint requires (notes: `type`): each value is a walk of its own.
    required_filters: tuple[dict[str, str], ...] = ()
    webhook_model: str | None = None  # Clio webhook model name, where one exists
    # Its custom field values and account balances may change without moving its
    # `updated_at` (Clio does not say): read in full periodically (`watermarks.py`), and a
    # webhook delivery of an unchanged version is fetched (`webhooks/planner.py`).
    reread: bool = False

    @property
    def fields(self) -> str:
        """The `fields` query value: `id,etag,...,client{id,name},matters{id,...}`."""
        parts = list(self.scalars)
        parts += [f"{rel}{{{','.join(sub)}}}" for rel, sub in self.nested.items()]
        parts += [c.fields for c in self.children]
        return ",".join(parts)

    @property
    def id_kind(self) -> ColumnType:
        """How the endpoint's ids are typed: bigint, or text where Clio sends strings."""
        return self.columns["id"]

    @property
    def walks(self) -> tuple[dict[str, str], ...]:
        """The filters of each walk of the index, extra filters before the plain index:
        a record moving into a final state during the run is then never read twice."""
        required = self.required_filters or ({},)
        return tuple({**req, **extra} for req in required for extra in (*self.extra_filters, {}))

    @property
    def columns(self) -> dict[str, ColumnType]:
        """Every column of the raw table (children excluded) with its type; text by default."""
        cols: dict[str, ColumnType] = {}
        for name in self.scalars:
            cols[name] = self.types.get(name, "text")
        for rel, subs in self.nested.items():
            for sub in subs:
                col = f"{rel}__{sub}"
                cols[col] = self.types.get(col, "bigint" if sub == "id" else "text")
        return cols


def _types(**kinds: str) -> dict[str, ColumnType]:
    """`_types(money="total paid", date="issued_at")` -> {"total": "money", ...}."""
    return {name: kind for kind, names in kinds.items() for name in names.split()}  # type: ignore[misc]


_STAMPS = "created_at updated_at"


def _custom_field_values(parent_key: str) -> Child:
    """Custom field values of a matter or contact. Their ids are strings (`"41-7"`) and
    `value` is kept as Clio sends it; the reports type it by `field_type`."""
    return Child(
        "custom_field_values",
        ("id", "field_name", "field_type", "value", "soft_deleted", "created_at", "updated_at"),
        parent_key,
        {"id": "text", "soft_deleted": "bool", "created_at": "timestamp", "updated_at": "timestamp"},
        nested=("custom_field", "picklist_option"),
    )


def _account_balances(parent_key: str) -> Child:
    """A matter's or contact's balances per bank account (trust and operating)."""
    return Child(
        "account_balances",
        ("id", "balance", "type", "name", "currency_id"),
        parent_key,
        {"id": "bigint", "balance": "money", "currency_id": "bigint"},
    )

BILLS = Endpoint(
    table="bills",
    path="bills.json",
    scalars=(
        "id", "etag", "number", "issued_at", "created_at", "due_at", "tax_rate",
        "secondary_tax_rate", "updated_at", "subject", "purchase_order", "type", "memo",
        "start_at", "end_at", "balance", "state", "kind", "total", "paid", "paid_at",
        "pending", "due", "discount_services_only", "can_update", "credits_issued", "shared",
        "last_sent_at", "services_secondary_tax", "services_sub_total", "services_tax",
        "services_taxable_sub_total", "services_secondary_taxable_sub_total",
        "taxable_sub_total", "secondary_taxable_sub_total", "sub_total", "tax_sum",
        "secondary_tax_sum", "total_tax",
    ),
    nested={
        "client": ("id", "name"),
        "user": ("id", "name"),
        "currency": ("id", "code"),
    },
    children=(
        Child("matters", ("id", "display_number"), "bill_id", {"id": "bigint"}),
        Child(
            "balances",
            ("id", "type", "amount", "interest_amount", "due"),
            "bill_id",
            {"id": "bigint", "amount": "money", "interest_amount": "money", "due": "money"},
        ),
    ),
    types=_types(
        bigint="id services_taxable_sub_total services_secondary_taxable_sub_total "
        "taxable_sub_total secondary_taxable_sub_total",
        money="balance total paid pending due credits_issued services_secondary_tax "
        "services_sub_total services_tax sub_total tax_sum secondary_tax_sum total_tax",
        decimal="tax_rate secondary_tax_rate",
        date="issued_at due_at start_at end_at",
        timestamp=f"{_STAMPS} paid_at last_sent_at",
        bool="can_update shared",
    ),
    # Whether Clio's plain index lists deleted and void bills is not documented, so they
    # are asked for explicitly (CLIO_API.md, "Deletions"); the merge makes overlap harmless.
    extra_filters=({"state": "deleted"}, {"state": "void"}),
    webhook_model="bill",
)

LINE_ITEMS = Endpoint(
    table="line_items",
    path="line_items.json",
    scalars=(
        "id", "etag", "type", "description", "date", "price", "taxable", "kind", "note",
        "secondary_taxable", "total", "tax", "secondary_tax", "sub_total", "quantity",
        "group_ordering", "created_at", "updated_at",
    ),
    nested={"bill": ("id",), "matter": ("id",), "activity": ("id",), "user": ("id",)},
    types=_types(
        bigint="id group_ordering",
        money="total tax secondary_tax sub_total",
        decimal="price quantity",  # hours
        date="date",
        timestamp=_STAMPS,
        bool="taxable secondary_taxable",
    ),
    takes_order=False,
)

ACTIVITIES = Endpoint(
    table="activities",
    path="activities.json",
    scalars=(
        "id", "etag", "type", "date", "quantity_in_hours", "rounded_quantity_in_hours",
        "quantity", "rounded_quantity", "quantity_redacted", "price", "note", "flat_rate",
        "billed", "on_bill", "total", "contingency_fee", "created_at", "updated_at",
        "reference", "non_billable", "non_billable_total", "no_charge", "tax_setting",
    ),
    nested={
        "matter": ("id", "display_number"),
        "user": ("id", "name"),
        "bill": ("id",),
        "activity_description": ("id",),
        "expense_category": ("id",),
        "task": ("id",),
    },
    types=_types(
        bigint="id",
        money="total non_billable_total",
        decimal="price quantity rounded_quantity",  # seconds (API 4.0.4+), units for expenses
        # seconds / 3600 as Clio computes it: 7 minutes is 0.11666666666666667 hours
        double="quantity_in_hours rounded_quantity_in_hours",
        date="date",
        timestamp=_STAMPS,
        bool="quantity_redacted flat_rate billed on_bill contingency_fee non_billable no_charge",
    ),
    webhook_model="activity",
)

MATTERS = Endpoint(
    table="matters",
    path="matters.json",
    scalars=(
        "id", "etag", "number", "display_number", "custom_number", "description", "status",
        "location", "client_reference", "client_id", "billable", "maildrop_address",
        "billing_method", "open_date", "close_date", "pending_date", "created_at",
        "updated_at", "shared", "has_tasks", "last_activity_date", "matter_stage_updated_at",
    ),
    nested={
        "client": ("id", "name"),
        "practice_area": ("id", "name"),
        "responsible_attorney": ("id", "name"),
        "originating_attorney": ("id", "name"),
        "responsible_staff": ("id", "name"),
        "matter_stage": ("id",),
        "group": ("id",),
        "evergreen_retainer": ("id", "minimum_threshold"),
        "currency": ("id", "code"),  # the reports need each matter's currency
    },
    children=(_custom_field_values("matter_id"), _account_balances("matter_id")),
    reread=True,
    types=_types(
        bigint="id number client_id",
        money="evergreen_retainer__minimum_threshold",
        date="open_date close_date pending_date last_activity_date",
        timestamp=f"{_STAMPS} matter_stage_updated_at",
        bool="billable shared has_tasks",
    ),
    webhook_model="matter",
)

CONTACTS = Endpoint(
    table="contacts",
    path="contacts.json",
    scalars=(
        "id", "etag", "name", "first_name", "middle_name", "last_name", "date_of_birth",
        "type", "created_at", "updated_at", "prefix", "title", "initials",
        "clio_connect_email", "locked_clio_connect_email", "client_connect_user_id",
        "primary_email_address", "secondary_email_address", "primary_phone_number",
        "secondary_phone_number", "ledes_client_id", "has_clio_for_clients_permission",
        "is_client", "is_clio_for_client_user", "is_co_counsel", "is_bill_recipient",
        "sales_tax_number",
    ),
    nested={"company": ("id", "name")},
    children=(_custom_field_values("contact_id"), _account_balances("contact_id")),
    reread=True,
    types=_types(
        bigint="id client_connect_user_id",
        date="date_of_birth",
        timestamp=_STAMPS,
        bool="locked_clio_connect_email has_clio_for_clients_permission is_client "
        "is_clio_for_client_user is_co_counsel is_bill_recipient",
    ),
    webhook_model="contact",
)

USERS = Endpoint(
    table="users",
    path="users.json",
    scalars=(
        "id", "etag", "account_owner", "clio_connect", "court_rules_default_attendee",
        "created_at", "default_calendar_id", "email", "enabled", "first_name", "initials",
        "last_name", "name", "phone_number", "rate", "subscription_type", "time_zone",
        "updated_at",
    ),
    types=_types(
        bigint="id default_calendar_id",
        decimal="rate",
        timestamp=_STAMPS,
        bool="account_owner clio_connect court_rules_default_attendee enabled",
    ),
    limit=2000,
)

ALLOCATIONS = Endpoint(
    table="allocations",
    path="allocations.json",
    scalars=(
        "id", "etag", "date", "amount", "interest", "voided_at", "created_at", "updated_at",
        "description", "has_online_payment", "destroyable", "payment_type",
    ),
    nested={
        "bill": ("id", "number"),
        "matter": ("id",),
        "contact": ("id", "name"),
        "parent": ("id", "type"),
        "destination_bank_account": ("id",),
    },
    types=_types(
        bigint="id",
        money="amount",
        date="date",
        timestamp=f"{_STAMPS} voided_at",
        bool="interest has_online_payment destroyable",
    ),
)

CREDIT_MEMOS = Endpoint(
    table="credit_memos",
    path="credit_memos.json",
    scalars=(
        "id", "etag", "date", "amount", "description", "discount", "voided_at", "created_at",
        "updated_at",
    ),
    nested={"user": ("id",), "contact": ("id", "name")},
    types=_types(
        bigint="id", money="amount", date="date", timestamp=f"{_STAMPS} voided_at",
        bool="discount",
    ),
)

INTEREST_CHARGES = Endpoint(
    table="interest_charges",
    path="interest_charges.json",
    scalars=("id", "etag", "date", "description", "total", "created_at", "updated_at"),
    nested={"bill": ("id",)},
    types=_types(bigint="id", money="total", date="date", timestamp=_STAMPS),
    takes_order=False,
)

PRACTICE_AREAS = Endpoint(
    table="practice_areas",
    path="practice_areas.json",
    scalars=("id", "etag", "created_at", "updated_at", "name", "category", "code"),
    types=_types(bigint="id", timestamp=_STAMPS),
)

BANK_ACCOUNTS = Endpoint(
    table="bank_accounts",
    path="bank_accounts.json",
    scalars=(
        "id", "etag", "account_number", "balance", "bank_transactions_count",
        "clio_payment_page_link", "clio_payment_page_qr_code", "clio_payments_enabled",
        "controlled_account", "created_at", "currency", "currency_symbol", "currency_id",
        "default_account", "domicile_branch", "general_ledger_number", "holder",
        "institution", "name", "swift", "transit_number", "type", "updated_at",
    ),
    nested={"user": ("id",)},
    types=_types(
        bigint="id bank_transactions_count currency_id",
        money="balance",
        timestamp=_STAMPS,
        bool="clio_payments_enabled controlled_account default_account",
    ),
)

BANK_TRANSACTIONS = Endpoint(
    table="bank_transactions",
    path="bank_transactions.json",
    scalars=(
        "id", "etag", "type", "created_at", "updated_at", "bank_account_id", "source",
        "confirmation", "date", "amount", "currency", "currency_id", "description",
        "exchange_rate", "transaction_type", "funds_in", "funds_out",
        "clio_payments_transaction", "current_account_balance", "read_only_confirmation",
    ),
    nested={"client": ("id",), "matter": ("id",), "bill": ("id",), "allocation": ("id",)},
    types=_types(
        bigint="id bank_account_id currency_id",
        money="amount funds_in funds_out current_account_balance",
        decimal="exchange_rate",
        date="date",
        timestamp=_STAMPS,
        bool="clio_payments_transaction read_only_confirmation",
    ),
)

TRUST_LINE_ITEMS = Endpoint(
    table="trust_line_items",
    path="trust_line_items.json",
    scalars=("id", "etag", "date", "total", "note", "created_at", "updated_at"),
    nested={"bill": ("id",), "matter": ("id",), "client": ("id",)},
    types=_types(bigint="id", money="total", date="date", timestamp=_STAMPS),
)

OUTSTANDING_CLIENT_BALANCES = Endpoint(
    table="outstanding_client_balances",
    path="outstanding_client_balances.json",
    scalars=(
        "id", "etag", "last_payment_date", "last_shared_date", "newest_issued_bill_due_date",
        "pending_payments_total", "reminders_enabled", "total_outstanding_balance",
        "created_at", "updated_at",
    ),
    nested={"contact": ("id", "name"), "currency": ("id", "code")},
    types=_types(
        bigint="id",
        money="pending_payments_total total_outstanding_balance",
        date="last_payment_date last_shared_date newest_issued_bill_due_date",
        timestamp=_STAMPS,
        bool="reminders_enabled",
    ),
    takes_order=False,
    incremental=False,  # no `updated_since`: replaced in full on every run
)

# ----- the whole firm (DESIGN.md, "The whole firm") -----------------------------------

CUSTOM_FIELDS = Endpoint(
    table="custom_fields",
    path="custom_fields.json",
    scalars=(
        "id", "etag", "created_at", "updated_at", "name", "parent_type", "field_type",
        "displayed", "deleted", "required", "display_order",
    ),
    children=(
        Child(
            "picklist_options",
            ("id", "option", "deleted_at", "created_at", "updated_at"),
            "custom_field_id",
            {"id": "bigint", "deleted_at": "timestamp", "created_at": "timestamp",
             "updated_at": "timestamp"},
        ),
    ),
    types=_types(
        bigint="id display_order", timestamp=_STAMPS, bool="displayed deleted required",
    ),
    # Whether the plain index lists definitions deleted "for future use" is not
    # documented; they are asked for explicitly, as deleted bills are.
    extra_filters=({"deleted": "true"},),
)

CUSTOM_FIELD_SETS = Endpoint(
    table="custom_field_sets",
    path="custom_field_sets.json",
    scalars=("id", "etag", "name", "parent_type", "displayed", "created_at", "updated_at"),
    types=_types(bigint="id", timestamp=_STAMPS, bool="displayed"),
)

ACTIVITY_DESCRIPTIONS = Endpoint(
    table="activity_descriptions",
    path="activity_descriptions.json",
    scalars=(
        "id", "etag", "name", "visible_to_co_counsel", "created_at", "updated_at", "default",
        "type", "utbms_activity_id", "utbms_task_name", "utbms_task_id", "xero_service_code",
        "accessible_to_user", "category_type",
    ),
    nested={"rate": ("amount", "non_billable_amount", "type", "hierarchy"),
            "currency": ("id", "code")},
    types=_types(
        bigint="id utbms_activity_id utbms_task_id",
        decimal="rate__amount rate__non_billable_amount",  # hourly or flat rates
        timestamp=_STAMPS,
        bool="visible_to_co_counsel default accessible_to_user",
    ),
    takes_order=False,
)

EXPENSE_CATEGORIES = Endpoint(
    table="expense_categories",
    path="expense_categories.json",
    scalars=(
        "id", "etag", "name", "rate", "entry_type", "created_at", "updated_at",
        "xero_expense_code", "accessible_to_user", "tax_setting",
    ),
    nested={"currency": ("id", "code")},
    types=_types(bigint="id", decimal="rate", timestamp=_STAMPS, bool="accessible_to_user"),
)

ACTIVITY_RATES = Endpoint(
    table="activity_rates",
    path="activity_rates.json",
    scalars=(
        "id", "etag", "rate", "flat_rate", "created_at", "updated_at", "contact_id",
        "co_counsel_contact_id",
    ),
    nested={"user": ("id", "name"), "group": ("id", "name")},
    types=_types(
        bigint="id contact_id co_counsel_contact_id", decimal="rate", timestamp=_STAMPS,
        bool="flat_rate",
    ),
    takes_order=False,
)

GROUPS = Endpoint(
    table="groups",
    path="groups.json",
    scalars=("id", "etag", "name", "type", "client_connect_user", "updated_at"),
    types=_types(bigint="id", timestamp="updated_at", bool="client_connect_user"),
)

MATTER_STAGES = Endpoint(
    table="matter_stages",
    path="matter_stages.json",
    scalars=("id", "etag", "practice_area_id", "name", "order", "created_at", "updated_at"),
    # the spec types `practice_area_id` as a string; it is a practice area's id
    types=_types(bigint="id practice_area_id order", timestamp=_STAMPS),
    takes_order=False,
)

TASKS = Endpoint(
    table="tasks",
    path="tasks.json",
    scalars=(
        "id", "etag", "name", "status", "description", "description_text_type", "priority",
        "due_at", "permission", "completed_at", "notify_completion", "statute_of_limitations",
        "time_estimated", "created_at", "updated_at", "time_entries_count",
    ),
    nested={
        "task_type": ("id", "name"),
        "assigner": ("id", "name"),
        "assignee": ("id", "type", "name"),  # a user or a contact (`type` Person/Company/User)
        "matter": ("id", "display_number"),
    },
    types=_types(
        bigint="id time_estimated time_entries_count",  # time_estimated in seconds
        date="due_at",
        timestamp=f"{_STAMPS} completed_at",
        bool="notify_completion statute_of_limitations",
    ),
    webhook_model="task",
)

TASK_TYPES = Endpoint(
    table="task_types",
    path="task_types.json",
    scalars=("id", "etag", "name", "deleted_at", "created_at", "updated_at"),
    types=_types(bigint="id", timestamp=f"{_STAMPS} deleted_at"),
)

CALENDAR_ENTRIES = Endpoint(
    table="calendar_entries",
    path="calendar_entries.json",
    scalars=(
        "id", "etag", "summary", "description", "location", "start_at", "start_date",
        "start_time", "end_at", "end_date", "end_time", "all_day", "recurrence_rule",
        "parent_calendar_entry_id", "court_rule", "created_at", "updated_at", "permission",
        "calendar_owner_id", "start_at_time_zone", "time_entries_count",
    ),
    nested={
        "matter": ("id", "display_number"),
        "calendar_owner": ("id", "name"),
        "calendar_entry_event_type": ("id", "name"),
    },
    types=_types(
        text="id",  # Clio's calendar entry ids are strings
        bigint="parent_calendar_entry_id calendar_owner_id time_entries_count",
        date="start_date end_date",
        timestamp=f"{_STAMPS} start_at end_at",
        bool="all_day court_rule",
    ),
    takes_order=False,
    webhook_model="calendar_entry",
)

NOTES = Endpoint(
    table="notes",
    path="notes.json",
    scalars=(
        "id", "etag", "type", "subject", "detail", "detail_text_type", "date", "created_at",
        "updated_at", "time_entries_count",
    ),
    nested={"matter": ("id",), "contact": ("id",), "author": ("id", "name")},
    types=_types(bigint="id time_entries_count", date="date", timestamp=_STAMPS),
    required_filters=({"type": "Matter"}, {"type": "Contact"}),
)

COMMUNICATIONS = Endpoint(
    table="communications",
    path="communications.json",
    scalars=(
        "id", "etag", "subject", "body", "type", "date", "time_entries_count", "created_at",
        "updated_at", "received_at",
    ),
    nested={"user": ("id", "name"), "matter": ("id", "display_number")},
    types=_types(
        bigint="id time_entries_count", date="date", timestamp=f"{_STAMPS} received_at",
    ),
    webhook_model="communication",
)

RELATIONSHIPS = Endpoint(
    table="relationships",
    path="relationships.json",
    scalars=("id", "etag", "description", "created_at", "updated_at"),
    nested={"matter": ("id",), "contact": ("id", "name")},
    types=_types(bigint="id", timestamp=_STAMPS),
    takes_order=False,
)

BILLABLE_MATTERS = Endpoint(
    table="billable_matters",
    path="billable_matters.json",
    scalars=(
        "id", "display_number", "currency_code", "currency_id", "unbilled_hours",
        "unbilled_amount", "amount_in_trust",
    ),
    nested={"client": ("id", "name")},
    types=_types(
        bigint="id currency_id",
        money="unbilled_amount amount_in_trust",
        decimal="unbilled_hours",
    ),
    limit=1000,
    takes_order=False,
    incremental=False,  # no `updated_since`: a snapshot replaced in full on every run
)

ENDPOINTS: tuple[Endpoint, ...] = (
    BILLS, LINE_ITEMS, ACTIVITIES, MATTERS, CONTACTS, USERS, ALLOCATIONS, CREDIT_MEMOS,
    INTEREST_CHARGES, PRACTICE_AREAS, BANK_ACCOUNTS, BANK_TRANSACTIONS, TRUST_LINE_ITEMS,
    OUTSTANDING_CLIENT_BALANCES, CUSTOM_FIELDS, CUSTOM_FIELD_SETS, ACTIVITY_DESCRIPTIONS,
    EXPENSE_CATEGORIES, ACTIVITY_RATES, GROUPS, MATTER_STAGES, TASKS, TASK_TYPES,
    CALENDAR_ENTRIES, NOTES, COMMUNICATIONS, RELATIONSHIPS, BILLABLE_MATTERS,
)
BY_TABLE: dict[str, Endpoint] = {e.table: e for e in ENDPOINTS}
BY_WEBHOOK_MODEL: dict[str, Endpoint] = {e.webhook_model: e for e in ENDPOINTS if e.webhook_model}


def has_text_ids(webhook_model: str) -> bool:
    """Whether a webhook model's record ids are strings (calendar entries)."""
    endpoint = BY_WEBHOOK_MODEL.get(webhook_model)
    return endpoint is not None and endpoint.id_kind == "text"
