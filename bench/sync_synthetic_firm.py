"""A synthetic firm served by the sandbox from a fixture (for `bench/sandbox_page.py`).

The sync benchmarks used it before the sandbox's generated firm was committed; they now
sync the generated firm. It remains only because `bench/sandbox_page.py --firm synthetic`
imports it: the `large` scale's proportions (about 12k bills, 115k activities and line
items, 9k matters and contacts) with every catalog field filled.

    .venv/bin/python bench/sync_synthetic_firm.py PORT [LIMIT WINDOW]   # serves until killed
"""

from __future__ import annotations

import random
import sys
import time

NOW = "2026-11-20T17:00:00-05:00"
SIZES = {"users": 100, "contacts": 9500, "matters": 9000, "bills": 12000, "activities": 115000,
         "line_items": 115000, "allocations": 11000, "credit_memos": 900,
         "interest_charges": 700, "bank_transactions": 8000, "trust_line_items": 3000}


def _stamp(rng: random.Random) -> str:
    return f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}-05:00"


def _day(rng: random.Random) -> str:
    return f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}"


def _money(rng: random.Random, high: float = 5000) -> float:
    return round(rng.uniform(0, high), 2)


def synthetic_firm(seed: int = 7) -> dict[str, list[dict]]:
    rng = random.Random(seed)
    n = SIZES
    users = [{"id": u, "name": f"User {u}", "first_name": "User", "last_name": str(u),
              "email": f"u{u}@firm.test", "rate": _money(rng, 600), "enabled": True,
              "subscription_type": "Attorney", "time_zone": "Eastern Time (US & Canada)",
              "created_at": _stamp(rng), "updated_at": _stamp(rng)} for u in range(1, n["users"] + 1)]
    contacts = [{"id": c, "name": f"Contact {c} LLP", "type": "Company" if c % 3 else "Person",
                 "first_name": "Pat", "last_name": f"Client{c}", "is_client": True,
                 "primary_email_address": f"c{c}@client.test", "primary_phone_number": "555-0100",
                 "created_at": _stamp(rng), "updated_at": _stamp(rng)} for c in range(1, n["contacts"] + 1)]
    matters = [{"id": m, "number": m, "display_number": f"{m:05d}-Contact", "status": "Open",
                "description": f"Matter {m} about a contract dispute", "billable": True,
                "client": {"id": 1 + m % n["contacts"], "name": f"Contact {1 + m % n['contacts']} LLP"},
                "responsible_attorney": {"id": 1 + m % n["users"], "name": f"User {1 + m % n['users']}"},
                "open_date": _day(rng), "created_at": _stamp(rng), "updated_at": _stamp(rng)}
               for m in range(1, n["matters"] + 1)]
    bills = []
    for b in range(1, n["bills"] + 1):
        total = _money(rng, 20000)
        mids = [1 + (b + k) % n["matters"] for k in range(1 + b % 2)]
        bills.append({
            "id": b, "number": str(b), "state": rng.choice(["awaiting_payment", "paid", "draft", "void"]),
            "type": "MatterBill", "kind": "revenue_kind", "issued_at": _day(rng), "due_at": _day(rng),
            "total": total, "balance": _money(rng, total), "paid": 0.0, "due": total, "tax_rate": 0.0,
            "sub_total": total, "client": {"id": 1 + b % n["contacts"], "name": f"Contact {1 + b % n['contacts']} LLP"},
            "user": {"id": 1, "name": "User 1"}, "currency": {"id": 1, "code": "USD"},
            "matters": [{"id": m, "display_number": f"{m:05d}-Contact"} for m in mids],
            "balances": [{"id": m, "type": "Matter", "amount": _money(rng), "interest_amount": 0.0,
                          "due": _money(rng)} for m in mids],
            "created_at": _stamp(rng), "updated_at": _stamp(rng)})
    activities = [{"id": a, "type": "TimeEntry", "date": _day(rng), "quantity": 3600.0,
                   "quantity_in_hours": 1.0, "rounded_quantity_in_hours": 1.0, "price": 350.0,
                   "total": _money(rng, 3000), "note": f"Reviewed and drafted correspondence {a}",
                   "billed": True, "on_bill": True, "non_billable": False,
                   "matter": {"id": 1 + a % n["matters"], "display_number": f"{1 + a % n['matters']:05d}-Contact"},
                   "user": {"id": 1 + a % n["users"], "name": f"User {1 + a % n['users']}"},
                   "bill": {"id": 1 + a % n["bills"]}, "created_at": _stamp(rng), "updated_at": _stamp(rng)}
                  for a in range(1, n["activities"] + 1)]
    line_items = [{"id": li, "type": "ActivityLineItem", "kind": "Service", "date": _day(rng),
                   "description": f"Line {li}", "price": 350.0, "quantity": 1.0, "total": _money(rng, 3000),
                   "sub_total": _money(rng, 3000), "tax": 0.0, "taxable": False,
                   "bill": {"id": 1 + li % n["bills"]}, "matter": {"id": 1 + li % n["matters"]},
                   "activity": {"id": li}, "user": {"id": 1 + li % n["users"]},
                   "created_at": _stamp(rng), "updated_at": _stamp(rng)}
                  for li in range(1, n["line_items"] + 1)]
    allocations = [{"id": al, "date": _day(rng), "amount": _money(rng), "bill": {"id": 1 + al % n["bills"], "number": str(1 + al % n["bills"])},
                    "matter": {"id": 1 + al % n["matters"]}, "contact": {"id": 1 + al % n["contacts"], "name": f"Contact {1 + al % n['contacts']} LLP"},
                    "parent": {"id": al, "type": "Payment"}, "created_at": _stamp(rng), "updated_at": _stamp(rng)}
                   for al in range(1, n["allocations"] + 1)]
    credit_memos = [{"id": i, "date": _day(rng), "amount": _money(rng), "description": "Write-off",
                     "contact": {"id": 1 + i % n["contacts"], "name": f"Contact {1 + i % n['contacts']} LLP"},
                     "user": {"id": 1}, "created_at": _stamp(rng), "updated_at": _stamp(rng)}
                    for i in range(1, n["credit_memos"] + 1)]
    interest = [{"id": i, "date": _day(rng), "total": _money(rng, 100), "description": "Interest",
                 "bill": {"id": 1 + i % n["bills"]}, "created_at": _stamp(rng), "updated_at": _stamp(rng)}
                for i in range(1, n["interest_charges"] + 1)]
    bank_accounts = [{"id": 1, "name": "Operating", "type": "Operating", "balance": 1000.0,
                      "currency": "USD", "user": {"id": 1}, "created_at": NOW, "updated_at": NOW}]
    transactions = [{"id": t, "type": "BankTransaction", "bank_account_id": 1, "date": _day(rng),
                     "amount": _money(rng), "funds_in": _money(rng), "currency": "USD",
                     "description": f"Deposit {t}", "client": {"id": 1 + t % n["contacts"]},
                     "created_at": _stamp(rng), "updated_at": _stamp(rng)}
                    for t in range(1, n["bank_transactions"] + 1)]
    trust = [{"id": t, "date": _day(rng), "total": _money(rng), "note": "Retainer",
              "matter": {"id": 1 + t % n["matters"]}, "client": {"id": 1 + t % n["contacts"]},
              "created_at": _stamp(rng), "updated_at": _stamp(rng)}
             for t in range(1, n["trust_line_items"] + 1)]
    return {"users": users, "contacts": contacts, "matters": matters, "bills": bills,
            "activities": activities, "line_items": line_items, "allocations": allocations,
            "credit_memos": credit_memos, "interest_charges": interest,
            "bank_accounts": bank_accounts, "bank_transactions": transactions,
            "trust_line_items": trust}


def serve_forever(port: int, rate_limit: tuple[int, float] | None = None) -> None:
    import uvicorn

    from pipelines.sandbox.app import create_app
    from pipelines.sandbox.config import SandboxConfig
    from pipelines.sandbox.harness import uvicorn_config

    config = SandboxConfig(fixture=synthetic_firm(), fixture_now=NOW, rate_limit=rate_limit)
    app = create_app(config)
    print(f"Serving at http://127.0.0.1:{port}", flush=True)
    uvicorn.Server(uvicorn_config(app, port)).run()


if __name__ == "__main__":
    started = time.perf_counter()
    limit = (int(sys.argv[2]), float(sys.argv[3])) if len(sys.argv) > 3 and int(sys.argv[2]) else None
    serve_forever(int(sys.argv[1]), limit)
    print(f"served for {time.perf_counter() - started:.0f} s")
