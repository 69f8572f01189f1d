"""Index endpoints: fields, paging, limits, order, filters, bill states (real HTTP)."""

from __future__ import annotations

import httpx
import pytest


def ids(response: httpx.Response) -> list[int]:
    return [r["id"] for r in response.json()["data"]]


class TestFields:
    def test_default_fields_are_id_and_etag(self, client: httpx.Client) -> None:
        record = client.get("contacts.json").json()["data"][0]
        assert set(record) == {"id", "etag"}
        assert record["etag"].startswith('"') and record["etag"].endswith('"')

    @pytest.mark.parametrize("raw", ["id,name,company{id,name}", "id,name,company%7Bid,name%7D"])
    def test_literal_and_percent_encoded_braces(self, client: httpx.Client, raw: str) -> None:
        # Passed in the raw URL so the braces reach the server exactly as written.
        response = client.get(f"contacts.json?fields={raw}")
        jo = next(r for r in response.json()["data"] if r["id"] == 11)
        assert jo == {"id": 11, "name": "Jo Client", "company": {"id": 10, "name": "Acme LLP"}}

    def test_nested_subfield_not_stored_is_read_from_the_referenced_record(
        self, client: httpx.Client
    ) -> None:
        response = client.get("matters.json", params={"fields": "id,client{id,type,is_client}"})
        first = response.json()["data"][0]
        assert first["client"] == {"id": 10, "type": "Company", "is_client": True}

    @pytest.mark.parametrize(
        "fields", ["id,nope", "id,client{nope}", "id,matters{client{name}}", "id,client{id"]
    )
    def test_unknown_field_or_second_level_nesting_is_a_400(
        self, client: httpx.Client, fields: str
    ) -> None:
        response = client.get("bills.json", params={"fields": fields})
        assert response.status_code == 400
        assert set(response.json()["error"]) == {"type", "message"}

    def test_second_level_relation_named_comes_with_default_attributes(
        self, client: httpx.Client
    ) -> None:
        response = client.get("bills.json", params={"fields": "id,matters{id,client}"})
        matter = response.json()["data"][0]["matters"][0]
        assert set(matter["client"]) == {"id", "etag"} and matter["client"]["id"] == 10


class TestPaging:
    def test_cursor_pages_follow_next_until_absent(self, client: httpx.Client) -> None:
        url: str | None = "contacts.json?order=id(asc)&limit=1&fields=id,name"
        seen, totals = [], set()
        while url:
            body = client.get(url).json()
            seen += [r["id"] for r in body["data"]]
            totals.add(body["meta"]["records"])
            url = body["meta"]["paging"].get("next")
            if url:
                assert "fields=id%2Cname" in url and "limit=1" in url and "page_token=" in url
        assert seen == [10, 11, 12]
        assert totals == {3}

    def test_last_page_omits_next(self, client: httpx.Client) -> None:
        body = client.get("contacts.json", params={"limit": 200}).json()
        assert "next" not in body["meta"]["paging"]

    def test_a_garbled_page_token_is_a_400(self, client: httpx.Client) -> None:
        assert client.get("contacts.json", params={"page_token": "%%%"}).status_code == 400

    @pytest.mark.parametrize(
        ("path", "limit", "ok"),
        [
            ("bills.json", 200, True),
            ("bills.json", 201, False),
            ("bills.json", 0, False),
            ("users.json", 2000, True),
            ("users.json", 2001, False),
        ],
    )
    def test_limit_bounds_per_endpoint(
        self, client: httpx.Client, path: str, limit: int, ok: bool
    ) -> None:
        assert client.get(path, params={"limit": limit}).status_code == (200 if ok else 400)

    def test_offset_past_ten_thousand_is_a_422_argument_error(self, client: httpx.Client) -> None:
        response = client.get("bills.json", params={"offset": 9900, "limit": 200})
        assert response.status_code == 422
        assert response.json()["error"]["type"] == "ArgumentError"

    def test_offset_paging_within_the_cap(self, client: httpx.Client) -> None:
        body = client.get("bills.json", params={"offset": 1, "limit": 1}).json()
        assert ids_of(body) == [201]
        assert "offset=2" in body["meta"]["paging"]["next"]
        assert "offset=0" in body["meta"]["paging"]["previous"]


def ids_of(body: dict) -> list[int]:
    return [r["id"] for r in body["data"]]


class TestOrderAndFilters:
    def test_allocations_default_to_date_order(self, client: httpx.Client) -> None:
        assert ids(client.get("allocations.json")) == [501, 500]
        assert ids(client.get("allocations.json", params={"order": "id(asc)"})) == [500, 501]

    def test_order_where_the_spec_has_none_is_a_400(self, client: httpx.Client) -> None:
        assert client.get("line_items.json", params={"order": "id(asc)"}).status_code == 400
        assert client.get("bills.json", params={"order": "colour(asc)"}).status_code == 400

    def test_plain_bills_index_hides_deleted_and_void(self, client: httpx.Client) -> None:
        assert ids(client.get("bills.json")) == [200, 201, 202, 205]
        assert ids(client.get("bills.json", params={"state": "void"})) == [203]
        assert ids(client.get("bills.json", params={"state": "deleted"})) == [204]
        assert client.get("bills.json", params={"state": "lost"}).status_code == 400

    def test_updated_since_is_strictly_after(self, client: httpx.Client) -> None:
        since = "2026-11-06T09:00:00-05:00"  # contact 11's updated_at exactly
        assert ids(client.get("contacts.json", params={"updated_since": since})) == [12]

    def test_created_since_and_ids(self, client: httpx.Client) -> None:
        got = client.get("contacts.json", params={"created_since": "2026-11-01T09:00:00-05:00"})
        assert ids(got) == [11, 12]
        assert ids(client.get("contacts.json?ids[]=10&ids[]=12")) == [10, 12]

    def test_relation_id_filter(self, client: httpx.Client) -> None:
        assert ids(client.get("activities.json", params={"matter_id": 101})) == [301]
        assert ids(client.get("matters.json", params={"status": "closed"})) == [101]


@pytest.mark.parametrize(
    ("path", "order", "expected"),
    [
        ("allocations.json", None, [501, 500]),
        ("allocations.json", "date(desc)", [500, 501]),
        ("bills.json", "id(desc)", [205, 202, 201, 200]),
        ("bills.json", "due_at(desc)", [205, 202, 201, 200]),
        ("contacts.json", "id(asc)", [10, 11, 12]),
    ],
)
def test_cursor_paging_walks_any_order_one_record_at_a_time(
    client: httpx.Client, path: str, order: str | None, expected: list[int]
) -> None:
    params = {"limit": 1, **({"order": order} if order else {})}
    body = client.get(path, params=params).json()
    seen = ids_of(body)
    while "next" in body["meta"]["paging"]:
        body = client.get(body["meta"]["paging"]["next"]).json()
        seen += ids_of(body)
    assert seen == expected
