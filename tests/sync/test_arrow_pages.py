"""A page parsed by Arrow (`arrow_pages.parse`) gives exactly the usual path's tables, or declines.

The usual path is the client's: `decoding.loads` (a malformed page, or one without a
`data` list, is refused) then `rows.arrow_batch`. On generated page bodies for every
catalog endpoint, with adversarial text on the wire (exponents, `-0`, decimals that need
rounding or overflow Arrow's 128 bits, doubles that underflow, `NaN`, ints beyond int64,
numbers in text fields and text in number fields, relations and child lists of the wrong
shape, nulls in lists, duplicate keys, a flattened key the usual path reads first, BOM,
invalid UTF-8, lone surrogates, NUL, control characters, several documents, trailing
garbage), `parse` must decline or give the same tables (schema and values, compared by
their Python values' repr, so -0.0 is not 0.0 and 1.50 is not 1.5) and next link.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.clio import arrow_pages, decoding
from pipelines.clio.client import _next_url
from pipelines.clio.endpoints import BY_TABLE, ENDPOINTS, Endpoint
from pipelines.clio.rows import arrow_batch


class Raw(str):
    """JSON text written as is (a number Python would not write, or a broken value)."""


def dumps(value: Any, ascii_only: bool) -> str:
    """JSON text of `value`, with `Raw` pieces verbatim and Decimals as written."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{dumps(v, ascii_only)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dumps(v, ascii_only) for v in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=ascii_only)


NUMBERS = [
    "0", "-0", "-0.0", "1", "-1", "0.1", "1.0", "2.675", "2.670", "-2.67", "1e3", "1E+3", "1.5e-1",
    "2.675e0", "9e37", "5e36", "1e-400", "2e-324", "4e-324", "1.7976931348623159e308", "1e400",
    "12345678901234567.5", "1234567890123456.78", "9999999999999999.99", "99999999999999999999999999999",
    "123456789012345678.1234567890", "0.0000000001", "0.00000000001", "9223372036854775807",
    "9223372036854775808", "-9223372036854775808", "18446744073709551616",
    "0." + "0" * 330 + "1", "1234567890123456789012345678.9",
]
NOT_JSON = ["NaN", "Infinity", "-Infinity", "01", "1.", ".5", "+1", "0x10"]
TEXTS = [
    "", "x", "12.5", "1e5", "true", "2026-01-02", "2026-11-20T09:15:02", "2026-11-20T09:15:02Z",
    "2026-11-20T09:15:02-05:00", "2026-11-20 09:15", "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00Z", "not a time", "é", "😀", "a\nb",
    "\"6e2a\"", "NaN",
]
BROKEN = [r'"\ud800"', r'"\udc00x"', '"a\tb"', '"\x01"', r'"\ud83d\ude00"']

ODD = st.one_of(
    st.sampled_from(NUMBERS).map(Raw), st.sampled_from(NOT_JSON).map(Raw),
    st.sampled_from(BROKEN).map(Raw), st.sampled_from(TEXTS), st.text(max_size=4),
    st.booleans(), st.just(None), st.sampled_from([{}, {"id": 1}, [], [1], 0, 1]),
    st.integers(-(2**70), 2**70),
)
GOOD_TIME = st.sampled_from(["2026-11-20T09:15:02-05:00", "2026-11-20T14:15:02Z", "2024-02-29T00:00:00+00:00"])
# Text a page of plain values holds: nothing the fast path declines on sight (`1e5` after
# a space, `NaN`), which a text field may hold too (the first test has them).
PLAIN_TEXT = st.text(max_size=6).filter(
    lambda t: not re.search(r"NaN|Infinity|[0-9]{29}|\x00|\s-?[0-9][0-9.]*[eE][-+]?[0-9]", t))
