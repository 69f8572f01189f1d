"""Bad input gets Clio's error shapes, never a 500 (real HTTP)."""

from __future__ import annotations

import httpx

from pipelines.sandbox.harness import SandboxServer


def test_missing_token_is_a_flat_401(fixed: SandboxServer) -> None:
    response = httpx.get(f"{fixed.base_url}/api/v4/bills.json")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert "X-RateLimit-Limit" in response.headers


def test_unknown_path_is_a_404_in_clio_shape(client: httpx.Client) -> None:
    response = client.get("payments.json")
    assert response.status_code == 404
    assert set(response.json()["error"]) == {"type", "message"}


def test_unknown_path_outside_the_api_is_a_404_in_clio_shape(fixed: SandboxServer) -> None:
    response = httpx.get(f"{fixed.base_url}/nowhere")
    assert response.status_code == 404
    assert "error" in response.json()


def test_wrong_method_is_a_405(client: httpx.Client) -> None:
    response = client.post("contacts.json", json={})
    assert response.status_code == 405
    assert response.json()["error"]["type"] == "MethodNotAllowed"


def test_unknown_record_is_a_404(client: httpx.Client) -> None:
    assert client.get("bills/999.json").status_code == 404
    assert client.get("bills/abc.json").status_code == 404


def test_malformed_json_control_body_is_a_400(fixed: SandboxServer) -> None:
    response = httpx.post(f"{fixed.base_url}/_sandbox/tokens", content=b"{nope")
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "BadRequest"


def test_unknown_api_version_is_410_and_known_ones_are_echoed(client: httpx.Client) -> None:
    assert client.get("bills.json", headers={"X-API-VERSION": "4.9.9"}).status_code == 410
    ok = client.get("bills.json", headers={"X-API-VERSION": "4.0.4"})
    assert ok.headers["X-API-VERSION"] == "4.0.4"
    assert client.get("bills.json").headers["X-API-VERSION"] == "4.0.13"


def test_show_has_etag_and_if_none_match_answers_304(client: httpx.Client) -> None:
    first = client.get("bills/200.json", params={"fields": "id,total"})
    assert first.json()["data"] == {"id": 200, "total": 1000.0}
    assert first.headers["Last-Modified"] == "Sun, 01 Nov 2026 15:00:00 GMT"
    again = client.get("bills/200.json", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""


def test_date_header_is_the_firm_clock(client: httpx.Client) -> None:
    assert client.get("bills.json").headers["Date"] == "Fri, 20 Nov 2026 22:00:00 GMT"
