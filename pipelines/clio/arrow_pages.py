"""A page of a catalog index parsed straight into typed Arrow tables, or declined.

The sync's usual way is `decoding.loads` (Python's JSON, every number an exact `Decimal`)
then `rows.arrow_batch`, all under the GIL, about 8 ms for a page of 200 activities.
Here the page body goes through Arrow's JSON reader (C++, no GIL, about 1 ms) against a
schema built from the catalog (`wire_schema`: the endpoint's columns in the API's shape),
and the parsed `data` list becomes the same root and child tables `arrow_batch` makes:
same schema, same values, a `TOMBSTONE` row for each empty child list, child rows
carrying their parent's id.

Arrow's reader is laxer than the usual path in places, so `parse` either gives exactly
the tables `arrow_batch` gives for the page's records, or declines (returns None), and
the page then goes the usual way, which types it or raises today's errors (a
`ValueDoesNotFit` naming the record, a malformed page fetched again). It declines:
- before parsing: a body that does not open an object (Arrow's reader crashes on `null`),
  invalid UTF-8 (Arrow skips it in keys it ignores), a number with an exponent (Arrow's
  decimal rescale of `9e37` wraps around), `NaN`/`Infinity` (not JSON; Arrow reads them),
  a NUL byte (Python would read UTF-16), a child item's flattened column name as a key
  (`rows._lookup` reads it first);
- when Arrow refuses the page: malformed JSON, a relation that is not an object, a
  number in a text field, text in a number field, a duplicate key, a fraction in an
  int64, an int beyond it, a decimal that needs rounding (2.675 into cents)...;
- after parsing: the body was not one object with a `data` list of objects, a child list
  holds a null, a decimal has more digits than its column, a double is zero (`-0` is
  Python's 0.0 but Arrow's -0.0; `1e-400` is Python's error but Arrow's 0.0) or
  infinite, or a timestamp or date does not convert the way `values.from_wire` converts
  the usual path's strings.
Timestamps, dates and text are read as strings and converted by `values.from_wire`,
the very conversion the usual path's struct read uses, so the two agree by construction.
`tests/sync/test_arrow_pages.py` checks equality on generated adversarial pages.
"""

from __future__ import annotations

import io
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from pipelines.clio import values
from pipelines.clio.column_types import STORAGE
from pipelines.clio.endpoints import BY_TABLE, Child, ColumnType, Endpoint
from pipelines.clio.rows import TOMBSTONE, arrow_schema, child_columns, child_table

# What Arrow might read otherwise than Python's JSON (see the module's docstring).
# Numbers with an exponent (Arrow's decimal rescale of `9e37` wraps around; a double
# like `2e-324` becomes 0), `NaN`/`Infinity` (not JSON, but Arrow reads them), NUL
# (Python would read UTF-16). Matched by Arrow's RE2, without the GIL. A number follows
# `:`, `,`, `[` or a space: hex in text ("6e2a", "\u00e0,") is no exponent.
_SUSPECT = r"[:,\[\s]-?(?:[0-9][0-9.]*[eE][-+]?[0-9]+[,}\]\s]|NaN|Infinity)|\x00"
# Arrow's reader crashes (pyarrow 26: a segmentation fault) on a body that is `null`:
# only a body that opens an object is handed to it.
_AN_OBJECT = re.compile(rb"(?:\xef\xbb\xbf)?[ \t\r\n]*\{")
_DECIMALS = ("money", "decimal")


@dataclass(frozen=True)
class ArrowPage:
    """One page typed by the catalog: what `rows.arrow_batch(tombstones=True)` gives."""

    root: pa.Table
    children: dict[str, pa.Table]  # by child table, tombstone rows included
    next_url: str | None  # `meta.paging.next` as sent ("" as None)


def _read_type(kind: ColumnType) -> pa.DataType:
    """How Arrow reads a column of `kind` off the wire: decimals at full precision (the
    reader does not check precision; a cast does), instants and dates as text."""
    if kind in _DECIMALS:
        scale = STORAGE[kind].scale
        assert scale is not None
        return pa.decimal128(38, scale)
    return pa.string() if kind in ("timestamp", "date") else STORAGE[kind].arrow


def _fields(columns: Mapping[str, ColumnType], relations: set[str]) -> list[pa.Field]:
    """`columns` in the API's shape: `client__id` as `client{id}` for each of `relations`."""
    top: dict[str, pa.DataType] = {}
    nested: dict[str, list[pa.Field]] = {}
    for col, kind in columns.items():
        relation, _, sub = col.partition("__")
        if sub and relation in relations:
            nested.setdefault(relation, []).append(pa.field(sub, _read_type(kind)))
        else:
            top[col] = _read_type(kind)
    fields = [pa.field(name, kind) for name, kind in top.items() if name not in nested]
    return fields + [pa.field(relation, pa.struct(subs)) for relation, subs in nested.items()]


def wire_schema(endpoint: Endpoint) -> pa.Schema:
    """The schema Arrow reads a page of `endpoint` with: `data` (its records, child lists
    as lists of structs) and `meta.paging.next`; every other key is ignored."""
    return _wire_schema(endpoint.table)


@cache
def _wire_schema(table: str) -> pa.Schema:
    endpoint = BY_TABLE[table]
    fields = _fields(endpoint.columns, set(endpoint.nested))
    for child in endpoint.children:
        item = pa.struct(_fields(child.columns, set(child.nested)))
        fields.append(pa.field(child.field, pa.list_(item)))
    paging = pa.struct([pa.field("paging", pa.struct([pa.field("next", pa.string())]))])
    return pa.schema([pa.field("data", pa.list_(pa.struct(fields))), pa.field("meta", paging)])


