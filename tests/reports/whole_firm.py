"""A hand-built firm for the whole-firm reports: custom fields of every type, time and
expenses in every billing state, trust with evergreen minimums, tasks in every status.

Today is 2026-11-20 (a Friday) in America/New_York. The tests in
`test_whole_firm_reports.py` hold the expected rows, worked out by hand from the records
below; the comments say which case each record covers.
"""

from __future__ import annotations

from typing import Any

STAMP = "2026-01-05T09:00:00-05:00"
USD = {"id": 1, "code": "USD"}
EUR = {"id": 2, "code": "EUR"}


def _stamped(record: dict[str, Any]) -> dict[str, Any]:
    return {"etag": f'"{record["id"]}"', "created_at": STAMP, "updated_at": STAMP, **record}


def _user(uid: int, name: str, rate: float | None) -> dict[str, Any]:
    return _stamped({"id": uid, "name": name, "enabled": True, "rate": rate,
                     "subscription_type": "Attorney"})


USERS = [
    _user(201, "Alice Attorney", 300.0),
    _user(202, "Bob Barrister", 200.0),
    _user(203, "Carol Clerk", None),  # no standard rate: her entries' own rate stands in
]


def _value(vid: str, field: int, name: str, kind: str, value: str | None, *,
           option: int | None = None, deleted: bool = False) -> dict[str, Any]:
    return {
        "id": vid, "field_name": name, "field_type": kind, "value": value,
        "soft_deleted": deleted, "created_at": STAMP, "updated_at": STAMP,
        "custom_field": {"id": field}, "picklist_option": {"id": option} if option else None,
    }


CONTACTS = [
    _stamped({"id": 101, "name": "Acme LLP", "type": "Company", "is_client": True,
              "custom_field_values": [
                  _value("31-101", 31, "Industry", "picklist", "311", option=311),
                  _value("32-101", 32, "Client Since", "date", "2020-05-01"),
                  _value("33-101", 33, "Email For Invoices", "email", "ap@acme.example"),
              ]}),
    _stamped({"id": 102, "name": "Birch & Co", "type": "Company", "is_client": True,
              "custom_field_values": [
                  _value("31-102", 31, "Industry", "picklist", "312", option=312),
              ]}),
    _stamped({"id": 103, "name": "Dana Opposing", "type": "Person", "is_client": False}),
]


def _definition(fid: int, name: str, parent: str, kind: str, *, deleted: bool = False,
                options: tuple[tuple[int, str, bool], ...] = ()) -> dict[str, Any]:
    return _stamped({
        "id": fid, "name": name, "parent_type": parent, "field_type": kind,
        "displayed": True, "deleted": deleted, "required": False, "display_order": fid,
        "picklist_options": [
            {"id": oid, "option": label, "created_at": STAMP, "updated_at": STAMP,
             "deleted_at": "2026-06-01T12:00:00Z" if gone else None}
            for oid, label, gone in options
        ],
    })


CUSTOM_FIELDS = [
    _definition(11, "Referral Source", "Matter", "picklist",
                options=((111, "Web", False), (112, "Referral", False),
                         (113, "Conference", True))),  # a deleted option keeps its label
    _definition(12, "Budget", "Matter", "currency"),
    _definition(13, "Opened On", "Matter", "date"),
    _definition(14, "Conflict Checked", "Matter", "checkbox"),
    _definition(15, "Related Matter", "Matter", "matter"),
    _definition(16, "Opposing Party", "Matter", "contact"),
    _definition(17, "Estimated Hours", "Matter", "numeric"),
    _definition(18, "Court", "Matter", "text_line"),
    _definition(19, "referral-source", "Matter", "text_line"),  # clashes with 11: `_19`
    _definition(20, "Old Field", "Matter", "text_line", deleted=True),  # no column, no values
    _definition(21, "Matter ID", "Matter", "text_area"),  # clashes with the key column
    _definition(22, "Hearing Time", "Matter", "time"),
    _definition(23, "Website", "Matter", "url"),
    _definition(31, "Industry", "Contact", "picklist",
                options=((311, "Tech", False), (312, "Retail", False))),
    _definition(32, "Client Since", "Contact", "date"),
    _definition(33, "Email For Invoices", "Contact", "email"),
]


def _matter(mid: int, client: dict, attorney: dict, **extra: Any) -> dict[str, Any]:
    return _stamped({
        "id": mid, "number": mid, "display_number": f"00{mid}-{client['name'].split()[0]}",
        "description": f"Matter {mid}", "status": "Open", "billable": True,
        "open_date": "2026-01-10", "client": {"id": client["id"], "name": client["name"]},
        "responsible_attorney": {"id": attorney["id"], "name": attorney["name"]}, **extra,
    })


