"""How the source walks an endpoint: query parameters, state filters, page sizes."""

from __future__ import annotations

from pipelines.clio.endpoints import BY_TABLE
from pipelines.clio.source import page_limit, page_params


def test_ordered_by_id_where_the_endpoint_takes_it() -> None:
    assert page_params(BY_TABLE["bills"], 200, None, None)["order"] == "id(asc)"
    assert "order" not in page_params(BY_TABLE["line_items"], 200, None, None)


def test_incremental_walks_send_updated_since_and_state() -> None:
    params = page_params(BY_TABLE["bills"], 200, "2026-01-01T00:00:00+00:00", {"state": "void"})
    assert params["updated_since"] == "2026-01-01T00:00:00+00:00"
    assert params["state"] == "void"
    assert params["fields"] == BY_TABLE["bills"].fields


def test_final_states_are_walked_before_the_plain_index() -> None:
    assert BY_TABLE["bills"].walks == ({"state": "deleted"}, {"state": "void"}, {})
    assert BY_TABLE["contacts"].walks == ({},)


def test_each_value_of_a_required_filter_is_a_walk_of_its_own() -> None:
    assert BY_TABLE["notes"].walks == ({"type": "Matter"}, {"type": "Contact"})
    params = page_params(BY_TABLE["notes"], 200, None, {"type": "Contact"})
    assert params["type"] == "Contact" and params["order"] == "id(asc)"
    assert "order" not in page_params(BY_TABLE["billable_matters"], 1000, None)


def test_page_limit_is_the_endpoints_maximum_unless_capped() -> None:
    assert page_limit(BY_TABLE["users"], None) == 2000
    assert page_limit(BY_TABLE["users"], 5) == 5
    assert page_limit(BY_TABLE["bills"], 5000) == 200
