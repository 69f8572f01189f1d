"""Ad-hoc query output shows rates and quantities as stored, amounts with two decimals."""

from __future__ import annotations

import io
from decimal import Decimal

import duckdb

from pipelines.reports.output import Result, write


def test_a_rate_is_shown_exactly_and_an_amount_with_cents() -> None:
    con = duckdb.connect()
    cursor = con.execute("select cast(312.125 as decimal(28, 10)) as rate, cast(9.975 as decimal(28, 10)) "
                         "as tax_rate, cast(2.5 as decimal(18, 2)) as amount, 'USD' as currency")
    result = Result.fetch(cursor)
    assert result.rows == [(Decimal("312.125"), Decimal("9.975"), Decimal("2.50"), "USD")]
    out = io.StringIO()
    write(result, "table", out=out)
    shown = out.getvalue()
    assert "312.125" in shown and "9.975" in shown and "2.50 USD" in shown
    assert "312.13" not in shown and "9.98" not in shown
