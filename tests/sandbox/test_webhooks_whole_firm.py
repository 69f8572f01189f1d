"""Over real HTTP: the custom field option of a running sandbox (`custom_field_edits`),
the control calls that edit values, and webhooks for tasks, calendar entries and
communications, and for custom field values as a watch list."""

from __future__ import annotations

import json
from collections.abc import Iterator
from email.utils import parsedate_to_datetime

import httpx
import pytest
from fixture_firm import records
from sandbox_helpers import Receiver, api_client

from pipelines.sandbox.harness import SandboxError, SandboxServer, serve_sandbox


@pytest.fixture(params=["touch", "silent"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def sb(mode: str) -> Iterator[SandboxServer]:
    with serve_sandbox(fixture=records(), rate_limit=None, custom_field_edits=mode,
                       webhook_time_scale=0.0001) as server:  # fmt: skip
        yield server


@pytest.fixture
def http(sb: SandboxServer) -> Iterator[httpx.Client]:
    with api_client(sb) as client:
        yield client


def subscribe(sb: SandboxServer, http: httpx.Client, url: str, model: str, fields: str) -> int:
    made = http.post("webhooks.json", json={"data": {"url": url, "model": model, "fields": fields}})
    assert made.status_code == 201, made.text
    sb.flush_webhooks()
    return made.json()["data"]["id"]


def delivered(rec: Receiver) -> list[dict]:
    return [json.loads(body) for _, body in rec.deliveries]


def test_a_value_edit_is_listed_by_updated_since_only_under_touch(
    sb: SandboxServer, http: httpx.Client, mode: str
) -> None:
    read = http.get("matters/100.json", params={"fields": "id,etag,updated_at"})
    before = read.json()["data"]
    since = parsedate_to_datetime(read.headers["Date"]).isoformat()  # the server's now
    record = sb.set_custom_field_value("matters", 100, 701, "CLM-2")
    assert record is not None
    value = next(v for v in record["custom_field_values"] if v["custom_field"]["id"] == 701)
    assert value["value"] == "CLM-2" and value["id"] == "text_line-9002"
    listed = http.get("matters.json", params={"updated_since": since, "fields": "id"}).json()["data"]
    after = http.get("matters/100.json", params={"fields": "etag,custom_field_values{id,value}"}).json()["data"]
    assert {"id": "text_line-9002", "value": "CLM-2"} in after["custom_field_values"]
    if mode == "touch":
        assert listed == [{"id": 100}] and after["etag"] != before["etag"]
    else:
        assert listed == [] and after["etag"] == before["etag"]


def test_control_refuses_values_that_do_not_fit(sb: SandboxServer) -> None:
    with pytest.raises(SandboxError, match="422"):
        sb.set_custom_field_value("matters", 100, 700, 2)  # a deleted picklist option
    with pytest.raises(SandboxError, match="422"):
        sb.set_custom_field_value("contacts", 10, 700, 1)  # a matter field on a contact
    with pytest.raises(SandboxError, match="404"):
        sb.set_custom_field_value("matters", 999, 701, "x")
    with pytest.raises(SandboxError, match="422"):
        sb.edit("matters", 100, {"custom_field_values": []})


def test_deleting_a_definition_over_the_control_api(sb: SandboxServer, http: httpx.Client) -> None:
    sb.delete_custom_field(701)
    value = http.get("matters/100.json", params={"fields": "custom_field_values{id,soft_deleted}"})
    assert {"id": "text_line-9002", "soft_deleted": True} in value.json()["data"]["custom_field_values"]
    assert http.get("custom_fields/701.json", params={"fields": "deleted"}).json()["data"] == {"deleted": True}


def test_truth_serves_calendar_entry_ids_as_the_api_does(sb: SandboxServer) -> None:
    assert [e["id"] for e in sb.truth("calendar_entries")] == ["810", "811"]


def test_a_value_watch_list_fires_on_value_changes_under_either_option(
    sb: SandboxServer, http: httpx.Client, receiver: tuple[Receiver, str], mode: str
) -> None:
    rec, url = receiver
    hook = subscribe(sb, http, url, "matter", "id,custom_field_values{id,value}")
    sb.set_custom_field_value("matters", 100, 701, "CLM-3")
    sb.set_custom_field_value("matters", 100, 701, "CLM-3")  # the same value: nothing changed
    sb.set_custom_field_value("matters", 100, 700, None)  # cleared
    sb.flush_webhooks()
    bodies = delivered(rec)
    assert [b["meta"] for b in bodies] == [{"event": "updated", "webhook_id": hook}] * 2
    assert {"id": "text_line-9002", "value": "CLM-3"} in bodies[0]["data"]["custom_field_values"]
    assert [v["id"] for v in bodies[1]["data"]["custom_field_values"]] == ["text_line-9002"]


def test_a_hook_not_watching_values_hears_nothing_of_them(
    sb: SandboxServer, http: httpx.Client, receiver: tuple[Receiver, str], mode: str
) -> None:
    rec, url = receiver
    subscribe(sb, http, url, "matter", "id,description")
    sb.edit("matters", 100, {"description": "Renamed"})  # the first update always fires
    sb.set_custom_field_value("matters", 100, 701, "CLM-4")
    sb.flush_webhooks()
    assert [b["data"]["description"] for b in delivered(rec)] == ["Renamed"]


@pytest.mark.parametrize(
    ("model", "endpoint", "record_id", "changes", "fields"),
    [
        ("task", "tasks", 800, {"status": "complete"}, "id,status"),
        ("calendar_entry", "calendar_entries", 810, {"location": "Room 9"}, "id,location"),
        ("communication", "communications", 830, {"subject": "Re: re: motion"}, "id,subject"),
    ],
)
def test_webhooks_for_tasks_calendar_entries_and_communications(
    fixed: SandboxServer, client: httpx.Client, receiver: tuple[Receiver, str],
    model: str, endpoint: str, record_id: int, changes: dict, fields: str,
) -> None:  # fmt: skip
    rec, url = receiver
    hook = subscribe(fixed, client, url, model, fields)
    fixed.edit(endpoint, record_id, changes)
    fixed.delete(endpoint, record_id)
    fixed.flush_webhooks()
    bodies = delivered(rec)
    assert [b["meta"]["event"] for b in bodies] == ["updated", "deleted"]
    assert all(b["meta"]["webhook_id"] == hook for b in bodies)
    (name, value), = changes.items()
    assert bodies[0]["data"][name] == value
    wanted = str(record_id) if model == "calendar_entry" else record_id  # the spec's string id
    assert bodies[0]["data"]["id"] == wanted and bodies[1]["data"]["id"] == wanted


def test_life_changes_tasks_heard_by_a_task_webhook(receiver: tuple[Receiver, str]) -> None:
    rec, url = receiver
    with serve_sandbox(scale="tiny", seed=7, rate_limit=None) as sb, api_client(sb) as http:
        subscribe(sb, http, url, "task", "id,status,matter{id}")
        sb.advance(days=5)
        sb.flush_webhooks()
        bodies = delivered(rec)
        assert bodies
        final: dict[int, dict | None] = {}
        for body in bodies:  # the last word on each task, as a receiver would keep it
            final[body["data"]["id"]] = None if body["meta"]["event"] == "deleted" else body["data"]
        truth = {t["id"]: t for t in sb.truth("tasks")}
        for task_id, data in final.items():
            assert (data is None) == (task_id not in truth)
            assert data is None or data["status"] == truth[task_id]["status"]
