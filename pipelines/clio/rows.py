"""API-shaped Clio records -> typed rows, one record at a time or a page batch at a time.

Both forms follow the catalog (`endpoints.py`) and convert every value with the one
conversion of its column type (`values.py`), so a row built here equals the row a sync
stores, and a value that does not fit its column raises the same `ValueDoesNotFit`
(naming the table, record id and field) on either path, never a rounded value.

`flatten` serves single records (webhooks, tests); `arrow_batch` builds the Arrow tables
the dlt source yields, column by column, which is what makes a full sync fast: its text,
bool, timestamp and date columns come out of one Arrow struct conversion of the batch,
and any batch Arrow refuses goes value by value, like its numbers. List-valued
relations (`bills.matters`) become child rows carrying their parent's id (`bill_id`).
A parent whose list is empty still gets one child row flagged `TOMBSTONE`, so a merge
that replaces the children of each parent in the batch also empties that parent's list;
the flagged row itself is never stored (it is dlt's `hard_delete` column).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from pipelines.clio import values
from pipelines.clio.column_types import STORAGE
from pipelines.clio.endpoints import BY_TABLE, Child, ColumnType, Endpoint
from pipelines.clio.values import Unfit, ValueDoesNotFit

TOMBSTONE = "_tombstone"  # child-table column marking "this parent's list is now empty"

Row = dict[str, Any]


def child_table(endpoint: Endpoint, child: Child) -> str:
    """The child table's name, the dlt way: `bills` + `matters` -> `bills__matters`."""
    return f"{endpoint.table}__{child.field}"


def child_columns(child: Child) -> dict[str, ColumnType]:
    """The typed columns of a child table, parent id column included."""
    return {**child.columns, child.parent_key: "bigint"}


def _endpoint(endpoint: Endpoint | str) -> Endpoint:
    return BY_TABLE[endpoint] if isinstance(endpoint, str) else endpoint


def _lookup(record: Mapping[str, Any], column: str) -> Any:
    """The API value behind a flattened column: `client__id` reads `record["client"]["id"]`."""
    if column in record:
        return record[column]
    relation, _, sub = column.partition("__")
    nested = record.get(relation)
    return nested.get(sub) if isinstance(nested, Mapping) else None


def _object(value: Any) -> Mapping[str, Any]:
    """A relation's object, or an empty one for anything else (as `_lookup` reads it)."""
    return value if type(value) is dict or isinstance(value, Mapping) else {}


def child_field(child: Child, column: str) -> str:
    """How an error names a child's field: `balances[].amount`, `custom_field_values[].custom_field.id`."""
    return f"{child.field}[].{column.replace('__', '.')}"


def _typed(table: str, field: str, kind: ColumnType, value: Any, record_id: Any) -> Any:
    try:
        return values.scalar(kind, value)
    except Unfit as unfit:
        raise ValueDoesNotFit(table, field, record_id, unfit.value, kind, unfit.reason) from None


def flatten(endpoint: Endpoint | str, record: Mapping[str, Any]) -> tuple[Row, dict[str, list[Row]]]:
    """Type one API record: its root row and its child rows by child table.

    Args:
        endpoint: the catalog endpoint (or its table name).
        record: the record as the API returns it (nested relations as dicts / lists).

    Returns:
        `(root_row, {"bills__matters": [row, ...], ...})`; child rows carry the parent id.

    Raises:
        ValueDoesNotFit: a value its column cannot hold exactly.
    """
    ep = _endpoint(endpoint)
    rid = record.get("id")
    root = {col: _typed(ep.table, col, kind, _lookup(record, col), rid) for col, kind in ep.columns.items()}
    children: dict[str, list[Row]] = {}
    for child in ep.children:
        rows = []
        for item in record.get(child.field) or ():
            row = {col: _typed(ep.table, child_field(child, col), kind, _lookup(item, col), root["id"])
                   for col, kind in child.columns.items()}
            row[child.parent_key] = root["id"]
            rows.append(row)
        children[child_table(ep, child)] = rows
    return root, children


def _arrow_column(table: str, field: str, kind: ColumnType, column: list[Any], ids: Sequence[Any]) -> pa.Array:
    """A typed Arrow column of `table`'s `field`; `ids[i]` is the record id of `column[i]`."""
    try:
        return values.column(kind, column)
    except Unfit as unfit:
        raise ValueDoesNotFit(table, field, ids[unfit.index], unfit.value, kind, unfit.reason) from None


def arrow_schema(columns: Mapping[str, ColumnType], required: str = "id") -> pa.Schema:
    """The Arrow schema of typed `columns`; the key column `required` is not nullable."""
    return pa.schema(
        [pa.field(name, STORAGE[kind].arrow, nullable=name != required) for name, kind in columns.items()]
    )


class _Ids(Sequence[Any]):
    """The record ids of a batch, read only when an error needs one."""

    def __init__(self, records: Sequence[Mapping[str, Any]]) -> None:
        self.records = records

    def __getitem__(self, index: Any) -> Any:
        return self.records[index].get("id")

    def __len__(self) -> int:
        return len(self.records)


