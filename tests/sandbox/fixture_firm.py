"""A small hand-built firm (`Firm.from_records` input) with known values, for server tests."""

from __future__ import annotations

NOW = "2026-11-20T17:00:00-05:00"


def _stamp(day: int, hour: int = 9) -> str:
    return f"2026-11-{day:02d}T{hour:02d}:00:00-05:00"


def _bill(bill_id: int, state: str, total: float, paid: float, day: int) -> dict:
    return {
        "id": bill_id,
        "number": f"B-{bill_id:04d}",
        "state": state,
        "type": "MatterBill",
        "kind": "revenue_kind",
        "total": total,
        "due": total,
        "paid": paid,
        "credits_issued": 0.0,
        "balance": round(total - paid, 2),
        "pending": 0.0,
        "issued_at": f"2026-10-{day:02d}",
        "due_at": f"2026-11-{day:02d}",
        "paid_at": _stamp(day) if state == "paid" else None,
        "created_at": _stamp(day, 8),
        "updated_at": _stamp(day, 10),
        "client": {"id": 10, "name": "Acme LLP"},
        "user": {"id": 1, "name": "Ada Attorney"},
        "currency": {"id": 1, "code": "USD"},
        "matters": [{"id": 100, "display_number": "00100-Acme"}],
        "balances": [
            {
                "id": 100,
                "type": "Matter",
                "amount": round(total - paid, 2),
                "interest_amount": 0.0,
                "due": total,
            }
        ],
    }


def records() -> dict[str, list[dict]]:
    """Fresh records (the firm mutates what it is given)."""
    return {**billing_records(), **whole_firm_records()}


def _value(value_id: str, field: dict, value: str, day: int, **relations: object) -> dict:
    return {
        "id": value_id, "etag": f'"{value_id}"', "field_name": field["name"],
        "field_type": field["field_type"], "field_required": False, "field_displayed": True,
        "field_display_order": 1, "value": value, "soft_deleted": field["deleted"],
        "created_at": _stamp(day), "updated_at": _stamp(day), "custom_field": {"id": field["id"]},
        "picklist_option": None, "matter": None, "contact": None, **relations,
    }  # fmt: skip


REFERRAL = {
    "id": 700, "name": "Referral Source", "parent_type": "Matter", "field_type": "picklist",
    "displayed": True, "deleted": False, "required": False, "display_order": 1,
    "created_at": _stamp(1), "updated_at": _stamp(1),
    "picklist_options": [
        {"id": 1, "etag": '"o1"', "option": "Google", "deleted_at": None,
         "created_at": _stamp(1), "updated_at": _stamp(1)},
        {"id": 2, "etag": '"o2"', "option": "Yellow pages", "deleted_at": _stamp(3),
         "created_at": _stamp(1), "updated_at": _stamp(3)},
    ],
}  # fmt: skip
CLAIM = {"id": 701, "name": "Claim Number", "parent_type": "Matter", "field_type": "text_line",
         "displayed": True, "deleted": False, "required": False, "display_order": 2,
         "created_at": _stamp(1), "updated_at": _stamp(1), "picklist_options": []}  # fmt: skip
OLD_CODE = {"id": 702, "name": "Old Code", "parent_type": "Contact", "field_type": "text_line",
            "displayed": True, "deleted": True, "required": False, "display_order": 1,
            "created_at": _stamp(1), "updated_at": _stamp(4), "picklist_options": []}  # fmt: skip
VIP = {"id": 703, "name": "VIP", "parent_type": "Contact", "field_type": "checkbox",
       "displayed": True, "deleted": False, "required": False, "display_order": 2,
       "created_at": _stamp(1), "updated_at": _stamp(1), "picklist_options": []}  # fmt: skip
MATTER_VALUES = [
    _value("picklist-9001", REFERRAL, "1", 2,
           picklist_option={"id": 1, "etag": '"o1"', "option": "Google"}),
    _value("text_line-9002", CLAIM, "CLM-1", 3),
]  # fmt: skip
CONTACT_VALUES = [_value("checkbox-9003", VIP, "true", 1), _value("text_line-9004", OLD_CODE, "X-7", 1)]