def _balance(account: int, amount: float, kind: str, currency_id: int) -> dict[str, Any]:
    return {"id": account, "balance": amount, "type": kind, "name": f"{kind} {account}",
            "currency_id": currency_id}


ALICE, BOB, CAROL = USERS
ACME, BIRCH, DANA = CONTACTS
MATTERS = [
    # every field type; a value of a deleted definition; trust below its minimum
    _matter(301, ACME, ALICE, evergreen_retainer={"id": 1, "minimum_threshold": 5000.0},
            account_balances=[_balance(1, 3000.0, "Trust", 1), _balance(2, 120.0, "Operating", 1)],
            custom_field_values=[
                _value("11-301", 11, "Referral Source", "picklist", "111", option=111),
                _value("12-301", 12, "Budget", "currency", "25000.50"),
                _value("13-301", 13, "Opened On", "date", "2026-01-15"),
                _value("14-301", 14, "Conflict Checked", "checkbox", "true"),
                _value("15-301", 15, "Related Matter", "matter", "302"),
                _value("16-301", 16, "Opposing Party", "contact", "103"),
                _value("17-301", 17, "Estimated Hours", "numeric", "12.5"),
                _value("18-301", 18, "Court", "text_line", "Superior Court"),
                _value("19-301", 19, "referral-source", "text_line", "Bar association"),
                _value("20-301", 20, "Old Field", "text_line", "legacy"),
                _value("21-301", 21, "Matter ID", "text_area", "internal ref"),
                _value("22-301", 22, "Hearing Time", "time", "14:30"),
                _value("23-301", 23, "Website", "url", "https://acme.example"),
            ]),
    # trust without a minimum; a soft-deleted value; a false checkbox; a deleted option
    _matter(302, ACME, BOB, account_balances=[_balance(1, 1500.0, "Trust", 1)],
            custom_field_values=[
                _value("11-302", 11, "Referral Source", "picklist", "113", option=113),
                _value("12-302", 12, "Budget", "currency", "999.00", deleted=True),
                _value("14-302", 14, "Conflict Checked", "checkbox", "false"),
                _value("17-302", 17, "Estimated Hours", "numeric", "3"),
            ]),
    # EUR trust above its minimum; a picklist value without its option relation; an
    # empty checkbox
    _matter(303, BIRCH, ALICE, evergreen_retainer={"id": 3, "minimum_threshold": 1000.0},
            account_balances=[_balance(3, 2500.0, "Trust", 2)],
            custom_field_values=[
                _value("11-303", 11, "Referral Source", "picklist", "112"),
                _value("14-303", 14, "Conflict Checked", "checkbox", None),
            ]),
    # a minimum and no trust account at all
    _matter(304, BIRCH, BOB, evergreen_retainer={"id": 4, "minimum_threshold": 800.0}),
    # an empty trust account and no minimum: not in trust_balances
    _matter(305, BIRCH, ALICE, account_balances=[_balance(1, 0.0, "Trust", 1)],
            custom_field_values=[
                _value("11-305", 11, "Referral Source", "picklist", "111", option=111),
            ]),
]

BANK_ACCOUNTS = [
    _stamped({"id": 1, "name": "Trust USD", "type": "Trust", "currency": "USD", "currency_id": 1,
              "balance": 4500.0}),
    _stamped({"id": 2, "name": "Operating USD", "type": "Operating", "currency": "USD",
              "currency_id": 1, "balance": 120.0}),
    _stamped({"id": 3, "name": "Trust EUR", "type": "Trust", "currency": "EUR", "currency_id": 2,
              "balance": 2500.0}),
]


def _ref(record: dict, *names: str) -> dict[str, Any]:
    return {"id": record["id"], **{n: record[n] for n in names}}


def _time(aid: int, matter: dict, user: dict, day: str, seconds: int, price: float,
          total: float, *, bill: int | None = None, billed: bool = False,
          non_billable: bool = False, no_charge: bool = False) -> dict[str, Any]:
    return _stamped({
        "id": aid, "type": "TimeEntry", "date": day, "quantity": float(seconds),
        "rounded_quantity": float(seconds), "quantity_in_hours": seconds / 3600,
        "rounded_quantity_in_hours": seconds / 3600, "price": price, "total": total,
        "billed": billed, "on_bill": bill is not None, "non_billable": non_billable,
        "non_billable_total": total if non_billable else 0.0, "no_charge": no_charge,
        "flat_rate": False, "contingency_fee": False, "quantity_redacted": False,
        "matter": _ref(matter, "display_number"), "user": _ref(user, "name"),
        "bill": {"id": bill} if bill else None,
    })


