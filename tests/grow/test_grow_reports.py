"""The intake reports joined to Manage, checked against values computed here, independently,
from the sandbox's truth of both products (Grow's leads and matters, Manage's bills and
allocations), after syncing both into one warehouse over HTTP."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from grow_helpers import UNTHROTTLED, grow_settings

from pipelines import warehouse
from pipelines.cli import main
from pipelines.clio.config import load_settings
from pipelines.clio.reconcile import reconcile
from pipelines.clio.sync import build_models_if_present, sync
from pipelines.grow.reconcile import reconcile_grow
from pipelines.grow.sync import grow_sync
from pipelines.reports.settings import apply_settings, load_report_settings
from pipelines.sandbox.harness import SandboxServer, serve_sandbox

ZONE = "America/New_York"
CENT = Decimal("0.01")


def _local_day(stamp: str) -> date:
    return datetime.fromisoformat(stamp).astimezone(ZoneInfo(ZONE)).date()


def _money(value: object) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def expected_enquiries(sb: SandboxServer) -> list[dict]:
    leads = sb.grow.truth("inbox_leads")
    matters = sb.grow.truth("matters")
    by_lead = {m["inbox_lead_id"]: m for m in matters if m["inbox_lead_id"] is not None}
    lead_ids = {lead["id"] for lead in leads}
    rows = []
    for lead in leads:
        source = (lead.get("marketing_source") or {}).get("name") or "(no source)"
        rows.append({"lead": lead, "matter": by_lead.get(lead["id"]), "source": source,
                     "enquired": lead["created_at"]})
    for matter in matters:
        if matter["inbox_lead_id"] in lead_ids:
            continue
        source = "(no lead)" if matter["inbox_lead_id"] is None else "(lead not synced)"
        rows.append({"lead": None, "matter": matter, "source": source,
                     "enquired": matter["created_at"]})
    for row in rows:
        row["month"] = _local_day(row["enquired"]).replace(day=1)
    return rows


def expected_funnel(sb: SandboxServer) -> dict[tuple[date, str], dict]:
    funnel: dict[tuple[date, str], dict] = defaultdict(lambda: defaultdict(int))
    days: dict[tuple[date, str], list[int]] = defaultdict(list)
    for row in expected_enquiries(sb):
        key, lead, matter = (row["month"], row["source"]), row["lead"], row["matter"]
        cell = funnel[key]
        cell["leads"] += lead is not None
        cell["ignored_leads"] += bool(lead and lead["state"] == "ignored")
        cell["untriaged_leads"] += bool(lead and lead["state"] == "untriaged" and not matter)
        cell["intakes"] += matter is not None
        category = matter["status_category"] if matter else None
        cell["open_intakes"] += category == "intake"
        cell["hired"] += category == "hired"
        cell["declined"] += category == "declined"
        if category == "hired":
            days[key].append((date.fromisoformat(matter["hired_date"])
                              - _local_day(row["enquired"])).days)
    for key, cell in funnel.items():
        intakes, hired, decided = cell["intakes"], cell["hired"], cell["hired"] + cell["declined"]
        cell["hire_rate"] = round(Decimal(hired) / intakes, 4) if intakes else None
        cell["decided_hire_rate"] = round(Decimal(hired) / decided, 4) if decided else None
        cell["avg_days_lead_to_hire"] = round(sum(days[key]) / len(days[key]), 1) if days[key] else None
    return {key: dict(cell) for key, cell in funnel.items()}


def expected_matter_money(sb: SandboxServer, today: date) -> dict[int, dict[str, Decimal]]:
    """Per Manage matter: billed, collected, written off and outstanding."""
    money: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    issued = {}
    for bill in sb.truth("bills"):
        if bill["state"] not in ("awaiting_payment", "paid") or bill["kind"] == "trust_kind":
            continue
        if date.fromisoformat(bill["issued_at"]) > today:
            continue
        issued[bill["id"]] = bill
        for part in bill["balances"] or ():
            money[part["id"]]["billed"] += _money(part["due"])
            if bill["state"] == "awaiting_payment":
                money[part["id"]]["outstanding"] += _money(part["amount"])
    for allocation in sb.truth("allocations"):
        if allocation["voided_at"] or allocation["bill"]["id"] not in issued:
            continue
        if date.fromisoformat(allocation["date"]) > today:
            continue
        kind = "collected" if allocation["parent"]["type"] == "Payment" else "written_off"
        money[allocation["matter"]["id"]][kind] += _money(allocation["amount"])
    return money


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory, module_config_dir: Path):
    """A tiny firm lived a month after a full sync of both products, synced again."""
    tmp = tmp_path_factory.mktemp("reports")
    db = tmp / "data" / "clio_sync.duckdb"
    with serve_sandbox(rate_limit=None, grow=UNTHROTTLED) as sb:
        pair = sb.token()
        manage = load_settings(base_url=sb.base_url, token_store=tmp / "token.json",
                               client_id="sandbox", client_secret="sandbox-secret",
                               refresh_token=pair["refresh_token"],
                               access_token=pair["access_token"])
        grow = grow_settings(sb, tmp)
        sync(db, manage, full_refresh=True)
        grow_sync(db, grow)
        sb.advance(days=31)
        # a Manage matter hired through Grow during that month, so money follows a hire
        unlinked = {m["clio_id"] for m in sb.grow.truth("matters")}
        billed = {m["id"] for b in sb.truth("bills") for m in b["matters"] or ()}
        sb.grow.hire(next(m["id"] for m in sb.truth("matters")
                          if m["id"] not in unlinked and m["id"] in billed))
        sync(db, manage)
        grow_sync(db, grow)
        reconcile(db, manage)
        reconcile_grow(db, grow)
        build_models_if_present(db)
        yield sb, db


@pytest.fixture(scope="module")
def module_config_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config dir for the module's shared sandbox run (token stores, pacing files)."""
    import os

    path = tmp_path_factory.mktemp("xdg-module")
    saved = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = str(path)
    yield path
    if saved is None:
        os.environ.pop("XDG_CONFIG_HOME", None)
    else:
        os.environ["XDG_CONFIG_HOME"] = saved