GOOD = {
    "text": PLAIN_TEXT,
    "bool": st.booleans(),
    "timestamp": GOOD_TIME,
    "date": st.sampled_from(["2026-01-02", "2024-02-29"]),
    "bigint": st.integers(-(2**63), 2**63 - 1),
    "money": st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10**6, max_value=10**6),
    "decimal": st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-100, max_value=100),
    # zero too is declined (it may be `-0`: see arrow_pages._converted); the first test has it
    "double": st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-100,
                          max_value=100).filter(bool),
}


@st.composite
def an_object(draw, columns: dict[str, Any], relations: Any, odd: bool) -> Any:  # type: ignore[no-untyped-def]
    """A record or child item of `columns`: good values, with odd ones where `odd`."""
    item: dict[str, Any] = {}
    for col, kind in columns.items():
        relation, _, sub = col.partition("__")
        if draw(st.integers(0, 9)) == 0:
            continue  # a key the record lacks
        value = draw(ODD if odd and draw(st.integers(0, 5)) == 0 else st.one_of(GOOD[kind], st.none()))
        if sub and relation in relations:
            if relation not in item:
                shape = draw(st.integers(0, 12)) if odd else 0
                item[relation] = {} if shape <= 9 else draw(st.sampled_from([None, "x", 5, [], [{}]]))
            if isinstance(item[relation], dict):
                item[relation][sub] = value
            if odd and draw(st.integers(0, 30)) == 0:
                item[col] = value  # a flattened key (`rows._lookup` reads it first in items)
        else:
            item[col] = value
    if odd and draw(st.integers(0, 20)) == 0:
        item["extra"] = draw(ODD)  # a key the catalog ignores
    return item