def whole_firm_records() -> dict[str, list[dict]]:
    """Reference data, casework and trust money of the hand-built firm."""
    ada, sam = {"id": 1, "name": "Ada Attorney"}, {"id": 2, "name": "Sam Staff"}
    acme = {"id": 100, "display_number": "00100-Acme"}
    user = {"id": 1, "type": "User", "name": "Ada Attorney", "initials": "AA", "enabled": True}
    client = {"id": 10, "type": "Company", "name": "Acme LLP", "initials": None, "enabled": None}
    return {
        "custom_fields": [REFERRAL, CLAIM, OLD_CODE, VIP],
        "custom_field_sets": [
            {"id": 710, "name": "Intake", "parent_type": "Matter", "displayed": True,
             "custom_fields": [{"id": 700, "name": "Referral Source"}],
             "created_at": _stamp(1), "updated_at": _stamp(1)},
        ],
        "activity_descriptions": [
            {"id": 720, "name": "Legal research", "type": "clio", "category_type": "hourly",
             "default": True, "currency": {"id": 1, "code": "USD"},
             "rate": {"amount": None, "non_billable_amount": None, "type": "User", "hierarchy": "Default"},
             "created_at": _stamp(1), "updated_at": _stamp(1)},
        ],
        "expense_categories": [
            {"id": 730, "name": "Courier", "rate": 0, "entry_type": "hard_cost",
             "currency": {"id": 1, "code": "USD"}, "created_at": _stamp(1), "updated_at": _stamp(1)},
        ],
        "activity_rates": [
            {"id": 740, "rate": 250.0, "flat_rate": False, "user": ada, "created_at": _stamp(1),
             "updated_at": _stamp(1)},
        ],
        "groups": [
            {"id": 750, "name": "Firm", "type": "AccountGroup", "client_connect_user": False,
             "users": [ada, sam], "updated_at": _stamp(1)},
        ],
        "matter_stages": [
            {"id": 760, "practice_area_id": "50", "name": "Intake", "order": 1,
             "created_at": _stamp(1), "updated_at": _stamp(1)},
            {"id": 761, "practice_area_id": "50", "name": "Trial", "order": 2,
             "created_at": _stamp(1), "updated_at": _stamp(1)},
        ],
        "task_types": [
            {"id": 770, "name": "Filing", "created_at": _stamp(1), "updated_at": _stamp(1)},
            {"id": 771, "name": "Old type", "deleted_at": _stamp(2), "created_at": _stamp(1),
             "updated_at": _stamp(2)},
        ],
        "tasks": [
            {"id": 800, "name": "File motion", "status": "pending", "priority": "High",
             "due_at": "2026-11-01", "matter": acme, "assignee": user, "assigner": ada,
             "task_type": {"id": 770, "name": "Filing"}, "time_entries_count": 0,
             "time_entries": [], "created_at": _stamp(2), "updated_at": _stamp(3)},
            {"id": 801, "name": "Call client", "status": "complete", "priority": "Normal",
             "due_at": "2026-11-05", "completed_at": _stamp(4), "matter": acme, "assignee": user,
             "assigner": ada, "time_entries_count": 0, "time_entries": [],
             "created_at": _stamp(3), "updated_at": _stamp(4)},
            {"id": 802, "name": "Review estate", "status": "in_progress", "priority": "Low",
             "due_at": None, "matter": {"id": 101, "display_number": "00101-Jo"},
             "assignee": client, "assigner": ada, "time_entries_count": 0, "time_entries": [],
             "created_at": _stamp(4), "updated_at": _stamp(5)},
        ],
        "calendar_entries": [
            {"id": 810, "summary": "Hearing", "start_at": "2026-11-25T10:00:00-05:00",
             "end_at": "2026-11-25T11:00:00-05:00", "start_date": "2026-11-25",
             "end_date": "2026-11-25", "all_day": False, "matter": acme,
             "calendar_owner_id": 5000, "calendar_owner": {"id": 5000, "name": "Ada Attorney", "type": "UserCalendar"},
             "attendees": [], "created_at": _stamp(5), "updated_at": _stamp(5)},
            {"id": 811, "summary": "Deadline", "start_at": "2026-11-30T00:00:00-05:00",
             "end_at": "2026-12-01T00:00:00-05:00", "start_date": "2026-11-30",
             "end_date": "2026-12-01", "all_day": True, "matter": None, "attendees": [],
             "created_at": _stamp(6), "updated_at": _stamp(6)},
        ],
        "notes": [
            {"id": 820, "type": "Matter", "subject": "Call", "detail": "Spoke to Acme.",
             "date": "2026-11-02", "matter": acme, "author": ada, "created_at": _stamp(2),
             "updated_at": _stamp(2)},
            {"id": 821, "type": "Contact", "subject": "Intro", "detail": "Met Jo.",
             "date": "2026-11-03", "contact": {"id": 11, "name": "Jo Client"}, "author": sam,
             "created_at": _stamp(3), "updated_at": _stamp(3)},
            {"id": 822, "type": "Matter", "subject": "Strategy", "detail": "Settle.",
             "date": "2026-11-04", "matter": acme, "author": ada, "created_at": _stamp(4),
             "updated_at": _stamp(7)},
        ],
        "communications": [
            {"id": 830, "subject": "Re: motion", "body": "See attached.", "type": "EmailCommunication",
             "date": "2026-11-10", "received_at": _stamp(10), "matter": acme, "user": ada,
             "senders": [user], "receivers": [client], "created_at": _stamp(10), "updated_at": _stamp(10)},
            {"id": 831, "subject": "Phone call", "body": "Called.", "type": "PhoneCommunication",
             "date": "2026-11-03", "received_at": _stamp(3), "matter": acme, "user": ada,
             "senders": [client], "receivers": [user], "created_at": _stamp(11), "updated_at": _stamp(11)},
        ],
        "relationships": [
            {"id": 840, "description": "Opposing party", "matter": acme,
             "contact": {"id": 11, "name": "Jo Client"}, "created_at": _stamp(3), "updated_at": _stamp(3)},
        ],
        "bank_accounts": [
            {"id": 600, "name": "Trust (USD)", "type": "Trust", "currency": "USD", "currency_id": 1,
             "balance": 500.0, "bank_transactions_count": 1, "created_at": _stamp(1),
             "updated_at": _stamp(5)},
        ],
        "bank_transactions": [
            {"id": 610, "type": "BankTransaction", "bank_account_id": 600, "source": "Deposit",
             "date": "2026-11-05", "amount": 500.0, "funds_in": 500.0, "funds_out": 0.0,
             "transaction_type": "Deposit", "currency": "USD", "currency_id": 1,
             "client": {"id": 10}, "matter": {"id": 100}, "bill": None, "allocation": None,
             "created_at": _stamp(5), "updated_at": _stamp(5)},
        ],
    }


