"""Webhooks: validation, handshake, activation, signed deliveries, retries, suspension."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import pytest
from sandbox_helpers import Receiver

from pipelines.sandbox.harness import SandboxServer


@pytest.fixture
def http(fixed: SandboxServer) -> Iterator[httpx.Client]:
    token = fixed.token()["access_token"]
    with httpx.Client(
        base_url=f"{fixed.base_url}/api/v4", headers={"Authorization": f"Bearer {token}"}
    ) as client:
        yield client


def create(http: httpx.Client, url: str, **data: object) -> httpx.Response:
    body = {"url": url, "model": "contact", "fields": "id,etag,name", **data}
    return http.post(
        "webhooks.json",
        json={"data": body},
        params={"fields": "id,status,shared_secret,expires_at,events"},
    )


class TestValidation:
    def test_plain_http_is_refused_unless_loopback_and_allowed(self, http: httpx.Client) -> None:
        assert create(http, "http://example.com/hook").status_code == 422

    @pytest.mark.parametrize(
        "data",
        [
            {"model": "invoice"},
            {"fields": "id,nope"},
            {"fields": "id," + "x" * 1000},
            {"events": ["created", "matter_opened"]},
            {"events": ["exploded"]},
        ],
    )
    def test_bad_model_fields_or_events_are_422(self, http: httpx.Client, data: dict) -> None:
        assert create(http, "https://example.com/h", **data).status_code == 422

    def test_expiry_defaults_to_three_days_and_caps_at_31(self, http: httpx.Client) -> None:
        made = create(http, "https://example.com/h").json()["data"]
        expires = datetime.fromisoformat(made["expires_at"])
        assert expires == datetime.fromisoformat("2026-11-20T17:00:00-05:00") + timedelta(days=3)
        far = (expires + timedelta(days=40)).isoformat()
        assert create(http, "https://example.com/h", expires_at=far).status_code == 422

    def test_matter_events_only_on_matters(self, http: httpx.Client) -> None:
        ok = create(
            http,
            "https://example.com/h",
            model="matter",
            events=["matter_closed"],
            fields="id,status",
        )
        assert ok.status_code == 201 and ok.json()["data"]["events"] == ["matter_closed"]


class TestLifecycle:
    def test_handshake_echoed_enables(
        self, fixed: SandboxServer, http: httpx.Client, receiver: tuple[Receiver, str]
    ) -> None:
        rec, url = receiver
        made = create(http, url).json()["data"]
        assert made["status"] == "pending"
        fixed.flush_webhooks()
        handshake_headers, body = rec.calls[0]
        assert handshake_headers["x-hook-secret"] == made["shared_secret"] and body == b"{}"
        got = http.get(f"webhooks/{made['id']}.json", params={"fields": "status"})
        assert got.json()["data"]["status"] == "enabled"

    def test_unechoed_handshake_stays_pending_until_activated(
        self, fixed: SandboxServer, http: httpx.Client, receiver: tuple[Receiver, str]
    ) -> None:
        rec, url = receiver
        rec.echo = False
        made = create(http, url).json()["data"]
        fixed.flush_webhooks()
        assert fixed.webhooks()[0]["status"] == "pending"
        wrong = http.put(f"webhooks/{made['id']}/activate", headers={"X-Hook-Secret": "no"})
        assert wrong.status_code == 422
        right = http.put(
            f"webhooks/{made['id']}/activate", headers={"X-Hook-Secret": made["shared_secret"]}
        )
        assert right.status_code == 200 and fixed.webhooks()[0]["status"] == "enabled"

    def test_patch_expiry_and_delete(self, http: httpx.Client) -> None:
        made = create(http, "https://example.com/h").json()["data"]
        later = (datetime.fromisoformat(made["expires_at"]) + timedelta(days=5)).isoformat()
        patched = http.patch(
            f"webhooks/{made['id']}.json",
            json={"data": {"expires_at": later}},
            params={"fields": "expires_at"},
        )
        assert datetime.fromisoformat(
            patched.json()["data"]["expires_at"]
        ) == datetime.fromisoformat(later)
        assert http.delete(f"webhooks/{made['id']}.json").status_code == 204
        assert http.get(f"webhooks/{made['id']}.json").status_code == 404


def enabled_hook(fixed: SandboxServer, http: httpx.Client, url: str, **data: object) -> dict:
    made = create(http, url, **data).json()["data"]
    fixed.flush_webhooks()
    return made


class TestDeliveries:
    def test_signed_delivery_of_subscribed_fields(
        self, fixed: SandboxServer, http: httpx.Client, receiver: tuple[Receiver, str]
    ) -> None:
        rec, url = receiver
        hook = enabled_hook(fixed, http, url)
        fixed.edit("contacts", 12, {"name": "Beta Holdings"})
        fixed.flush_webhooks()
        ((headers, body),) = rec.deliveries
        expected = hmac.new(hook["shared_secret"].encode(), body, hashlib.sha256).hexdigest()
        assert headers["x-hook-signature"] == expected
        payload = json.loads(body)
        assert payload["meta"] == {"event": "updated", "webhook_id": hook["id"]}
        assert payload["data"]["id"] == 12 and payload["data"]["name"] == "Beta Holdings"
        assert set(payload["data"]) == {"id", "etag", "name"}

    def test_update_of_an_unwatched_field_is_not_sent_after_the_first(
        self, fixed: SandboxServer, http: httpx.Client, receiver: tuple[Receiver, str]
    ) -> None:
        rec, url = receiver
        enabled_hook(fixed, http, url)
        fixed.edit("contacts", 12, {"title": "CEO"})  # first update always fires
        fixed.edit("contacts", 12, {"title": "CFO"})  # name unchanged: silent
        fixed.edit("contacts", 12, {"name": "Gamma"})
        fixed.flush_webhooks()
        names = [json.loads(b)["data"]["name"] for _, b in rec.deliveries]
        assert names == ["Beta Inc", "Gamma"]

    def test_failures_retry_then_succeed(
        self, fixed: SandboxServer, http: httpx.Client, receiver: tuple[Receiver, str]
    ) -> None:
        rec, url = receiver
        enabled_hook(fixed, http, url)
        rec.statuses = [500, 503]
        fixed.edit("contacts", 12, {"name": "Retry Co"})
        fixed.flush_webhooks()
        assert len(rec.deliveries) == 3
        assert fixed.webhooks()[0]["status"] == "enabled"

    def test_exhausted_retries_suspend(
        self, fixed: SandboxServer, http: httpx.Client, receiver: tuple[Receiver, str]
    ) -> None:
        rec, url = receiver
        enabled_hook(fixed, http, url)
        rec.statuses = [500] * 6
        fixed.edit("contacts", 12, {"name": "Down Co"})
        fixed.flush_webhooks()
        assert len(rec.deliveries) == 6
        assert fixed.webhooks()[0]["status"] == "suspended"

    def test_410_disables_at_once(
        self, fixed: SandboxServer, http: httpx.Client, receiver: tuple[Receiver, str]
    ) -> None:
        rec, url = receiver
        enabled_hook(fixed, http, url)
        rec.statuses = [410]
        fixed.edit("contacts", 12, {"name": "Gone Co"})
        fixed.flush_webhooks()
        fixed.edit("contacts", 12, {"name": "Still Gone"})
        fixed.flush_webhooks()
        assert len(rec.deliveries) == 1 and fixed.webhooks()[0]["status"] == "suspended"

    def test_deleted_event_and_expiry(
        self, fixed: SandboxServer, http: httpx.Client, receiver: tuple[Receiver, str]
    ) -> None:
        rec, url = receiver
        enabled_hook(fixed, http, url, events=["deleted"])
        fixed.delete("contacts", 12)
        fixed.flush_webhooks()
        ((_, body),) = rec.deliveries
        assert json.loads(body)["meta"]["event"] == "deleted"
        assert json.loads(body)["data"]["id"] == 12

    def test_duplicates_and_reordering_on_demand(
        self, fixed: SandboxServer, http: httpx.Client, receiver: tuple[Receiver, str]
    ) -> None:
        rec, url = receiver
        enabled_hook(fixed, http, url)
        fixed.faults(webhook_duplicates=True, webhook_reorder=True)
        fixed.edit("contacts", 12, {"name": "First"})
        fixed.edit("contacts", 12, {"name": "Second"})
        fixed.flush_webhooks()
        names = [json.loads(b)["data"]["name"] for _, b in rec.deliveries]
        assert sorted(names) == ["First", "First", "Second", "Second"]
        assert names[0] == "Second"


def test_matter_closed_event_fires_on_a_status_change(
    fixed: SandboxServer, http: httpx.Client, receiver: tuple[Receiver, str]
) -> None:
    rec, url = receiver
    enabled_hook(
        fixed,
        http,
        url,
        model="matter",
        fields="id,description",
        events=["updated", "matter_closed"],
    )
    fixed.edit("matters", 100, {"description": "Renamed"})  # first update: updated only
    fixed.edit("matters", 100, {"status": "Closed"})  # watched field unchanged
    fixed.flush_webhooks()
    events = [json.loads(b)["meta"]["event"] for _, b in rec.deliveries]
    assert events == ["updated", "matter_closed"]