@st.composite
def pages(draw, ep: Endpoint) -> bytes:  # type: ignore[no-untyped-def]
    """A page body of `ep`: mostly well-formed, often with an odd value, sometimes broken."""
    odd = draw(st.booleans())
    records: list[Any] = []
    for index in range(draw(st.integers(0, 4))):
        record = draw(an_object(ep.columns, ep.nested, odd))
        record["id"] = index + 1 if not odd or draw(st.integers(0, 8)) else draw(ODD)
        for child in ep.children:
            if odd and draw(st.integers(0, 6)) == 0:
                record[child.field] = draw(st.sampled_from([None, {}, 5, "x", [None], [5], []]))
            else:
                record[child.field] = [draw(an_object(child.columns, child.nested, odd))
                                       for _ in range(draw(st.integers(0, 2)))]
        if odd and draw(st.integers(0, 30)) == 0:
            record = draw(st.sampled_from([None, 5, "x", []]))
        records.append(record)
    nxt = draw(st.sampled_from(["https://app.clio.com/api/v4/x.json?page_token=a", "", None, 5, "missing"]))
    body: dict[str, Any] = {"data": records}
    if nxt != "missing":
        body["meta"] = {"paging": {"next": nxt}}
    if odd and draw(st.integers(0, 10)) == 0:
        body = draw(st.sampled_from([{"meta": {}}, {"data": None}, {"data": {}}, {"data": 5}]))
    text = dumps(body, draw(st.booleans()))
    if odd and draw(st.integers(0, 4)) == 0:
        text = draw(st.sampled_from([
            lambda t: t + "{}", lambda t: t + "\n" + t, lambda t: t + " x", lambda t: t[: len(t) // 2],
            lambda t: "\ufeff" + t, lambda t: "[" + t + "]", lambda t: t.replace('"id":', '"id":1,"id":', 1),
            lambda t: t.replace('"data":', '"x":NaN,"data":', 1), lambda t: t.replace("{", "{\"z\":\"\x00\",", 1),
            lambda t: "  \n" + t + "\n ", lambda t: "", lambda t: "null",
        ]))(text)
    raw = text.encode("utf-8", "surrogatepass")
    if odd and draw(st.integers(0, 12)) == 0:
        raw = raw.replace(b"{", b'{"bad":"\xff\xfe",', 1)  # invalid UTF-8 in a key Arrow ignores
    return raw


def usual(ep: Endpoint, body: bytes) -> tuple[str, Any]:
    """What the client and `arrow_batch` make of `body`: ("ok", tables) or ("refused", why)."""
    try:
        decoded = decoding.loads(body)
    except ValueError:
        return "refused", "invalid JSON"
    if not isinstance(decoded, dict) or not isinstance(decoded.get("data"), list):
        return "refused", "no data list"
    try:
        root, children = arrow_batch(ep, decoded["data"])
    except Exception as exc:  # ValueDoesNotFit, or a crash on a record that is not an object
        return "refused", repr(exc)
    return "ok", (root, children, _next_url(decoded))


def shown(table: Any) -> tuple[str, str]:
    return str(table.schema), repr(table.to_pylist())


def check(ep: Endpoint, body: bytes) -> bool:
    """Assert fast == usual or fast declined; True when the fast path took the page."""
    page = arrow_pages.parse(ep, body)
    if page is None:
        return False
    outcome, tables = usual(ep, body)
    assert outcome == "ok", f"fast path took a page the usual path refuses ({tables}): {body[:300]!r}"
    root, children, next_url = tables
    assert shown(page.root) == shown(root), body
    assert page.root.equals(root, check_metadata=True)
    assert page.children.keys() == children.keys()
    for name, table in children.items():
        assert shown(page.children[name]) == shown(table), (name, body)
    assert page.next_url == next_url
    return True


@pytest.mark.parametrize("ep", ENDPOINTS, ids=lambda ep: ep.table)
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_page_parsed_by_arrow_equals_the_usual_tables_or_is_declined(ep: Endpoint, data: st.DataObject) -> None:
    check(ep, data.draw(pages(ep)))


WIRE_CASES = [  # (column kind, JSON value text, whether the fast path may take it)
    ("money", "2.675", False), ("money", "2.670", True), ("money", "12345678901234567.5", False),
    ("money", "9e37", False), ("money", "1e3", False), ("money", "-0", True), ("money", '"12.5"', True),
    ("decimal", "1234567890123456789012345678.9", False), ("decimal", "0.00000000001", False),
    ("double", "2e-324", False), ("double", "0." + "0" * 330 + "1", False), ("double", "NaN", False),
    ("double", "1.7976931348623159e308", False), ("double", "-0", False), ("double", "-0.0", False), ("double", "0.1", True),
    ("bigint", "9223372036854775808", False), ("bigint", "1.0", False), ("bigint", "-0", True),
    ("bool", "1", False), ("text", "5", False), ("timestamp", '"2026-11-20T09:15:02"', False),
    ("timestamp", '"0001-01-01T00:00:00+01:00"', False), ("date", '"2026-11-20T09:15:02Z"', False),
]


@pytest.mark.parametrize(("kind", "text", "taken"), WIRE_CASES)
def test_values_arrow_reads_laxly_are_declined(kind: str, text: str, taken: bool) -> None:
    """The known lax spots of Arrow's reader, one value each in a column of its kind."""
    ep, col = next((ep, col) for ep in ENDPOINTS for col, k in ep.columns.items()
                   if k == kind and "__" not in col and col != "id" and not ep.children)
    body = f'{{"data":[{{"id":1,"{col}":{text}}}],"meta":{{"paging":{{"next":null}}}}}}'.encode()
    assert check(ep, body) is taken


BILL = '{"id":1,"total":1.5,"matters":[{"id":2,"display_number":"M2"}],"balances":[]}'
SHAPES = [  # (page body of bills, whether the fast path may take it)
    ('{"data":[' + BILL + '],"meta":{"paging":{"next":"/api/v4/bills.json?page_token=x"}}}', True),
    ('\ufeff {"data":[' + BILL + ']}', True), ('{"data":[' + BILL + ']}\n', True),
    ('{"data":[{"id":1,"matters":null,"balances":[]}]}', True),
    ('{"data":[{"id":1,"matters":[null]}]}', False), ('{"data":[null]}', False),
    ('{"data":[{"id":1,"matters":{}}]}', False), ('{"data":[{"id":1,"client":5}]}', False),
    ('{"data":[{"id":1,"client":{"id":1.5}}]}', False), ('{"data":null}', False), ('{}', False),
    ('null', False), ('[]', False), ('{"data":[]}{"data":[]}', False), ('{"data":[]}\nnull', False),
    ('{"data":[],"x":NaN}', False), ('{"data":[{"id":1,"id":2}]}', False),
    ('{"data":[{"id":1,"balances":[{"id":1,"amount":2.675}]}]}', False),
    ('{"data":[{"id":1,"matters":[{"id":1,"display_number":5}]}]}', False),
    ('{"data":[],"meta":{"paging":{"next":5}}}', False), ('{"data":[],"meta":{"paging":{"next":""}}}', True),
]


@pytest.mark.parametrize(("text", "taken"), SHAPES)
def test_shapes_arrow_reads_laxly_are_declined(text: str, taken: bool) -> None:
    assert check(BY_TABLE["bills"], text.encode()) is taken


@pytest.mark.parametrize("ep", ENDPOINTS, ids=lambda ep: ep.table)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_well_formed_pages_take_the_fast_path(ep: Endpoint, data: st.DataObject) -> None:
    """Pages of plain values (no exponent, no odd shape) are not declined: the fast path
    is what a sync uses, not a path that declines everything."""
    records = [{**data.draw(an_object(ep.columns, ep.nested, False)),
                "id": index + 1 if ep.columns["id"] == "bigint" else str(index + 1),
                **{child.field: [data.draw(an_object(child.columns, child.nested, False))]
                   for child in ep.children}}
               for index in range(data.draw(st.integers(1, 3)))]
    body = dumps({"data": records, "meta": {"paging": {"next": None}}}, True).encode()
    assert check(ep, body), body


def test_a_real_page_of_every_endpoint_takes_the_fast_path(sandbox: Any) -> None:
    """The sandbox's own pages (its etags, names, amounts) are typed by Arrow, equal to the
    usual path, except where Clio's shape differs from the catalog's (matter_stages sends
    `practice_area_id` as a string, which only the usual path converts)."""
    import httpx

    from pipelines.clio.source import page_params

    token = sandbox.token()["access_token"]
    declined = []
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}) as http:
        for ep in ENDPOINTS:
            for filters in ep.walks:
                answer = http.get(f"{sandbox.base_url}/api/v4/{ep.path}",
                                  params=page_params(ep, ep.limit, None, filters))
                if not check(ep, answer.content):
                    declined.append(ep.table)
    assert declined == ["matter_stages"]
    assert BY_TABLE["matter_stages"].columns["practice_area_id"] == "bigint"


