"""The `fields` query parameter: parsing against the spec, and projecting records.

`fields=id,etag,client{id,name},matters{id,display_number}`: top-level names are the
model's scalars or relations; a relation may list its own subfields one level deep
(`client{id,name}`). A second-level relation may be named (`matter{client}`) and then
comes with its default attributes, but asking for its fields (`matter{client{name}}`)
is a 400, as is any unknown name. Without `fields`, records carry `id` and `etag` (or
`id` alone where the model has no etag: billable matters).

Where the spec types a model's `id` as a string (calendar entries), the sandbox stores
an integer and answers its decimal text: `"4521"`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pipelines.sandbox import spec
from pipelines.sandbox.errors import bad_request

DEFAULT_ATTRIBUTES = ("id", "etag")

Lookup = Callable[[str, int], dict | None]  # (table, id) -> live record or None
Projector = Callable[[dict], dict]


@dataclass(frozen=True)
class Nested:
    """A requested relation and the subfields asked of it."""

    name: str
    schema: str
    is_list: bool
    subfields: tuple[str, ...]


@dataclass(frozen=True)
class Selection:
    """A parsed `fields` value for one model."""

    scalars: tuple[str, ...]
    nested: tuple[Nested, ...]
    string_id: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return self.scalars + tuple(n.name for n in self.nested)


def split_top_level(text: str) -> list[str]:
    """Split at commas outside braces: `a,b{c,d},e` -> `["a", "b{c,d}", "e"]`."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                raise bad_request(f"Invalid fields: unbalanced '}}' in {text!r}.")
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth:
        raise bad_request(f"Invalid fields: unbalanced '{{' in {text!r}.")
    parts.append(text[start:])
    return [p.strip() for p in parts]


def default_attributes(schema_name: str) -> tuple[str, ...]:
    """What a relation named without braces carries: `id` and `etag` where the model has
    them, else every field of it."""
    scalars = spec.schema(schema_name).scalars
    # a model with neither (a bill's discount, a rate) comes whole
    return tuple(a for a in DEFAULT_ATTRIBUTES if a in scalars) or tuple(sorted(scalars))


def parse_fields(raw: str | None, schema_name: str) -> Selection:
    """Validate `raw` against the model `schema_name`; ApiError(400) on a bad name or depth."""
    model = spec.schema(schema_name)
    scalars: list[str] = []
    nested: list[Nested] = []
    for part in split_top_level(raw if raw else ",".join(default_attributes(schema_name))):
        name, _, inner = part.partition("{")
        name = name.strip()
        if not name:
            raise bad_request(f"Invalid fields: an empty field name in {raw!r}.")
        if name in model.scalars and not inner:
            scalars.append(name)
            continue
        if name not in model.relations:
            raise bad_request(f"Invalid fields: {name} is not a field of {schema_name}.")
        target, is_list = model.relations[name]
        subs = _parse_subfields(name, inner, target) if inner else default_attributes(target)
        nested.append(Nested(name, target, is_list, subs))
    return Selection(tuple(dict.fromkeys(scalars)), tuple(nested), model.string_id)


def _parse_subfields(relation: str, inner: str, target: str) -> tuple[str, ...]:
    body = inner[:-1] if inner.endswith("}") else inner
    if "{" in body:
        raise bad_request(
            f"Invalid fields: {relation}{{{body}}} nests deeper than one level; "
            "second-level resources only return their default attributes."
        )
    model = spec.schema(target)
    subs = [s.strip() for s in body.split(",") if s.strip()]
    for sub in subs:
        if not model.knows(sub):
            raise bad_request(f"Invalid fields: {sub} is not a field of {relation} ({target}).")
    return tuple(dict.fromkeys(subs)) or default_attributes(target)


def projector(selection: Selection, lookup: Lookup) -> Projector:
    """A function turning a stored record into the response object `selection` describes.

    Nested subfields the stored relation lacks are read from the referenced record's
    table when there is one (`lookup`), else answered as `None` (Clio's absent value).
    """
    scalars = selection.scalars
    nested = [(n.name, n.is_list, _nested_projector(n, lookup)) for n in selection.nested]
    text_id = selection.string_id and "id" in scalars

    def project(record: dict) -> dict:
        out = {name: record.get(name) for name in scalars}
        if text_id:
            out["id"] = _text(out["id"])
        for name, is_list, sub in nested:
            value = record.get(name)
            if value is None:
                out[name] = [] if is_list else None
            elif is_list:
                out[name] = [sub(item) for item in value]
            else:
                out[name] = sub(value)
        return out

    return project


def _nested_projector(nested: Nested, lookup: Lookup) -> Projector:
    table = spec.TABLE_OF_SCHEMA.get(nested.schema)
    model = spec.schema(nested.schema)
    subs = nested.subfields
    second = {s: model.relations[s][0] for s in subs if s in model.relations}

    wanted = frozenset(subs)
    text_id = model.string_id and "id" in wanted

    def project(stored: dict) -> dict:
        if wanted <= stored.keys():
            if not second and not text_id:
                return {s: stored[s] for s in subs}
            source = stored
        else:
            full = lookup(table, stored.get("id")) if table else None
            source = {**full, **stored} if full else stored
        out = {s: source.get(s) for s in subs}
        for s, target in second.items():
            out[s] = _default_view(out[s], target, lookup)
        if text_id:
            out["id"] = _text(out["id"])
        return out

    return project


def _text(value: object) -> object:
    return str(value) if isinstance(value, int) else value


def _default_view(value: object, schema_name: str, lookup: Lookup) -> object:
    """A second-level relation reduced to its default attributes."""
    if value is None:
        return None
    if isinstance(value, list):
        return [_default_view(v, schema_name, lookup) for v in value]
    if not isinstance(value, dict):
        return None
    attrs = default_attributes(schema_name)
    table = spec.TABLE_OF_SCHEMA.get(schema_name)
    if table and not all(a in value for a in attrs):
        value = {**(lookup(table, value.get("id")) or {}), **value}
    view = {a: value.get(a) for a in attrs}
    if spec.schema(schema_name).string_id and "id" in view:
        view["id"] = _text(view["id"])
    return view
