"""How each catalog column type is stored: the one table DuckDB, Arrow and dlt types come from.

    money      DECIMAL(18,2)    amounts: exact cents, 16 digits before the point
    decimal    DECIMAL(28,10)   rates, prices, quantities, tax and exchange rates: exact
                                up to 10 decimals, 18 digits before the point
    timestamp  TIMESTAMPTZ      instants, in UTC
    date       DATE
    bigint     BIGINT           ids and counts
    double     DOUBLE           ratios Clio computes in binary (hours = seconds / 3600)
    bool       BOOLEAN
    text       VARCHAR

`rows.py` builds Arrow columns of `arrow`, `hints.py` declares `dlt` to dlt, the SQL models
see `duckdb` (`reports/raw_tables.py`), and `widen.py` moves an older warehouse's columns
to `duckdb`. DECIMAL(28,10) stays within DuckDB's 38 digits when multiplied by itself
(price × quantity is DECIMAL(38,20)); a wider scale would make that product an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from pipelines.clio.endpoints import ColumnType


@dataclass(frozen=True)
class Storage:
    """One column type as each layer spells it."""

    duckdb: str
    arrow: pa.DataType
    dlt: dict[str, Any]  # dlt column hint (explicit, so dlt never infers or splits a variant)
    precision: int | None = None  # decimals only
    scale: int | None = None


def _decimal(precision: int, scale: int) -> Storage:
    return Storage(
        duckdb=f"DECIMAL({precision},{scale})",
        arrow=pa.decimal128(precision, scale),
        dlt={"data_type": "decimal", "precision": precision, "scale": scale},
        precision=precision,
        scale=scale,
    )


STORAGE: dict[ColumnType, Storage] = {
    "money": _decimal(18, 2),
    "decimal": _decimal(28, 10),
    "timestamp": Storage(
        "TIMESTAMPTZ", pa.timestamp("us", tz="UTC"),
        {"data_type": "timestamp", "timezone": True, "precision": 6},
    ),
    "date": Storage("DATE", pa.date32(), {"data_type": "date"}),
    "bigint": Storage("BIGINT", pa.int64(), {"data_type": "bigint"}),
    "double": Storage("DOUBLE", pa.float64(), {"data_type": "double"}),
    "bool": Storage("BOOLEAN", pa.bool_(), {"data_type": "bool"}),
    "text": Storage("VARCHAR", pa.string(), {"data_type": "text"}),
}
