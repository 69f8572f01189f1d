"""Grow's part of `clio-sync demo`: settings for the sandbox's Grow, and one funnel line."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pipelines import warehouse
from pipelines.clio.auth import token_set_from_answer
from pipelines.grow.client import grow_store
from pipelines.grow.config import GrowSettings, load_grow_settings

GROW_APP = {"client_id": "grow-sandbox", "client_secret": "grow-sandbox-secret"}
# The demo's app may send this many requests a second; the sandbox allows a little more.
# (At Clio the Platform allows 3: a first Grow sync reads each converted lead once.)
DEMO_RATE = 250.0
DEMO_LIMIT = (300, 1.0)

log = logging.getLogger(__name__)


def demo_grow_settings(base_url: str, answer: dict[str, Any], folder: Path,
                       stem: str) -> GrowSettings:
    """Grow settings for the demo's sandbox, the minted tokens stored beside the database
    (and the app's rate budget too, so the demo writes nothing to the user's config dir)."""
    settings = load_grow_settings(base_url=base_url, region="us",
                                  token_store=folder / f"{stem}-grow-token.json",
                                  pacing_file=folder / f"{stem}-grow-pacing.json",
                                  requests_per_second=DEMO_RATE, **GROW_APP)
    grow_store(settings).save(token_set_from_answer(answer, settings))
    return settings


def funnel_line(db: Path) -> str | None:
    """The intake funnel over the twelve months before last month, all sources (recent
    months still have most of their enquiries undecided)."""
    con = warehouse.connect(db, read_only=True)
    try:
        row = con.execute("""
            select min(month), max(month), sum(leads), sum(intakes), sum(hired), sum(declined)
            from reports.intake_funnel_monthly
            where month between (select date_trunc('month', today) - interval 13 month
                                 from intermediate.firm_today)
                            and (select date_trunc('month', today) - interval 2 month
                                 from intermediate.firm_today)
        """).fetchone()
    except Exception as exc:  # the report is optional; the demo still succeeded
        log.debug("no funnel: %s", exc)
        return None
    finally:
        con.close()
    if not row or row[0] is None:
        return None
    first, last, leads, intakes, hired, declined = row
    rate = f"{hired / intakes:.0%}" if intakes else "n/a"
    return (f"Intake funnel (Clio Grow), {first:%Y-%m} to {last:%Y-%m}: {leads} leads, "
            f"{intakes} intakes, {hired} hired, {declined} declined (hire rate {rate})")
