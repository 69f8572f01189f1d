"""Typing API records: `flatten` (one record) and `arrow_batch` (a page batch) agree."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from pipelines.clio.endpoints import ENDPOINTS
from pipelines.clio.rows import TOMBSTONE, arrow_batch, flatten


class TestFlatten:
    def test_types_every_kind_of_value(self, bill_record) -> None:
        root, children = flatten("bills", bill_record(7, [1]))
        assert root["id"] == 7
        assert root["total"] == Decimal("10.50")
        assert root["issued_at"] == date(2026, 1, 2)
        assert root["updated_at"] == datetime(2026, 11, 20, 14, 15, 2, tzinfo=UTC)
        assert root["tax_rate"] == Decimal("5") and isinstance(root["tax_rate"], Decimal)
        assert root["shared"] is True
        assert (root["client__id"], root["client__name"]) == (3, "Acme LLP")
        assert root["currency__code"] is None
        assert children["bills__matters"] == [{"id": 1, "display_number": "M1", "bill_id": 7}]
        assert children["bills__balances"][0]["amount"] == Decimal("0.29")

    @pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.table)
    def test_every_catalog_column_is_present_even_when_absent_from_the_record(self, endpoint) -> None:
        root, children = flatten(endpoint, {"id": 1})
        assert list(root) == list(endpoint.columns)
        assert set(children) == {f"{endpoint.table}__{c.field}" for c in endpoint.children}


class TestArrowBatch:
    def test_matches_flatten_row_for_row(self, bill_record) -> None:
        records = [bill_record(1, [1, 2]), bill_record(2, [3], total=0.07)]
        root, children = arrow_batch("bills", records)
        assert root.to_pylist() == [flatten("bills", r)[0] for r in records]
        matters = [
            {k: v for k, v in row.items() if k != TOMBSTONE}
            for row in children["bills__matters"].to_pylist()
        ]
        assert matters == [row for r in records for row in flatten("bills", r)[1]["bills__matters"]]

    def test_empty_list_becomes_one_tombstone_row(self, bill_record) -> None:
        _, children = arrow_batch("bills", [bill_record(5, [])])
        assert children["bills__matters"].to_pylist() == [
            {"id": None, "display_number": None, "bill_id": 5, TOMBSTONE: True}
        ]

    def test_money_keeps_cents_exactly(self, bill_record) -> None:
        values = [0.29, 0.07, 100.35, 1234567.89, -12.01, 0]
        records = [{**bill_record(i, [1]), "total": v} for i, v in enumerate(values, 1)]
        root, _ = arrow_batch("bills", records)
        assert root.column("total").to_pylist() == [Decimal(str(v)).quantize(Decimal("0.01")) for v in values]

    def test_odd_values_fall_back_to_per_value_conversion(self, bill_record) -> None:
        record = {**bill_record(1, [1]), "total": "12.5", "updated_at": "2026-11-20T09:15:02Z"}
        root, _ = arrow_batch("bills", [record])
        assert root.to_pylist() == [flatten("bills", record)[0]]


def _matter_with_custom_values() -> dict:
    """A matter as Clio sends it with `custom_field_values{...,custom_field,picklist_option}`."""
    return {
        "id": 12,
        "evergreen_retainer": {"id": 3, "minimum_threshold": 2500.1},
        "custom_field_values": [
            {"id": "numeric-41", "field_name": "Fee", "field_type": "numeric", "value": "12.50",
             "soft_deleted": False, "created_at": "2026-01-02T10:00:00-05:00",
             "updated_at": "2026-01-03T10:00:00-05:00",
             "custom_field": {"id": 41, "etag": '"e"'}, "picklist_option": None},
            {"id": "picklist-42", "field_name": "Source", "field_type": "picklist", "value": "7",
             "soft_deleted": True, "custom_field": {"id": 42, "etag": '"f"'},
             "picklist_option": {"id": 7, "etag": '"g"'}},
        ],
        "account_balances": [{"id": 5, "balance": 100.35, "type": "TrustAccount", "name": "Trust"}],
    }


class TestNestedChildren:
    def test_child_items_keep_text_ids_and_the_ids_of_their_relations(self) -> None:
        root, children = flatten("matters", _matter_with_custom_values())
        assert root["evergreen_retainer__minimum_threshold"] == Decimal("2500.10")
        values = children["matters__custom_field_values"]
        assert [(v["id"], v["custom_field__id"], v["picklist_option__id"]) for v in values] == [
            ("numeric-41", 41, None), ("picklist-42", 42, 7)
        ]
        assert values[0]["value"] == "12.50" and values[1]["soft_deleted"] is True
        assert values[0]["updated_at"] == datetime(2026, 1, 3, 15, 0, tzinfo=UTC)
        assert all(v["matter_id"] == 12 for v in values)
        assert children["matters__account_balances"][0]["balance"] == Decimal("100.35")

    def test_arrow_batch_matches_flatten(self) -> None:
        record = _matter_with_custom_values()
        _, children = arrow_batch("matters", [record, {"id": 13}])
        rows = [{k: v for k, v in row.items() if k != TOMBSTONE}
                for row in children["matters__custom_field_values"].to_pylist()]
        assert rows[:2] == flatten("matters", record)[1]["matters__custom_field_values"]
        assert rows[2]["matter_id"] == 13 and rows[2]["id"] is None  # matter 13's tombstone
        assert children["matters__custom_field_values"].schema.field("id").type == "string"
