"""A hand-built firm for the sync tests: every endpoint, and the awkward cases on purpose.

Cents that floats get wrong (0.29, 0.07, 1234567.89), offsets other than UTC, bills in
every state including `void` and `deleted`, a bill whose `balances` list is empty, a
relation left empty (`None`), more contacts than a small page holds. The whole firm:
custom fields of several types (one deleted, listed by the plain index too, and a
picklist with a deleted option), values with string ids (one soft-deleted, one of the
deleted definition), a matter with none, trust money on a matter and its client
(account balances), notes of both types (the required `type`
filter), calendar entries (string ids at Clio), a task without a due date.
"""

from __future__ import annotations

NOW = "2026-11-20T17:00:00-05:00"


def _stamp(day: int, hour: int = 9) -> str:
    return f"2026-11-{day:02d}T{hour:02d}:15:02-05:00"


def hand_built_firm() -> dict[str, list[dict]]:
    """`Firm.from_records` input: API-shaped records by endpoint."""
    users = [
        {"id": 1, "name": "Ada Counsel", "first_name": "Ada", "last_name": "Counsel", "rate": 350.0,
         "enabled": True, "email": "ada@example.com", "created_at": _stamp(1), "updated_at": _stamp(2)},
        {"id": 2, "name": "Bo Clerk", "first_name": "Bo", "last_name": "Clerk", "rate": 0.07,
         "enabled": False, "created_at": _stamp(1), "updated_at": _stamp(3, 23)},
    ]
    contacts = [
        {"id": i, "name": f"Client {i}", "type": "Person" if i % 2 else "Company",
         "is_client": True, "date_of_birth": "1980-02-29" if i == 1 else None,
         "company": {"id": 2, "name": "Client 2"} if i == 3 else None,
         "created_at": _stamp(1), "updated_at": _stamp(2 + i % 5)}
        for i in range(1, 13)
    ]
    practice_areas = [{"id": 1, "name": "Litigation", "code": "LIT", "category": "General"}]
    matters = [
        {"id": m, "display_number": f"0000{m}-Client", "number": m, "status": "Open",
         "client": {"id": m, "name": f"Client {m}"}, "practice_area": {"id": 1, "name": "Litigation"},
         "responsible_attorney": {"id": 1, "name": "Ada Counsel"}, "originating_attorney": None,
         "open_date": "2026-01-15", "billable": True, "created_at": _stamp(1), "updated_at": _stamp(4)}
        for m in (1, 2)
    ]
    bills = [
        _bill(1, "awaiting_payment", [1, 2], total=1234567.89, balance=1234567.89),
        _bill(2, "paid", [1], total=0.29, balance=0.0),
        _bill(3, "void", [2], total=100.35, balance=0.0, balances=False),
        _bill(4, "deleted", [1], total=12.5, balance=12.5),
        _bill(5, "draft", [2], total=0.07, balance=0.07),
    ]
    activities = [
        {"id": a, "type": "TimeEntry", "date": "2026-11-02", "quantity": 5400, "quantity_in_hours": 1.5,
         "price": 350.0, "total": 525.0, "note": f"Work {a}", "billed": a < 3,
         "matter": {"id": 1, "display_number": "00001-Client"}, "user": {"id": 1, "name": "Ada Counsel"},
         "bill": {"id": 1} if a < 3 else None, "created_at": _stamp(2), "updated_at": _stamp(5, a)}
        for a in range(1, 5)
    ]
    line_items = [
        {"id": li, "type": "ActivityLineItem", "kind": "Service", "description": f"Line {li}",
         "date": "2026-11-02", "price": 350.0, "quantity": 1.5, "total": 525.0, "sub_total": 525.0,
         "tax": 0.0, "bill": {"id": 1}, "matter": {"id": 1}, "activity": {"id": li},
         "user": {"id": 1}, "created_at": _stamp(5), "updated_at": _stamp(5, 10 + li)}
        for li in (1, 2)
    ]
    bank_accounts = [
        {"id": 1, "name": "Operating", "type": "Operating", "balance": 10500.01, "currency": "USD",
         "default_account": True, "user": {"id": 1}, "created_at": _stamp(1), "updated_at": _stamp(1)},
        {"id": 2, "name": "Trust", "type": "Trust", "balance": 1500.36, "currency": "USD",
         "currency_id": 1, "created_at": _stamp(1), "updated_at": _stamp(8)},
    ]
    allocations = [
        {"id": 1, "date": "2026-11-10", "amount": 0.29, "bill": {"id": 2, "number": "2"},
         "matter": {"id": 1}, "contact": {"id": 1, "name": "Client 1"},
         "parent": {"id": 71, "type": "Payment"}, "destination_bank_account": {"id": 1},
         "created_at": _stamp(10), "updated_at": _stamp(10)},
    ]
    credit_memos = [
        {"id": 1, "date": "2026-11-11", "amount": 5.55, "description": "Courtesy",
         "contact": {"id": 1, "name": "Client 1"}, "user": {"id": 1},
         "created_at": _stamp(11), "updated_at": _stamp(11)},
    ]
    interest_charges = [
        {"id": 1, "date": "2026-11-12", "total": 1.01, "description": "Late", "bill": {"id": 1},
         "created_at": _stamp(12), "updated_at": _stamp(12)},
    ]
    bank_transactions = [
        {"id": 1, "type": "BankTransaction", "bank_account_id": 1, "date": "2026-11-10",
         "amount": 0.29, "funds_in": 0.29, "currency": "USD", "description": "Payment",
         "client": {"id": 1}, "matter": {"id": 1}, "bill": {"id": 2}, "allocation": {"id": 1},
         "created_at": _stamp(10), "updated_at": _stamp(10)},
        {"id": 2, "type": "BankTransaction", "bank_account_id": 2, "date": "2026-11-08",
         "amount": 1500.29, "funds_in": 1500.29, "currency": "USD", "currency_id": 1,
         "description": "Retainer", "transaction_type": "Deposit", "client": {"id": 1},
         "matter": {"id": 1}, "created_at": _stamp(8), "updated_at": _stamp(8)},
        {"id": 3, "type": "BankTransaction", "bank_account_id": 2, "date": "2026-11-09",
         "amount": 0.07, "funds_in": 0.07, "currency": "USD", "currency_id": 1,
         "description": "Deposit", "transaction_type": "Deposit", "client": {"id": 3},
         "matter": None, "created_at": _stamp(9), "updated_at": _stamp(9)},
    ]
    trust_line_items = [
        {"id": 1, "date": "2026-11-09", "total": 200.0, "note": "Retainer", "bill": {"id": 1},
         "matter": {"id": 1}, "client": {"id": 1}, "created_at": _stamp(9), "updated_at": _stamp(9)},
    ]
    matters[0].update(
        custom_field_values=[
            _value("picklist-51", REFERRAL, "1", 2, picklist_option={"id": 1, "option": "Web"}),
            _value("numeric-52", FEE_CAP, "1234567.89", 3),
            _value("date-53", INTAKE, "2026-02-28", 3, soft_deleted=True),
        ],
        evergreen_retainer={"id": 1, "minimum_threshold": 1000.07, "created_at": _stamp(2),
                            "updated_at": _stamp(2)},
        matter_stage={"id": 1, "name": "Intake"}, group={"id": 1, "name": "Firm"},
    )
    contacts[2]["custom_field_values"] = [
        _value("checkbox-54", VIP, "true", 1), _value("text_line-55", OLD_CODE, "X-7", 1),
    ]
    activities[3].update(activity_description={"id": 1, "name": "Research"}, task={"id": 1})
    return {
        "users": users, "contacts": contacts, "practice_areas": practice_areas,
        "matters": matters, "bills": bills, "activities": activities, "line_items": line_items,
        "bank_accounts": bank_accounts, "allocations": allocations, "credit_memos": credit_memos,
        "interest_charges": interest_charges, "bank_transactions": bank_transactions,
        "trust_line_items": trust_line_items, **_whole_firm(),
    }


