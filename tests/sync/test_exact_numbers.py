"""Numbers from Clio are stored exactly or refused, the same way on every path.

A page is decoded with every fractional JSON number as a `Decimal` (`decoding.loads`);
`flatten` (one record: webhooks, tests) and `arrow_batch` (a page batch: the sync, the
applier) then convert each value with the one conversion of its catalog type, so both
give the same value or the same error, whatever else is in the batch.
"""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipelines.clio.client import ClioClient
from pipelines.clio.config import load_settings
from pipelines.clio.rows import arrow_batch, flatten
from pipelines.errors import ClioSyncError

# (table, field, type, a good value's JSON text) for each kind of number in the catalog
NUMERIC_FIELDS = [
    ("bills", "total", "money", "10.50"),
    ("bills", "tax_rate", "decimal", "0.25"),
    ("matters", "number", "bigint", "12"),
    ("activities", "quantity_in_hours", "double", "0.5"),
    ("bills", "balances[].amount", "money", "3"),
]

JSON_NUMBER = st.from_regex(r"-?(0|[1-9][0-9]{0,30})(\.[0-9]{1,30})?([eE][+-]?[0-9]{1,3})?", fullmatch=True)
DECIMAL_TEXT = st.decimals(allow_nan=False, allow_infinity=False).map(str)  # '1E+2', '-0', '0E-7'...
SCIENTIFIC = st.builds(  # up to 38 digits at any scale: where pyarrow's rescale goes wrong
    lambda sign, digits, exponent: f"{sign}{digits}E{exponent}",
    st.sampled_from(["", "-"]), st.integers(1, 10**38 - 1), st.integers(-120, 40),
)


def _loads(text: str):
    from pipelines.clio.decoding import loads

    return loads(text)


def _record(field: str, number_text: str) -> dict:
    if field.startswith("balances[]."):
        sub = field.removeprefix("balances[].")
        return _loads(f'{{"id": 7, "balances": [{{"id": 1, "{sub}": {number_text}}}]}}')
    return _loads(f'{{"id": 7, "{field}": {number_text}}}')


def _value(field: str, root: dict, children: dict) -> object:
    if field.startswith("balances[]."):
        return children["bills__balances"][0][field.removeprefix("balances[].")]
    return root[field]


def _outcome(convert) -> tuple[str, str]:
    """("ok", repr of the value) or ("error", the message): reprs keep exponent and sign."""
    try:
        return "ok", repr(convert())
    except ValueError as exc:
        assert isinstance(exc, ClioSyncError), f"{type(exc).__name__} is not a ClioSyncError"
        return "error", str(exc)


def _per_record(table: str, field: str, record: dict) -> tuple[str, str]:
    return _outcome(lambda: _value(field, *flatten(table, record)))


def _in_batch(table: str, field: str, records: list[dict], index: int) -> tuple[str, str]:
    def convert() -> object:
        root, children = arrow_batch(table, records)
        rows = {name: t.to_pylist() for name, t in children.items()}
        if field.startswith("balances[]."):
            return next(r for r in rows["bills__balances"] if r["bill_id"] == 7)[field.removeprefix("balances[].")]
        return root.to_pylist()[index][field]

    return _outcome(convert)


class TestDecoder:
    def test_keeps_every_digit_of_a_fraction(self) -> None:
        body = _loads('{"a": 0.1000000000000000055511151231257827, "b": 9.975, "c": 12, "d": -0.0, "e": 1E+2}')
        assert body["a"] == Decimal("0.1000000000000000055511151231257827")
        assert body["b"] == Decimal("9.975") and body["c"] == 12 and isinstance(body["c"], int)
        assert str(body["d"]) == "-0.0" and body["e"] == 100

    @pytest.mark.parametrize("text", ['{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}', '{"a": 1.}'])
    def test_refuses_what_is_not_json(self, text: str) -> None:
        with pytest.raises(ValueError):
            _loads(text)

    def test_client_pages_are_decoded_exactly(self, tmp_path) -> None:
        body = b'{"data": [{"id": 1, "tax_rate": 9.975, "total": 0.1000000000000000055511151231257827}]}'

        def clio(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})

        settings = load_settings(base_url="http://clio.test", token_store=tmp_path / "token.json",
                                 client_id="app", client_secret="secret", access_token="tok")
        with ClioClient(settings, transport=httpx.MockTransport(clio)) as client:
            [page] = list(client.iter_pages("bills.json", {"fields": "id,tax_rate,total"}))
        assert page.records[0]["total"] == Decimal("0.1000000000000000055511151231257827")
        assert page.records[0]["tax_rate"] == Decimal("9.975")


