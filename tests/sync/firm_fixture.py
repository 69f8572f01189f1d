"""A hand-built firm for the sync tests: every endpoint, and the awkward cases on purpose.

Cents that floats get wrong (0.29, 0.07, 1234567.89), offsets other than UTC, bills in
every state including `void` and `deleted`, a bill whose `balances` list is empty, a
relation left empty (`None`), more contacts than a small page holds.
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
    ]
    trust_line_items = [
        {"id": 1, "date": "2026-11-09", "total": 200.0, "note": "Retainer", "bill": {"id": 1},
         "matter": {"id": 1}, "client": {"id": 1}, "created_at": _stamp(9), "updated_at": _stamp(9)},
    ]
    return {
        "users": users, "contacts": contacts, "practice_areas": practice_areas,
        "matters": matters, "bills": bills, "activities": activities, "line_items": line_items,
        "bank_accounts": bank_accounts, "allocations": allocations, "credit_memos": credit_memos,
        "interest_charges": interest_charges, "bank_transactions": bank_transactions,
        "trust_line_items": trust_line_items,
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
