"""Custom field values on matters and contacts: their shape, their text, their edits.

A value is stored on its parent (`custom_field_values[]`) as Clio sends it:

    id                  a string: "<field_type>-<n>" ("text_line-4567"), n unique in the firm
    etag, created_at, updated_at   the value's own
    field_name, field_type, field_required, field_displayed, field_display_order
                        copied from its definition (`custom_fields`)
    value               always a string (the spec types it so), by field type:
        checkbox   "true" / "false"          currency  "1250.00" (two decimals)
        date       "2026-03-14"              time      "14:30:00"
        numeric    "12.5" (shortest decimal) email / url / text_line / text_area: the text
        contact    the contact's id: "123"   matter    the matter's id: "45"
        picklist   the chosen option's id: "7"
    soft_deleted        true when its definition is deleted (the spec: "associated with a
                        deleted custom field"), else false
    custom_field        {id}   picklist_option {id, etag, option} (picklists, else null)
    contact {id, name}  (contact fields, else null)   matter {id, display_number} (matter
                        fields, else null)

An edit (`set_value`, and a definition's deletion, which soft-deletes its values) moves the
value's `updated_at` and `etag`; whether the parent's move too is the firm's
`custom_field_edits` option ("touch": yes; "silent": no, only webhook listeners hear of it).
"""

from __future__ import annotations

import copy
import random
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from pipelines.sandbox import names
from pipelines.sandbox.clock import day_text, etag, stamp_text
from pipelines.sandbox.firm import FirmRuleError

if TYPE_CHECKING:
    from pipelines.sandbox.firm import Firm

FIELD_TYPES = (
    "checkbox", "contact", "currency", "date", "time", "email", "matter", "numeric",
    "picklist", "text_area", "text_line", "url",
)  # fmt: skip
PARENT_OF_TABLE = {"matters": "Matter", "contacts": "Contact"}
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")


def value_record(
    firm: Firm, definition: dict, number: int, text: str, stamp: str, relation: dict | None = None
) -> dict:
    """A new value of `definition` (created and updated at `stamp`)."""
    kind = definition["field_type"]
    value = {
        "id": f"{kind}-{number}", "etag": etag(firm.seed, "custom_field_values", number, 0),
        "field_name": definition["name"], "field_type": kind,
        "field_required": definition["required"], "field_displayed": definition["displayed"],
        "field_display_order": definition["display_order"], "value": text,
        "soft_deleted": bool(definition["deleted"]), "created_at": stamp, "updated_at": stamp,
        "custom_field": {"id": definition["id"]}, "picklist_option": None, "matter": None,
        "contact": None,
    }  # fmt: skip
    if relation is not None:
        value[{"picklist": "picklist_option", "contact": "contact", "matter": "matter"}[kind]] = relation
    return value


# ----- drawing plausible values ---------------------------------------------------------


def draw(
    rng: random.Random, definition: dict, day: int, contacts: list[dict], matters: list[dict]
) -> tuple[str, dict | None] | None:
    """A plausible (text, relation) for `definition` on ordinal `day`; None when nothing
    fits (no live option, no contact or matter to point at)."""
    kind, name = definition["field_type"], definition["name"]
    if kind == "picklist":
        options = [o for o in definition["picklist_options"] or () if not o["deleted_at"]]
        if not options:
            return None
        option = rng.choice(options)
        return str(option["id"]), option_ref(option)
    if kind == "contact":
        if not contacts:
            return None
        contact = rng.choice(contacts)
        return str(contact["id"]), {"id": contact["id"], "name": contact["name"]}
    if kind == "matter":
        if not matters:
            return None
        matter = rng.choice(matters)
        return str(matter["id"]), {"id": matter["id"], "display_number": matter["display_number"]}
    return _draw_text(rng, kind, name, day), None


def _draw_text(rng: random.Random, kind: str, name: str, day: int) -> str:
    if kind == "checkbox":
        return "true" if rng.random() < 0.7 else "false"
    if kind == "currency":
        return f"{rng.randrange(500, 500_000, 50)}.00" if rng.random() < 0.8 else f"{rng.randrange(100, 99_999)}.{rng.randrange(100):02d}"
    if kind == "date":
        return day_text(day + rng.randint(-400, 400))
    if kind == "time":
        return f"{rng.randint(8, 17):02d}:{rng.choice((0, 15, 30, 45)):02d}:00"
    if kind == "numeric":
        return str(rng.randint(1, 400)) if rng.random() < 0.7 else f"{rng.randint(1, 99)}.5"
    if kind == "email":
        return f"{rng.choice(names.FIRST_NAMES)}.{rng.choice(names.LAST_NAMES)}@adjusters.example".lower().replace("'", "")
    if kind == "url":
        return f"https://{'dockets' if 'Docket' in name else 'profiles'}.example/{rng.randrange(10**5, 10**6)}"
    if kind == "text_area":
        return f"{rng.choice(names.TIME_NOTES)}.\n{rng.choice(names.NOTE_SUBJECTS)} pending."
    return f"{name.split()[0][:3].upper()}-{rng.randrange(10**4, 10**5)}"  # text_line


def option_ref(option: dict) -> dict:
    """The `picklist_option` a value names."""
    return {"id": option["id"], "etag": option["etag"], "option": option["option"]}


