"""The bill-to-matter split (`intermediate.bill_matter_balances`) and the matter display
numbers of `reports.ar_aging_detail`, on random small warehouses, against a plain statement
of what they mean: every split row of Clio's `balances[]` (a split of a bill missing from
the warehouse too), plus each bill without a split on its only matter (no matter when it
lists none or several); a matter's display number, else the bill's copy of it. The models
are written for speed (#12.4); this pins the rows they must give."""

from __future__ import annotations

from datetime import date

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.reports.runner import build_models
from pipelines.reports.settings import ReportSettings, apply_settings

MATTERS = (11, 12, 13)

SPLIT_AS_SPECIFIED = """
    select bill_id, case when balance_owner_type = 'Matter' then balance_owner_id end,
           balance, interest_amount, amount_due
    from staging.bill_balances
    union all
    select bills.bill_id,
           (select min(matter_id) from staging.bill_matters as m where m.bill_id = bills.bill_id
            having count(*) = 1),
           bills.balance, 0, bills.amount_due
    from staging.bills as bills
    where bills.bill_id not in (select bill_id from staging.bill_balances where bill_id is not null)
"""

DISPLAY_AS_SPECIFIED = """
    select d.bill_id, d.matter_id,
           coalesce((select matter_display_number from staging.matters as m
                     where m.matter_id = d.matter_id),
                    (select min(matter_display_number) from staging.bill_matters as l
                     where l.bill_id = d.bill_id and l.matter_id = d.matter_id))
    from reports.ar_aging_detail as d
"""


@st.composite
def warehouses(draw):
    bill_ids = range(1, draw(st.integers(0, 8)) + 1)
    bills = [(b, draw(st.sampled_from(["awaiting_payment", "paid", "draft"])),
              draw(st.integers(0, 9000)) / 100) for b in bill_ids]
    balances, links = [], []
    for b in [*bill_ids, 99]:  # 99: a bill the warehouse does not hold
        if draw(st.booleans()):
            for m in draw(st.lists(st.sampled_from(MATTERS), max_size=2, unique=True)):
                kind = draw(st.sampled_from(["Matter", "Matter", "Contact"]))
                balances.append((b, m, kind, draw(st.integers(0, 5000)) / 100))
        links += [(b, m, f"B{b}-M{m}") for m in
                  draw(st.lists(st.sampled_from(MATTERS), max_size=2, unique=True))]
    # matter 11 named, 12 synced without a display number, 13 not synced at all
    return bills, balances, links


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(warehouses())
def test_the_split_and_display_numbers_are_as_specified(warehouse):
    bills, balances, links = warehouse
    with duckdb.connect() as con:
        con.execute("create schema clio")
        con.execute("create table clio.bills (id bigint, state varchar, balance decimal(18, 2), "
                    "due decimal(18, 2), issued_at date, due_at date)")
        con.execute("create table clio.bills__balances (bill_id bigint, id bigint, type varchar, "
                    "amount decimal(18, 2), interest_amount decimal(18, 2), due decimal(18, 2))")
        con.execute("create table clio.bills__matters (bill_id bigint, id bigint, "
                    "display_number varchar)")
        con.execute("create table clio.matters (id bigint, display_number varchar)")
        con.execute("insert into clio.matters values (11, 'M-11'), (12, null)")
        for bill_id, state, balance in bills:
            con.execute("insert into clio.bills values (?, ?, ?, ?, date '2026-01-01', "
                        "date '2026-02-01')", [bill_id, state, balance, balance])
        for bill_id, owner, kind, amount in balances:
            con.execute("insert into clio.bills__balances values (?, ?, ?, ?, 0.5, ?)",
                        [bill_id, owner, kind, amount, amount])
        if links:
            con.executemany("insert into clio.bills__matters values (?, ?, ?)", links)
        build_models(con)
        apply_settings(con, ReportSettings(today=date(2026, 11, 20)))

        def rows(sql: str) -> list[tuple]:
            return sorted(con.execute(sql).fetchall(), key=repr)

        assert rows("select * from intermediate.bill_matter_balances") == rows(SPLIT_AS_SPECIFIED)
        assert rows("select bill_id, matter_id, matter_display_number "
                    "from reports.ar_aging_detail") == rows(DISPLAY_AS_SPECIFIED)
        # a bill with no split and one matter keeps its balance on that matter
        assert all(
            row[1] is not None for row in con.execute(
                "select b.bill_id, s.matter_id from staging.bills as b "
                "join intermediate.bill_matter_balances as s using (bill_id) "
                "where b.bill_id not in (select bill_id from staging.bill_balances) "
                "and (select count(*) from staging.bill_matters as l "
                "where l.bill_id = b.bill_id) = 1").fetchall())
