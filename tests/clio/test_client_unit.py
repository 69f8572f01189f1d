"""ClioClient against tiny in-process apps (httpx.MockTransport): paging, auth, retries."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest

from pipelines.clio.client import ClioClient
from pipelines.clio.errors import ClioBadResponse, ClioRateLimited, ClioUnavailable
from pipelines.clio.stats import RunStats

NOW = datetime(2026, 11, 28, 18, 0, 0, tzinfo=UTC)


def answer(status: int = 200, body: object = None, **headers: str) -> httpx.Response:
    headers.setdefault("Date", format_datetime(NOW, usegmt=True))
    return httpx.Response(status, json=body if body is not None else {"data": []},
                          headers={k.replace("_", "-"): v for k, v in headers.items()})


class TestPaging:
    def test_params_go_first_then_next_urls_verbatim(self, make_settings) -> None:
        seen: list[str] = []

        def app(request: httpx.Request) -> httpx.Response:
            seen.append(str(request.url))
            token = request.url.params.get("page_token")
            if token is None:
                nxt = "http://clio.test/api/v4/bills.json?fields=id%7Bx%7D&page_token=p2"
                return answer(body={"data": [{"id": 1}], "meta": {"paging": {"next": nxt}}})
            return answer(body={"data": [{"id": 2}], "meta": {"paging": {}}})

        settings = make_settings(access_token="tok")
        stats = RunStats()
        with ClioClient(settings, stats, transport=httpx.MockTransport(app)) as client:
            pages = list(client.iter_pages("bills.json", {"fields": "id", "limit": 2}, resource="bills"))
        assert [r["id"] for p in pages for r in p.records] == [1, 2]
        assert seen[0] == "http://clio.test/api/v4/bills.json?fields=id&limit=2"
        assert seen[1] == "http://clio.test/api/v4/bills.json?fields=id%7Bx%7D&page_token=p2"
        assert pages[0].date == NOW
        got = stats.get("bills")
        assert (got.requests, got.pages, got.records) == (2, 2, 2)

    def test_a_relative_next_link_is_resolved_against_the_page(self, make_settings) -> None:
        seen: list[str] = []

        def app(request: httpx.Request) -> httpx.Response:
            seen.append(str(request.url))
            if "page_token" in request.url.params:
                return answer(body={"data": []})
            return answer(body={"data": [], "meta": {"paging": {
                "next": "/api/v4/bills.json?page_token=p2"}}})

        with ClioClient(make_settings(access_token="t"), transport=httpx.MockTransport(app)) as c:
            list(c.iter_pages("bills.json", {"limit": 1}))
        assert seen[1] == "http://clio.test/api/v4/bills.json?page_token=p2"

    @pytest.mark.parametrize("link", [
        "https://evil.test/api/v4/bills.json?page_token=p2",
        "http://clio.test@evil.test/api/v4/bills.json?page_token=p2",  # user info
        "http://clio.test.evil.test/api/v4/bills.json?page_token=p2",  # a longer name
        "http://clio.test:8443/api/v4/bills.json?page_token=p2",  # another port
        "https://clio.test/api/v4/bills.json?page_token=p2",  # another scheme
    ])
    def test_a_next_link_to_another_host_is_refused(self, make_settings, link) -> None:
        def app(request: httpx.Request) -> httpx.Response:
            return answer(body={"data": [], "meta": {"paging": {"next": link}}})

        client = ClioClient(make_settings(access_token="t"), transport=httpx.MockTransport(app))
        with client, pytest.raises(ClioBadResponse, match="another host"):
            list(client.iter_pages("bills.json"))

    def test_pinned_version_and_bearer_sent(self, make_settings) -> None:
        headers: list[httpx.Headers] = []

        def app(request: httpx.Request) -> httpx.Response:
            headers.append(request.headers)
            return answer()

        with ClioClient(make_settings(access_token="tok"), transport=httpx.MockTransport(app)) as c:
            c.get("bills.json")
        assert headers[0]["x-api-version"] == "4.0.13"
        assert headers[0]["authorization"] == "Bearer tok"


class TestRetries:
    def test_503_then_success_is_retried(self, make_settings) -> None:
        statuses = iter([503, 502, 200])

        def app(request: httpx.Request) -> httpx.Response:
            return answer(next(statuses))

        stats = RunStats()
        with ClioClient(make_settings(access_token="t"), stats,
                        transport=httpx.MockTransport(app)) as c:
            assert c.get("bills.json", resource="bills").status_code == 200
        assert stats.get("bills").retries == 2

    def test_429_storm_exhausts_with_rate_limited(self, make_settings) -> None:
        sleeps: list[float] = []

        def app(request: httpx.Request) -> httpx.Response:
            return answer(429, {"error": {"type": "RateLimited", "message": "slow down"}},
                          Retry_After="2")

        client = ClioClient(make_settings(access_token="t", max_attempts=3),
                            transport=httpx.MockTransport(app), sleep=sleeps.append)
        with client, pytest.raises(ClioRateLimited) as info:
            client.get("bills.json")
        assert info.value.attempts == 3 and "bills.json" in str(info.value)
        assert sleeps.count(2.0) == 2  # each retry waited the Retry-After

    def test_dropped_connections_exhaust_with_unavailable(self, make_settings) -> None:
        def app(request: httpx.Request) -> httpx.Response:
            raise httpx.RemoteProtocolError("peer closed", request=request)

        client = ClioClient(make_settings(access_token="t", max_attempts=2),
                            transport=httpx.MockTransport(app))
        with client, pytest.raises(ClioUnavailable, match="after 2 attempts"):
            client.get("bills.json")

    def test_malformed_page_is_refetched_then_fails(self, make_settings) -> None:
        calls = []

        def app(request: httpx.Request) -> httpx.Response:
            calls.append(1)
            return httpx.Response(200, content=b'{"data": [{"id": 1}', headers={"Date": "x"})

        client = ClioClient(make_settings(access_token="t", bad_page_attempts=2),
                            transport=httpx.MockTransport(app))
        with client, pytest.raises(ClioBadResponse, match="truncated JSON"):
            list(client.iter_pages("bills.json", {}))
        assert len(calls) == 2


class TestNonIdempotent:
    def test_a_post_is_not_resent_after_a_5xx(self, make_settings) -> None:
        calls: list[str] = []

        def app(request: httpx.Request) -> httpx.Response:
            calls.append(request.method)
            return answer(502)

        client = ClioClient(make_settings(access_token="t"), transport=httpx.MockTransport(app))
        with client, pytest.raises(ClioUnavailable, match="may have applied it"):
            client.post("webhooks.json", json={"data": {}})
        assert calls == ["POST"]

    def test_a_post_is_resent_after_a_429(self, make_settings) -> None:
        statuses = iter([429, 201])

        def app(request: httpx.Request) -> httpx.Response:
            return answer(next(statuses), Retry_After="0")

        client = ClioClient(make_settings(access_token="t"), transport=httpx.MockTransport(app))
        with client:
            assert client.post("webhooks.json", json={"data": {}}).status_code == 201


class TestRefresh:
    def test_401_refreshes_once_and_stores_the_token(self, make_settings, store_path) -> None:
        def app(request: httpx.Request) -> httpx.Response:
            if request.url.path == "/oauth/token":
                return httpx.Response(200, json={"access_token": "new", "expires_in": 3600})
            if request.headers["authorization"] == "Bearer new":
                return answer()
            return httpx.Response(401, json={"error": "invalid_token"})

        settings = make_settings(access_token="old", refresh_token="r1")
        with ClioClient(settings, transport=httpx.MockTransport(app)) as c:
            assert c.get("bills.json").status_code == 200
        stored = json.loads(store_path.read_text())
        assert stored["access_token"] == "new" and stored["refresh_token"] == "r1"
        assert store_path.stat().st_mode & 0o777 == 0o600

    def test_platform_writes_the_rotated_token_before_using_the_new_access_token(
            self, make_settings, store_path) -> None:
        on_disk_when_used: list[str] = []

        def app(request: httpx.Request) -> httpx.Response:
            if request.url.path == "/oauth/token":
                return httpx.Response(200, json={"access_token": "new", "expires_in": 3600,
                                                 "refresh_token": "r2"})
            if request.headers["authorization"] == "Bearer new":
                on_disk_when_used.append(json.loads(store_path.read_text())["refresh_token"])
                return answer()
            return httpx.Response(401, json={"error": "invalid_token"})

        settings = make_settings(access_token="old", refresh_token="r1", api="platform",
                                 platform_requests_per_second=1000.0)
        with ClioClient(settings, transport=httpx.MockTransport(app)) as client:
            client.get("bills.json")
        assert on_disk_when_used == ["r2"]