def test_a_walk_is_read_into_arrow_only_when_its_caller_names_the_endpoint(
        sandbox: Any, tmp_path: Any) -> None:
    """`iter_pages(typed=...)`: the sync's walks name their endpoint and get Arrow pages; a
    walk that does not (the bench's floor, reconcile, the webhooks' fetches) gets records
    only, parsed once; the bills' extra walks (deleted, void) are not typed, since the
    plain walk after them skips their ids; a typed walk asking for other fields is refused."""
    from sync_helpers import settings_for

    from pipelines.clio.client import ClioClient
    from pipelines.clio.source import page_params, typed_by

    bills = BY_TABLE["bills"]
    params = page_params(bills, 5, None)
    with ClioClient(settings_for(sandbox, tmp_path)) as client:
        typed = next(iter(client.iter_pages(bills.path, params, resource="bills", typed=bills)))
        plain = next(iter(client.iter_pages(bills.path, params, resource="bills")))
        with pytest.raises(ValueError, match="catalog fields"):
            next(iter(client.iter_pages(bills.path, {**params, "fields": "id"}, typed=bills)))
    assert typed.arrow is not None and typed.arrow.root.num_rows == 5
    assert plain.arrow is None
    assert [r["id"] for r in plain.records] == typed.arrow.root.column("id").to_pylist()
    assert [typed_by(bills, filters) for filters in bills.walks] == [None, None, bills]
