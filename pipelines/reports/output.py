"""Print query results: a readable table (money with thousands separators, two
decimals and its currency code), CSV, or JSON.

CSV and JSON carry the raw values: money as plain decimals (`1234.50` in CSV, a JSON
number in JSON, as Clio's own API does), dates as `YYYY-MM-DD`, nulls empty / `null`.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any, Literal

import duckdb

from pipelines.reports.engine import Cursor
from pipelines.reports.table import Layout, render

Format = Literal["table", "csv", "json"]
FORMATS: tuple[str, ...] = ("table", "csv", "json")


@dataclass(frozen=True)
class Result:
    """A query's columns, their DuckDB types and its rows."""

    columns: list[str]
    types: list[str]
    rows: list[tuple[Any, ...]]

    @classmethod
    def fetch(cls, cursor: duckdb.DuckDBPyConnection | Cursor,
              types: list[str] | None = None) -> Result:
        """Everything an executed cursor returned; `types` by DuckDB's names (default: the
        cursor's own, as DuckDB's cursors give them; `Engine.column_types` for others)."""
        description = cursor.description or []
        kinds = types if types is not None else [str(d[1]) for d in description]
        rows = cursor.fetchall()
        return cls(columns=[d[0] for d in description], types=kinds,
                   rows=_pad_decimals(rows, kinds))

    def is_money(self, index: int) -> bool:
        """Amounts are DECIMAL(p,2); rates and quantities (DECIMAL(28,10)) are not, and are
        shown exactly rather than rounded to cents."""
        return self.types[index].upper().replace(" ", "").endswith(",2)") and self.is_decimal(index)

    def is_decimal(self, index: int) -> bool:
        return self.types[index].upper().startswith("DECIMAL")


def _pad_decimals(rows: list[Any], types: list[str]) -> list[Any]:
    """Rows whose DECIMAL columns of unknown scale (PostgreSQL forgets a computed column's:
    `coalesce(x, 0)` gives `0` beside `12.50`) show every value to the column's widest scale,
    as DuckDB's typed columns do. Values never change; only trailing zeros are added."""
    unscaled = [i for i, kind in enumerate(types) if kind.upper() == "DECIMAL"]
    if not unscaled or not rows:
        return rows
    widest: dict[int, int] = {}  # column -> its smallest exponent (most decimals)
    for i in unscaled:
        widest[i] = min((_exponent(row[i]) for row in rows if _finite(row[i])), default=0)
    padded = []
    for row in rows:
        values = list(row)
        for i, exponent in widest.items():
            value = values[i]
            if _finite(value) and _exponent(value) > exponent:
                values[i] = value.quantize(Decimal(1).scaleb(exponent))
        padded.append(tuple(values))
    return padded


def _finite(value: object) -> bool:
    return isinstance(value, Decimal) and value.is_finite()


def _exponent(value: Decimal) -> int:
    return int(value.as_tuple().exponent)


def format_money(value: Decimal | None, currency: str | None = None) -> str:
    """`Decimal("-1234.5"), "USD"` -> `-1,234.50 USD`; None -> empty."""
    if value is None:
        return ""
    text = f"{value:,.2f}"
    return f"{text} {currency}" if currency else text


def write(
    result: Result,
    fmt: Format,
    title: str | None = None,
    out: IO[str] | None = None,
    layout: Layout | None = None,
    width: int | None = None,
) -> None:
    """Print `result` to `out` (stdout) in the chosen format. A table follows `layout`
    (a report's human headers, per currency, fitted to `width` or the terminal) when
    given; without one (ad-hoc SQL) it shows every column under its own name."""
    out = out or sys.stdout
    try:
        if fmt == "table" and layout is not None:
            render(result.columns, result.rows, layout, title or "", out, width)
        else:
            _write(result, fmt, title, out)
    except BrokenPipeError:  # `| head`: the reader has all it wanted
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the interpreter's final flush quiet


def _write(result: Result, fmt: Format, title: str | None, out: IO[str]) -> None:
    if fmt == "csv":
        _write_csv(result, out)
    elif fmt == "json":
        json.dump([dict(zip(result.columns, row, strict=True)) for row in result.rows], out,
                  default=_json_value, indent=2)
        out.write("\n")
    else:
        _write_table(result, title, out)


def _write_csv(result: Result, out: IO[str]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(result.columns)
    for row in result.rows:
        writer.writerow(["" if v is None else _plain(v) for v in row])


def _write_table(result: Result, title: str | None, out: IO[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, header_style="bold")
    for i, name in enumerate(result.columns):
        numeric = result.is_decimal(i) or _is_number_type(result.types[i])
        table.add_column(name, justify="right" if numeric else "left", no_wrap=result.is_money(i))
    currency_at = result.columns.index("currency") if "currency" in result.columns else None
    cells = [
        [_cell(result, i, v, row[currency_at] if currency_at is not None else None)
         for i, v in enumerate(row)]
        for row in result.rows
    ]
    for row_cells in cells:
        table.add_row(*row_cells)
    console = Console(file=out)
    if not console.is_terminal:  # a file or pipe: never wrap, whatever the width
        widths = [max([len(name)] + [len(r[i]) for r in cells]) for i, name in enumerate(result.columns)]
        console = Console(file=out, width=max(80, sum(widths) + 3 * len(widths) + 1))
    console.print(table)
    console.print(f"{len(result.rows)} row(s)", style="dim")


def _cell(result: Result, index: int, value: Any, currency: str | None) -> str:
    if result.is_money(index) and isinstance(value, Decimal):
        return format_money(value, currency)
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1 else f"{value:,.1f}"
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"  # a rate as written: 9.975, not 9.9750000000
    return _plain(value)


def _is_number_type(kind: str) -> bool:
    return kind.upper() in {"BIGINT", "INTEGER", "HUGEINT", "DOUBLE", "FLOAT", "SMALLINT", "UBIGINT"}


def _plain(value: Any) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)