@cache
def _flattened_keys(table: str) -> tuple[bytes, ...]:
    """Child columns `rows._lookup` would read from a key of their own name if sent."""
    endpoint = BY_TABLE[table]
    return tuple(f'"{col}"'.encode() for child in endpoint.children for col in child.columns
                 if "__" in col)


class _Declined(Exception):
    """This page goes the usual way."""


def parse(endpoint: Endpoint, body: bytes) -> ArrowPage | None:
    """The page `body` of `endpoint` as typed Arrow tables, or None (the usual way then)."""
    if not _AN_OBJECT.match(body) or any(key in body for key in _flattened_keys(endpoint.table)):
        return None
    try:
        if _suspect(body):
            return None
        parsed = pj.read_json(
            io.BytesIO(body),
            read_options=pj.ReadOptions(use_threads=False),
            parse_options=pj.ParseOptions(explicit_schema=wire_schema(endpoint),
                                          unexpected_field_behavior="ignore",
                                          newlines_in_values=True),
        )
        return _typed(endpoint, parsed)
    except (_Declined, *values.ARROW_REFUSED):
        return None


def _suspect(body: bytes) -> bool:
    """Whether `body` holds something Arrow may read otherwise than Python's JSON; a
    `ValueError` if it is not UTF-8 (Arrow skips the keys it ignores unchecked)."""
    offsets = pa.py_buffer(struct.pack("<ii", 0, len(body)))  # pa.array([...]) imports pandas
    whole = pa.Array.from_buffers(pa.binary(), 1, [None, offsets, pa.py_buffer(body)])
    whole.cast(pa.string())  # validates UTF-8
    return bool(pc.match_substring_regex(whole, _SUSPECT)[0].as_py())


def _typed(endpoint: Endpoint, parsed: pa.Table) -> ArrowPage:
    if parsed.num_rows != 1:  # empty, or several JSON documents
        raise _Declined
    data = parsed.column("data").chunk(0)
    if data.null_count:  # no `data` list
        raise _Declined
    records = data.flatten()
    if records.null_count:  # a record that is not an object
        raise _Declined
    columns = _columns(records, endpoint.columns, set(endpoint.nested))
    root = pa.Table.from_arrays([columns[col] for col in endpoint.columns],
                                schema=arrow_schema(endpoint.columns))
    lists = dict(zip(records.type.names, records.flatten(), strict=True))
    children = {child_table(endpoint, child): _child(child, lists[child.field], root.column("id"))
                for child in endpoint.children}
    next_url = parsed.column("meta").chunk(0).flatten()[0].flatten()[0][0].as_py()
    return ArrowPage(root, children, next_url or None)


def _columns(struct: pa.StructArray, columns: Mapping[str, ColumnType],
             relations: set[str]) -> dict[str, pa.Array]:
    """The typed columns of `struct` (records or child items) by flattened name."""
    read: dict[str, pa.Array] = {}
    for field, array in zip(struct.type, struct.flatten(), strict=True):  # parents' nulls kept
        if pa.types.is_struct(field.type) and field.name in relations:
            for sub, inner in zip(field.type, array.flatten(), strict=True):
                read[f"{field.name}__{sub.name}"] = inner
        else:
            read[field.name] = array
    return {col: _converted(kind, read[col]) for col, kind in columns.items()}


def _converted(kind: ColumnType, array: pa.Array) -> pa.Array:
    if kind in _DECIMALS:
        return array.cast(STORAGE[kind].arrow)  # checks the precision: refuses what does not fit
    if kind in ("text", "bool", "timestamp", "date"):
        return values.from_wire(kind, array)
    if kind == "double" and not (pc.all(array.cast(pa.bool_())).as_py() is not False
                                 and pc.all(pc.is_finite(array)).as_py() is not False):
        # a zero may be `-0` (Python's 0.0, Arrow's -0.0) or a number below DOUBLE's
        # smallest (Python refuses it); infinity is a number above its largest
        raise _Declined
    return array  # bigint, double: Arrow reads them exactly (no fraction in an int64)


def _child(child: Child, lists: pa.Array, parent_ids: pa.ChunkedArray) -> pa.Table:
    """The child table of one page, ordered as `rows._child_arrow` orders it: each
    parent's items, or one tombstone row for a parent whose list is empty or null."""
    items = lists.flatten()
    if items.null_count:  # an item that is not an object: the usual way says what it does
        raise _Declined
    owners = pc.list_parent_indices(lists)
    lengths = pc.list_value_length(lists)
    # lists null or empty; no Python scalar (0) here: converting one imports pandas
    empty = pc.indices_nonzero(pc.or_kleene(pc.is_null(lengths), pc.invert(lengths.cast(pa.bool_()))))
    rows = pa.concat_arrays([owners.cast(pa.int64()), empty.cast(pa.int64())])
    order = pc.sort_indices(rows)  # stable: each parent's items keep their order
    typed = _columns(items, child.columns, set(child.nested))
    arrays = [pa.concat_arrays([typed[col], pa.nulls(len(empty), typed[col].type)]).take(order)
              for col in child.columns]
    arrays.append(parent_ids.take(rows.take(order)).combine_chunks())
    flags = pa.concat_arrays([pa.nulls(len(items), pa.bool_()),
                              pc.is_null(pa.nulls(len(empty), pa.bool_()))]).take(order)
    schema = arrow_schema(child_columns(child), required=child.parent_key)
    return pa.Table.from_arrays([*arrays, flags], schema=schema.append(pa.field(TOMBSTONE, pa.bool_())))
