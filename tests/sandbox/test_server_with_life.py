"""The server over a generated firm that lives: advance, scheduled life, webhook expiry."""

from __future__ import annotations

import json
from datetime import datetime
from email.utils import parsedate_to_datetime

import httpx
from sandbox_helpers import Receiver, api_client

from pipelines.sandbox.harness import SandboxServer
from pipelines.sandbox.shapes import ENDPOINTS


def test_advance_changes_are_listed_by_updated_since(sandbox: SandboxServer) -> None:
    with api_client(sandbox) as http:
        before = parsedate_to_datetime(http.get("bills.json").headers["Date"])
        counts = sandbox.advance(days=3)
        assert sum(counts.values()) > 0
        changed = http.get(
            "activities.json",
            params={"updated_since": before.isoformat(), "fields": "id,updated_at", "limit": 200},
        )
        assert changed.status_code == 200
        stamps = [datetime.fromisoformat(r["updated_at"]) for r in changed.json()["data"]]
        assert all(stamp > before for stamp in stamps)
        if counts.get("activities"):
            assert changed.json()["meta"]["records"] > 0


def test_advance_after_requests_waits_for_the_nth_request(sandbox: SandboxServer) -> None:
    total = len(sandbox.truth("activities"))
    with api_client(sandbox) as http:
        assert sandbox.advance(days=5, after_requests=2) == {"scheduled": True}
        http.get("users.json")
        assert len(sandbox.truth("activities")) == total
        http.get("users.json")
    assert len(sandbox.truth("activities")) != total


def test_every_index_of_the_generated_firm_answers(sandbox: SandboxServer) -> None:
    with api_client(sandbox) as http:
        for endpoint in ENDPOINTS:
            walks = ({"type": "Matter"}, {"type": "Contact"}) if endpoint == "notes" else ({},)
            served = sum(
                http.get(f"{endpoint}.json", params={"fields": "id", **walk}).json()["meta"]["records"]
                for walk in walks
            )
            truth = sandbox.truth(endpoint)
            expected = [r for r in truth if r.get("state") not in ("deleted", "void")]
            assert served == len(expected) > 0, endpoint


def test_webhook_expiry_on_the_firm_clock_stops_deliveries(
    sandbox: SandboxServer, receiver: tuple[Receiver, str]
) -> None:
    rec, url = receiver
    contact = sandbox.truth("contacts")[0]["id"]
    with api_client(sandbox) as http:
        made = http.post(
            "webhooks.json",
            json={
                "data": {"url": url, "model": "contact", "fields": "id,name", "events": ["updated"]}
            },
        )
        assert made.status_code == 201
        sandbox.flush_webhooks()
        sandbox.edit("contacts", contact, {"name": "Before Expiry"})
        sandbox.advance(days=4)  # past the default 3-day expiry
        sandbox.flush_webhooks()
        delivered = len(rec.deliveries)
        sandbox.edit("contacts", contact, {"name": "After Expiry"})
        sandbox.flush_webhooks()
    names = [json.loads(b)["data"]["name"] for _, b in rec.deliveries]
    assert "Before Expiry" in names and "After Expiry" not in names
    assert len(rec.deliveries) == delivered


def test_reset_returns_the_seeded_firm(sandbox: SandboxServer) -> None:
    first = sandbox.truth("bills")
    sandbox.advance(days=2)
    sandbox.reset()
    assert sandbox.truth("bills") == first
    assert httpx.get(f"{sandbox.base_url}/_sandbox/stats").json()["requests"] == []
