"""The struct fast path of `rows.arrow_batch` types a batch exactly as the per-column path.

Text, bool, timestamp and date columns (nested ones like `client__name` too) are read
out of a batch's records by one Arrow struct conversion (`rows._wire_columns`); numbers
and anything Arrow refuses go value by value. On generated records, with odd values in
every kind of column (numbers in text fields, relations that are not objects, missing
keys, unreadable timestamps, fractions in id fields), the batch must give the same table,
or the same error, as the per-column path alone, and the same rows as `flatten`.
"""

from __future__ import annotations

from decimal import Decimal
from unittest import mock

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipelines.clio import rows
from pipelines.clio.endpoints import BY_TABLE, ENDPOINTS, Endpoint
from pipelines.clio.rows import arrow_batch, flatten
from pipelines.errors import ClioSyncError

WITH_RELATIONS = [ep for ep in ENDPOINTS if ep.nested]

ODD = st.one_of(st.integers(-3, 3), st.booleans(), st.text(max_size=3),
                st.decimals(allow_nan=False, allow_infinity=False, places=2), st.just([1]))
TIMESTAMPS = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.sampled_from(["2026-11-20T09:15:02Z", "2026-11-20T09:15:02-05:00", "2026-01-02",
                     "2026-11-20 09:15", "not a time", "", "0001-01-01T00:00:00+01:00",
                     "9999-12-31T23:00:00-05:00", "0000-12-31", "0001-01-01T00:00:00Z"]),
)
GOOD = {
    "text": st.text(max_size=6),
    "bool": st.booleans(),
    "timestamp": TIMESTAMPS,
    "date": st.one_of(st.dates().map(str), TIMESTAMPS),
    "bigint": st.one_of(st.integers(-(2**63), 2**63 - 1), st.sampled_from([Decimal("12.5"), Decimal("12.0")])),
    "money": st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10**6, max_value=10**6),
    "decimal": st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-100, max_value=100),
    "double": st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-100, max_value=100),
}


@st.composite
def records(draw, ep: Endpoint) -> list[dict]:  # type: ignore[no-untyped-def]
    """A batch of `ep`'s records: values of each column's kind, nulls, missing keys, and in
    a few columns of a few records an odd value (one odd value sends the whole batch down
    the per-column path, so most batches have none)."""
    columns = [col for col in ep.columns if col != "id"]
    batch = []
    for index in range(draw(st.integers(1, 5))):
        odd = set(draw(st.lists(st.sampled_from(columns), max_size=2))) if draw(st.integers(0, 2)) == 0 else set()
        record: dict = {"id": index + 1}
        for col, kind in ep.columns.items():
            relation, _, sub = col.partition("__")
            if col == "id" or draw(st.integers(0, 9)) == 0:
                continue  # a key the record lacks
            value = draw(ODD if col in odd else st.one_of(GOOD[kind], GOOD[kind], st.none()))
            if sub and relation in ep.nested:
                if relation not in record:
                    odd_relation = col in odd and draw(st.booleans())
                    record[relation] = draw(st.sampled_from([None, "x", 5, []])) if odd_relation else \
                        draw(st.sampled_from([{}, None]))
                if isinstance(record[relation], dict):
                    record[relation][sub] = value
            else:
                record[col] = value
        batch.append(record)
    return batch


def _outcome(convert) -> tuple[str, object]:  # type: ignore[no-untyped-def]
    try:
        return "ok", convert()
    except ClioSyncError as exc:
        return "error", str(exc)


def _per_column_only(ep: Endpoint, batch: list[dict]) -> pa.Table:
    with mock.patch.object(rows, "_wire_columns", lambda ep, records: {}):
        return rows._root_table(ep, batch)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), ep=st.sampled_from(WITH_RELATIONS))
def test_the_struct_path_types_a_batch_as_the_per_column_path(data, ep: Endpoint) -> None:  # type: ignore[no-untyped-def]
    batch = data.draw(records(ep))
    fast = _outcome(lambda: rows._root_table(ep, batch))
    exact = _outcome(lambda: _per_column_only(ep, batch))
    assert fast[0] == exact[0], (fast, exact)
    if fast[0] == "error":
        assert fast[1] == exact[1]
        return
    assert fast[1].equals(exact[1]), (fast[1].to_pylist(), exact[1].to_pylist())
    per_record = [flatten(ep, record)[0] for record in batch]
    assert fast[1].to_pylist() == per_record


@example(record={"id": 1, "client": "x", "user": {"id": 2, "name": "Ann"}})
@example(record={"id": 1, "client": 5, "currency": [], "user": None})
@given(record=st.fixed_dictionaries({"id": st.just(1), "client": st.sampled_from(["x", 5, [], 0, "", True])}))
def test_a_relation_that_is_not_an_object_reads_as_empty_on_both_paths(record: dict) -> None:
    bills = BY_TABLE["bills"]
    root, _ = arrow_batch(bills, [record])
    assert root.to_pylist() == [flatten(bills, record)[0]]
    assert root.column("client__id").null_count == 1


def test_an_ordinary_batch_takes_the_struct_path(bill_record) -> None:  # type: ignore[no-untyped-def]
    bills = BY_TABLE["bills"]
    wired = rows._wire_columns(bills, [bill_record(1, [1]), bill_record(2, [])])
    assert {"updated_at", "issued_at", "shared", "client__name", "etag"} <= set(wired)
    assert not {"id", "total", "client__id"} & set(wired)  # numbers go value by value


@pytest.mark.parametrize(("field", "text"), [
    ("updated_at", "0001-01-01T00:00:00+01:00"),  # year 0 in UTC
    ("updated_at", "9999-12-31T23:00:00-05:00"),  # year 10000 in UTC
    ("issued_at", "0000-12-31"),
])
def test_an_instant_python_cannot_hold_does_not_fit_on_either_path(field: str, text: str) -> None:
    record = {"id": 7, field: text}
    for convert in (lambda: flatten("bills", record), lambda: arrow_batch("bills", [record])):
        with pytest.raises(ClioSyncError, match=f"bills 7 with `{field}`"):
            convert()
