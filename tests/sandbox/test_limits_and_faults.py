"""Rate limits, injected faults, scheduled mutations and stats (real HTTP)."""

from __future__ import annotations

import time

import httpx
import pytest
from fixture_firm import records
from sandbox_helpers import api_client

from pipelines.sandbox.harness import SandboxServer


@pytest.fixture
def limited(sandbox_factory) -> SandboxServer:
    return sandbox_factory(fixture=records(), rate_limit=(3, 30.0))


class TestRateLimits:
    def test_headers_count_down_then_429_with_retry_after(self, limited: SandboxServer) -> None:
        with api_client(limited) as http:
            answers = [http.get("contacts.json") for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert [a.headers["X-RateLimit-Remaining"] for a in answers[:3]] == ["2", "1", "0"]
        assert all(a.headers["X-RateLimit-Limit"] == "3" for a in answers)
        assert int(answers[3].headers["Retry-After"]) >= 1
        assert answers[3].json()["error"]["type"] == "RateLimited"
        assert int(answers[0].headers["X-RateLimit-Reset"]) >= int(time.time())

    def test_manage_limits_each_token_separately(self, limited: SandboxServer) -> None:
        with api_client(limited) as one, api_client(limited) as two:
            assert [one.get("contacts.json").status_code for _ in range(3)] == [200] * 3
            assert two.get("contacts.json").status_code == 200

    def test_window_end_restores_the_budget(self, sandbox_factory) -> None:
        sb = sandbox_factory(fixture=records(), rate_limit=(1, 1.0))
        with api_client(sb) as http:
            http.get("contacts.json")
            refused = http.get("contacts.json")
            assert refused.status_code == 429
            time.sleep(max(0.0, float(refused.headers["X-RateLimit-Reset"]) - time.time()))
            time.sleep(0.05)
            assert http.get("contacts.json").status_code == 200

    def test_platform_limits_the_application(self, sandbox_factory) -> None:
        sb = sandbox_factory(fixture=records(), api="platform", rate_limit=(2, 5.0))
        with api_client(sb) as one, api_client(sb) as two:
            assert one.get("contacts.json").status_code == 200
            assert two.get("contacts.json").status_code == 200
            refused = one.get("contacts.json")
        assert refused.status_code == 429 and refused.json() == {"message": "Too Many Requests"}

    def test_control_changes_the_limit(self, fixed: SandboxServer) -> None:
        fixed.faults(rate_limit={"limit": 1, "window": 5})
        with api_client(fixed) as http:
            assert [http.get("contacts.json").status_code for _ in range(2)] == [200, 429]


class TestFaults:
    @pytest.mark.parametrize("kind", ["500", "502", "503", "429"])
    def test_status_faults_hit_the_matching_path_count_times(
        self, fixed: SandboxServer, client: httpx.Client, kind: str
    ) -> None:
        fixed.faults(kind=kind, count=2, path="bills.json", after=1)
        codes = [client.get("bills.json").status_code for _ in range(4)]
        assert codes == [200, int(kind), int(kind), 200]
        assert client.get("contacts.json").status_code == 200

    def test_429_fault_carries_retry_after(
        self, fixed: SandboxServer, client: httpx.Client
    ) -> None:
        fixed.faults(kind="429", retry_after=7)
        assert client.get("bills.json").headers["Retry-After"] == "7"

    def test_slow(self, fixed: SandboxServer, client: httpx.Client) -> None:
        fixed.faults(kind="slow", delay=0.3)
        started = time.perf_counter()
        assert client.get("bills.json").status_code == 200
        assert time.perf_counter() - started >= 0.3

    @pytest.mark.parametrize("kind", ["truncated", "drop"])
    def test_broken_connections(
        self, fixed: SandboxServer, client: httpx.Client, kind: str
    ) -> None:
        fixed.faults(kind=kind)
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("bills.json")
        assert client.get("bills.json").status_code == 200

    def test_invalid_json(self, fixed: SandboxServer, client: httpx.Client) -> None:
        fixed.faults(kind="invalid_json")
        response = client.get("bills.json")
        assert response.status_code == 200
        with pytest.raises(ValueError):
            response.json()

    def test_faults_also_reach_the_token_endpoint_and_clear(self, fixed: SandboxServer) -> None:
        fixed.faults(kind="503", count=5, path="/oauth/token")
        fixed.faults(clear=True)
        answer = httpx.post(
            f"{fixed.base_url}/oauth/token",
            data={
                "client_id": "sandbox",
                "client_secret": "sandbox-secret",
                "grant_type": "refresh_token",
                "refresh_token": fixed.token()["refresh_token"],
            },
        )
        assert answer.status_code == 200


class TestControl:
    def test_edit_after_requests_lands_behind_a_paging_cursor(
        self, fixed: SandboxServer, client: httpx.Client
    ) -> None:
        first = client.get("contacts.json", params={"limit": 1, "fields": "id,name"}).json()
        assert fixed.edit("contacts", 10, {"name": "Renamed"}, after_requests=1) is None
        second = client.get(first["meta"]["paging"]["next"]).json()
        assert [r["id"] for r in second["data"]] == [11]
        again = client.get("contacts/10.json", params={"fields": "name"}).json()
        assert again["data"]["name"] == "Renamed"

    def test_truth_has_every_field_and_state(self, fixed: SandboxServer) -> None:
        bills = fixed.truth("bills")
        assert [b["id"] for b in bills] == [200, 201, 202, 203, 204, 205]
        assert {"total", "balance", "client", "etag", "updated_at"} <= set(bills[0])

    def test_stats_count_by_path_and_status(
        self, fixed: SandboxServer, client: httpx.Client
    ) -> None:
        client.get("bills.json")
        client.get("bills.json", params={"limit": 0})
        stats = fixed.stats()
        assert stats["by_path"]["/api/v4/bills.json"] == {"200": 1, "400": 1}
        assert stats["requests"][1]["query"] == "limit=0"
        fixed.reset_stats()
        assert fixed.stats()["requests"] == []

    def test_delete_and_bill_delete_rules(self, fixed: SandboxServer, client: httpx.Client) -> None:
        fixed.delete("contacts", 12)
        assert client.get("contacts/12.json").status_code == 404
        assert client.delete("bills/202.json").status_code == 204  # draft -> deleted
        assert client.get("bills.json", params={"state": "deleted"}).json()["meta"]["records"] == 2
        refused = client.delete("bills/201.json")  # paid
        assert refused.status_code == 403 and "paid" in refused.json()["error"]["message"]

    def test_reset_restores_the_firm(self, fixed: SandboxServer, client: httpx.Client) -> None:
        fixed.edit("contacts", 10, {"name": "Changed"})
        fixed.reset()
        assert client.get("contacts/10.json", params={"fields": "name"}).json()["data"] == {
            "name": "Acme LLP"
        }
