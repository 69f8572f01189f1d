"""The firm's people and places: users, practice areas, bank accounts, contacts, matters.

Built first by the generator (and reused by the life engine for new contacts and matters).
Records are API-shaped; ids follow creation time, as a database would hand them out.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from pipelines.sandbox import names
from pipelines.sandbox.clock import (
    day_of,
    day_start,
    day_text,
    parse_day,
    parse_instant,
    stamp_text,
)
from pipelines.sandbox.scales import Scale

CURRENCIES: dict[str, tuple[int, str]] = {"USD": (1, "$"), "CAD": (2, "$"), "EUR": (3, "€")}
FIRM_NAME = "Hartwell & Quinn LLP"
WORKDAY = (9 * 3600, 17 * 3600)  # changes happen between 09:00 and 17:00 local


def currency(code: str) -> dict:
    """The nested `currency` object for an ISO code."""
    return {"id": CURRENCIES[code][0], "code": code}


def at(rng: random.Random, day: int) -> int:
    """A random instant during the working hours of ordinal `day`."""
    return day_start(day) + rng.randrange(*WORKDAY)


def ref(record: dict, *subfields: str) -> dict:
    """A nested relation to `record` carrying `id` and the given subfields."""
    return {"id": record["id"], **{name: record[name] for name in subfields}}


@dataclass
class Directory:
    """Everything the bill builder needs to know about who is who."""

    users: list[dict] = field(default_factory=list)
    attorneys: list[dict] = field(default_factory=list)
    staff: list[dict] = field(default_factory=list)
    practice_areas: list[dict] = field(default_factory=list)
    bank_accounts: dict[tuple[str, str], dict] = field(default_factory=dict)  # (type, code)
    contacts: list[dict] = field(default_factory=list)
    clients: list[dict] = field(default_factory=list)
    matters: list[dict] = field(default_factory=list)
    open_day: dict[int, int] = field(default_factory=dict)  # matter id -> ordinal day
    matters_by_client: dict[int, list[dict]] = field(default_factory=dict)


def build_directory(rng: random.Random, scale: Scale, first_day: int, today: int) -> Directory:
    """Users, practice areas, bank accounts, contacts and matters of a new firm."""
    found = at(rng, first_day)
    directory = Directory()
    _users(rng, scale, found, directory)
    _practice_areas(found, directory)
    _bank_accounts(found, directory)
    _contacts(rng, scale, first_day, today, directory)
    _matters(rng, scale, today, directory)
    return directory


def _users(rng: random.Random, scale: Scale, found: int, directory: Directory) -> None:
    for index in range(scale.attorneys + scale.staff):
        attorney = index < scale.attorneys
        first, last = rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)
        rate = rng.randrange(250, 700, 25) if attorney else rng.randrange(90, 180, 10)
        user = {
            "id": index + 1, "etag": None, "account_owner": index == 0, "clio_connect": False,
            "court_rules_default_attendee": attorney, "created_at": stamp_text(found + index),
            "updated_at": stamp_text(found + index), "default_calendar_id": 5000 + index,
            "email": f"{first}.{last}{index}@hartwellquinn.example".lower().replace("'", ""),
            "enabled": True, "first_name": first, "initials": first[0] + last[0],
            "last_name": last, "name": f"{first} {last}",
            "phone_number": f"+1 212 555 {1000 + index:04d}",
            "rate": rate + 0.125 if index % 3 == 2 else float(rate),  # some with tenths of a cent
            "roles": ["Administrator"] if index == 0 else [],
            "subscription_type": "Attorney" if attorney else "NonAttorney",
            "time_zone": "Eastern Time (US & Canada)",
        }  # fmt: skip
        directory.users.append(user)
        (directory.attorneys if attorney else directory.staff).append(user)


def _practice_areas(found: int, directory: Directory) -> None:
    for index, (name, category, code) in enumerate(names.PRACTICE_AREAS):
        stamp = stamp_text(found + 100 + index)
        directory.practice_areas.append({
            "id": index + 1, "etag": None, "created_at": stamp, "updated_at": stamp,
            "name": name, "category": category, "code": code,
        })  # fmt: skip


def _bank_accounts(found: int, directory: Directory) -> None:
    owner = directory.users[0]
    kinds = (("Operating", "USD"), ("Trust", "USD"), ("Operating", "CAD"), ("Operating", "EUR"))
    for index, (kind, code) in enumerate(kinds):
        stamp = stamp_text(found + 200 + index)
        directory.bank_accounts[(kind, code)] = {
            "account_number": f"****{4100 + 37 * index}", "balance": 0.0,
            "bank_transactions_count": 0, "clio_payment_page_link": None,
            "clio_payment_page_qr_code": None, "clio_payments_enabled": kind == "Operating",
            "controlled_account": kind == "Trust", "created_at": stamp, "currency": code,
            "currency_symbol": CURRENCIES[code][1], "currency_id": CURRENCIES[code][0],
            "default_account": index == 0, "domicile_branch": None, "etag": None,
            "general_ledger_number": f"{1000 + index * 10}", "holder": FIRM_NAME,
            "id": index + 1, "institution": "First Meridian Bank", "name": f"{kind} ({code})",
            "swift": None, "transit_number": f"0{21000 + index}", "type": kind,
            "updated_at": stamp, "user": {"id": owner["id"]},
        }  # fmt: skip


def _contacts(
    rng: random.Random, scale: Scale, first_day: int, today: int, directory: Directory
) -> None:
    drafts = [("Company", at(rng, rng.randrange(first_day, today - 30))) for _ in range(scale.companies)]
    drafts += [("Person", at(rng, rng.randrange(first_day, today - 30))) for _ in range(scale.people)]
    drafts.sort(key=lambda draft: draft[1])
    companies: list[dict] = []
    for index, (kind, created) in enumerate(drafts):
        contact = person(rng, index + 1, created, companies) if kind == "Person" else company(
            rng, index + 1, created
        )
        directory.contacts.append(contact)
        if kind == "Company":
            companies.append(contact)
    # Clients: most contacts; the first few take the rare currencies so tiny firms have them.
    for index, contact in enumerate(directory.contacts):
        if index >= 3 and rng.random() < 0.3:
            contact["is_co_counsel"] = rng.random() < 0.2
            continue
        code = ("USD", "CAD", "EUR")[index] if index < 3 else _client_currency(rng)
        contact.update(is_client=True, is_bill_recipient=True, currency=currency(code))
        directory.clients.append(contact)


def _client_currency(rng: random.Random) -> str:
    draw = rng.random()
    return "CAD" if draw < 0.05 else "EUR" if draw < 0.08 else "USD"


def person(rng: random.Random, contact_id: int, created: int, companies: list[dict]) -> dict:
    """A Person contact, sometimes employed by one of `companies`."""
    first, last = rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)
    employer = rng.choice(companies) if companies and rng.random() < 0.3 else None
    return _contact(contact_id, created) | {
        "name": f"{first} {last}", "first_name": first, "last_name": last,
        "middle_name": None, "type": "Person", "prefix": rng.choice(names.PREFIXES),
        "title": rng.choice(names.TITLES) if employer else None, "initials": first[0] + last[0],
        "primary_email_address": f"{first}.{last}{contact_id}@mail.example".lower().replace("'", ""),
        "primary_phone_number": f"+1 646 555 {contact_id % 10000:04d}",
        "date_of_birth": day_text(719_000 + rng.randrange(20_000)) if rng.random() < 0.4 else None,
        "company": ref(employer, "name") if employer else None,
    }  # fmt: skip


def company(rng: random.Random, contact_id: int, created: int) -> dict:
    """A Company contact."""
    word, kind = rng.choice(names.COMPANY_WORDS), rng.choice(names.COMPANY_KINDS)
    name = f"{word} {kind} {rng.choice(names.COMPANY_SUFFIXES)}"
    return _contact(contact_id, created) | {
        "name": name, "type": "Company", "initials": word[0] + kind[0],
        "primary_email_address": f"billing{contact_id}@{word.lower()}{kind.lower()}.example",
        "primary_phone_number": f"+1 212 555 {contact_id % 10000:04d}",
        "ledes_client_id": f"L{contact_id:06d}" if rng.random() < 0.2 else None,
    }  # fmt: skip


def _contact(contact_id: int, created: int) -> dict:
    stamp = stamp_text(created)
    return {
        "id": contact_id, "etag": None, "created_at": stamp, "updated_at": stamp,
        "name": None, "first_name": None, "middle_name": None, "last_name": None,
        "date_of_birth": None, "prefix": None, "title": None, "clio_connect_email": None,
        "locked_clio_connect_email": False, "client_connect_user_id": None,
        "secondary_email_address": None, "secondary_phone_number": None,
        "ledes_client_id": None, "has_clio_for_clients_permission": False, "is_client": False,
        "is_clio_for_client_user": False, "is_co_counsel": False, "is_bill_recipient": False,
        "sales_tax_number": None, "currency": None, "company": None,
    }  # fmt: skip


def _matters(rng: random.Random, scale: Scale, today: int, directory: Directory) -> None:
    """Matters of clients. The first ones are set so that even a tiny firm has a client with
    two open matters (multi-matter bills), open matters in each currency, and matters of
    every status; the rest are drawn at random."""
    clients = directory.clients
    first = [(clients[0], "Open"), (clients[0], "Open"), (clients[0], None)]
    first += [(clients[1 % len(clients)], "Open"), (clients[2 % len(clients)], "Open")]
    first += [(clients[3 % len(clients)], "Pending"), (clients[4 % len(clients)], "Closed")]
    owners = first[: scale.matters]
    owners += [(rng.choice(clients), None) for _ in range(scale.matters - len(owners))]
    drafts = []
    for client, status in owners:
        created_day = max(rng.randrange(today - 1100, today - 20), _created_day(client))
        # never before its client: on the client's first day, after it
        created = max(at(rng, created_day), parse_instant(client["created_at"]) + 60)
        drafts.append((created, client, status))
    drafts.sort(key=lambda draft: draft[0])
    for index, (created, client, status) in enumerate(drafts):
        matter = new_matter(rng, directory, index + 1, client, created, today, status)
        directory.matters.append(matter)


def _created_day(record: dict) -> int:
    return parse_day(record["created_at"][:10])


def new_matter(
    rng: random.Random, directory: Directory, matter_id: int, client: dict, created: int,
    today: int, status: str | None = None,
) -> dict:  # fmt: skip
    """An Open, Pending or Closed matter of `client` (closing dates are settled later);
    its status drawn at random unless given."""
    area = rng.choice(directory.practice_areas)
    attorney = rng.choice(directory.attorneys)
    draw = rng.random()
    status = status or ("Pending" if draw < 0.08 else "Closed" if draw < 0.33 else "Open")
    created_day = day_of(created)
    short = client["last_name"] or client["name"].split()[0]
    matter = {
        "id": matter_id, "etag": None, "number": matter_id,
        "display_number": f"{matter_id:05d}-{short}", "custom_number": None,
        "currency": dict(client["currency"]),
        "description": rng.choice(names.MATTER_TOPICS[area["code"]]), "status": status,
        "location": None, "client_reference": None, "client_id": client["id"],
        "billable": True, "maildrop_address": f"{matter_id}.hq@maildrop.example",
        "billing_method": rng.choices(("hourly", "flat", "contingency"), (90, 7, 3))[0],
        "open_date": None if status == "Pending" else day_text(created_day),
        "close_date": None, "pending_date": day_text(created_day) if status == "Pending" else None,
        "created_at": stamp_text(created), "updated_at": stamp_text(created), "shared": False,
        "has_tasks": rng.random() < 0.5, "last_activity_date": None,
        "matter_stage_updated_at": None,
        "client": ref(client, "name"), "practice_area": ref(area, "name"),
        "responsible_attorney": ref(attorney, "name"),
        "originating_attorney": ref(rng.choice(directory.attorneys), "name"),
        "responsible_staff": ref(rng.choice(directory.staff), "name") if rng.random() < 0.7 else None,
    }  # fmt: skip
    if status != "Pending":
        directory.open_day[matter_id] = created_day
        directory.matters_by_client.setdefault(client["id"], []).append(matter)
    return matter