def _open(db: Path, today: date):
    con = warehouse.connect(db, read_only=True)
    apply_settings(con, load_report_settings(today=today, timezone=ZONE))
    return con


def _firm_today(sb: SandboxServer) -> date:
    """The firm's date: every sandbox answer is dated by the firm's clock."""
    answer = httpx.get(f"{sb.base_url}/_sandbox/grow/counts")
    return parsedate_to_datetime(answer.headers["date"]).astimezone(ZoneInfo(ZONE)).date()


def test_the_funnel_counts_every_enquiry_by_month_and_source(synced) -> None:
    sb, db = synced
    expected = expected_funnel(sb)
    con = _open(db, _firm_today(sb))
    try:
        cursor = con.execute("select * from reports.intake_funnel_monthly")
        columns = [d[0] for d in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()
    got = {(r["month"], r["lead_source"]): {k: v for k, v in r.items()
                                            if k not in ("month", "lead_source")} for r in rows}
    assert set(got) == set(expected)
    for key, cell in expected.items():
        stored = {k: (Decimal(str(v)) if isinstance(v, float) else v) for k, v in got[key].items()}
        want = {k: (Decimal(str(v)) if isinstance(v, float) else v) for k, v in cell.items()}
        assert stored == want, key
    totals = {k: sum(c[k] for c in expected.values()) for k in ("leads", "intakes", "hired")}
    assert totals["leads"] == len(sb.grow.truth("inbox_leads"))
    assert totals["intakes"] == len(sb.grow.truth("matters"))
    assert totals["hired"] > 0


def test_hired_matters_show_the_time_to_hire_and_their_manage_money(synced) -> None:
    sb, db = synced
    today = _firm_today(sb)
    money = expected_matter_money(sb, today)
    enquiries = {row["matter"]["id"]: row for row in expected_enquiries(sb) if row["matter"]}
    manage = {m["id"]: m for m in sb.truth("matters")}
    con = _open(db, today)
    try:
        rows = con.execute(
            "select grow_matter_id, manage_matter_id, matter_display_number, lead_source, "
            "days_lead_to_hire, billed, collected, written_off, outstanding "
            "from reports.intake_hired_matters").fetchall()
        by_source = con.execute(
            "select lead_source, currency, sum(hired), sum(billed), sum(collected), "
            "sum(outstanding) from reports.intake_revenue_by_source group by all").fetchall()
    finally:
        con.close()
    hired = [m for m in sb.grow.truth("matters") if m["status_category"] == "hired"]
    assert sorted(r[0] for r in rows) == sorted(m["id"] for m in hired)
    with_money = 0
    for grow_id, manage_id, number, source, days, billed, collected, written_off, owed in rows:
        row = enquiries[grow_id]
        assert manage_id == row["matter"]["clio_id"]
        assert number == manage[manage_id]["display_number"]
        assert source == row["source"]
        assert days == (date.fromisoformat(row["matter"]["hired_date"])
                        - _local_day(row["enquired"])).days
        want = money.get(manage_id, {})
        assert (billed, collected, written_off, owed) == tuple(
            want.get(k, Decimal("0.00")) for k in ("billed", "collected", "written_off",
                                                   "outstanding"))
        with_money += billed > 0
    assert with_money > 0, "some hired matter has billed: the join to Manage is exercised"
    assert sum(r[3] for r in by_source) == sum(
        money.get(m["clio_id"], {}).get("billed", Decimal(0)) for m in hired)


def test_the_report_command_prints_the_funnel(synced, capsys) -> None:
    sb, db = synced
    today = _firm_today(sb)
    code = main(["report", "intake-funnel", "--db", str(db), "--as-of", today.isoformat(),
                 "--timezone", ZONE, "--format", "csv"])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("month,lead_source,leads")
    expected = expected_funnel(sb)
    assert len(lines) - 1 == len([k for k in expected if k[0] <= today.replace(day=1)])