M301, M302, M303, M304, M305 = MATTERS
ACTIVITIES = [
    # Alice on 301 (USD, rate 300): unbilled at 10, 50 and 111 days; non-billable;
    # on a draft bill (not unbilled: it is on a bill); billed; no charge (unbilled, at 0)
    _time(5001, M301, ALICE, "2026-11-10", 3600, 300.0, 300.0),
    _time(5002, M301, ALICE, "2026-10-01", 5400, 300.0, 450.0),
    _time(5003, M301, ALICE, "2026-08-01", 1800, 300.0, 150.0),
    _time(5004, M301, ALICE, "2026-11-05", 7200, 300.0, 0.0, non_billable=True),
    _time(5006, M301, ALICE, "2026-10-20", 3600, 300.0, 300.0, bill=9003),
    _time(5007, M301, ALICE, "2026-10-05", 10800, 300.0, 900.0, bill=9001, billed=True),
    _time(5008, M301, ALICE, "2026-10-06", 1800, 300.0, 0.0, no_charge=True),
    # an unbilled expense: money, no hours
    _stamped({
        "id": 5009, "type": "ExpenseEntry", "date": "2026-11-01", "quantity": 1.0,
        "rounded_quantity": 1.0, "price": 45.5, "total": 45.5, "billed": False,
        "on_bill": False, "non_billable": False, "non_billable_total": 0.0, "no_charge": False,
        "matter": _ref(M301, "display_number"), "user": _ref(ALICE, "name"), "bill": None,
    }),
    # Alice on 303 (EUR) at a matter rate of 250: unbilled at 66 days, and billed
    _time(5005, M303, ALICE, "2026-09-15", 3600, 250.0, 250.0),
    _time(5017, M303, ALICE, "2026-09-10", 3600, 250.0, 250.0, bill=9007, billed=True),
    # Bob (rate 200): today, in the future, billed, a zero price, 142 days old
    _time(5010, M302, BOB, "2026-11-20", 2700, 200.0, 150.0),
    _time(5011, M302, BOB, "2026-11-25", 1800, 200.0, 100.0),
    _time(5012, M302, BOB, "2026-10-10", 7200, 200.0, 400.0, bill=9002, billed=True),
    _time(5013, M304, BOB, "2026-09-20", 3600, 0.0, 0.0),
    _time(5014, M304, BOB, "2026-07-01", 3600, 200.0, 200.0),
    # Carol (no standard rate) at 120: billed on a paid bill, and unbilled
    _time(5015, M305, CAROL, "2026-10-15", 1800, 120.0, 60.0, bill=9005, billed=True),
    _time(5016, M305, CAROL, "2026-10-16", 7200, 120.0, 240.0),
]


def _bill(bid: int, matter: dict, state: str, issued: str, currency: dict, *, total: float,
          due: float, paid: float, tax: float = 0.0) -> dict[str, Any]:
    client = matter["client"]
    return _stamped({
        "id": bid, "number": f"B-{bid}", "state": state, "kind": "revenue_kind",
        "type": "MatterBill", "issued_at": issued, "due_at": issued, "currency": currency,
        "client": dict(client), "sub_total": total - tax, "total_tax": tax, "total": total,
        "due": due, "paid": paid, "credits_issued": 0.0, "balance": due - paid,
        "matters": [_ref(matter, "display_number")],
        "paid_at": "2026-11-05T15:00:00Z" if state == "paid" else None,
    })


BILLS = [
    _bill(9001, M301, "awaiting_payment", "2026-11-01", USD, total=1000.0, due=1000.0, paid=500.0),
    _bill(9002, M302, "awaiting_payment", "2026-11-02", USD, total=440.0, due=440.0, paid=220.0,
          tax=40.0),
    _bill(9003, M301, "draft", "2026-11-15", USD, total=300.0, due=300.0, paid=0.0),
    _bill(9005, M305, "paid", "2026-10-31", USD, total=60.0, due=60.0, paid=60.0),
    _bill(9006, M301, "void", "2026-10-08", USD, total=300.0, due=300.0, paid=0.0),
    _bill(9007, M303, "paid", "2026-10-01", EUR, total=250.0, due=225.0, paid=225.0),  # discount
]


def _line(lid: int, bill: int, matter: dict, user: dict, day: str, hours: float,
          sub_total: float, *, kind: str = "Service", activity: int | None = None,
          tax: float = 0.0) -> dict[str, Any]:
    return _stamped({
        "id": lid, "type": "ActivityLineItem", "kind": kind, "date": day, "quantity": hours,
        "price": sub_total / hours if hours else sub_total, "sub_total": sub_total, "tax": tax,
        "total": sub_total + tax, "bill": {"id": bill}, "matter": {"id": matter["id"]},
        "user": {"id": user["id"]}, "activity": {"id": activity} if activity else None,
    })


