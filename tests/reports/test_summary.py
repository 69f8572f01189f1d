"""The demo's line per whole-firm report, on the hand-built whole firm."""

from __future__ import annotations

from pipelines.reports.summary import summary_lines


def test_one_line_per_whole_firm_report(whole_con):
    assert summary_lines(whole_con) == [
        "Unbilled work: USD 1,635.50 (7.8 h) on 4 matters; EUR 250.00 (1.0 h) on 1 matters.",
        # October, the last complete month: 6 + 2 + 2.5 h of 3 x 176; (900 + 400 + 60) /
        # (1800 + 400 + 300) billed; (450 + 200 + 60) / 1360 collected
        "Productivity 2026-10: 3 timekeepers, 10.5 h worked, 10.5 h billable, utilization "
        "2.0%; USD realization 54.4%, collection rate 52.2%.",
        "Trust: USD 4,500.00 held for 2 matters, 2 below their minimum (short USD 2,800.00); "
        "EUR 2,500.00 held for 1 matters.",
        "Open tasks: 5, 2 overdue (the oldest by 10 days).",
        "Custom fields: 22 live values; matter_custom_fields has 12 field columns, "
        "contact_custom_fields 3.",
    ]


def test_an_empty_warehouse_says_so(tmp_path):
    import duckdb

    from pipelines.reports.runner import build_models

    with duckdb.connect(str(tmp_path / "empty.duckdb")) as con:
        build_models(con)
        assert summary_lines(con) == [
            "Unbilled work: none.", "Productivity: no time recorded.",
            "Trust: no matter holds trust money.", "Open tasks: none.",
            "Custom fields: 0 live values; matter_custom_fields has 0 field columns, "
            "contact_custom_fields 0.",
        ]


def test_the_demo_prints_them_after_the_tables(whole_firm_db):
    import io

    from rich.console import Console

    from pipelines.clio.demo import _print_tables

    out = io.StringIO()
    _print_tables(whole_firm_db, ["reports.unbilled_work"], Console(file=out, width=200))
    text = out.getvalue()
    for start in ("Unbilled work: USD", "Productivity 20", "Trust: USD", "Open tasks: 5",
                  "Custom fields: 22 live values"):
        assert start in text
    assert text.index("schema clio") < text.index("Unbilled work:")
