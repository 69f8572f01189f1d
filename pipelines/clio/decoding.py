"""JSON as Clio sends it, with every number kept exactly.

Clio sends money as JSON numbers. The standard decoder turns `2.675` into the nearest
binary float and a number of more than about 15 significant digits into a different
one; here every number with a fraction or an exponent becomes the `Decimal` of its
text, and whole numbers stay `int`. `NaN` and `Infinity`, which Python would accept,
are not JSON and are refused. Every path that reads Clio's JSON (sync pages, records
fetched or delivered for webhooks) decodes with `loads`, so the row conversions in
`values.py` see the number Clio wrote.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


def loads(text: str | bytes | bytearray) -> Any:
    """The JSON document `text` (UTF-8 bytes or str); fractions as exact `Decimal`s.

    Raises:
        ValueError: `text` is not JSON (`json.JSONDecodeError` is one).
    """
    if isinstance(text, bytes | bytearray):  # as `json.loads` reads bytes
        text = text.decode(json.detect_encoding(text), "surrogatepass")
    elif text.startswith("\ufeff"):
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    return _DECODER.decode(text)


# One decoder for every call: `json.loads` with options builds a new one each time, which
# costs every page and every webhook delivery.
_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_not_json)
