"""The firm's casework records: tasks, calendar entries, notes, communications and
relationships, as makers shared by the generator and the life engine.

Each maker returns an API-shaped record without `id`, `etag` and stamps (the caller
stores it: the generator with its history's instants, life through `Firm.create`).

- Tasks: `status` one of pending, in_progress, in_review, complete, draft; `completed_at`
  is set exactly when the status is complete; `due_at` a date (some tasks have none);
  `assignee` a user (`type` "User") or, now and then, a contact (`type` "Person" or
  "Company"); `time_entries[]` and `time_entries_count` name the time entries linked to
  the task (`activities.task`).
- Calendar entries: timed or all-day (`start_time` / `end_time` null), some recurring
  (`recurrence_rule`), on a user's calendar (`calendar_owner_id` = the user's
  `default_calendar_id`), most on a matter, with the owner and the client as attendees.
- Notes: `type` Matter (with `matter`) or Contact (with `contact`), an `author` user.
- Communications: EmailCommunication or PhoneCommunication on a matter, a user, senders
  and receivers (Participants: the user and the matter's client).
- Relationships: a contact's role on a matter (opposing party, expert witness, ...).
"""

from __future__ import annotations

import random

from pipelines.sandbox import names
from pipelines.sandbox.clock import OFFSET_SECONDS, day_start, day_text, stamp_text

TASK_STATUSES = ("pending", "in_progress", "in_review", "complete", "draft")
OPEN_TASK_WEIGHTS = (50, 20, 8, 15, 7)  # of TASK_STATUSES, tasks of open matters
PRIORITIES = (("Normal", 70), ("High", 20), ("Low", 10))
TIME_ZONE = "Eastern Time (US & Canada)"


def who(user: dict) -> dict:
    """A nested `{id, name}` reference."""
    return {"id": user["id"], "name": user["name"]}


def matter_ref(matter: dict) -> dict:
    return {"id": matter["id"], "display_number": matter["display_number"]}


def participant(record: dict) -> dict:
    """A user or contact as Clio's Participant (assignee, sender, receiver)."""
    is_user = "subscription_type" in record  # every user record has it, no contact does
    return {
        "id": record["id"], "type": "User" if is_user else record.get("type") or "Person",
        "name": record["name"], "initials": record.get("initials"),
        "enabled": True if is_user else None,
    }  # fmt: skip


def task(
    rng: random.Random, matter: dict | None, users: list[dict], task_types: list[dict],
    created_day: int, status: str, contact: dict | None = None,
) -> dict:  # fmt: skip
    """A task created on `created_day` in `status` (its `completed_at` is the caller's)."""
    kind = rng.choice(task_types) if task_types and rng.random() < 0.85 else None
    statute = bool(kind and kind["name"] == "Court deadline" and rng.random() < 0.3)
    assigner = rng.choice(users)
    assignee = contact if contact is not None else rng.choice(users)
    due = created_day + rng.randint(1, 45) if rng.random() < 0.88 else None
    return {
        "name": rng.choice(names.TASK_NAMES), "status": status,
        "description": f"{rng.choice(names.TIME_NOTES)}." if rng.random() < 0.6 else None,
        "description_text_type": "plain_text",
        "priority": rng.choices([p for p, _ in PRIORITIES], [w for _, w in PRIORITIES])[0],
        "due_at": day_text(due) if due is not None else None, "permission": "public",
        "completed_at": None, "notify_completion": rng.random() < 0.3,
        "statute_of_limitations": statute,
        "time_estimated": rng.choice((None, 1800, 3600, 7200, 14400)), "time_entries_count": 0,
        "task_type": {"id": kind["id"], "name": kind["name"]} if kind else None,
        "assigner": who(assigner), "matter": matter_ref(matter) if matter else None,
        "assignee": participant(assignee), "reminders": [], "time_entries": [],
    }  # fmt: skip


