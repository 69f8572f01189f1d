"""The sandbox's Grow: data consistent with the Manage firm, intake over the firm's life,
Platform OAuth, the per-application limit, paging and the options for open questions."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from pipelines.sandbox.grow.options import GrowOptions, parse_option
from pipelines.sandbox.harness import SandboxServer, serve_sandbox

FAST = GrowOptions(rate_limit=None)


def bearer(pair: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair['access_token']}"}


def walk(sb: SandboxServer, path: str, headers: dict, **params: object) -> list[dict]:
    """Every record of a Grow list, following `meta.paging.next` however the end looks."""
    url: str | None = f"{sb.grow.api_url}/{path}"
    query: dict | None = params
    records: list[dict] = []
    while url:
        page = httpx.get(url, params=query, headers=headers)
        assert page.status_code == 200, page.text
        records += page.json()["data"]
        url = ((page.json().get("meta") or {}).get("paging") or {}).get("next") or None
        query = None
    return records


@pytest.fixture(scope="module")
def grow() -> SandboxServer:
    with serve_sandbox(rate_limit=None, grow=GrowOptions(rate_limit=None, page_size=40)) as sb:
        yield sb


# ----- data -------------------------------------------------------------------------


def test_hired_matters_carry_the_manage_ids_and_the_rest_none(grow: SandboxServer) -> None:
    manage_matters = {m["id"]: m for m in grow.truth("matters")}
    matters = grow.grow.truth("matters")
    contacts = {c["id"]: c for c in grow.grow.truth("contacts")}
    hired = [m for m in matters if m["status_category"] == "hired"]
    assert hired and len(hired) < len(matters)
    for matter in matters:
        if matter["status_category"] != "hired":
            assert matter["clio_id"] is None and matter["hired_date"] is None
            continue
        manage = manage_matters[matter["clio_id"]]
        assert contacts[matter["client"]["id"]]["clio_id"] == manage["client_id"]
        assert matter["hired_date"] == manage["created_at"][:10]
        assert matter["type"] == manage["practice_area"]["name"]
    assert len({m["clio_id"] for m in hired}) == len(hired)  # one Grow matter per Manage matter


def test_converted_leads_leave_the_inbox_and_are_found_through_their_matter(grow: SandboxServer) -> None:
    headers = bearer(grow.grow.token())
    leads = {lead["id"]: lead for lead in grow.grow.truth("inbox_leads")}
    listed = {r["id"] for s in ("untriaged", "ignored")
              for r in walk(grow, "inbox_leads", headers, state=s)}
    assert listed == {i for i, lead in leads.items() if lead["state"] != "accepted"}
    from_leads = [m for m in grow.grow.truth("matters") if m["inbox_lead_id"]]
    assert {m["inbox_lead_id"] for m in from_leads} == {
        i for i, lead in leads.items() if lead["state"] == "accepted"}
    one = from_leads[0]
    found = httpx.get(f"{grow.grow.api_url}/matters", headers=headers,
                      params={"inbox_lead_id": one["inbox_lead_id"]}).json()["data"]
    assert [m["id"] for m in found] == [one["id"]]
    shown = httpx.get(f"{grow.grow.api_url}/inbox_leads/{one['inbox_lead_id']}", headers=headers)
    assert shown.status_code == 200 and shown.json()["data"]["state"] == "accepted"


def test_intake_follows_the_firms_life() -> None:
    with serve_sandbox(scale="small", rate_limit=None, grow=FAST) as sb:
        manage_before = {m["id"] for m in sb.truth("matters")}
        leads_before = {lead["id"]: lead["state"] for lead in sb.grow.truth("inbox_leads")}
        changes = sb.advance(days=4)
        assert changes.get("grow.inbox_leads") and changes.get("grow.matters")
        new_manage = [m for m in sb.truth("matters") if m["id"] not in manage_before]
        hired = {m["clio_id"]: m for m in sb.grow.truth("matters") if m["clio_id"]}
        assert new_manage and any(m["id"] in hired for m in new_manage)
        contacts = {c["id"]: c for c in sb.grow.truth("contacts")}
        for manage in new_manage:
            if manage["id"] in hired:
                grow_matter = hired[manage["id"]]
                assert contacts[grow_matter["client"]["id"]]["clio_id"] == manage["client_id"]
        leads_after = {lead["id"]: lead for lead in sb.grow.truth("inbox_leads")}
        assert set(leads_after) - set(leads_before), "new leads arrived"
        converted = [i for i, state in leads_before.items()
                     if state == "untriaged" and leads_after.get(i, {}).get("state") == "accepted"]
        new_leads_converted = [i for i, lead in leads_after.items()
                               if i not in leads_before and lead["state"] == "accepted"]
        assert converted or new_leads_converted


def test_changes_are_stamped_after_the_date_a_client_read() -> None:
    with serve_sandbox(rate_limit=None, grow=FAST) as sb:
        headers = bearer(sb.grow.token())
        answer = httpx.get(f"{sb.grow.api_url}/locations", headers=headers)
        served = parsedate_to_datetime(answer.headers["date"])
        lead = sb.grow.truth("inbox_leads")[-1]
        edited = sb.grow.edit("inbox_leads", lead["id"], {"phone_number": "+1 212 555 0100"})
        assert datetime.fromisoformat(edited["updated_at"]) > served
        later = walk(sb, "inbox_leads", headers, state=lead["state"] if lead["state"] != "accepted"
                     else "untriaged", updated_since=served.isoformat())
        if lead["state"] != "accepted":
            assert [r["id"] for r in later] == [lead["id"]]


# ----- lists ------------------------------------------------------------------------


@pytest.mark.parametrize("end", ["absent", "null", "empty", "no_meta"])
def test_every_end_of_list_form_walks_to_the_truth(end: str) -> None:
    options = GrowOptions(rate_limit=None, page_size=30, end_of_list=end)
    with serve_sandbox(rate_limit=None, grow=options) as sb:
        headers = bearer(sb.grow.token())
        last = httpx.get(f"{sb.grow.api_url}/locations", headers=headers).json()
        expected = {"absent": {"paging": {}}, "null": {"paging": {"next": None}},
                    "empty": {"paging": {"next": ""}}, "no_meta": None}[end]
        assert last.get("meta") == expected
        walked = walk(sb, "contacts", headers)
        assert walked == [_without_custom(c) for c in sb.grow.truth("contacts")]


def _without_custom(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "custom_field_values"}


def test_updated_since_is_on_or_after_and_ids_take_one_to_fifty(grow: SandboxServer) -> None:
    headers = bearer(grow.grow.token())
    matters = grow.grow.truth("matters")
    pivot = sorted(matters, key=lambda m: m["updated_at"])[len(matters) // 2]
    since = walk(grow, "matters", headers, updated_since=pivot["updated_at"])
    assert pivot["id"] in {m["id"] for m in since}
    assert {m["id"] for m in since} == {m["id"] for m in matters
                                        if m["updated_at"] >= pivot["updated_at"]}
    created = walk(grow, "matters", headers, created_since=pivot["created_at"])
    assert {m["id"] for m in created} == {m["id"] for m in matters
                                          if m["created_at"] >= pivot["created_at"]}
    some = [m["id"] for m in matters[:50]]
    assert [m["id"] for m in walk(grow, "matters", headers, **{"ids[]": some})] == some
    too_many = httpx.get(f"{grow.grow.api_url}/matters", headers=headers,
                         params={"ids[]": list(range(1, 52))})
    assert too_many.status_code == 400
    naive = httpx.get(f"{grow.grow.api_url}/matters", headers=headers,
                      params={"updated_since": "2026-01-01T00:00:00"})
    assert naive.status_code == 400


def test_next_links_keep_the_filters(grow: SandboxServer) -> None:
    headers = bearer(grow.grow.token())
    page = httpx.get(f"{grow.grow.api_url}/matters", headers=headers, params={
        "include": "custom_field_values", "updated_since": "2024-01-01T00:00:00Z"}).json()
    query = parse_qs(urlsplit(page["meta"]["paging"]["next"]).query)
    assert query["include"] == ["custom_field_values"]
    assert query["updated_since"] == ["2024-01-01T00:00:00Z"]


def test_without_the_all_leads_scope_an_app_sees_only_its_own_leads(grow: SandboxServer) -> None:
    own = bearer(grow.grow.token(scopes=["grow_lead_inbox_read", "grow_lead_inbox_write",
                                         "grow_matter_read"]))
    assert walk(grow, "inbox_leads", own, state="untriaged") == []
    posted = httpx.post(f"{grow.grow.api_url}/inbox_leads", headers=own, json={"data": {
        "first_name": "Ada", "last_name": "Byron", "from_message": "Hi", "from_source": "chat",
        "referring_url": "https://example.com"}})
    assert posted.status_code == 201
    assert [r["id"] for r in walk(grow, "inbox_leads", own, state="untriaged")] == \
        [posted.json()["data"]["id"]]
    matters = walk(grow, "matters", own)
    hidden = [m for m in matters if m.get("redacted_fields")]
    assert hidden and all(m["inbox_lead_id"] is None for m in hidden)
    assert "inbox_lead_id" in hidden[0]["redacted_fields"]


def test_single_records_answer_304_when_unchanged(grow: SandboxServer) -> None:
    headers = bearer(grow.grow.token())
    first = httpx.get(f"{grow.grow.api_url}/locations/1", headers=headers)
    again = httpx.get(f"{grow.grow.api_url}/locations/1",
                      headers={**headers, "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


# ----- options for the open questions ------------------------------------------------


def test_converted_leads_can_404_and_who_am_i_can_be_bare() -> None:
    options = GrowOptions(rate_limit=None, converted_leads="404", who_am_i="bare")
    with serve_sandbox(rate_limit=None, grow=options) as sb:
        headers = bearer(sb.grow.token())
        accepted = next(lead for lead in sb.grow.truth("inbox_leads") if lead["state"] == "accepted")
        assert httpx.get(f"{sb.grow.api_url}/inbox_leads/{accepted['id']}",
                         headers=headers).status_code == 404
        me = httpx.get(f"{sb.grow.api_url}/users/who_am_i", headers=headers).json()
        assert "data" not in me and me["account"]["firm_name"]


def test_a_missing_scope_can_redirect_to_the_auth_host() -> None:
    with serve_sandbox(rate_limit=None, grow=GrowOptions(rate_limit=None,
                                                         missing_scope="redirect")) as sb:
        headers = bearer(sb.grow.token(scopes=["grow_matter_read"]))
        answer = httpx.get(f"{sb.grow.api_url}/contacts", headers=headers)
        assert answer.status_code == 302
        assert answer.headers["location"].endswith("/platform/oauth/authorize")


def test_sandbox_serve_options_parse() -> None:
    assert parse_option("end_of_list=null") == ("end_of_list", "null")
    assert parse_option("rate-limit=3/0.5") == ("rate_limit", (3, 0.5))
    assert parse_option("rate_limit=off") == ("rate_limit", None)
    with pytest.raises(ValueError):
        parse_option("colour=red")
    with pytest.raises(ValueError):
        GrowOptions(end_of_list="maybe")  # type: ignore[arg-type]


# ----- the per-application limit -------------------------------------------------------


def test_every_token_of_an_app_shares_one_limit_and_other_apps_have_their_own() -> None:
    options = GrowOptions(rate_limit=(3, 60.0), extra_apps={"other-app": "other-secret"})
    with serve_sandbox(rate_limit=None, grow=options) as sb:
        firm_a, firm_b = bearer(sb.grow.token()), bearer(sb.grow.token())
        other = bearer(sb.grow.token(client_id="other-app"))
        url = f"{sb.grow.api_url}/locations"
        statuses = [httpx.get(url, headers=h).status_code for h in (firm_a, firm_b, firm_a, firm_b)]
        assert statuses == [200, 200, 200, 429]
        assert httpx.get(url, headers=other).status_code == 200


# ----- Platform OAuth ------------------------------------------------------------------


def _authorize(sb: SandboxServer, **params: str) -> dict[str, list[str]]:
    query = {"client_id": "grow-sandbox", "response_type": "code",
             "redirect_uri": "http://127.0.0.1:8976/callback", "state": "s1", **params}
    answer = httpx.get(f"{sb.grow.auth_url}/oauth/authorize", params=query)
    assert answer.status_code == 302, answer.text
    return parse_qs(urlsplit(answer.headers["location"]).query)


def _exchange(sb: SandboxServer, code: str, **extra: str) -> httpx.Response:
    form = {"grant_type": "authorization_code", "code": code, "client_id": "grow-sandbox",
            "client_secret": "grow-sandbox-secret",
            "redirect_uri": "http://127.0.0.1:8976/callback", **extra}
    return httpx.post(f"{sb.grow.auth_url}/oauth/token", data=form)


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def test_authorize_requires_known_scopes_enabled_on_the_app() -> None:
    options = GrowOptions(rate_limit=None,
                          app_scopes=frozenset({"grow_matter_read", "grow_contact_read"}))
    with serve_sandbox(rate_limit=None, grow=options) as sb:
        assert _authorize(sb)["error"] == ["invalid_scope"]
        assert _authorize(sb, scope="grow_matter_write")["error"] == ["invalid_scope"]
        assert _authorize(sb, scope="grow_user_read")["error"] == ["invalid_scope"]
        assert _authorize(sb, scope="matter_read")["error"] == ["invalid_scope"]
        granted = _authorize(sb, scope="grow_matter_read grow_contact_read")
        assert granted["state"] == ["s1"] and granted["code"]


def test_pkce_and_the_token_answer() -> None:
    with serve_sandbox(rate_limit=None, grow=GrowOptions(rate_limit=None,
                                                         pkce_required=True)) as sb:
        assert _authorize(sb, scope="grow_matter_read")["error"] == ["invalid_request"]
        verifier = "v" * 50
        code = _authorize(sb, scope="grow_matter_read", code_challenge=_challenge(verifier),
                          code_challenge_method="S256")["code"][0]
        assert _exchange(sb, code, code_verifier="w" * 50).json()["error"] == "invalid_grant"
        code = _authorize(sb, scope="grow_matter_read", code_challenge=_challenge(verifier),
                          code_challenge_method="S256")["code"][0]
        answer = _exchange(sb, code, code_verifier=verifier).json()
        assert answer["expires_in"] == 86_400 and answer["scope"] == "grow_matter_read"
        assert answer["token_type"] == "bearer" and answer["refresh_token"]
        headers = bearer(answer)
        assert httpx.get(f"{sb.grow.api_url}/matters", headers=headers).status_code == 200
        assert httpx.get(f"{sb.grow.api_url}/contacts", headers=headers).status_code == 403


def test_refresh_tokens_rotate_and_revoke_ends_the_grant() -> None:
    with serve_sandbox(rate_limit=None, grow=FAST) as sb:
        pair = sb.grow.token()
        form = {"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]}
        auth = ("grow-sandbox", "grow-sandbox-secret")
        url = f"{sb.grow.auth_url}/oauth/token"
        fresh = httpx.post(url, data=form, auth=auth).json()
        assert fresh["refresh_token"] != pair["refresh_token"]
        again = httpx.post(url, data=form, auth=auth)
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
        wrong_app = httpx.post(url, data=form, auth=("grow-sandbox", "nope"))
        assert wrong_app.status_code == 401 and wrong_app.json()["error"] == "invalid_client"
        revoked = httpx.post(f"{sb.grow.auth_url}/oauth/revoke", auth=auth,
                             data={"token": fresh["refresh_token"]})
        assert revoked.status_code == 200
        assert httpx.get(f"{sb.grow.api_url}/locations", headers=bearer(fresh)).status_code == 401


def test_access_tokens_last_a_day() -> None:
    with serve_sandbox(rate_limit=None, grow=FAST) as sb:
        pair = sb.grow.token()
        assert pair["expires_in"] == 86_400
        sb.grow.faults(expire_tokens=True)
        answer = httpx.get(f"{sb.grow.api_url}/locations", headers=bearer(pair))
        assert answer.status_code == 401 and answer.json()["error"]["status"] == "401"


def test_grow_paths_meet_injected_faults_in_grows_shapes() -> None:
    with serve_sandbox(rate_limit=None, grow=FAST) as sb:
        headers = bearer(sb.grow.token())
        sb.faults(kind="503", path="/grow/")
        failed = httpx.get(f"{sb.grow.api_url}/locations", headers=headers)
        assert failed.status_code == 503 and failed.json()["error"]["status"] == "503"
        sb.faults(kind="429", path="/grow/")
        assert httpx.get(f"{sb.grow.api_url}/locations", headers=headers).json() == {
            "message": "Too Many Requests"}
        assert sb.stats()["by_path"]["/grow/locations"] == {"503": 1, "429": 1}


def test_a_reset_rebuilds_grow_and_keeps_minted_tokens() -> None:
    with serve_sandbox(rate_limit=None, grow=FAST) as sb:
        headers = bearer(sb.grow.token())
        before = sb.grow.counts()
        sb.advance(days=3)
        sb.reset()
        assert sb.grow.counts() == before
        assert httpx.get(f"{sb.grow.api_url}/locations", headers=headers).status_code == 200


@pytest.mark.slow
def test_sandbox_serve_prints_a_working_grow_env_block(tmp_path) -> None:
    import os
    import subprocess
    import sys

    from pipelines.sandbox.harness import free_port

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "pipelines", "sandbox", "serve", "--port", str(port),
         "--scale", "tiny", "--grow-option", "page_size=10", "--grow-option", "rate_limit=off"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        env: dict[str, str] = {}
        for line in process.stdout:  # type: ignore[union-attr]
            if line.startswith("export "):
                key, _, value = line.removeprefix("export ").strip().partition("=")
                env[key] = value
            elif "SOURCES__GROW__CREDENTIALS__REFRESH_TOKEN" in env:
                break
        base = env["SOURCES__GROW__BASE_URL"]
        pair = httpx.post(f"{base}/platform/oauth/token", data={
            "grant_type": "refresh_token",
            "refresh_token": env["SOURCES__GROW__CREDENTIALS__REFRESH_TOKEN"],
            "client_id": env["SOURCES__GROW__CREDENTIALS__CLIENT_ID"],
            "client_secret": env["SOURCES__GROW__CREDENTIALS__CLIENT_SECRET"]}).json()
        page = httpx.get(f"{base}/grow/matters", headers=bearer(pair)).json()
        assert len(page["data"]) == 10 and page["meta"]["paging"]["next"]
    finally:
        process.terminate()
        process.wait(timeout=30)