class TestOneConversion:
    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(text=st.one_of(JSON_NUMBER, DECIMAL_TEXT, SCIENTIFIC), column=st.sampled_from(NUMERIC_FIELDS))
    @example(text="2.675", column=NUMERIC_FIELDS[0])
    @example(text="-0", column=NUMERIC_FIELDS[0])
    @example(text="-0.0", column=NUMERIC_FIELDS[1])
    @example(text="1E+2", column=NUMERIC_FIELDS[2])
    @example(text="12.5", column=NUMERIC_FIELDS[2])
    @example(text="1e400", column=NUMERIC_FIELDS[3])
    @example(text="1e-400", column=NUMERIC_FIELDS[3])
    @example(text="99999999999999999.99", column=NUMERIC_FIELDS[0])
    @example(text="1.0000000000000000000000000000000000000000", column=NUMERIC_FIELDS[0])
    @example(text="100000000000000000000000000000", column=NUMERIC_FIELDS[2])
    @example(text="5.9999999999999763441307560E-24", column=NUMERIC_FIELDS[1])
    @example(text="-3.5949E-66", column=NUMERIC_FIELDS[0])
    def test_batch_and_per_record_paths_agree(self, text: str, column: tuple) -> None:
        table, field, kind, good = column
        record = _record(field, text)
        neighbours = [_record(field, good) | {"id": 1}, record, _record(field, "1") | {"id": 9}]
        alone = _per_record(table, field, record)
        assert _in_batch(table, field, [record], 0) == alone
        assert _in_batch(table, field, neighbours, 1) == alone
        status, shown = alone
        if status == "error":
            assert all(part in shown for part in (table, "7", field.split(".")[-1])), shown
            return
        value = _value(field, *flatten(table, record))
        exact = Decimal(text)
        if kind in ("money", "decimal", "bigint"):
            assert value == exact, f"{text} was stored as {value!r}: rounded"
        else:
            assert value == float(exact)

    @pytest.mark.parametrize("others", [[], [10.5], ["12.5"], [Decimal("0.07"), None]])
    def test_a_third_decimal_in_an_amount_fails_on_every_path(self, bill_record, others) -> None:
        bad = {**bill_record(7, [1]), "total": Decimal("2.675")}
        batch = [{**bill_record(i, [1]), "total": v} for i, v in enumerate(others, 10)] + [bad]
        for convert in (lambda: flatten("bills", bad), lambda: arrow_batch("bills", batch)):
            with pytest.raises(ValueError) as caught:
                convert()
            assert isinstance(caught.value, ClioSyncError)
            message = str(caught.value)
            for part in ("bills", "7", "`total`", "2.675", "DECIMAL(18,2)", "round"):
                assert part in message, (part, message)

    def test_a_float_amount_is_read_as_the_number_it_prints_as(self, bill_record) -> None:
        # Until every caller decodes with `decoding.loads`, a float is taken as its
        # shortest repr: the JSON text it was parsed from, for up to 15 digits.
        records = [{**bill_record(i, [1]), "total": v} for i, v in enumerate([0.29, 1234567.89, 2.67], 1)]
        root, _ = arrow_batch("bills", records)
        assert root.column("total").to_pylist() == [Decimal("0.29"), Decimal("1234567.89"), Decimal("2.67")]
        with pytest.raises(ValueError, match=r"2\.675"):
            flatten("bills", {**bill_record(1, [1]), "total": 2.675})

    def test_rates_quantities_and_tax_rates_keep_their_decimals(self) -> None:
        records = {
            "bills": {"id": 1, "tax_rate": Decimal("5.0"), "secondary_tax_rate": Decimal("9.975")},
            "users": {"id": 2, "rate": Decimal("312.125")},
            "line_items": {"id": 3, "price": Decimal("0.0125"), "quantity": Decimal("0.25")},
            "activities": {"id": 4, "price": Decimal("187.3333"), "quantity": Decimal("5400"),
                           "rounded_quantity": 5400},
            "bank_transactions": {"id": 5, "exchange_rate": Decimal("1.3456789012")},
        }
        for table, record in records.items():
            expected = {k: Decimal(v) for k, v in record.items() if k != "id"}
            root = flatten(table, record)[0]
            batch = arrow_batch(table, [record])[0].to_pylist()[0]
            for row in (root, batch):
                assert {k: row[k] for k in expected} == expected
                assert all(isinstance(row[k], Decimal) for k in expected)

    def test_a_whole_number_column_never_truncates(self) -> None:
        assert flatten("matters", {"id": 1, "number": Decimal("12.0")})[0]["number"] == 12
        for convert in (lambda r: flatten("matters", r), lambda r: arrow_batch("matters", [r])):
            with pytest.raises(ValueError, match="`number`"):
                convert({"id": 1, "number": Decimal("12.5")})
            with pytest.raises(ValueError, match="`number`"):
                convert({"id": 1, "number": 12.5})

    def test_the_error_names_its_fix(self, bill_record) -> None:
        with pytest.raises(ClioSyncError) as caught:
            flatten("bills", {**bill_record(7, [1]), "balances": [{"id": 1, "amount": Decimal("0.295")}]})
        message = str(caught.value)
        assert "bills 7" in message and "`balances[].amount`" in message and "0.295" in message
        assert "\n" not in message and "catalog" in message