def _definition(field_id: int, name: str, parent: str, kind: str, deleted: bool = False,
                options: tuple[dict, ...] = ()) -> dict:
    return {"id": field_id, "name": name, "parent_type": parent, "field_type": kind,
            "displayed": True, "deleted": deleted, "required": False, "display_order": field_id,
            "picklist_options": list(options), "created_at": _stamp(1),
            "updated_at": _stamp(4 if deleted else 1)}


REFERRAL = _definition(1, "Referral Source", "Matter", "picklist", options=(
    {"id": 1, "option": "Web", "deleted_at": None, "created_at": _stamp(1), "updated_at": _stamp(1)},
    {"id": 2, "option": "Yellow pages", "deleted_at": _stamp(3), "created_at": _stamp(1),
     "updated_at": _stamp(3)},
))
FEE_CAP = _definition(2, "Fee Cap", "Matter", "currency")
INTAKE = _definition(3, "Intake Date", "Matter", "date")
VIP = _definition(4, "VIP", "Contact", "checkbox")
OLD_CODE = _definition(5, "Old Code", "Contact", "text_line", deleted=True)


def _value(value_id: str, field: dict, value: str, day: int, soft_deleted: bool = False,
           **relations: object) -> dict:
    return {"id": value_id, "field_name": field["name"], "field_type": field["field_type"],
            "field_required": False, "field_displayed": True, "field_display_order": 1,
            "value": value, "soft_deleted": soft_deleted or field["deleted"],
            "created_at": _stamp(day), "updated_at": _stamp(day, 10),
            "custom_field": {"id": field["id"]}, "picklist_option": None, "matter": None,
            "contact": None, **relations}


