"""The firm's reference data: groups, matter stages, task types, activity descriptions,
expense categories, activity rates, custom fields (with picklist options) and custom field
sets. Set up when the firm was founded; a few were retired later (a deleted task type,
deleted custom fields, a deleted picklist option).

`build` returns API-shaped rows per table, ids from 1, stamped at or after `found` (the
firm's founding instant) and before `today`.
"""

from __future__ import annotations

import random

from pipelines.sandbox import names
from pipelines.sandbox.clock import day_start, etag, stamp_text
from pipelines.sandbox.directory import FIRM_NAME, currency

# (name, parent type, field type, required, deleted)
CUSTOM_FIELDS: tuple[tuple[str, str, str, bool, bool], ...] = (
    ("Referral Source", "Matter", "picklist", False, False),
    ("Opposing Counsel", "Matter", "contact", False, False),
    ("Related Matter", "Matter", "matter", False, False),
    ("Estimated Value", "Matter", "currency", False, False),
    ("Statute of Limitations Date", "Matter", "date", False, False),
    ("Hearing Time", "Matter", "time", False, False),
    ("Adjuster Email", "Matter", "email", False, False),
    ("Expected Hours", "Matter", "numeric", False, False),
    ("Conflict Check Done", "Matter", "checkbox", True, False),
    ("Case Summary", "Matter", "text_area", False, False),
    ("Claim Number", "Matter", "text_line", False, False),
    ("Court Docket URL", "Matter", "url", False, False),
    ("Legacy File Number", "Matter", "text_line", False, True),
    ("Preferred Language", "Contact", "picklist", False, False),
    ("Client Since", "Contact", "date", False, False),
    ("Credit Limit", "Contact", "currency", False, False),
    ("VIP", "Contact", "checkbox", False, False),
    ("Referred By", "Contact", "contact", False, False),
    ("LinkedIn", "Contact", "url", False, False),
    ("Billing Notes", "Contact", "text_area", False, False),
    ("Alternate Email", "Contact", "email", False, False),
    ("Fax Number", "Contact", "text_line", False, True),
)
# How often a parent holds a value of each field (matters: all; contacts: clients).
VALUE_SHARE = {
    "Referral Source": 0.7, "Opposing Counsel": 0.35, "Related Matter": 0.1,
    "Estimated Value": 0.5, "Statute of Limitations Date": 0.3, "Hearing Time": 0.2,
    "Adjuster Email": 0.15, "Expected Hours": 0.4, "Conflict Check Done": 0.8,
    "Case Summary": 0.3, "Claim Number": 0.25, "Court Docket URL": 0.15,
    "Legacy File Number": 0.4, "Preferred Language": 0.4, "Client Since": 0.5,
    "Credit Limit": 0.2, "VIP": 0.3, "Referred By": 0.15, "LinkedIn": 0.2,
    "Billing Notes": 0.1, "Alternate Email": 0.15, "Fax Number": 0.3,
}  # fmt: skip
FIELD_SETS = (  # (name, parent type, field names)
    ("Case intake", "Matter", ("Referral Source", "Opposing Counsel", "Estimated Value",
                               "Statute of Limitations Date", "Conflict Check Done")),
    ("Insurance", "Matter", ("Adjuster Email", "Claim Number")),
    ("Client profile", "Contact", ("Preferred Language", "Client Since", "Credit Limit", "VIP")),
)  # fmt: skip
RETIRED_DAYS_AGO = 300  # deleted custom fields and task types were retired this long ago
OPTION_RETIRED_DAYS_AGO = 200


def build(
    rng: random.Random, found: int, today: int, users: list[dict], areas: list[dict],
    clients: list[dict],
) -> dict[str, list[dict]]:  # fmt: skip
    """Every reference table of a new firm."""
    stamp = _Stamps(found)
    retired = retired_instant(today)
    groups = _groups(stamp, users)
    tables = {
        "groups": groups,
        "matter_stages": _stages(stamp, areas),
        "task_types": _task_types(stamp, retired),
        "activity_descriptions": _descriptions(stamp, groups[0]),
        "expense_categories": _categories(stamp, groups[0]),
    }
    tables["activity_rates"] = _rates(rng, stamp, users, groups, clients)
    fields = _custom_fields(stamp, retired, day_start(today - OPTION_RETIRED_DAYS_AGO) + 11 * 3600)
    tables["custom_fields"] = fields
    tables["custom_field_sets"] = _field_sets(stamp, fields)
    return tables


class _Stamps:
    """Consecutive founding instants, one per reference record."""

    def __init__(self, found: int) -> None:
        self.next = found + 1000

    def __call__(self) -> str:
        self.next += 7
        return stamp_text(self.next)


def _groups(stamp: _Stamps, users: list[dict]) -> list[dict]:
    rows = [{"id": 1, "name": FIRM_NAME, "type": "AccountGroup", "users": [_who(u) for u in users]}]
    for user in users:
        rows.append({"id": len(rows) + 1, "name": user["name"], "type": "UserGroup", "users": [_who(user)]})
    attorneys = [u for u in users if u["subscription_type"] == "Attorney"] or users
    for index, team in enumerate(names.TEAMS):
        members = attorneys[index :: len(names.TEAMS)] or attorneys[:1]
        rows.append({"id": len(rows) + 1, "name": team, "type": "TeamGroup", "users": [_who(u) for u in members]})
    for row in rows:
        row.update(client_connect_user=False, updated_at=stamp())
    return rows