LINE_ITEMS = [
    _line(6001, 9001, M301, ALICE, "2026-10-05", 3.0, 900.0, activity=5007),
    _line(6002, 9001, M301, ALICE, "2026-10-05", 1.0, 100.0, kind="Expense"),  # not time
    _line(6003, 9002, M302, BOB, "2026-10-10", 2.0, 400.0, activity=5012, tax=40.0),
    _line(6004, 9003, M301, ALICE, "2026-10-20", 1.0, 300.0, activity=5006),  # a draft
    _line(6005, 9005, M305, CAROL, "2026-10-15", 0.5, 60.0, activity=5015),
    _line(6006, 9006, M301, ALICE, "2026-10-07", 1.0, 300.0),  # a void bill
    _line(6007, 9007, M303, ALICE, "2026-09-10", 1.0, 250.0, activity=5017),
]


def _payment(aid: int, bill: dict, amount: float, day: str, voided: bool = False) -> dict[str, Any]:
    return _stamped({
        "id": aid, "date": day, "amount": amount, "interest": False,
        "voided_at": "2026-11-15T12:00:00Z" if voided else None,
        "bill": {"id": bill["id"], "number": bill["number"]},
        "contact": dict(bill["client"]), "parent": {"id": aid, "type": "Payment"},
    })


B9001, B9002, _, B9005, _, B9007 = BILLS
ALLOCATIONS = [
    _payment(7001, B9001, 500.0, "2026-11-10"),
    _payment(7005, B9001, 100.0, "2026-11-11", voided=True),  # voided: not collected
    _payment(7002, B9002, 220.0, "2026-11-12"),
    _payment(7003, B9005, 60.0, "2026-11-05"),
    _payment(7004, B9007, 225.0, "2026-10-20"),
]

# Clio's own figures per matter, as hand-computed from the activities and trust above.
BILLABLE_MATTERS = [
    {"id": 301, "display_number": M301["display_number"], "currency_code": "USD", "currency_id": 1,
     "unbilled_hours": 3.5, "unbilled_amount": 945.5, "amount_in_trust": 3000.0,
     "client": _ref(ACME, "name")},
    {"id": 302, "display_number": M302["display_number"], "currency_code": "USD", "currency_id": 1,
     "unbilled_hours": 1.25, "unbilled_amount": 250.0, "amount_in_trust": 1500.0,
     "client": _ref(ACME, "name")},
    {"id": 303, "display_number": M303["display_number"], "currency_code": "EUR", "currency_id": 2,
     "unbilled_hours": 1.0, "unbilled_amount": 250.0, "amount_in_trust": 2500.0,
     "client": _ref(BIRCH, "name")},
    {"id": 304, "display_number": M304["display_number"], "currency_code": "USD", "currency_id": 1,
     "unbilled_hours": 1.0, "unbilled_amount": 200.0, "amount_in_trust": 0.0,
     "client": _ref(BIRCH, "name")},
    {"id": 305, "display_number": M305["display_number"], "currency_code": "USD", "currency_id": 1,
     "unbilled_hours": 2.0, "unbilled_amount": 240.0, "amount_in_trust": 0.0,
     "client": _ref(BIRCH, "name")},
]


def _task(tid: int, name: str, status: str, due: str | None, *, matter: dict | None = M301,
          assignee: dict | None = None) -> dict[str, Any]:
    assignee = assignee or {"id": ALICE["id"], "type": "User", "name": ALICE["name"]}
    return _stamped({
        "id": tid, "name": name, "status": status, "priority": "Normal", "due_at": due,
        "statute_of_limitations": False, "assignee": assignee,
        "assigner": {"id": BOB["id"], "name": BOB["name"]},
        "matter": _ref(matter, "display_number") if matter else None,
        "task_type": {"id": 1, "name": "Filing"},
    })


TASKS = [
    _task(8001, "File motion", "pending", "2026-11-10"),  # 10 days overdue
    _task(8002, "Review brief", "in_progress", "2026-11-20"),  # due today: not overdue
    _task(8003, "Call client", "in_review", "2026-12-01"),
    _task(8004, "Draft letter", "draft", "2026-11-01"),  # a draft: not open
    _task(8005, "Sign retainer", "complete", "2026-11-01"),  # done
    _task(8006, "Gather documents", "pending", None,  # no due date; a contact's task
          assignee={"id": DANA["id"], "type": "Person", "name": DANA["name"]}),
    _task(8007, "Pay court fee", "pending", "2026-11-19", matter=None),  # no matter
]

RECORDS: dict[str, list[dict[str, Any]]] = {
    "users": USERS, "contacts": CONTACTS, "custom_fields": CUSTOM_FIELDS, "matters": MATTERS,
    "bank_accounts": BANK_ACCOUNTS, "activities": ACTIVITIES, "bills": BILLS,
    "line_items": LINE_ITEMS, "allocations": ALLOCATIONS, "billable_matters": BILLABLE_MATTERS,
    "tasks": TASKS,
}
