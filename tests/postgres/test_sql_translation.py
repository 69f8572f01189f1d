"""The run path's DuckDB-style SQL (`?`, `$name`) translated for a server's driver."""

from __future__ import annotations

import pytest

from pipelines.clio.destinations import translate


@pytest.mark.parametrize(("sql", "params", "style", "expected"), [
    ("select 1", None, "pyformat", ("select 1", ())),
    ("select * from t where a = ? and b = ?", [1, "x"], "pyformat",
     ("select * from t where a = %s and b = %s", (1, "x"))),
    # a LIKE pattern's % doubled for the driver, a quoted ? or $x left alone
    ("select '?', '$x' where n not like '\\_dlt\\_%' and s = ?", ["v"], "pyformat",
     ("select '?', '$x' where n not like '\\_dlt\\_%%' and s = %s", ("v",))),
    ("delete from t where id in (select unnest($ids::BIGINT[])) and k = $table",
     {"table": "bills", "ids": [1, 2]}, "pyformat",
     ("delete from t where id in (select unnest(%s::BIGINT[])) and k = %s",
      ([1, 2], "bills"))),
    ("select ? where x like '%a'", [1], "qmark", ("select ? where x like '%a'", (1,))),
])
def test_translate(sql, params, style, expected) -> None:
    assert translate(sql, params, style) == expected