def _who(user: dict) -> dict:
    return {"id": user["id"], "name": user["name"]}


def _stages(stamp: _Stamps, areas: list[dict]) -> list[dict]:
    rows = []
    for area in areas:
        for order, name in enumerate(names.MATTER_STAGES, start=1):
            at = stamp()
            rows.append({"id": len(rows) + 1, "practice_area_id": str(area["id"]), "name": name,
                         "order": order, "created_at": at, "updated_at": at})  # fmt: skip
    return rows


def _task_types(stamp: _Stamps, retired: int) -> list[dict]:
    rows = []
    for name, deleted in names.TASK_TYPES:
        at = stamp()
        rows.append({"id": len(rows) + 1, "name": name, "created_at": at,
                     "updated_at": stamp_text(retired) if deleted else at,
                     "deleted_at": stamp_text(retired) if deleted else None})  # fmt: skip
    return rows


def _descriptions(stamp: _Stamps, firm_group: dict) -> list[dict]:
    rows = []
    for name, category, flat in names.ACTIVITY_DESCRIPTIONS:
        at = stamp()
        rows.append({
            "id": len(rows) + 1, "name": name, "visible_to_co_counsel": False,
            "created_at": at, "updated_at": at, "default": not rows, "type": "clio",
            "utbms_activity_id": None, "utbms_task_name": None, "utbms_task_id": None,
            "xero_service_code": None, "accessible_to_user": True, "category_type": category,
            "currency": currency("USD"),
            "groups": [{"id": firm_group["id"], "name": firm_group["name"]}],
            "rate": {"amount": flat / 100 if flat else None, "non_billable_amount": None,
                     "type": "FlatRate" if flat else "User", "hierarchy": "Activity" if flat else "Default"},
        })  # fmt: skip
    return rows


def _categories(stamp: _Stamps, firm_group: dict) -> list[dict]:
    rows = []
    for name, rate, entry_type in names.EXPENSE_CATEGORIES:
        at = stamp()
        rows.append({
            "id": len(rows) + 1, "name": name, "rate": rate, "entry_type": entry_type,
            "created_at": at, "updated_at": at, "xero_expense_code": None,
            "accessible_to_user": True, "currency": currency("USD"), "tax_setting": "no_tax",
            "groups": [{"id": firm_group["id"], "name": firm_group["name"]}],
        })  # fmt: skip
    return rows


def _rates(
    rng: random.Random, stamp: _Stamps, users: list[dict], groups: list[dict], clients: list[dict]
) -> list[dict]:
    """Each user's default hourly rate, and negotiated rates for a few clients."""
    rows = []
    for user in users:
        at = stamp()
        rows.append({"id": len(rows) + 1, "rate": user["rate"], "flat_rate": False, "created_at": at,
                     "updated_at": at, "contact_id": None, "co_counsel_contact_id": None,
                     "user": _who(user), "group": None})  # fmt: skip
    team = groups[-1]
    for client in clients[: max(1, len(clients) // 40)]:
        at = stamp()
        user = rng.choice(users)
        rows.append({"id": len(rows) + 1, "rate": float(round(user["rate"] * 0.9)), "flat_rate": False,
                     "created_at": at, "updated_at": at, "contact_id": client["id"],
                     "co_counsel_contact_id": None, "user": _who(user),
                     "group": {"id": team["id"], "name": team["name"]}})  # fmt: skip
    return rows


def _custom_fields(stamp: _Stamps, retired: int, option_retired: int) -> list[dict]:
    rows = []
    options = 0
    order = {"Matter": 0, "Contact": 0}
    for name, parent, kind, required, deleted in CUSTOM_FIELDS:
        at = stamp()
        order[parent] += 1
        picklist = []
        for label in names.PICKLISTS.get(name, ()) if kind == "picklist" else ():
            options += 1
            option_at = stamp()
            gone = label in names.DELETED_OPTIONS
            picklist.append({
                "id": options, "etag": etag(0, "picklist_options", options, 0), "option": label,
                "created_at": option_at, "updated_at": stamp_text(option_retired) if gone else option_at,
                "deleted_at": stamp_text(option_retired) if gone else None,
            })  # fmt: skip
        rows.append({
            "id": len(rows) + 1, "created_at": at, "updated_at": stamp_text(retired) if deleted else at,
            "name": name, "parent_type": parent, "field_type": kind, "displayed": True,
            "deleted": deleted, "required": required, "display_order": order[parent],
            "picklist_options": picklist,
        })  # fmt: skip
    return rows


def _field_sets(stamp: _Stamps, fields: list[dict]) -> list[dict]:
    by_name = {f["name"]: f for f in fields}
    rows = []
    for name, parent, members in FIELD_SETS:
        at = stamp()
        rows.append({
            "id": len(rows) + 1, "name": name, "parent_type": parent, "displayed": True,
            "created_at": at, "updated_at": at,
            "custom_fields": [{"id": by_name[m]["id"], "name": m} for m in members],
        })  # fmt: skip
    return rows


def retired_instant(today: int) -> int:
    """When the deleted custom fields and task types were retired."""
    return day_start(today - RETIRED_DAYS_AGO) + 10 * 3600