# ----- values given over the control API -------------------------------------------------


def normalise(firm: Firm, definition: dict, raw: Any) -> tuple[str, dict | None]:
    """Clio's text (and relation) for a value given as JSON; FirmRuleError when it does not
    fit the field's type."""
    kind = definition["field_type"]
    try:
        if kind == "checkbox":
            if isinstance(raw, bool) or raw in ("true", "false"):
                return ("true" if raw in (True, "true") else "false"), None
        elif kind in ("currency", "numeric") and not isinstance(raw, bool):
            number = Decimal(str(raw))
            if number.is_finite():
                shortest = format(number.normalize(), "f")
                return (f"{number:.2f}" if kind == "currency" else shortest), None
        elif kind == "date" and isinstance(raw, str):
            return date.fromisoformat(raw).isoformat(), None
        elif kind == "time" and isinstance(raw, str) and _TIME.match(raw):
            hours, minutes, seconds = _TIME.match(raw).groups()  # type: ignore[union-attr]
            return f"{hours}:{minutes}:{seconds or '00'}", None
        elif kind in ("contact", "matter", "picklist"):
            return _reference(firm, definition, int(raw))
        elif isinstance(raw, str) and _text_fits(kind, raw):
            return raw, None
    except (ValueError, TypeError, InvalidOperation):
        pass
    raise FirmRuleError(f"{raw!r} is not a valid {kind} value for custom field {definition['id']}")


def _text_fits(kind: str, raw: str) -> bool:
    if kind == "email":
        return "@" in raw
    if kind == "url":
        return raw.startswith(("http://", "https://"))
    return kind in ("text_line", "text_area")


def _reference(firm: Firm, definition: dict, target: int) -> tuple[str, dict]:
    kind = definition["field_type"]
    if kind == "picklist":
        for option in definition["picklist_options"] or ():
            if option["id"] == target and not option["deleted_at"]:
                return str(target), option_ref(option)
        raise FirmRuleError(f"{target} is no live option of custom field {definition['id']}")
    table = "contacts" if kind == "contact" else "matters"
    record = firm.get(table, target)
    label = "name" if kind == "contact" else "display_number"
    return str(target), {"id": target, label: record[label]}


# ----- edits ----------------------------------------------------------------------------


def set_value(firm: Firm, table: str, parent_id: int, custom_field_id: int, raw: Any) -> dict:
    """Set (or with `raw` None, remove) the value of a custom field on a matter or contact,
    as a user editing it in Clio; the parent follows the `custom_field_edits` option.
    Returns the parent as it now is."""
    with firm.lock:
        if table not in PARENT_OF_TABLE:
            raise FirmRuleError(f"{table} records have no custom field values")
        parent = firm.get(table, parent_id)
        definition = firm.get("custom_fields", custom_field_id)
        if definition["parent_type"] != PARENT_OF_TABLE[table]:
            raise FirmRuleError(f"custom field {custom_field_id} is a {definition['parent_type']} field")
        if definition["deleted"]:
            raise FirmRuleError(f"custom field {custom_field_id} is deleted")
        values = list(parent.get("custom_field_values") or ())
        current = next((v for v in values if v["custom_field"]["id"] == custom_field_id), None)
        if raw is None:
            if current is None:
                return copy.deepcopy(parent)
            values.remove(current)
            firm.tick()
        else:
            text, relation = normalise(firm, definition, raw)
            stamp = stamp_text(firm.tick())
            if current is None:
                number = firm.next_id("custom_field_values")
                values.append(value_record(firm, definition, number, text, stamp, relation))
            else:
                current.update(value=text, updated_at=stamp, etag=_next_etag(firm, current))
                if definition["field_type"] in ("picklist", "contact", "matter"):
                    key = {"picklist": "picklist_option", "contact": "contact", "matter": "matter"}
                    current[key[definition["field_type"]]] = relation
        parent["custom_field_values"] = values
        firm.custom_field_values_changed(table, parent)
        return copy.deepcopy(parent)


def delete_definition(firm: Firm, custom_field_id: int) -> dict:
    """Delete a custom field "for future use" (it stays, `deleted: true`) and soft-delete
    its values (each an edit of its parent). Returns the definition."""
    with firm.lock:
        definition = firm.get("custom_fields", custom_field_id)
        if definition["deleted"]:
            return copy.deepcopy(definition)
        definition["deleted"] = True
        firm.touch("custom_fields", definition)
        table = "matters" if definition["parent_type"] == "Matter" else "contacts"
        for parent in firm.records(table):
            changed = False
            for value in parent.get("custom_field_values") or ():
                if value["custom_field"]["id"] == custom_field_id and not value["soft_deleted"]:
                    value.update(soft_deleted=True, updated_at=stamp_text(firm.tick()),
                                 etag=_next_etag(firm, value))  # fmt: skip
                    changed = True
            if changed:
                firm.custom_field_values_changed(table, parent)
        return copy.deepcopy(definition)


def _next_etag(firm: Firm, value: dict) -> str:
    number = int(value["id"].rsplit("-", 1)[-1]) if value["id"].rsplit("-", 1)[-1].isdigit() else 0
    return etag(firm.seed, "custom_field_values", number, firm.new_version())
