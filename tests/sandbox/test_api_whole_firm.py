"""The whole-firm indexes over real HTTP: required filters, paging, one nesting level of
`fields`, `updated_since`, `ids[]`, limits, filters, string ids, and the values they serve
(hand-built firm of `fixture_firm.py`)."""

from __future__ import annotations

import httpx
import pytest
from sandbox_helpers import api_client

from pipelines.sandbox.harness import SandboxServer


def ids(response: httpx.Response) -> list:
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()["data"]]


def walk(client: httpx.Client, url: str) -> tuple[list, set[int]]:
    """Every id of a cursor walk, and the `meta.records` seen on its pages."""
    seen, totals = [], set()
    next_url: str | None = url
    while next_url:
        body = client.get(next_url).json()
        seen += [r["id"] for r in body["data"]]
        totals.add(body["meta"]["records"])
        next_url = body["meta"]["paging"].get("next")
    return seen, totals


class TestRequiredFilters:
    def test_notes_without_type_is_a_400_naming_the_parameter(self, client: httpx.Client) -> None:
        response = client.get("notes.json")
        assert response.status_code == 400
        assert response.json()["error"]["type"] == "BadRequest"
        assert "type" in response.json()["error"]["message"]

    def test_each_note_type_is_its_own_walk(self, client: httpx.Client) -> None:
        assert walk(client, "notes.json?type=Matter&limit=1") == ([820, 822], {2})
        assert walk(client, "notes.json?type=Contact&limit=1") == ([821], {1})
        assert client.get("notes.json", params={"type": "Bill"}).status_code == 400

    def test_next_urls_keep_the_required_filter(self, client: httpx.Client) -> None:
        body = client.get("notes.json", params={"type": "Matter", "limit": 1}).json()
        assert "type=Matter" in body["meta"]["paging"]["next"]

    def test_calendar_entries_need_no_filter_in_this_spec(self, client: httpx.Client) -> None:
        assert ids(client.get("calendar_entries.json")) == ["810", "811"]


class TestPagingAndLimits:
    @pytest.mark.parametrize(
        ("path", "expected"),
        [
            ("tasks.json?limit=1", [800, 801, 802]),
            ("custom_fields.json?limit=1&order=id(asc)", [700, 701, 702, 703]),
            ("communications.json?limit=1", [831, 830]),  # date(asc) by default
            ("billable_matters.json?limit=1", [100, 101]),
            ("calendar_entries.json?limit=1", ["810", "811"]),
        ],
    )
    def test_cursor_walks_one_record_at_a_time(
        self, client: httpx.Client, path: str, expected: list
    ) -> None:
        assert walk(client, path) == (expected, {len(expected)})

    @pytest.mark.parametrize(
        ("path", "limit", "ok"),
        [
            ("billable_matters.json", 1000, True),
            ("billable_matters.json", 1001, False),
            ("tasks.json", 200, True),
            ("tasks.json", 201, False),
            ("custom_fields.json", 0, False),
        ],
    )
    def test_limit_bounds(self, client: httpx.Client, path: str, limit: int, ok: bool) -> None:
        assert client.get(path, params={"limit": limit}).status_code == (200 if ok else 400)

    def test_billable_matters_take_no_order(self, client: httpx.Client) -> None:
        assert client.get("billable_matters.json", params={"order": "id(asc)"}).status_code == 400


class TestFields:
    def test_custom_field_values_with_one_nesting_level(self, client: httpx.Client) -> None:
        fields = "id,custom_field_values{id,field_type,value,soft_deleted,custom_field,picklist_option}"
        matter = client.get("matters/100.json", params={"fields": fields}).json()["data"]
        picklist, claim = matter["custom_field_values"]
        assert picklist["id"] == "picklist-9001" and picklist["value"] == "1"
        assert picklist["custom_field"]["id"] == 700 and set(picklist["custom_field"]) == {"id", "etag"}
        assert picklist["picklist_option"] == {"id": 1, "etag": '"o1"'}
        assert claim == {
            "id": "text_line-9002", "field_type": "text_line", "value": "CLM-1",
            "soft_deleted": False, "custom_field": claim["custom_field"], "picklist_option": None,
        }  # fmt: skip

    @pytest.mark.parametrize(
        "fields",
        [
            "id,custom_field_values{custom_field{name}}",
            "id,custom_field_values{nope}",
            "id,account_balances{id,colour}",
            "id,matter_stage{id,name,practice_area{id}}",
        ],
    )
    def test_deeper_or_unknown_fields_are_a_400(self, client: httpx.Client, fields: str) -> None:
        assert client.get("matters.json", params={"fields": fields}).status_code == 400

    def test_default_fields_without_etag_are_the_id(self, client: httpx.Client) -> None:
        assert client.get("billable_matters.json").json()["data"] == [{"id": 100}, {"id": 101}]
        assert client.get("billable_matters.json", params={"fields": "id,etag"}).status_code == 400

    def test_soft_deleted_values_and_deleted_definitions(self, client: httpx.Client) -> None:
        contact = client.get("contacts/10.json", params={"fields": "custom_field_values{id,soft_deleted}"})
        assert contact.json()["data"]["custom_field_values"] == [
            {"id": "checkbox-9003", "soft_deleted": False},
            {"id": "text_line-9004", "soft_deleted": True},
        ]
        assert ids(client.get("custom_fields.json", params={"deleted": "true"})) == [702]
        assert ids(client.get("custom_fields.json", params={"deleted": "false"})) == [700, 701, 703]

    def test_picklist_options_with_their_deletion(self, client: httpx.Client) -> None:
        got = client.get(
            "custom_fields.json",
            params={"field_type": "picklist", "fields": "id,picklist_options{id,option,deleted_at}"},
        ).json()["data"]
        assert got == [{"id": 700, "picklist_options": [
            {"id": 1, "option": "Google", "deleted_at": None},
            {"id": 2, "option": "Yellow pages", "deleted_at": "2026-11-03T09:00:00-05:00"},
        ]}]  # fmt: skip

    def test_calendar_entry_ids_are_strings_everywhere(self, client: httpx.Client) -> None:
        one = client.get("calendar_entries/810.json", params={"fields": "id,matter{id}"})
        assert one.json()["data"] == {"id": "810", "matter": {"id": 100}}
        assert ids(client.get("calendar_entries.json?ids[]=811")) == ["811"]


