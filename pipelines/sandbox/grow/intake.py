"""Intake at the sandbox firm: leads arrive in the Grow inbox, become matters, are hired or
declined; hired matters are the Manage firm's matters.

One day of intake (`Intake.live_day`) is the same whether it seeds two years of history
or follows the firm's life (`Firm.advance` calls it after each Manage day):

- leads arrive (one in ten from someone already on file); untriaged leads are triaged
  after a day or so: a few ignored, the rest converted: a Grow contact (found by email,
  else new) and an intake matter appear, and the lead leaves the inbox (state `accepted`);
- intake matters move through intake statuses; some are declined;
- every Manage matter opened that day hires one: the oldest open intake matter of that
  client's Grow contact, else of a contact not yet linked to Manage (which takes the
  Manage client's id, name and numbers, as if Grow had created the client in Manage),
  else a matter made for it on the spot. The hired matter carries the Manage matter's
  id as `clio_id`, its contact the Manage contact's. About one Manage matter in seven
  did not come through Grow;
- notes are added and edited; now and then an ignored lead is purged and a declined
  matter deleted (with its lead, and its contact when that has nothing else).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from pipelines.sandbox import names
from pipelines.sandbox.clock import DAY, day_of, day_start, day_text, parse_instant
from pipelines.sandbox.directory import FIRM_NAME, at
from pipelines.sandbox.firm import Firm
from pipelines.sandbox.grow.world import GrowWorld, ulid

HISTORY_DAYS = 730  # Grow has been the firm's intake tool for two years
FROM_GROW = 0.85  # share of new Manage matters that came through Grow
LOCATIONS = ("Main Office", "Midtown Office", "Brooklyn Office")
SOURCES = (  # name, category, weight
    ("Website", "standard", 30), ("Google Ads", "standard", 20), ("Referral", "standard", 20),
    ("Facebook", "standard", 8), ("Avvo", "standard", 6), ("Yelp", "standard", 5),
    ("Walk-in", "standard", 4), ("Clio Email Marketing", "clio_email_marketing", 7),
)  # fmt: skip
INTAKE_STATUSES = ("New", "Consultation Scheduled", "Consultation Held", "Engagement Letter Sent")
DECLINED_STATUSES = ("Did Not Hire", "Not a Fit", "Hired Another Firm")
NOTE_SUBJECTS = ("Initial call", "Consultation notes", "Conflict check", "Follow-up",
                 "Documents received", "Fee discussion")
MATTER_FIELDS = (  # name, field type, picklist options
    ("Estimated value", "currency", ()), ("Referred by", "text_line", ()),
    ("Consultation date", "date", ()), ("Conflict check cleared", "checkbox", ()),
)  # fmt: skip
CONTACT_FIELDS = (
    ("Preferred language", "picklist", ("English", "Spanish", "French")),
    ("Newsletter", "checkbox", ()),
)


def _count(rng: random.Random, mean: float) -> int:
    whole = int(mean)
    return whole + (rng.random() < mean - whole)


class Intake:
    """Seeds a Grow account for the firm and lives its days."""

    def __init__(self, world: GrowWorld) -> None:
        self.world = world
        self.firm: Firm = world.firm
        self.rng = random.Random(f"grow:{self.firm.seed}")
        size = max(len(self.firm.tables["bills"]), 30) / 730  # as the Manage life sizes days
        self.leads_per_day = max(0.5, size * 0.4 * 2.5)
        self.sources: list[tuple[int, int]] = []  # (source id, weight)
        # indexes, cleaned lazily (a record may have moved on or been deleted since)
        self._untriaged: dict[int, None] = {}  # lead ids in creation order
        self._intake: dict[int, None] = {}  # open intake matter ids in creation order
        self._by_email: dict[str, int] = {}  # contact id by email
        self._manage_seen = 0  # the largest Manage matter id intake has looked at

    # ----- seeding -------------------------------------------------------------------

    def seed(self) -> None:
        """Two years of intake up to the firm's now; then follow the firm's days."""
        firm, world = self.firm, self.world
        today = day_of(firm.now_instant())
        first = today - HISTORY_DAYS
        self._directory(at(self.rng, first - 1))
        opened: dict[int, list[int]] = {}
        for matter in firm.records("matters"):
            day = day_of(parse_instant(matter["created_at"]))
            if first <= day <= today:
                opened.setdefault(day, []).append(matter["id"])
        for day in range(first, today + 1):
            self.live_day(day, opened.get(day, []))
        self._manage_seen = max(firm.tables["matters"], default=0)
        world.tally.clear()
        world.live = True
        firm.day_hooks.append(self.follow_manage_day)

    def _directory(self, founded: int) -> None:
        """Users, locations, matter types, sources and custom fields, all at once."""
        world, rng = self.world, self.rng
        world.account["firm_name"] = FIRM_NAME
        for user in self.firm.records("users"):
            world.create("users", {
                "first_name": user.get("first_name"), "last_name": user.get("last_name"),
                "email": user.get("email") or f"user{user['id']}@hartwellquinn.example",
            }, founded)  # fmt: skip
        for name in LOCATIONS:
            world.create("locations", {"name": name}, founded)
        areas = self.firm.records("practice_areas") or [{"name": "General"}]
        for index, area in enumerate(areas):
            world.create("matter_types", {"name": area["name"], "default": index == 0}, founded)
        for name, category, weight in SOURCES:
            source = world.create("sources", {
                "name": name, "category": category, "is_editable": category == "standard",
            }, founded)  # fmt: skip
            self.sources.append((source["id"], weight))
        for parent, fields in (("Matter", MATTER_FIELDS), ("Contact", CONTACT_FIELDS)):
            for name, kind, options in fields:
                number = len(world.custom_fields) + 1
                world.custom_fields[number] = {
                    "id": number, "global_id": ulid(rng, founded), "clio_id": 4000 + number,
                    "name": name, "field_type": kind, "parent_type": parent, "displayed": True,
                    "deleted": False, "created_at": founded, "updated_at": founded,
                    "picklist_options": [
                        {"global_id": ulid(rng, founded), "clio_id": 1100 + i, "option": o}
                        for i, o in enumerate(options)
                    ] if kind == "picklist" else None,
                }  # fmt: skip

    def follow_manage_day(self, day: int) -> None:
        """The firm lived `day` in Manage: live it in Grow, hiring its new matters."""
        matters = self.firm.tables["matters"]
        opened = sorted(i for i in matters if i > self._manage_seen)
        self._manage_seen = max(self._manage_seen, *opened) if opened else self._manage_seen
        self.live_day(day, opened)

    # ----- one day ---------------------------------------------------------------------

    def live_day(self, day: int, manage_matters: list[int]) -> None:
        """Intake of ordinal `day`; `manage_matters` were opened in Manage that day."""
        rng = self.rng
        for _ in range(_count(rng, self.leads_per_day)):
            self.new_lead(day)
        self._triage(day)
        self._work_intake(day)
        for matter_id in manage_matters:
            if rng.random() < FROM_GROW:
                self.hire_for(matter_id, day)
        self._notes(day)
        self._tidy(day)

    def _when(self, day: int | None) -> int | None:
        """A time of `day` for a change (the firm's clock still decides once live)."""
        return None if day is None else at(self.rng, day)

    def new_lead(self, day: int | None, submitted_by: str | None = None,
                 fields: dict | None = None) -> dict:
        """A lead in the inbox: drawn at random, or as posted (`fields`) by an app."""
        world = self.world
        if fields is None:
            fields = self._random_lead()
        lead = {
            "first_name": fields.get("first_name"), "last_name": fields.get("last_name"),
            "email": fields.get("email"), "phone_number": fields.get("phone_number"),
            "state": "untriaged", "marketing_source_id": fields.get("marketing_source_id"),
            "matter_type_id": fields.get("matter_type_id"),
            "location_id": fields.get("location_id"), "from_message": fields.get("from_message"),
            "from_source": fields.get("from_source"), "referring_url": fields.get("referring_url"),
            "_submitted_by": submitted_by,
        }  # fmt: skip
        created = world.create("inbox_leads", lead, self._when(day))
        self._untriaged[created["id"]] = None
        return created

    def _random_lead(self) -> dict:
        world, rng = self.world, self.rng
        known = world.records("contacts")
        if known and rng.random() < 0.1:  # someone already on file comes back
            contact = rng.choice(known)
            first, last = contact["first_name"] or contact["name"], contact["last_name"]
            email = (contact["emails"] or [None])[0]
        else:
            first, last = rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)
            email = f"{first}.{last}{rng.randrange(10**5)}@mail.example".lower().replace("'", "")
        sources = self.sources
        return {
            "first_name": first, "last_name": last, "email": email,
            "phone_number": f"+1 917 555 {rng.randrange(10000):04d}",
            "marketing_source_id": rng.choices([s for s, _ in sources], [w for _, w in sources])[0]
            if sources else None,
            "matter_type_id": rng.choice(list(world.tables["matter_types"]) or [None]),
            "location_id": rng.choice(list(world.tables["locations"]) or [None]),
            "from_message": "I would like to discuss my situation.",
            "from_source": "website_form", "referring_url": "https://hartwellquinn.example/contact",
        }  # fmt: skip

    def _triage(self, day: int) -> None:
        world, rng = self.world, self.rng
        for lead_id in list(self._untriaged):
            lead = world.tables["inbox_leads"].get(lead_id)
            if lead is None or lead["state"] != "untriaged":
                del self._untriaged[lead_id]
                continue
            if day_of(lead["created_at"]) >= day or rng.random() >= 0.5:
                continue
            if rng.random() < 0.15:
                lead["state"] = "ignored"
                world.touch("inbox_leads", lead, self._when(day))
                del self._untriaged[lead_id]
            else:
                self.convert(lead, day)

    def convert(self, lead: dict, day: int | None = None) -> dict:
        """The lead becomes an intake matter of a contact (found by email, else new) and
        leaves the inbox (state `accepted`). Returns the matter."""
        world = self.world
        when = self._when(day)
        contact = world.tables["contacts"].get(self._by_email.get(lead["email"] or "", 0))
        if contact is None:
            contact = self._new_contact(lead["first_name"], lead["last_name"], lead["email"],
                                        lead["phone_number"], when)
        matter = self._new_matter(contact, when, lead_id=lead["id"],
                                  type_id=lead.get("matter_type_id"),
                                  location_id=lead.get("location_id"))
        lead["state"] = "accepted"
        world.touch("inbox_leads", lead, when)
        self._untriaged.pop(lead["id"], None)
        return matter

    def _new_contact(self, first: str | None, last: str | None, email: str | None,
                     phone: str | None, when: int | None, company: bool = False) -> dict:
        world, rng = self.world, self.rng
        name = (first if company else " ".join(p for p in (first, last) if p)) or "Unknown"
        contact = world.create("contacts", {
            "global_id": "", "clio_id": None, "name": name,
            "first_name": None if company else first, "last_name": None if company else last,
            "emails": [email] if email else [], "phone_numbers": [phone] if phone else [],
            "type": "Company" if company else "Person", "status": "Unassigned",
            "addresses": [{"street": f"{rng.randrange(1, 999)} Broadway", "city": "New York",
                           "province": "NY", "postal_code": f"10{rng.randrange(100):03d}",
                           "country": "USA"}] if rng.random() < 0.5 else [],
            "_custom": [],
        }, when)  # fmt: skip
        contact["global_id"] = ulid(rng, contact["created_at"])
        if email and self._by_email.get(email) not in world.tables["contacts"]:
            self._by_email[email] = contact["id"]
        self._custom_values(contact, "Contact", contact["created_at"])
        return contact

    def _new_matter(self, contact: dict, when: int | None, lead_id: int | None = None,
                    type_id: int | None = None, location_id: int | None = None) -> dict:
        world, rng = self.world, self.rng
        types = world.tables["matter_types"]
        kind = types.get(type_id or 0) or (rng.choice(list(types.values())) if types else None)
        place = world.tables["locations"].get(location_id or 0)
        users = list(world.tables["users"])
        topic = kind["name"] if kind else "Legal"
        matter = world.create("matters", {
            "global_id": "", "clio_id": None,
            "description": f"{topic} enquiry from {contact['name']}"[:255],
            "inbox_lead_id": lead_id, "hired_date": None, "is_locked": False,
            "location": place["name"] if place else None,
            "type": kind["name"] if kind else None,
            "status": INTAKE_STATUSES[0], "status_category": "intake",
            "client_id": contact["id"],
            "matter_assignee_ids": sorted(rng.sample(users, min(len(users), rng.choice((0, 1, 1, 2))))),
            "_custom": [],
        }, when)  # fmt: skip
        matter["global_id"] = ulid(rng, matter["created_at"])
        self._custom_values(matter, "Matter", matter["created_at"])
        self._intake[matter["id"]] = None
        world.refresh_contact_status(contact, at=when)
        return matter

    def _custom_values(self, record: dict, parent: str, when: int) -> None:
        world, rng = self.world, self.rng
        for field in world.custom_fields.values():
            if field["parent_type"] != parent or rng.random() < 0.4:
                continue
            kind, option = field["field_type"], None
            if kind == "currency":
                raw = f"{rng.randrange(10, 500) * 100}.00"
            elif kind == "date":
                raw = day_text(day_of(when) + rng.randrange(1, 15))
            elif kind == "checkbox":
                raw = rng.choice(("true", "false"))
            elif kind == "picklist":
                option = rng.randrange(len(field["picklist_options"]))
                raw = field["picklist_options"][option]["option"]
            else:
                raw = f"{rng.choice(names.FIRST_NAMES)} {rng.choice(names.LAST_NAMES)}"
            record["_custom"].append({
                "id": world.next_id("custom_field_values"), "global_id": ulid(rng, when),
                "field_id": field["id"], "raw_value": raw, "option": option,
                "created_at": when, "updated_at": when,
            })  # fmt: skip

    def _open_intake(self) -> list[dict]:
        """Open intake matters, oldest first (dropping those that moved on from the index)."""
        matters, found = self.world.tables["matters"], []
        for matter_id in list(self._intake):
            matter = matters.get(matter_id)
            if matter is None or matter["status_category"] != "intake":
                del self._intake[matter_id]
            else:
                found.append(matter)
        return found

    def _work_intake(self, day: int) -> None:
        world, rng = self.world, self.rng
        for matter in self._open_intake():
            if day_of(matter["created_at"]) > day - 3:
                continue
            draw = rng.random()
            when = self._when(day)
            if draw < 0.04:
                self.decline(matter, rng.choice(DECLINED_STATUSES), when)
            elif draw < 0.12 and matter["status"] != INTAKE_STATUSES[-1]:
                step = INTAKE_STATUSES.index(matter["status"]) + 1 \
                    if matter["status"] in INTAKE_STATUSES else 1
                matter["status"] = INTAKE_STATUSES[min(step, len(INTAKE_STATUSES) - 1)]
                world.touch("matters", matter, when)

    def decline(self, matter: dict, status: str = DECLINED_STATUSES[0],
                when: int | None = None) -> None:
        matter.update(status=status, status_category="declined")
        self.world.touch("matters", matter, when)
        self.world.refresh_contact_status(self.world.tables["contacts"][matter["client_id"]],
                                          at=when)

    def hire_for(self, manage_matter_id: int, day: int | None = None) -> dict | None:
        """Hire an intake matter as Manage matter `manage_matter_id` (see the module doc);
        None when that matter is unknown or already linked."""
        world, firm = self.world, self.firm
        manage = firm.tables["matters"].get(manage_matter_id)
        if manage is None or manage_matter_id in world.by_clio_matter:
            return None
        client = firm.tables["contacts"].get(manage.get("client_id") or 0)
        if client is None:
            return None
        created = parse_instant(manage["created_at"])
        when = None if world.live else max(created, day_start(day_of(created)) + 9 * 3600)
        contact = world.tables["contacts"].get(world.by_clio_contact.get(client["id"], 0))
        if contact is not None:
            contact_id = contact["id"]
            matter = self._oldest_intake(lambda m: m["client_id"] == contact_id)
        else:
            contacts = world.tables["contacts"]
            matter = self._oldest_intake(lambda m: contacts[m["client_id"]]["clio_id"] is None)
            if matter is not None:
                contact = contacts[matter["client_id"]]
                self._link_contact(contact, client, when)
        if contact is None:
            company = client.get("type") == "Company"
            contact = self._new_contact(client.get("first_name") or client.get("name"),
                                        client.get("last_name"),
                                        client.get("primary_email_address"),
                                        client.get("primary_phone_number"), when, company)
            self._link_contact(contact, client, when)
        if matter is None:
            matter = self._new_matter(contact, when)
        self._hire(matter, manage, created, when)
        world.refresh_contact_status(contact, at=when)
        return matter

    def _hire(self, matter: dict, manage: dict, created: int, when: int | None) -> None:
        world = self.world
        area = (manage.get("practice_area") or {}).get("name")
        matter.update(
            clio_id=manage["id"], status="Hired", status_category="hired",
            hired_date=day_text(day_of(created)),
            description=(manage.get("description") or matter["description"])[:255],
            type=area or matter["type"],
        )
        for value in matter["_custom"]:  # the conflict check was cleared before hiring
            if world.custom_fields[value["field_id"]]["field_type"] == "checkbox":
                value.update(raw_value="true", updated_at=world.stamp(when, value["updated_at"]))
        world.touch("matters", matter, when)
        world.by_clio_matter[manage["id"]] = matter["id"]

    def _oldest_intake(self, accept: Callable[[dict], bool]) -> dict | None:
        return next((m for m in self._open_intake() if accept(m)), None)

    def _link_contact(self, contact: dict, client: dict, when: int | None) -> None:
        """The Grow contact becomes Manage contact `client` (Grow created it there)."""
        world = self.world
        company = client.get("type") == "Company"
        contact.update(
            clio_id=client["id"], name=client.get("name") or contact["name"],
            first_name=None if company else client.get("first_name"),
            last_name=None if company else client.get("last_name"),
            type="Company" if company else "Person",
        )
        if client.get("primary_email_address"):
            contact["emails"] = [client["primary_email_address"]]
            self._by_email[client["primary_email_address"]] = contact["id"]
        if client.get("primary_phone_number"):
            contact["phone_numbers"] = [client["primary_phone_number"]]
        world.by_clio_contact[client["id"]] = contact["id"]
        world.touch("contacts", contact, when)
        # a matter shows its client's name and numbers: it changes with them
        world.touch_all("matters", world.matters_of(contact["id"]), when)

    def _notes(self, day: int) -> None:
        world, rng = self.world, self.rng
        for table, parents in (("matter_notes", "matters"), ("contact_notes", "contacts")):
            records = world.records(parents)
            for _ in range(_count(rng, self.leads_per_day * 0.3) if records else 0):
                parent = rng.choice(records[-50:])
                when = self._when(day)
                if not world.live and when is not None and when <= parent["created_at"]:
                    continue
                self.add_note(table, parent["id"], rng.choice(NOTE_SUBJECTS),
                              f"{rng.choice(names.TIME_NOTES)}.", when)
        notes = world.records("matter_notes")
        if notes and rng.random() < 0.2:
            note = rng.choice(notes)
            note["body"] += " Updated."
            world.touch("matter_notes", note, self._when(day))

    def add_note(self, table: str, parent_id: int, subject: str, body: str,
                 when: int | None = None) -> dict:
        return self.world.create(table, {"subject": subject, "body": body,
                                         "_parent": parent_id}, when)

    def _tidy(self, day: int) -> None:
        """Purge an old ignored lead now and then; delete a declined matter rarely."""
        world, rng = self.world, self.rng
        if rng.random() < 0.05:
            old = [lead for lead in world.records("inbox_leads") if lead["state"] == "ignored"
                   and lead["created_at"] < day_start(day) - 30 * DAY]
            if old:
                world.delete("inbox_leads", rng.choice(old)["id"], self._when(day))
        if rng.random() < 0.03:
            declined = [m for m in world.records("matters") if m["status_category"] == "declined"]
            if declined:
                matter = rng.choice(declined)
                contact = world.tables["contacts"][matter["client_id"]]
                when = self._when(day)
                world.delete("matters", matter["id"], when)
                if contact["clio_id"] is None and not world.matters_of(contact["id"]):
                    world.delete("contacts", contact["id"], when)