def billing_records() -> dict[str, list[dict]]:
    """The billing core of the hand-built firm."""
    return {
        "users": [
            {
                "id": 1,
                "name": "Ada Attorney",
                "first_name": "Ada",
                "last_name": "Attorney",
                "account_owner": True,
                "enabled": True,
                "email": "ada@example.com",
                "subscription_type": "Attorney",
                "created_at": _stamp(1),
                "updated_at": _stamp(1),
            },
            {
                "id": 2,
                "name": "Sam Staff",
                "first_name": "Sam",
                "last_name": "Staff",
                "account_owner": False,
                "enabled": True,
                "email": "sam@example.com",
                "subscription_type": "NonAttorney",
                "created_at": _stamp(2),
                "updated_at": _stamp(3),
            },
        ],
        "contacts": [
            {
                "id": 10,
                "name": "Acme LLP",
                "type": "Company",
                "is_client": True,
                "custom_field_values": CONTACT_VALUES,
                "created_at": _stamp(1),
                "updated_at": _stamp(5),
            },
            {
                "id": 11,
                "name": "Jo Client",
                "first_name": "Jo",
                "last_name": "Client",
                "type": "Person",
                "is_client": True,
                "company": {"id": 10, "name": "Acme LLP"},
                "created_at": _stamp(2),
                "updated_at": _stamp(6),
            },
            {
                "id": 12,
                "name": "Beta Inc",
                "type": "Company",
                "is_client": False,
                "created_at": _stamp(3),
                "updated_at": _stamp(7),
            },
        ],
        "practice_areas": [
            {
                "id": 50,
                "name": "Litigation",
                "code": "LIT",
                "created_at": _stamp(1),
                "updated_at": _stamp(1),
            },
        ],
        "matters": [
            {
                "id": 100,
                "display_number": "00100-Acme",
                "description": "Acme v. Beta",
                "status": "Open",
                "custom_field_values": MATTER_VALUES,
                "matter_stage": {"id": 761, "name": "Trial"},
                "matter_stage_updated_at": _stamp(4),
                "group": {"id": 750, "name": "Firm"},
                "evergreen_retainer": {"id": 100, "etag": '"e100"', "minimum_threshold": 1000.0,
                                       "created_at": _stamp(2), "updated_at": _stamp(2)},
                "client_id": 10,
                "client": {"id": 10, "name": "Acme LLP"},
                "practice_area": {"id": 50, "name": "Litigation"},
                "responsible_attorney": {"id": 1, "name": "Ada Attorney"},
                "created_at": _stamp(2),
                "updated_at": _stamp(4),
            },
            {
                "id": 101,
                "display_number": "00101-Jo",
                "description": "Jo's estate",
                "status": "Closed",
                "client_id": 11,
                "client": {"id": 11, "name": "Jo Client"},
                "created_at": _stamp(3),
                "updated_at": _stamp(8),
            },
        ],
        "bills": [
            _bill(200, "awaiting_payment", 1000.0, 250.0, 1),
            _bill(201, "paid", 500.0, 500.0, 2),
            _bill(202, "draft", 300.0, 0.0, 3),
            _bill(203, "void", 400.0, 0.0, 4),
            _bill(204, "deleted", 200.0, 0.0, 5),
            _bill(205, "awaiting_payment", 800.0, 0.0, 6),
        ],
        "activities": [
            {
                "id": 300,
                "type": "TimeEntry",
                "date": "2026-09-30",
                "quantity": 3600.0,
                "price": 250.0,
                "total": 250.0,
                "billed": True,
                "on_bill": True,
                "matter": {"id": 100, "display_number": "00100-Acme"},
                "user": {"id": 1, "name": "Ada Attorney"},
                "bill": {"id": 200},
                "created_at": _stamp(1),
                "updated_at": _stamp(2),
            },
            {
                "id": 301,
                "type": "ExpenseEntry",
                "date": "2026-10-02",
                "quantity": 1.0,
                "price": 40.0,
                "total": 40.0,
                "billed": False,
                "on_bill": False,
                "matter": {"id": 101, "display_number": "00101-Jo"},
                "user": {"id": 2, "name": "Sam Staff"},
                "bill": None,
                "created_at": _stamp(4),
                "updated_at": _stamp(9),
            },
            {
                "id": 302,
                "type": "TimeEntry",
                "date": "2026-11-12",
                "quantity": 7000.0,
                "rounded_quantity": 7200.0,
                "rounded_quantity_in_hours": 2.0,
                "price": 250.0,
                "total": 500.0,
                "billed": False,
                "on_bill": False,
                "non_billable": False,
                "matter": {"id": 100, "display_number": "00100-Acme"},
                "user": {"id": 1, "name": "Ada Attorney"},
                "activity_description": {"id": 720, "name": "Legal research"},
                "bill": None,
                "created_at": _stamp(12),
                "updated_at": _stamp(12),
            },
        ],
        "line_items": [
            {
                "id": 400,
                "type": "ActivityLineItem",
                "kind": "Service",
                "description": "Work",
                "date": "2026-09-30",
                "quantity": 1.0,
                "price": 1000.0,
                "sub_total": 1000.0,
                "total": 1000.0,
                "tax": 0.0,
                "bill": {"id": 200},
                "matter": {"id": 100, "display_number": "00100-Acme"},
                "activity": {"id": 300},
                "user": {"id": 1, "name": "Ada Attorney"},
                "created_at": _stamp(1),
                "updated_at": _stamp(1),
            },
        ],
        "allocations": [
            {
                "id": 500,
                "date": "2026-11-05",
                "amount": 250.0,
                "interest": False,
                "voided_at": None,
                "bill": {"id": 200, "number": "B-0200"},
                "matter": {"id": 100},
                "contact": {"id": 10, "name": "Acme LLP"},
                "parent": {"id": 900, "type": "Payment"},
                "created_at": _stamp(5),
                "updated_at": _stamp(5),
            },
            {
                "id": 501,
                "date": "2026-11-02",
                "amount": 500.0,
                "interest": False,
                "voided_at": None,
                "bill": {"id": 201, "number": "B-0201"},
                "matter": {"id": 100},
                "contact": {"id": 10, "name": "Acme LLP"},
                "parent": {"id": 901, "type": "Payment"},
                "created_at": _stamp(6),
                "updated_at": _stamp(6),
            },
        ],
    }
