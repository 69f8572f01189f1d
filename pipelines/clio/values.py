"""API values -> typed values: one conversion per catalog type, for one value or a column.

    money, decimal  the exact Decimal at the column's scale; a value that would need
                    rounding, or more digits before the point, does not fit
    bigint          int; a fraction does not fit (never truncated)
    double          float (a Decimal's nearest); beyond DOUBLE's range does not fit
    timestamp       aware datetime in UTC (Clio always sends an offset; none means UTC)
    date            date (the date part of a timestamp too)
    bool            bool; anything else does not fit
    text            str; other JSON values as their JSON text

Numbers arrive as `int` or `Decimal` (`decoding.loads`); a `float` (a caller that
decoded with the standard library) is read as its shortest repr, the text it was
parsed from when that had up to 15 significant digits.

`scalar` converts one value (a record at a time: webhooks, tests); `column` converts a
batch's column to Arrow (the sync). `column` first tries one vectorised Arrow
conversion that is exact or refuses (a decimal Arrow would have to rescale with loss, an
int64 it would truncate), and when Arrow refuses anything it converts value by value
with `scalar`. So both give the same value, or raise `Unfit` for the same value, whatever
else is in the batch; `rows.py` turns `Unfit` into `ValueDoesNotFit` naming the record.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Context, Decimal, InvalidOperation
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pipelines.clio.column_types import STORAGE
from pipelines.clio.endpoints import ColumnType
from pipelines.errors import ClioSyncError

ARROW_REFUSED = (pa.ArrowException, TypeError, ValueError, OverflowError)  # Arrow saying no
_EXACT = Context(prec=80)  # more digits than any column holds: quantize never rounds here
BIGINT_RANGE = range(-(2**63), 2**63)
_INTS_OR_NULLS = frozenset({int, type(None)})  # not bool: True is no id


class Unfit(ValueError):
    """A value its column type cannot hold as it is (`rows.py` adds where it came from)."""

    def __init__(self, value: Any, reason: str, index: int = 0) -> None:
        super().__init__(reason)
        self.value, self.reason, self.index = value, reason, index


class ValueDoesNotFit(ClioSyncError, ValueError):
    """A value from Clio that its column cannot store without rounding or truncating it."""

    def __init__(self, table: str, field: str, record_id: Any, value: Any, kind: ColumnType,
                 reason: str) -> None:
        self.table, self.field, self.record_id, self.value = table, field, record_id, value
        self.kind, self.reason = kind, reason
        column = STORAGE[kind].duckdb
        super().__init__(
            f"Clio sent {table} {record_id} with `{field}` = {shown(value)}, which {reason}; "
            f"the column is {column} ({kind}). The record was not stored, and a sync that meets "
            f"it loads nothing of its run. Check {table} {record_id} in Clio; if the value is "
            f"right, `{field}` needs a wider type in the catalog (pipelines/clio/endpoints.py): "
            "report this message to the clio-sync maintainers."
        )

    def __reduce__(self) -> tuple[Any, ...]:  # picklable, as exceptions crossing processes are
        return type(self), (self.table, self.field, self.record_id, self.value, self.kind, self.reason)


def shown(value: Any) -> str:
    """A value as a message quotes it: numbers as written, text quoted, long text cut."""
    text = json.dumps(value) if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


# ----- one value ----------------------------------------------------------------------


def _number(value: Any) -> Decimal:
    """The exact Decimal of a numeric value (a float by its shortest repr)."""
    if isinstance(value, bool):
        raise Unfit(value, "is not a number")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise Unfit(value, "is not a number") from None
    else:
        raise Unfit(value, "is not a number")
    if not number.is_finite():
        raise Unfit(value, "is not a finite number")
    return number


def exact_decimal(value: Any, precision: int, scale: int) -> Decimal:
    """`value` as a Decimal with exactly `scale` decimals, never rounded."""
    number = _number(value)
    if number and number.adjusted() >= precision - scale:
        raise Unfit(value, f"has more than {precision - scale} digits before the decimal point")
    fitted = number.quantize(Decimal(1).scaleb(-scale), context=_EXACT)
    if fitted != number:
        raise Unfit(value, f"would have to be rounded to {scale} decimals, and clio-sync never rounds")
    return fitted if fitted else fitted.copy_abs()  # no negative zero: Arrow has none


def _bigint(value: Any) -> int:
    number = value if isinstance(value, int) and not isinstance(value, bool) else _number(value)
    if isinstance(number, Decimal) and number and number.adjusted() > 18:
        raise Unfit(value, "is outside BIGINT's range")  # before int() builds a huge number
    if number != int(number):
        raise Unfit(value, "is not a whole number, and clio-sync never truncates")
    if int(number) not in BIGINT_RANGE:
        raise Unfit(value, "is outside BIGINT's range")
    return int(number)


def _double(value: Any) -> float:
    if type(value) is Decimal:  # the usual case, first
        result = float(value)  # the nearest double
        if math.isfinite(result) and (result or not value):
            return result
    elif isinstance(value, float) and math.isfinite(value):
        return value
    number = _number(value)
    result = float(number)
    if result in (float("inf"), float("-inf")):
        raise Unfit(value, "is too large for DOUBLE")
    if result == 0 and number != 0:
        raise Unfit(value, "is too small for DOUBLE (it would become 0)")
    return result


def _timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise Unfit(value, "is not an ISO-8601 timestamp") from None
    if parsed.tzinfo is None:  # Clio always sends an offset; a bare time is taken as UTC
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before the first UTC instant
        raise Unfit(value, "is outside the range of timestamps") from None


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise Unfit(value, "is not an ISO-8601 date") from None


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Unfit(value, "is not true or false")
    return value


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return str(value)  # the number as Clio wrote it
    return json.dumps(value, sort_keys=True, default=str)  # Decimals inside as strings


def _decimal_of(kind: ColumnType) -> Callable[[Any], Decimal]:
    precision, scale = STORAGE[kind].precision, STORAGE[kind].scale
    assert precision is not None and scale is not None
    return lambda value: exact_decimal(value, precision, scale)


SCALAR: dict[ColumnType, Callable[[Any], Any]] = {
    "money": _decimal_of("money"),
    "decimal": _decimal_of("decimal"),
    "timestamp": _timestamp,
    "date": _date,
    "bigint": _bigint,
    "double": _double,
    "bool": _bool,
    "text": _text,
}


def scalar(kind: ColumnType, value: Any) -> Any:
    """One API value typed as catalog type `kind` (None stays None); raises `Unfit`."""
    return None if value is None else SCALAR[kind](value)


# ----- a column -----------------------------------------------------------------------


def _smallest_magnitude(values: list[Any]) -> int:
    """The lowest `Decimal.adjusted()` (power of ten of the leading digit) among `values`.

    pyarrow (26) converts a Decimal below 10**-(scale+1), such as 3.5949E-66, to zero or
    to an arbitrary number (-5.21) instead of refusing it: its rescale by more than 38
    digits overflows. No such value fits a column exactly, so `_fast` leaves every batch
    holding one to `scalar`, which refuses it.
    """
    try:
        return min(map(Decimal.adjusted, values), default=0)  # in C: every value a Decimal
    except TypeError:  # ints and nulls too
        return min((v.adjusted() for v in values if isinstance(v, Decimal)), default=0)


def _fast(kind: ColumnType, values: list[Any]) -> pa.Array:
    """Arrow's vectorised conversion, where it is exact or raises; else `TypeError`."""
    target = STORAGE[kind].arrow
    if kind in ("money", "decimal"):
        scale = STORAGE[kind].scale
        assert scale is not None
        if _smallest_magnitude(values) < -scale:
            raise TypeError("a value below the column's resolution")  # see _smallest_magnitude
        return pa.array(values, target)  # refuses floats and bools, lossy rescales, overflow
    if kind in ("bool", "text"):
        return pa.array(values, target)
    if kind in ("timestamp", "date"):
        return _within_python(pa.array(values, pa.string()).cast(target))
    if kind == "bigint":
        # pa.array(values, int64) truncates 12.5 and Decimal("12.5"): only ints go to it
        if not _INTS_OR_NULLS.issuperset(map(type, values)):
            raise TypeError("not all ints")
        return pa.array(values, target)
    # double: Arrow would take True as 1.0, and a Decimal's nearest double is Python's to find
    return pa.array([None if value is None else _double(value) for value in values], target)