def _whole_firm() -> dict[str, list[dict]]:
    ada = {"id": 1, "name": "Ada Counsel"}
    matter = {"id": 1, "display_number": "00001-Client"}
    person = {"id": 1, "type": "User", "name": "Ada Counsel", "initials": "AC", "enabled": True}
    return {
        "custom_fields": [REFERRAL, FEE_CAP, INTAKE, VIP, OLD_CODE],
        "custom_field_sets": [
            {"id": 1, "name": "Intake", "parent_type": "Matter", "displayed": True,
             "custom_fields": [{"id": 1, "name": "Referral Source"}], "created_at": _stamp(1),
             "updated_at": _stamp(1)},
        ],
        "activity_descriptions": [
            {"id": 1, "name": "Research", "type": "clio", "category_type": "hourly", "default": True,
             "currency": {"id": 1, "code": "USD"},
             "rate": {"amount": 312.125, "non_billable_amount": None, "type": "User",
                      "hierarchy": "Default"}, "created_at": _stamp(1), "updated_at": _stamp(1)},
        ],
        "expense_categories": [
            {"id": 1, "name": "Courier", "rate": 0.07, "entry_type": "hard_cost",
             "currency": {"id": 1, "code": "USD"}, "created_at": _stamp(1), "updated_at": _stamp(1)},
        ],
        "activity_rates": [
            {"id": 1, "rate": 0.29, "flat_rate": False, "user": ada, "created_at": _stamp(1),
             "updated_at": _stamp(1)},
        ],
        "groups": [
            {"id": 1, "name": "Firm", "type": "AccountGroup", "client_connect_user": False,
             "users": [ada], "updated_at": _stamp(1)},
        ],
        "matter_stages": [
            {"id": 1, "practice_area_id": "1", "name": "Intake", "order": 1,
             "created_at": _stamp(1), "updated_at": _stamp(1)},
        ],
        "task_types": [
            {"id": 1, "name": "Filing", "created_at": _stamp(1), "updated_at": _stamp(1)},
            {"id": 2, "name": "Old", "deleted_at": _stamp(2), "created_at": _stamp(1),
             "updated_at": _stamp(2)},
        ],
        "tasks": [
            {"id": 1, "name": "File motion", "status": "pending", "priority": "High",
             "due_at": "2026-11-01", "matter": matter, "assignee": person, "assigner": ada,
             "task_type": {"id": 1, "name": "Filing"}, "time_entries_count": 1,
             "time_entries": [{"id": 4}], "time_estimated": 5400, "created_at": _stamp(2),
             "updated_at": _stamp(3)},
            {"id": 2, "name": "Someday", "status": "in_progress", "priority": "Low", "due_at": None,
             "matter": None, "assignee": person, "assigner": ada, "time_entries_count": 0,
             "time_entries": [], "created_at": _stamp(4), "updated_at": _stamp(5)},
        ],
        "calendar_entries": [
            {"id": 1, "summary": "Hearing", "start_at": "2026-11-25T10:00:00-05:00",
             "end_at": "2026-11-25T11:00:00-05:00", "start_date": "2026-11-25",
             "end_date": "2026-11-25", "all_day": False, "matter": matter,
             "calendar_owner_id": 5000,
             "calendar_owner": {"id": 5000, "name": "Ada Counsel", "type": "UserCalendar"},
             "attendees": [], "created_at": _stamp(5), "updated_at": _stamp(5)},
            {"id": 2, "summary": "Deadline", "start_at": "2026-11-30T00:00:00-05:00",
             "end_at": "2026-12-01T00:00:00-05:00", "start_date": "2026-11-30",
             "end_date": "2026-12-01", "all_day": True, "matter": None, "attendees": [],
             "created_at": _stamp(6), "updated_at": _stamp(6)},
        ],
        "notes": [
            {"id": n, "type": kind, "subject": f"Note {n}", "detail": "Spoke.", "date": "2026-11-02",
             "matter": matter if kind == "Matter" else None,
             "contact": {"id": 3, "name": "Client 3"} if kind == "Contact" else None,
             "author": ada, "created_at": _stamp(2), "updated_at": _stamp(2 + n)}
            for n, kind in ((1, "Matter"), (2, "Contact"), (3, "Matter"), (4, "Contact"))
        ],
        "communications": [
            {"id": 1, "subject": "Re: motion", "body": "See attached.", "type": "EmailCommunication",
             "date": "2026-11-10", "received_at": _stamp(10), "matter": matter, "user": ada,
             "senders": [person], "receivers": [], "created_at": _stamp(10), "updated_at": _stamp(10)},
        ],
        "relationships": [
            {"id": 1, "description": "Opposing party", "matter": matter,
             "contact": {"id": 3, "name": "Client 3"}, "created_at": _stamp(3), "updated_at": _stamp(3)},
        ],
    }


def _bill(bill_id: int, state: str, matter_ids: list[int], total: float, balance: float,
          balances: bool = True) -> dict:
    return {
        "id": bill_id, "number": str(bill_id), "state": state, "type": "MatterBill",
        "kind": "revenue_kind", "issued_at": "2026-11-03", "due_at": "2026-12-03",
        "total": total, "balance": balance, "paid": round(total - balance, 2), "due": total,
        "tax_rate": 0.0, "shared": True, "client": {"id": 1, "name": "Client 1"},
        "user": {"id": 1, "name": "Ada Counsel"}, "currency": {"id": 1, "code": "USD"},
        "matters": [{"id": m, "display_number": f"0000{m}-Client"} for m in matter_ids],
        "balances": [
            {"id": m, "type": "Matter", "amount": balance, "interest_amount": 0.0, "due": balance}
            for m in matter_ids
        ] if balances else [],
        "created_at": _stamp(3), "updated_at": _stamp(6, 8 + bill_id),
    }