# Catalog types whose Arrow conversion never rounds or truncates: their columns are
# read out of a batch's records by one struct conversion (in C, record by record, which
# is what a column-by-column Python pass over 5,000 dicts costs most in). Numbers stay on
# the per-column path: Arrow's int64 conversion truncates 12.5 and its decimal one
# misreads tiny values (see `values._smallest_magnitude`), so only a look at each Python
# value can tell whether a number fits.
_WIRE: dict[ColumnType, pa.DataType] = {
    "text": pa.string(), "bool": pa.bool_(), "timestamp": pa.string(), "date": pa.string(),
}


def _wire_type(ep: Endpoint) -> pa.StructType | None:
    """The struct of `ep`'s wire-typed columns in the API's shape (`client{name}`), if any."""
    top: dict[str, pa.DataType] = {}
    nested: dict[str, list[pa.Field]] = {}
    for col, kind in ep.columns.items():
        if kind not in _WIRE:
            continue
        relation, _, sub = col.partition("__")
        if sub and relation in ep.nested:
            nested.setdefault(relation, []).append(pa.field(sub, _WIRE[kind]))
        else:
            top[col] = _WIRE[kind]
    fields = [pa.field(name, kind) for name, kind in top.items() if name not in nested]
    fields += [pa.field(relation, pa.struct(subs)) for relation, subs in nested.items()]
    return pa.struct(fields) if fields else None


def _wire_columns(ep: Endpoint, records: Sequence[Mapping[str, Any]]) -> dict[str, pa.Array]:
    """The wire-typed columns of a batch by column name, from one struct conversion;
    none when Arrow refuses any value (a number in a text field, a relation that is not
    an object...): then every column takes the per-column path, which types or refuses
    each value exactly as `flatten` does."""
    wire = _wire_type(ep)
    if wire is None:
        return {}
    try:
        struct = pa.array(records, wire)
    except values.ARROW_REFUSED:
        return {}
    columns: dict[str, pa.Array] = {}
    for field, array in zip(wire, struct.flatten(), strict=True):  # flatten keeps parents' nulls
        if pa.types.is_struct(field.type):
            for sub, inner in zip(field.type, array.flatten(), strict=True):
                columns[f"{field.name}__{sub.name}"] = inner
        else:
            columns[field.name] = array
    return columns


def _root_table(ep: Endpoint, records: Sequence[Mapping[str, Any]]) -> pa.Table:
    arrays = []
    ids = _Ids(records)
    relations: dict[str, list[Any]] = {}
    wired = _wire_columns(ep, records)
    for col, kind in ep.columns.items():
        if col in wired:
            try:
                arrays.append(values.from_wire(kind, wired[col]))
                continue
            except values.ARROW_REFUSED:
                pass  # an unreadable timestamp: the per-column path names it
        relation, _, sub = col.partition("__")
        if sub and relation in ep.nested:
            if relation not in relations:
                relations[relation] = [_object(r.get(relation)) for r in records]
            column = [nested.get(sub) for nested in relations[relation]]
        else:
            column = [r.get(col) for r in records]
        arrays.append(_arrow_column(ep.table, col, kind, column, ids))
    return pa.Table.from_arrays(arrays, schema=arrow_schema(ep.columns))


def _child_arrow(
    table: str, child: Child, parent_ids: list[Any], records: Sequence[Mapping[str, Any]], tombstones: bool
) -> pa.Table:
    cols = child_columns(child)
    own = list(child.columns)
    columns: dict[str, list[Any]] = {name: [] for name in cols}
    flags: list[bool | None] = []
    for parent_id, record in zip(parent_ids, records, strict=True):
        items = record.get(child.field) or ()
        for item in items:
            for col in own:
                columns[col].append(_lookup(item, col))
            columns[child.parent_key].append(parent_id)
            flags.append(None)
        if not items and tombstones:
            for col in own:
                columns[col].append(None)
            columns[child.parent_key].append(parent_id)
            flags.append(True)
    owners = columns[child.parent_key]
    arrays = [
        _arrow_column(table, child_field(child, name) if name != child.parent_key else name, kind,
                      columns[name], owners)
        for name, kind in cols.items()
    ]
    schema = arrow_schema(cols, required=child.parent_key)
    if tombstones:
        arrays.append(pa.array(flags, pa.bool_()))
        schema = schema.append(pa.field(TOMBSTONE, pa.bool_()))
    return pa.Table.from_arrays(arrays, schema=schema)


def arrow_batch(
    endpoint: Endpoint | str, records: Sequence[Mapping[str, Any]], tombstones: bool = True
) -> tuple[pa.Table, dict[str, pa.Table]]:
    """Type a batch of API records as Arrow: the root table and one table per child.

    With `tombstones`, child tables hold one `TOMBSTONE` row for each parent whose list
    is empty (for merging destinations; an append-only lake goes without).

    Raises:
        ValueDoesNotFit: a value its column cannot hold exactly (the first one met).
    """
    ep = _endpoint(endpoint)
    root = _root_table(ep, records)
    parent_ids = root.column("id").to_pylist() if ep.children else []
    children = {
        child_table(ep, child): _child_arrow(ep.table, child, parent_ids, records, tombstones)
        for child in ep.children
    }
    return root, children