class TestFiltersAndValues:
    def test_updated_since_is_strictly_after(self, client: httpx.Client) -> None:
        since = "2026-11-03T09:00:00-05:00"  # task 800's updated_at exactly
        assert ids(client.get("tasks.json", params={"updated_since": since})) == [801, 802]

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"status": "complete"}, [801]),
            ({"complete": "true"}, [801]),
            ({"complete": "false"}, [800, 802]),
            ({"matter_id": 101}, [802]),
            ({"priority": "high"}, [800]),
        ],
    )
    def test_task_filters(self, client: httpx.Client, params: dict, expected: list[int]) -> None:
        assert ids(client.get("tasks.json", params=params)) == expected

    def test_a_bad_boolean_or_enum_is_a_400(self, client: httpx.Client) -> None:
        assert client.get("tasks.json", params={"complete": "maybe"}).status_code == 400
        assert client.get("tasks.json", params={"status": "done"}).status_code == 400

    def test_stage_group_and_parent_filters(self, client: httpx.Client) -> None:
        assert ids(client.get("matter_stages.json", params={"practice_area_id": 50})) == [760, 761]
        assert ids(client.get("custom_fields.json", params={"parent_type": "contact"})) == [702, 703]
        assert ids(client.get("relationships.json", params={"contact_id": 11})) == [840]
        assert client.get("matter_stages/760.json").status_code == 404  # no show in the spec

    def test_billable_matters_numbers(self, client: httpx.Client) -> None:
        fields = "id,unbilled_amount,unbilled_hours,amount_in_trust,currency_code,client{id,name}"
        rows = client.get("billable_matters.json", params={"fields": fields}).json()["data"]
        assert rows == [
            {"id": 100, "unbilled_amount": 500.0, "unbilled_hours": 2.0, "amount_in_trust": 500.0,
             "currency_code": "USD", "client": {"id": 10, "name": "Acme LLP"}},
            {"id": 101, "unbilled_amount": 40.0, "unbilled_hours": 0.0, "amount_in_trust": 0.0,
             "currency_code": "USD", "client": {"id": 11, "name": "Jo Client"}},
        ]  # fmt: skip
        assert ids(client.get("billable_matters.json", params={"matter_id": 101})) == [101]

    def test_account_balances_and_evergreen_retainer(self, client: httpx.Client) -> None:
        fields = "id,account_balances{id,balance,type,name,currency_id},evergreen_retainer{minimum_threshold}"
        matter = client.get("matters/100.json", params={"fields": fields}).json()["data"]
        assert matter["account_balances"] == [
            {"id": 600, "balance": 500.0, "type": "Trust", "name": "Trust (USD)", "currency_id": 1}
        ]
        assert matter["evergreen_retainer"] == {"minimum_threshold": 1000.0}
        jo = client.get("contacts/11.json", params={"fields": "account_balances{id}"})
        assert jo.json()["data"]["account_balances"] == []

    def test_activities_name_their_description_and_task(self, client: httpx.Client) -> None:
        got = client.get(
            "activities.json",
            params={"ids[]": 302, "fields": "id,activity_description{id,name},task{id},expense_category"},
        ).json()["data"]
        assert got == [{"id": 302, "activity_description": {"id": 720, "name": "Legal research"},
                        "task": None, "expense_category": None}]  # fmt: skip

    def test_whole_firm_indexes_need_their_scope(self, fixed: SandboxServer) -> None:
        with api_client(fixed, scopes=["matters:read"]) as narrow:
            assert narrow.get("tasks.json").status_code == 403
            assert narrow.get("relationships.json").status_code == 200