def from_wire(kind: ColumnType, array: pa.Array) -> pa.Array:
    """A column of a wire kind (`rows._WIRE`: text, bool, timestamp, date), converted by
    Arrow from Python values to its wire type, as `_fast` would type it; raises an
    `ARROW_REFUSED` error where `_fast` would refuse (and `scalar` must decide)."""
    return _within_python(array.cast(STORAGE[kind].arrow)) if kind in ("timestamp", "date") else array


# Arrow reads "0001-01-01T00:00:00+01:00" as year 0 and "9999-12-31T23:00:00-05:00" as
# year 10000; Python's datetime (so `scalar`) has neither: such a batch goes value by value.
# The bounds are Arrow's own numbers (microseconds, days since 1970): a scalar's `as_py()`
# imports pandas, which must not happen in a page-reading thread while dlt looks for it.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_PYTHON_RANGE = {
    pa.timestamp("us", tz="UTC"): ((datetime.min.replace(tzinfo=UTC) - _EPOCH) // _MICROSECOND,
                                  (datetime.max.replace(tzinfo=UTC) - _EPOCH) // _MICROSECOND),
    pa.date32(): ((date.min - _EPOCH.date()).days, (date.max - _EPOCH.date()).days),
}


def _within_python(array: pa.Array) -> pa.Array:
    low, high = _PYTHON_RANGE[array.type]
    least, most = pc.min_max(array).values()
    if least.is_valid and (least.value < low or most.value > high):
        raise ValueError("an instant Python cannot hold")
    return array


def column(kind: ColumnType, values: Sequence[Any]) -> pa.Array:
    """A batch's values as an Arrow array of `kind`'s type; raises `Unfit` (with `index`)."""
    batch = values if isinstance(values, list) else list(values)
    try:
        return _fast(kind, batch)
    except ARROW_REFUSED:
        pass
    typed = []
    for index, value in enumerate(batch):
        try:
            typed.append(scalar(kind, value))
        except Unfit as unfit:
            unfit.index = index
            raise
    return pa.array(typed, STORAGE[kind].arrow)
