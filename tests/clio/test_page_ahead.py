"""The next page requested while this one is parsed (`page_ahead.py`), against the sandbox."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from pipelines.clio.client import ClioClient
from pipelines.clio.page_ahead import PageAhead, next_from_tail
from pipelines.clio.stats import RunStats

PAGE = {"fields": "id,name", "limit": 5, "order": "id(asc)"}  # 12 practice areas: 3 pages
ALL = list(range(1, 13))


def walk(client: ClioClient, page_ahead: bool) -> list[int]:
    return [r["id"] for p in client.iter_pages("practice_areas.json", PAGE, resource="pa",
                                               page_ahead=page_ahead) for r in p.records]


def helpers_alive() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("clio-page-ahead")]


class TestAgainstTheSandbox:
    @pytest.mark.parametrize("page_ahead", [False, True])
    def test_a_walk_reads_the_same_pages_with_no_request_more(
            self, clio_sandbox, sandbox_settings, statuses, page_ahead) -> None:
        sb = clio_sandbox()
        with ClioClient(sandbox_settings(sb)) as client:
            assert walk(client, page_ahead) == ALL
        assert statuses(sb) == [200, 200, 200]
        assert not helpers_alive()

    def test_the_next_page_is_requested_before_the_walk_asks_for_it(
            self, clio_sandbox, sandbox_settings, statuses) -> None:
        sb = clio_sandbox()
        with ClioClient(sandbox_settings(sb)) as client:
            pages = client.iter_pages("practice_areas.json", PAGE, resource="pa", page_ahead=True)
            first = next(pages)
            deadline = time.monotonic() + 10
            while len(statuses(sb)) < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert len(statuses(sb)) == 2  # page 2 asked for while page 1 is still in hand
            assert [r["id"] for r in first.records] == [1, 2, 3, 4, 5]
            assert [r["id"] for p in pages for r in p.records] == list(range(6, 13))
        assert len(statuses(sb)) == 3

    def test_without_it_nothing_is_requested_until_the_walk_asks(
            self, clio_sandbox, sandbox_settings, statuses) -> None:
        sb = clio_sandbox()
        with ClioClient(sandbox_settings(sb)) as client:
            pages = client.iter_pages("practice_areas.json", PAGE, resource="pa")
            next(pages)
            assert len(statuses(sb)) == 1
            pages.close()

    def test_a_spoiled_page_is_fetched_again_and_the_page_asked_ahead_is_kept(
            self, clio_sandbox, sandbox_settings, statuses) -> None:
        """Page 2's records are not JSON but its tail links page 3, which is asked for
        while page 2 is read; page 2 comes again with the same link: page 3's answer is
        the one already in hand, not a fourth request for it."""
        sb = clio_sandbox()
        sb.faults(kind="bad_record", count=1, after=1, path="practice_areas")
        stats = RunStats()
        with ClioClient(sandbox_settings(sb), stats) as client:
            assert walk(client, page_ahead=True) == ALL
        assert len(statuses(sb)) == 4  # pages 1, 2 (spoiled), 3 (ahead), 2 again
        assert (stats.get("pa").retries, stats.get("pa").pages) == (1, 3)

    def test_a_failure_of_the_page_asked_ahead_comes_in_order(
            self, clio_sandbox, sandbox_settings) -> None:
        """Page 2 fails for good: page 1 is handed on first, then the walk raises."""
        sb = clio_sandbox()
        sb.faults(kind="503", count=50, after=1, path="practice_areas")
        with ClioClient(sandbox_settings(sb, max_attempts=2)) as client:
            pages = client.iter_pages("practice_areas.json", PAGE, resource="pa", page_ahead=True)
            assert [r["id"] for r in next(pages).records] == [1, 2, 3, 4, 5]
            with pytest.raises(Exception, match="after 2 attempts"):
                next(pages)
        assert not helpers_alive()

    def test_a_walk_left_early_leaves_no_helper(self, clio_sandbox, sandbox_settings,
                                                statuses) -> None:
        sb = clio_sandbox()
        with ClioClient(sandbox_settings(sb)) as client:
            pages = client.iter_pages("practice_areas.json", PAGE, resource="pa", page_ahead=True)
            next(pages)
            pages.close()  # waits for the page asked ahead, then stops the helper
            assert not helpers_alive()
        assert len(statuses(sb)) == 2  # one request more than the walk used


def answer(url: str) -> httpx.Response:
    return httpx.Response(200, content=url.encode(), request=httpx.Request("GET", url))


class TestPageAhead:
    def test_an_answer_for_another_url_is_dropped(self) -> None:
        sent: list[str] = []

        def send(url: str) -> httpx.Response:
            sent.append(url)
            return answer(url)

        with PageAhead(send) as ahead:
            ahead.start("https://clio/a")
            assert ahead.take("https://clio/b") is None  # the guess was wrong
            ahead.start("https://clio/b")
            ahead.start("https://clio/b")  # in flight already: not sent twice
            response = ahead.take("https://clio/b")
            assert response is not None and response.content == b"https://clio/b"
            assert ahead.take("https://clio/b") is None  # taken once
        assert sent == ["https://clio/a", "https://clio/b"]

    def test_an_error_is_raised_only_for_the_url_it_was_asked_for(self) -> None:
        def send(url: str) -> httpx.Response:
            raise httpx.ConnectError(f"no answer for {url}")

        with PageAhead(send) as ahead:
            ahead.start("https://clio/a")
            assert ahead.take("https://clio/other") is None
            ahead.start("https://clio/a")
            with pytest.raises(httpx.ConnectError, match="clio/a"):
                ahead.take("https://clio/a")


class TestNextFromTail:
    def test_the_link_of_a_page_clio_writes(self) -> None:
        body = b'{"data":[{"id":1}],"meta":{"paging":{"next":"https://app.clio.com/x?page_token=q"},"records":9}}'
        assert next_from_tail(body) == "https://app.clio.com/x?page_token=q"

    @pytest.mark.parametrize("body", [
        b'{"data":[],"meta":{"paging":{}}}',  # the last page
        b'{"data":[],"meta":{"paging":{"next":""}}}',
        b'{"data":[],"meta":{"paging":{"next":null}}}',
        b'{"meta":{"paging":{"next":"u"}},"data":[]}',  # meta first: no guess
        b'{"data":[{"meta":{"paging":{"next":"u"}}}]}',  # a record's own key
        b'{"data":[],"meta":{"paging":{"next":"u"}}',  # cut short
        b'{"data":[],"meta":{"paging":{"next":"u"}}} trailing',
        b'{"data":[],"meta":{"paging":{"next":"\xff"}}}',  # not UTF-8
        b'{"data":[],"meta":[1]}',
        b'<html>Service unavailable</html>',
        b'',
    ])
    def test_no_guess_where_the_tail_is_not_a_top_level_link(self, body: bytes) -> None:
        assert next_from_tail(body) is None
