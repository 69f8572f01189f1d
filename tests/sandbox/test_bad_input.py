"""Bad input of any kind gets a Clio-shaped 4xx, never a 500 (property tests, real HTTP)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fixture_firm import records
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.sandbox.harness import serve_sandbox

PARAMS = [
    "fields",
    "limit",
    "order",
    "page_token",
    "offset",
    "ids[]",
    "updated_since",
    "created_since",
    "state",
    "matter_id",
    "client_id",
    "status",
    "bill_id",
]
PATHS = [
    "bills.json",
    "contacts.json",
    "allocations.json",
    "line_items.json",
    "users.json",
    "bills/200.json",
    "matters/abc.json",
    "webhooks.json",
    "webhooks/1.json",
    "users/who_am_i.json",
    "outstanding_client_balances.json",
    "nope/1/2.json",
]
FIELD_TEXT = st.text(alphabet="abcdeilnty_{},%7B", max_size=40)


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with serve_sandbox(fixture=records(), rate_limit=None) as sb:
        token = sb.token()["access_token"]
        with httpx.Client(
            base_url=f"{sb.base_url}/api/v4",
            timeout=10,
            headers={"Authorization": f"Bearer {token}"},
        ) as client:
            hook = {"url": "http://127.0.0.1:9/h", "model": "bill", "fields": "id"}
            assert client.post("webhooks.json", json={"data": hook}).status_code == 201
            yield client


def assert_clio_shaped(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert set(response.json()["error"]) == {"type", "message"}


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(PATHS),
    params=st.dictionaries(
        st.sampled_from(PARAMS), st.one_of(FIELD_TEXT, st.integers()), max_size=4
    ),
)
def test_any_query_on_any_path(http: httpx.Client, path: str, params: dict) -> None:
    assert_clio_shaped(http.get(path, params=params))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    method=st.sampled_from(["POST", "PATCH", "PUT", "DELETE"]),
    path=st.sampled_from([*PATHS, "webhooks/1/activate"]),
    body=st.one_of(
        st.binary(max_size=40),
        st.just(b'{"data": {"url": 5}}'),
        st.just(b'{"data": []}'),
        st.just(b"[]"),
    ),
)
def test_any_body_and_method(http: httpx.Client, method: str, path: str, body: bytes) -> None:
    assert_clio_shaped(
        http.request(method, path, content=body, headers={"Content-Type": "application/json"})
    )