def calendar_entry(
    rng: random.Random, matter: dict | None, owner: dict, client: dict | None, start_day: int
) -> dict:
    """An event on `owner`'s calendar on `start_day`."""
    summary = rng.choice(names.CALENDAR_SUMMARIES)
    all_day = summary == "Filing deadline" or rng.random() < 0.08
    if all_day:
        start = day_start(start_day)
        end = start + 86_400
    else:
        start = day_start(start_day) + rng.randrange(8 * 3600, 17 * 3600, 1800)
        end = start + rng.choice((1800, 3600, 5400, 7200))
    calendar = {"id": owner["default_calendar_id"], "name": owner["name"], "type": "UserCalendar"}
    attendees = [{"id": calendar["id"], "type": "Calendar", "name": owner["name"], "email": owner["email"]}]
    if client is not None and rng.random() < 0.6:
        attendees.append({"id": client["id"], "type": "Contact", "name": client["name"],
                          "email": client.get("primary_email_address")})  # fmt: skip
    return {
        "summary": summary if matter is None else f"{summary}: {matter['display_number']}",
        "description": rng.choice(names.NOTE_SUBJECTS) if rng.random() < 0.5 else None,
        "location": rng.choice(names.LOCATIONS), "start_at": stamp_text(start),
        "start_date": day_text(start_day), "start_time": None if all_day else _clock(start),
        "end_at": stamp_text(end), "end_date": day_text(start_day if not all_day else start_day + 1),
        "end_time": None if all_day else _clock(end), "all_day": all_day,
        "recurrence_rule": "FREQ=WEEKLY;INTERVAL=1;COUNT=4" if rng.random() < 0.05 else None,
        "parent_calendar_entry_id": None,
        "court_rule": summary in ("Court hearing", "Filing deadline") and rng.random() < 0.4,
        "permission": "owner", "calendar_owner_id": calendar["id"], "start_at_time_zone": TIME_ZONE,
        "time_entries_count": 0, "matter": matter_ref(matter) if matter else None,
        "calendar_owner": calendar, "attendees": attendees,
    }  # fmt: skip


def _clock(instant: int) -> str:
    """Clio's `start_time`: the local time with the zone's abbreviation."""
    minutes = (instant + OFFSET_SECONDS) % 86_400 // 60
    return f"{minutes // 60:02d}:{minutes % 60:02d} EST"


def note(rng: random.Random, parent_type: str, parent: dict, author: dict, day: int) -> dict:
    """A note on a matter (`parent_type` Matter) or a contact (Contact)."""
    subject = rng.choice(names.NOTE_SUBJECTS)
    return {
        "type": parent_type, "subject": subject,
        "detail": f"{subject}: {rng.choice(names.TIME_NOTES).lower()}.",
        "detail_text_type": "plain_text", "date": day_text(day), "time_entries_count": 0,
        "matter": matter_ref(parent) if parent_type == "Matter" else None,
        "contact": {"id": parent["id"], "name": parent["name"]} if parent_type == "Contact" else None,
        "author": who(author),
    }  # fmt: skip


def communication(
    rng: random.Random, matter: dict, user: dict, client: dict | None, instant: int
) -> dict:
    """An email or a phone call between `user` and the matter's client."""
    email = rng.random() < 0.75
    people = [participant(user)] + ([participant(client)] if client else [])
    senders, receivers = (people[:1], people[1:]) if rng.random() < 0.5 or not client else (people[1:], people[:1])
    return {
        "subject": rng.choice(names.COMMUNICATION_SUBJECTS) if email else "Phone call",
        "body": f"{rng.choice(names.TIME_NOTES)}.", "date": day_text_of(instant),
        "type": "EmailCommunication" if email else "PhoneCommunication",
        "time_entries_count": 0, "received_at": stamp_text(instant),
        "user": who(user), "matter": matter_ref(matter), "senders": senders, "receivers": receivers,
    }  # fmt: skip


def relationship(rng: random.Random, matter: dict, contact: dict) -> dict:
    """`contact`'s role on `matter`."""
    return {
        "description": rng.choice(names.RELATIONSHIPS), "matter": matter_ref(matter),
        "contact": {"id": contact["id"], "name": contact["name"]},
    }


def day_text_of(instant: int) -> str:
    return stamp_text(instant)[:10]
