"""The receiver process: handshakes, signature checks, limits, durable acceptance."""

from __future__ import annotations

import httpx
import pytest

from pipelines.webhooks.signature import SECRET_HEADER, SIGNATURE_HEADER, sign

SECRET = "s3cr3t-for-tests"
BILL = {"id": 42, "etag": '"abc"', "updated_at": "2026-11-20T09:15:02-05:00", "total": 10.0}


class TestHandshake:
    def test_a_known_webhook_is_answered_with_its_secret_and_becomes_enabled(self, receiver, kit):
        token = kit.register(7, "bill", secret=None)
        resp = httpx.post(receiver.url(token), content=b"{}", headers={SECRET_HEADER: "hs-1"})
        assert resp.status_code == 200
        assert resp.headers[SECRET_HEADER] == "hs-1"
        (hook,) = kit.rows("webhooks")
        assert (hook["secret"], hook["status"]) == ("hs-1", "enabled")

    def test_an_unknown_token_is_refused(self, receiver, kit):
        resp = httpx.post(receiver.url("nope"), content=b"", headers={SECRET_HEADER: "x"})
        assert resp.status_code == 401
        assert SECRET_HEADER not in resp.headers

    def test_a_secret_other_than_the_one_clio_gave_us_is_refused(self, receiver, kit):
        token = kit.register(7, "bill", secret=SECRET)
        resp = httpx.post(receiver.url(token), content=b"{}", headers={SECRET_HEADER: "other"})
        assert resp.status_code == 401
        assert kit.rows("webhooks")[0]["secret"] == SECRET


class TestDelivery:
    def test_a_signed_delivery_is_stored_before_the_200(self, receiver, kit):
        token = kit.register(7, "bill", SECRET)
        body = kit.body(7, "updated", BILL)
        resp = kit.post_signed(receiver.url(token), body, SECRET)
        assert resp.status_code == 200
        (row,) = kit.rows()
        assert row["seq"] == int(resp.headers["X-Inbox-Seq"])
        assert (row["webhook_id"], row["model"], row["record_id"], row["event"], row["etag"],
                row["state"], row["body"]) == (7, "bill", 42, "updated", '"abc"', "pending", body)
        assert kit.rows("webhooks")[0]["last_delivery_at"] == row["received_at"]

    @pytest.mark.parametrize("signature", [None, "", "00" * 32, "not-hex"])
    def test_a_missing_or_wrong_signature_is_rejected_and_nothing_stored(
        self, receiver, kit, signature
    ):
        token = kit.register(7, "bill", SECRET)
        headers = {SIGNATURE_HEADER: signature} if signature is not None else {}
        resp = httpx.post(receiver.url(token), content=kit.body(7, "updated", BILL),
                          headers=headers)
        assert resp.status_code == 401
        assert kit.rows() == []

    def test_a_tampered_body_is_rejected(self, receiver, kit):
        token = kit.register(7, "bill", SECRET)
        body = kit.body(7, "updated", BILL)
        tampered = body.replace(b"10.0", b"99.0")
        resp = httpx.post(receiver.url(token), content=tampered,
                          headers={SIGNATURE_HEADER: sign(body, SECRET)})
        assert resp.status_code == 401
        assert kit.rows() == []

    def test_another_webhooks_secret_does_not_verify(self, receiver, kit):
        token = kit.register(7, "bill", SECRET)
        kit.register(8, "matter", "the-matter-secret")
        body = kit.body(7, "updated", BILL)
        assert kit.post_signed(receiver.url(token), body, "the-matter-secret").status_code == 401
        assert kit.rows() == []

    def test_an_unknown_webhook_is_rejected_and_logged(self, receiver_process, kit):
        resp = kit.post_signed(receiver_process.url("unknown-token"),
                               kit.body(7, "updated", BILL), SECRET)
        assert resp.status_code == 401
        assert "unknown webhook" in receiver_process.log()
        assert SECRET not in receiver_process.log()

    def test_a_body_claiming_another_webhook_id_is_rejected(self, receiver, kit):
        token = kit.register(7, "bill", SECRET)
        resp = kit.post_signed(receiver.url(token), kit.body(8, "updated", BILL), SECRET)
        assert resp.status_code == 401
        assert kit.rows() == []

    @pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"data": {}, "meta": {}}'])
    def test_a_signed_body_that_is_not_a_delivery_is_a_400(self, receiver, kit, body):
        token = kit.register(7, "bill", SECRET)
        assert kit.post_signed(receiver.url(token), body, SECRET).status_code == 400
        assert kit.rows() == []

    def test_a_declared_oversized_body_is_a_413(self, receiver, kit):
        token = kit.register(7, "bill", SECRET)
        big = kit.body(7, "updated", {**BILL, "memo": "x" * (1024 * 1024)})
        assert kit.post_signed(receiver.url(token), big, SECRET).status_code == 413
        assert kit.rows() == []

    def test_a_streamed_oversized_body_is_a_413(self, receiver, kit):
        token = kit.register(7, "bill", SECRET)
        big = kit.body(7, "updated", {**BILL, "memo": "x" * (1024 * 1024)})

        def chunks():
            for i in range(0, len(big), 65536):
                yield big[i : i + 65536]

        resp = httpx.post(receiver.url(token), content=chunks(),
                          headers={SIGNATURE_HEADER: sign(big, SECRET)})
        assert resp.status_code == 413
        assert kit.rows() == []

    def test_a_signature_in_capitals_verifies(self, receiver, kit):
        token = kit.register(7, "bill", SECRET)
        body = kit.body(7, "updated", BILL)
        resp = httpx.post(receiver.url(token), content=body,
                          headers={SIGNATURE_HEADER: sign(body, SECRET).upper()})
        assert resp.status_code == 200
        assert len(kit.rows()) == 1

    def test_a_signature_that_is_not_ascii_is_a_401_not_a_500(self, receiver, kit):
        token = kit.register(7, "bill", SECRET)
        resp = httpx.post(receiver.url(token), content=kit.body(7, "updated", BILL),
                          headers={SIGNATURE_HEADER: b"\xe9" * 64})
        assert resp.status_code == 401
        assert kit.rows() == []

    def test_a_webhook_url_answers_post_only(self, receiver, kit):
        token = kit.register(7, "bill", SECRET)
        resp = httpx.get(receiver.url(token))
        assert (resp.status_code, resp.headers["allow"]) == (405, "POST")
        body = kit.body(7, "updated", BILL)
        assert kit.post_signed(receiver.url(token) + "/more", body, SECRET).status_code == 404
        assert kit.rows() == []

    def test_a_repeated_delivery_is_kept_but_queued_once(self, receiver, kit):
        token = kit.register(7, "bill", SECRET)
        body = kit.body(7, "updated", BILL)
        for _ in range(3):
            assert kit.post_signed(receiver.url(token), body, SECRET).status_code == 200
        states = [r["state"] for r in kit.rows()]
        assert states == ["pending", "duplicate", "duplicate"]


def test_an_acknowledged_delivery_survives_kill_9(receiver_process, kit):
    token = kit.register(7, "bill", SECRET)
    body = kit.body(7, "deleted", {"id": 5, "etag": '"e"'})
    assert kit.post_signed(receiver_process.url(token), body, SECRET).status_code == 200
    receiver_process.kill9()
    assert [r["body"] for r in kit.rows()] == [body]
