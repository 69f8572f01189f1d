"""API-shaped Clio records -> typed rows, one record at a time or a page batch at a time.

Both forms follow the catalog (`endpoints.py`) and the same typing rules, so a row built
here equals the row a sync stores:

    money      -> Decimal quantized to cents       (DECIMAL(18,2))
    timestamp  -> aware datetime in UTC            (TIMESTAMPTZ)
    date       -> date                             (DATE)
    bigint     -> int, double -> float, bool -> bool, text -> str

`flatten` serves single records (webhooks, tests); `arrow_batch` builds the Arrow tables
the dlt source yields, column by column, which is what makes a full sync fast. List-valued
relations (`bills.matters`) become child rows carrying their parent's id (`bill_id`).
A parent whose list is empty still gets one child row flagged `TOMBSTONE`, so a merge
that replaces the children of each parent in the batch also empties that parent's list;
the flagged row itself is never stored (it is dlt's `hard_delete` column).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

from pipelines.clio.endpoints import BY_TABLE, Child, ColumnType, Endpoint

CENT = Decimal("0.01")
TOMBSTONE = "_tombstone"  # child-table column marking "this parent's list is now empty"

ARROW_TYPES: dict[ColumnType, pa.DataType] = {
    "money": pa.decimal128(18, 2),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "bigint": pa.int64(),
    "double": pa.float64(),
    "bool": pa.bool_(),
    "text": pa.string(),
}

# dlt column hints per catalog type (explicit, so dlt never infers or splits a variant)
DLT_TYPES: dict[ColumnType, dict[str, Any]] = {
    "money": {"data_type": "decimal", "precision": 18, "scale": 2},
    "timestamp": {"data_type": "timestamp", "timezone": True, "precision": 6},
    "date": {"data_type": "date"},
    "bigint": {"data_type": "bigint"},
    "double": {"data_type": "double"},
    "bool": {"data_type": "bool"},
    "text": {"data_type": "text"},
}

Row = dict[str, Any]


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def _timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:  # Clio always sends an offset; a bare time is taken as UTC
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


CONVERTERS: dict[ColumnType, Callable[[Any], Any]] = {
    "money": _money,
    "timestamp": _timestamp,
    "date": _date,
    "bigint": int,
    "double": float,
    "bool": bool,
    "text": _text,
}


def convert(kind: ColumnType, value: Any) -> Any:
    """One API value typed as catalog type `kind` (None stays None)."""
    return None if value is None else CONVERTERS[kind](value)


def child_table(endpoint: Endpoint, child: Child) -> str:
    """The child table's name, the dlt way: `bills` + `matters` -> `bills__matters`."""
    return f"{endpoint.table}__{child.field}"


def child_columns(child: Child) -> dict[str, ColumnType]:
    """The typed columns of a child table, parent id column included."""
    cols: dict[str, ColumnType] = {
        sub: child.types.get(sub, "bigint" if sub == "id" else "text") for sub in child.subfields
    }
    cols[child.parent_key] = "bigint"
    return cols


def _endpoint(endpoint: Endpoint | str) -> Endpoint:
    return BY_TABLE[endpoint] if isinstance(endpoint, str) else endpoint


def _lookup(record: Mapping[str, Any], column: str) -> Any:
    """The API value behind a flattened column: `client__id` reads `record["client"]["id"]`."""
    if column in record:
        return record[column]
    relation, _, sub = column.partition("__")
    nested = record.get(relation)
    return nested.get(sub) if isinstance(nested, Mapping) else None


def flatten(endpoint: Endpoint | str, record: Mapping[str, Any]) -> tuple[Row, dict[str, list[Row]]]:
    """Type one API record: its root row and its child rows by child table.

    Args:
        endpoint: the catalog endpoint (or its table name).
        record: the record as the API returns it (nested relations as dicts / lists).

    Returns:
        `(root_row, {"bills__matters": [row, ...], ...})`; child rows carry the parent id.
    """
    ep = _endpoint(endpoint)
    root = {col: convert(kind, _lookup(record, col)) for col, kind in ep.columns.items()}
    children: dict[str, list[Row]] = {}
    for child in ep.children:
        cols = child_columns(child)
        rows = []
        for item in record.get(child.field) or ():
            row = {sub: convert(cols[sub], item.get(sub)) for sub in child.subfields}
            row[child.parent_key] = root["id"]
            rows.append(row)
        children[child_table(ep, child)] = rows
    return root, children


def _arrow_column(kind: ColumnType, values: list[Any]) -> pa.Array:
    """A typed Arrow column; vectorised casts first, per-value conversion as the fallback."""
    target = ARROW_TYPES[kind]
    try:
        if kind == "money":
            return pa.array(values, pa.float64()).cast(target)
        if kind in ("timestamp", "date"):
            return pa.array(values, pa.string()).cast(target)
        return pa.array(values, target)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError):
        return pa.array([convert(kind, v) for v in values], target)


def arrow_schema(columns: Mapping[str, ColumnType], required: str = "id") -> pa.Schema:
    """The Arrow schema of typed `columns`; the key column `required` is not nullable."""
    return pa.schema(
        [pa.field(name, ARROW_TYPES[kind], nullable=name != required) for name, kind in columns.items()]
    )


def _root_table(ep: Endpoint, records: Sequence[Mapping[str, Any]]) -> pa.Table:
    arrays = []
    relations: dict[str, list[Any]] = {}
    for col, kind in ep.columns.items():
        relation, _, sub = col.partition("__")
        if sub and relation in ep.nested:
            if relation not in relations:
                relations[relation] = [r.get(relation) or {} for r in records]
            values = [nested.get(sub) for nested in relations[relation]]
        else:
            values = [r.get(col) for r in records]
        arrays.append(_arrow_column(kind, values))
    return pa.Table.from_arrays(arrays, schema=arrow_schema(ep.columns))


def _child_arrow(
    child: Child, parent_ids: list[Any], records: Sequence[Mapping[str, Any]], tombstones: bool
) -> pa.Table:
    cols = child_columns(child)
    values: dict[str, list[Any]] = {name: [] for name in cols}
    flags: list[bool | None] = []
    for parent_id, record in zip(parent_ids, records, strict=True):
        items = record.get(child.field) or ()
        for item in items:
            for sub in child.subfields:
                values[sub].append(item.get(sub))
            values[child.parent_key].append(parent_id)
            flags.append(None)
        if not items and tombstones:
            for sub in child.subfields:
                values[sub].append(None)
            values[child.parent_key].append(parent_id)
            flags.append(True)
    arrays = [_arrow_column(kind, values[name]) for name, kind in cols.items()]
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
    """
    ep = _endpoint(endpoint)
    root = _root_table(ep, records)
    parent_ids = root.column("id").to_pylist() if ep.children else []
    children = {
        child_table(ep, child): _child_arrow(child, parent_ids, records, tombstones)
        for child in ep.children
    }
    return root, children
