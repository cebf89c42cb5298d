"""Webhook delivery (issue 5): retries with backoff, what counts as a failure (5xx,
redirects, timeouts, dropped connections), 410 Gone disabling the webhook, Retry-After,
the delivery log and its filters, test sends, redelivery, signing across a secret
rotation, and at-least-once delivery when the worker is killed.

The test stack retries every second (SB_WEBHOOK_RETRY_SCHEDULE=1,1,...), polls every
200 ms and keeps leases 2 s past the request timeout; every wait here is bounded and
nothing asserts that something happened quickly."""

import base64
import hashlib
import hmac
import os
import re
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

import sb


# The worker starts from the current env file (earlier modules change it).
pytestmark = pytest.mark.usefixtures("fresh_worker")

def H(user):
    return {**user.headers, "User-Agent": sb.USER_AGENT}


def only(items):
    assert len(items) == 1, items
    return items[0]


def signed_by(entry, secret):
    """True when one of the entry's webhook-signature values is the HMAC of its raw body
    with secret (checked here too, besides the receiver's standardwebhooks verdict)."""
    h = entry["headers"]
    key = base64.b64decode(secret.removeprefix("whsec_"))
    msg = f"{h['webhook-id']}.{h['webhook-timestamp']}.{entry['raw']}".encode()
    want = base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()
    return any(s.split(",", 1) == ["v1", want] for s in h["webhook-signature"].split(" "))


# --- retries and failures ---------------------------------------------------------------------


def test_flaky_receiver_is_retried_until_delivered(wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "flaky", query={"fail": 2}, retry_count=3)
    ev = wh.publish(u, "order.placed", {"n": 1})
    d = only(wh.settled(u, w.id, 1)["items"])
    assert d["status"] == "delivered" and d["attempt_count"] == 3, d
    assert d["last_status_code"] == 200 and d["delivered_at"] and d["next_attempt_at"] is None, d
    assert [a["attempt_number"] for a in d["attempts"]] == [1, 2, 3], d["attempts"]
    assert [a["response_status"] for a in d["attempts"]] == [500, 500, 200], d["attempts"]
    assert [a["request_headers"]["webhook-id"] for a in d["attempts"]] == [ev["message_id"]] * 3

    log = receiver.wait_count(w.bucket, 3)
    assert len(log) == 3, log
    assert [e["headers"]["webhook-id"] for e in log] == [ev["message_id"]] * 3
    for e in log:
        assert e["verified"] is True, e  # each attempt freshly signed, each valid
        assert signed_by(e, w.secret), e
    stamps = [int(e["headers"]["webhook-timestamp"]) for e in log]
    assert stamps == sorted(stamps), stamps
    assert len({e["raw"] for e in log}) == 1  # the same message every time


def test_failing_receiver_fails_after_the_last_retry(wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "fail", retry_count=1)
    wh.publish(u, "order.placed")
    d = only(wh.settled(u, w.id, 1)["items"])
    assert d["status"] == "failed" and d["attempt_count"] == 2, d
    assert d["last_status_code"] == 500 and "500" in d["last_error"], d
    assert d["delivered_at"] is None and d["next_attempt_at"] is None, d
    assert [(a["attempt_number"], a["response_status"]) for a in d["attempts"]] == [(1, 500), (2, 500)]
    assert all(a["response_body"] == "receiver failure" for a in d["attempts"]), d["attempts"]
    assert len(receiver.log(w.bucket)) == 2
    # A failure does not switch the webhook off.
    assert wh.publish(u, "order.placed")["deliveries"] == 1


def test_retry_count_zero_means_a_single_attempt(wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "fail", retry_count=0)
    wh.publish(u, "order.placed")
    d = only(wh.settled(u, w.id, 1)["items"])
    assert d["status"] == "failed" and d["attempt_count"] == 1 and len(d["attempts"]) == 1, d
    assert len(receiver.log(w.bucket)) == 1


def test_redirect_is_a_failure_and_not_followed(wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "redirect", retry_count=0)
    wh.publish(u, "order.placed")
    d = only(wh.settled(u, w.id, 1)["items"])
    assert d["status"] == "failed", d
    assert only(d["attempts"])["response_status"] == 302, d
    log = receiver.log(w.bucket)
    assert [e["mode"] for e in log] == ["redirect"], log  # /ok/<bucket> was never requested


def test_410_gone_disables_the_webhook(api, wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "gone", retry_count=3)
    wh.publish(u, "order.placed")
    d = only(wh.settled(u, w.id, 1)["items"])
    assert d["status"] == "failed" and d["attempt_count"] == 1, d  # no retry after 410
    assert only(d["attempts"])["response_status"] == 410
    got = sb.expect_ok(requests.get(f"{api}/webhooks/{w.id}", headers=H(u), timeout=sb.TIMEOUT))
    assert got["is_active"] is False, got
    assert isinstance(got["disabled_reason"], str) and got["disabled_reason"], got
    disabled = [e for e in wh.audit(u) if e["action"] == "webhook.disabled"]
    assert len(disabled) == 1, disabled
    assert disabled[0]["details"]["webhook_id"] == w.id, disabled
    assert disabled[0]["details"].get("reason") == got["disabled_reason"], disabled
    # Nothing more is sent to it.
    assert wh.publish(u, "order.placed")["deliveries"] == 0
    assert len(receiver.log(w.bucket)) == 1
    # Switching it on again clears the reason.
    on = sb.expect_ok(requests.put(f"{api}/webhooks/{w.id}", json={"is_active": True}, headers=H(u),
                                   timeout=sb.TIMEOUT))
    assert on["is_active"] is True and on["disabled_reason"] is None, on


def test_timeout_is_recorded_and_retried(wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "hang", retry_count=1, timeout_seconds=1)
    wh.publish(u, "order.placed")
    d = only(wh.settled(u, w.id, 1, timeout=30)["items"])
    assert d["status"] == "failed" and d["attempt_count"] == 2, d
    for a in d["attempts"]:
        assert a["response_status"] is None, a
        assert re.search(r"time[sd]?\s*-?out", a["error"] or "", re.I), a
    assert re.search(r"time[sd]?\s*-?out", d["last_error"] or "", re.I), d
    assert len(receiver.log(w.bucket)) == 2


def test_dropped_connection_is_recorded(wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "close", retry_count=0)
    wh.publish(u, "order.placed")
    d = only(wh.settled(u, w.id, 1)["items"])
    a = only(d["attempts"])
    assert d["status"] == "failed" and a["response_status"] is None, d
    assert isinstance(a["error"], str) and a["error"], a
    assert d["last_error"], d


def test_refused_connection_is_recorded(wh, new_user):
    u = new_user()
    w = wh.create(u, f"http://127.0.0.1:{sb.free_port()}/nobody-listens", retry_count=0)
    wh.publish(u, "order.placed")
    d = only(wh.settled(u, w["id"], 1)["items"])
    a = only(d["attempts"])
    assert d["status"] == "failed" and a["response_status"] is None and a["error"], d


def test_retry_after_of_a_429_is_honoured(wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "retryafter", query={"after": 3}, retry_count=1)
    wh.publish(u, "order.placed")
    d = only(wh.settled(u, w.id, 1, timeout=30)["items"])
    assert d["status"] == "failed" and [a["response_status"] for a in d["attempts"]] == [429, 429], d
    log = receiver.log(w.bucket)
    assert len(log) == 2, log
    # The schedule says 1 s; Retry-After says 3 s, so the retry comes no sooner than that
    # (a lower bound: a slow machine cannot break it). Half a second of slack for clocks.
    assert log[1]["received_at"] - log[0]["received_at"] >= 2500, log


# --- the delivery log ---------------------------------------------------------------------------


def test_attempt_records_headers_status_body_and_time(wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "ok")
    ev = wh.publish(u, "order.placed", {"n": 1})
    d = only(wh.settled(u, w.id, 1)["items"])
    assert set(d) >= {"id", "event_id", "message_id", "event_type", "status", "attempt_count", "next_attempt_at",
                      "last_status_code", "last_error", "delivered_at", "created_at", "attempts"}, d
    assert sb.UUID_RE.match(d["id"]) and d["event_id"] == ev["event_id"] and d["message_id"] == ev["message_id"]
    assert d["status"] == "delivered" and d["last_error"] is None, d
    assert sb.RFC3339_UTC_RE.match(d["delivered_at"]) and sb.RFC3339_UTC_RE.match(d["created_at"]), d
    a = only(d["attempts"])
    assert a["attempt_number"] == 1 and a["response_status"] == 200 and a["response_body"] == "ok", a
    assert a["error"] is None and sb.RFC3339_UTC_RE.match(a["created_at"]), a
    assert isinstance(a["response_time_ms"], (int, float)) and a["response_time_ms"] >= 0, a
    hdrs = a["request_headers"]
    assert hdrs["webhook-id"] == ev["message_id"], hdrs
    assert re.fullmatch(r"\d+", hdrs["webhook-timestamp"]), hdrs
    assert re.fullmatch(r"v1,[A-Za-z0-9+/]+={0,2}", hdrs["webhook-signature"]), hdrs
    assert hdrs.get("content-type", "").startswith("application/json"), hdrs
    e = only(receiver.log(w.bucket))
    assert (e["headers"]["webhook-timestamp"], e["headers"]["webhook-signature"]) == (
        hdrs["webhook-timestamp"], hdrs["webhook-signature"])
    assert w.secret not in str(d)


def test_response_body_is_kept_up_to_4096_characters(wh, new_user):
    u = new_user()
    w = wh.hook(u, "big")
    wh.publish(u, "order.placed")
    d = only(wh.settled(u, w.id, 1)["items"])
    a = only(d["attempts"])
    assert d["status"] == "delivered" and a["response_status"] == 200, d
    assert a["response_body"] == ("0123456789" * 1000)[:4096], len(a["response_body"] or "")


def test_response_body_cut_inside_a_utf8_character_is_still_recorded(wh, new_user):
    """10,001 bytes of UTF-8 ("a" then 5,000 "é"): a cut at 4,096 bytes splits a character.
    The delivery must settle as delivered, with a prefix of the body recorded."""
    u = new_user()
    w = wh.hook(u, "big", query={"utf8": 1})
    wh.publish(u, "order.placed")
    d = only(wh.settled(u, w.id, 1)["items"])
    assert d["status"] == "delivered" and d["attempt_count"] == 1, d
    a = only(d["attempts"])
    full = "a" + "é" * 5000
    assert a["response_status"] == 200 and a["response_body"], a
    assert full.startswith(a["response_body"]) and len(a["response_body"].encode()) <= 4096, len(a["response_body"])
    assert len(a["response_body"].encode()) >= 4090, len(a["response_body"])


def test_binary_response_body_does_not_stop_the_delivery_settling(wh, new_user):
    u = new_user()
    w = wh.hook(u, "binary")
    wh.publish(u, "order.placed")
    d = only(wh.settled(u, w.id, 1)["items"])
    assert d["status"] == "delivered" and d["attempt_count"] == 1, d
    assert only(d["attempts"])["response_status"] == 200, d


def test_deliveries_filters_and_pagination(api, wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "fail", retry_count=0)
    failed = wh.publish(u, "order.failed-one")
    wh.settled(u, w.id, 1)
    sb.expect_ok(requests.put(f"{api}/webhooks/{w.id}", json={"url": receiver.url("ok", w.bucket)}, headers=H(u),
                              timeout=sb.TIMEOUT))
    ok1 = wh.publish(u, "order.placed")
    ok2 = wh.publish(u, "order.shipped")
    wh.settled(u, w.id, 3)

    d = wh.deliveries(u, w.id, status="failed")
    assert d["total"] == 1 and only(d["items"])["message_id"] == failed["message_id"], d
    d = wh.deliveries(u, w.id, status="delivered")
    assert d["total"] == 2 and {x["message_id"] for x in d["items"]} == {ok1["message_id"], ok2["message_id"]}, d
    assert all(x["attempts"] for x in d["items"]), d
    d = wh.deliveries(u, w.id, status="pending")
    assert d["total"] == 0 and d["items"] == [], d
    d = wh.deliveries(u, w.id, event_type="order.shipped")
    assert d["total"] == 1 and only(d["items"])["message_id"] == ok2["message_id"], d
    d = wh.deliveries(u, w.id, event_type="order.shipped", status="failed")
    assert d["total"] == 0 and d["items"] == [], d
    d = wh.deliveries(u, w.id, event_type="no.such")
    assert d["total"] == 0, d

    pages = [wh.deliveries(u, w.id, page=p, limit=2) for p in (1, 2)]
    assert [(p["page"], p["limit"], p["total"], len(p["items"])) for p in pages] == [(1, 2, 3, 2), (2, 2, 3, 1)]
    ids = [x["message_id"] for p in pages for x in p["items"]]
    assert ids == [ok2["message_id"], ok1["message_id"], failed["message_id"]], ids  # newest first
    for p in pages:
        for x in p["items"]:
            assert len(x["attempts"]) == 1, x  # each item carries its own attempts, also when paged


@pytest.mark.parametrize("params", [{"status": "bogus"}, {"status": "DELIVERED"}, {"page": 0}, {"limit": 101}])
def test_deliveries_rejects_bad_filters(api, wh, new_user, params):
    u = new_user()
    w = wh.create(u, "http://127.0.0.1:9/x")
    resp = requests.get(f"{api}/webhooks/{w['id']}/deliveries", params=params, headers=H(u), timeout=sb.TIMEOUT)
    err = sb.expect_error(resp, 422, "validation_failed")
    assert set(params) <= set(err["fields"]), err


# --- test sends -----------------------------------------------------------------------------------


def test_test_endpoint_sends_now_and_answers_the_result(api, wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "ok", events=["ticket.created"])  # test events go out whatever the subscription
    resp = requests.post(f"{api}/webhooks/{w.id}/test", headers=H(u), timeout=sb.TIMEOUT)
    d = sb.expect_ok(resp)
    assert d["status"] == "delivered" and d["success"] is True, d
    assert sb.UUID_RE.match(d["delivery_id"]) and d["message_id"].startswith("msg_"), d
    a = d["attempt"]
    assert a["attempt_number"] == 1 and a["response_status"] == 200 and a["error"] is None, a
    assert a["response_body"] == "ok" and isinstance(a["response_time_ms"], (int, float)), a
    e = only(receiver.log(w.bucket))  # sent before the answer
    assert e["verified"] is True and e["headers"]["webhook-id"] == d["message_id"], e
    assert e["body"]["type"] == "webhook.test" and e["body"]["data"].get("webhook_id") == w.id, e["body"]
    item = only(wh.deliveries(u, w.id)["items"])
    assert (item["id"], item["event_type"], item["status"]) == (d["delivery_id"], "webhook.test", "delivered"), item


def test_test_endpoint_on_a_failing_receiver(api, wh, new_user, receiver):
    u = new_user()
    once = wh.hook(u, "fail", retry_count=0)
    d = sb.expect_ok(requests.post(f"{api}/webhooks/{once.id}/test", headers=H(u), timeout=sb.TIMEOUT))
    assert d["status"] == "failed" and d["success"] is False, d
    assert d["attempt"]["response_status"] == 500 and d["attempt"]["error"] is None, d

    retried = wh.hook(u, "fail", retry_count=1)
    d = sb.expect_ok(requests.post(f"{api}/webhooks/{retried.id}/test", headers=H(u), timeout=sb.TIMEOUT))
    assert d["status"] == "pending" and d["success"] is False and d["attempt"]["response_status"] == 500, d
    # Settled like any delivery: one more attempt, then failed.
    item = only(wh.settled(u, retried.id, 1)["items"])
    assert item["status"] == "failed" and [a["response_status"] for a in item["attempts"]] == [500, 500], item
    assert receiver.ids(retried.bucket) == [d["message_id"]] * 2


def test_test_endpoint_on_an_unreachable_receiver(api, wh, new_user):
    u = new_user()
    w = wh.create(u, f"http://127.0.0.1:{sb.free_port()}/x", retry_count=0)
    d = sb.expect_ok(requests.post(f"{api}/webhooks/{w['id']}/test", headers=H(u), timeout=sb.TIMEOUT))
    assert d["status"] == "failed" and d["attempt"]["response_status"] is None and d["attempt"]["error"], d


def test_delivery_being_test_sent_shows_a_valid_next_attempt_at(api, wh, new_user, receiver):
    """While POST /test waits on a slow receiver, its delivery is listed as pending; its
    next_attempt_at must be null or an RFC 3339 time (never an empty string)."""
    u = new_user()
    w = wh.hook(u, "hang", timeout_seconds=3, retry_count=0)
    with ThreadPoolExecutor(1) as pool:
        sending = pool.submit(requests.post, f"{api}/webhooks/{w.id}/test", headers=H(u), timeout=sb.TIMEOUT)
        d = wh.wait_deliveries(u, w.id, lambda d: d["total"] == 1 or sending.done(), timeout=10,
                               what="the test delivery")
        answer = sending.result()
    sb.expect_ok(answer)
    item = only(d["items"])
    if item["status"] == "pending":
        assert item["next_attempt_at"] is None or sb.RFC3339_UTC_RE.match(item["next_attempt_at"]), item


# --- redelivery -----------------------------------------------------------------------------------


def test_redeliver_sends_the_same_message_again(api, wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "ok")
    ev = wh.publish(u, "order.placed", {"n": 7})
    first = only(wh.settled(u, w.id, 1)["items"])
    resp = requests.post(f"{api}/webhooks/{w.id}/redeliver/{first['id']}", headers=H(u), timeout=sb.TIMEOUT)
    r = sb.expect_ok(resp, 202)
    assert r["delivery_id"] != first["id"] and sb.UUID_RE.match(r["delivery_id"]), r
    assert r["message_id"] == ev["message_id"] and r["status"] == "pending", r

    log = receiver.wait_count(w.bucket, 2)
    assert [e["headers"]["webhook-id"] for e in log] == [ev["message_id"]] * 2, log
    assert all(e["verified"] is True for e in log), log
    assert log[0]["body"] == log[1]["body"], log
    d = wh.settled(u, w.id, 2)
    assert d["total"] == 2 and {x["id"] for x in d["items"]} == {first["id"], r["delivery_id"]}, d
    assert all(x["status"] == "delivered" and x["message_id"] == ev["message_id"] for x in d["items"]), d


def test_redeliver_a_failed_delivery(api, wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "fail", retry_count=0)
    ev = wh.publish(u, "order.placed")
    failed = only(wh.settled(u, w.id, 1)["items"])
    assert failed["status"] == "failed"
    sb.expect_ok(requests.put(f"{api}/webhooks/{w.id}", json={"url": receiver.url("ok", w.bucket)}, headers=H(u),
                              timeout=sb.TIMEOUT))
    r = sb.expect_ok(requests.post(f"{api}/webhooks/{w.id}/redeliver/{failed['id']}", headers=H(u),
                                   timeout=sb.TIMEOUT), 202)
    d = wh.settled(u, w.id, 2)
    again = next(x for x in d["items"] if x["id"] == r["delivery_id"])
    assert again["status"] == "delivered" and again["message_id"] == ev["message_id"], again
    assert receiver.ids(w.bucket) == [ev["message_id"]] * 2


# --- secret rotation --------------------------------------------------------------------------------


def test_rotated_secret_both_old_and_new_verify(api, wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "ok")
    old = w.secret
    new = sb.expect_ok(requests.post(f"{api}/webhooks/{w.id}/rotate-secret", headers=H(u), timeout=sb.TIMEOUT))["secret"]

    receiver.set_secrets(w.bucket, old)  # a receiver that has not switched yet
    e1 = wh.publish(u, "order.placed", {"n": 1})
    log = receiver.wait(w.bucket, lambda l: any(e["headers"]["webhook-id"] == e1["message_id"] for e in l))
    first = next(e for e in log if e["headers"]["webhook-id"] == e1["message_id"])
    assert first["verified"] is True, first
    sigs = first["headers"]["webhook-signature"].split(" ")
    assert len(sigs) == 2 and all(s.startswith("v1,") for s in sigs), first["headers"]
    assert signed_by(first, old) and signed_by(first, new), first

    receiver.set_secrets(w.bucket, new)  # a receiver that has switched
    e2 = wh.publish(u, "order.placed", {"n": 2})
    log = receiver.wait(w.bucket, lambda l: any(e["headers"]["webhook-id"] == e2["message_id"] for e in l))
    second = next(e for e in log if e["headers"]["webhook-id"] == e2["message_id"])
    assert second["verified"] is True, second
    assert len(second["headers"]["webhook-signature"].split(" ")) == 2

    # Sanity: a secret that is neither does not verify.
    receiver.set_secrets(w.bucket, "whsec_" + base64.b64encode(uuid.uuid4().bytes * 2).decode())
    e3 = wh.publish(u, "order.placed", {"n": 3})
    log = receiver.wait(w.bucket, lambda l: any(e["headers"]["webhook-id"] == e3["message_id"] for e in l))
    third = next(e for e in log if e["headers"]["webhook-id"] == e3["message_id"])
    assert third["verified"] is False, third


def test_test_send_after_rotation_is_signed_with_both(api, wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "ok")
    new = sb.expect_ok(requests.post(f"{api}/webhooks/{w.id}/rotate-secret", headers=H(u), timeout=sb.TIMEOUT))["secret"]
    receiver.set_secrets(w.bucket, new)
    d = sb.expect_ok(requests.post(f"{api}/webhooks/{w.id}/test", headers=H(u), timeout=sb.TIMEOUT))
    assert d["status"] == "delivered", d
    e = only(receiver.log(w.bucket))
    assert e["verified"] is True and signed_by(e, w.secret) and signed_by(e, new), e


def test_previous_secret_stops_signing_when_the_overlap_ends(api, wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "ok")
    new = sb.expect_ok(requests.post(f"{api}/webhooks/{w.id}/rotate-secret", headers=H(u), timeout=sb.TIMEOUT))["secret"]
    # The 24 hours are over (moved into the past rather than waited for).
    sb.psql("UPDATE webhooks SET previous_secret_expires_at = now() - interval '1 second' "
            f"WHERE id = '{sb.sql_uuid(w.id)}'")
    receiver.set_secrets(w.bucket, w.secret)
    wh.publish(u, "order.placed")
    e = receiver.wait(w.bucket)[0]
    assert len(e["headers"]["webhook-signature"].split(" ")) == 1, e["headers"]
    assert e["verified"] is False and not signed_by(e, w.secret) and signed_by(e, new), e


def test_unrotated_webhook_sends_a_single_signature(wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "ok")
    wh.publish(u, "order.placed")
    e = receiver.wait(w.bucket)[0]
    assert len(e["headers"]["webhook-signature"].split(" ")) == 1 and signed_by(e, w.secret), e


# --- encryption key rotation (scripts/rotate-key) ----------------------------------------------


def key_versions():
    values = sb.env_file_values(os.path.join(os.environ["SB_VAR"], "switchboard.env"))
    return [int(part.split(":", 1)[0]) for part in values["SB_ENCRYPTION_KEYS"].split(",") if part.strip()]


def add_encryption_key():
    """scripts/rotate-key --add-key: a new key version, responders reloaded, secrets re-sealed."""
    new_version = max(key_versions()) + 1
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    proc = subprocess.run([os.path.join(root, "scripts", "rotate-key"), "--add-key"], env=os.environ.copy(), cwd=root,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (f"rotate-key exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}\n"
                                  f"{sb.rotate_key_diagnostics(proc.stderr)}")
    assert new_version in key_versions()
    return new_version


def stored_secrets(webhook_id):
    row = sb.psql(f"SELECT secret || ' ' || coalesce(previous_secret, '') FROM webhooks "
                  f"WHERE id = '{sb.sql_uuid(webhook_id)}'")
    return row.split()


def test_webhooks_deliver_after_an_encryption_key_is_added(api, wh, new_user, receiver, stack):
    """After scripts/rotate-key --add-key every part of the stack must open secrets sealed
    with the new key: the webhooks responder seals new webhook secrets with it, so the
    worker has to know it too."""
    u = new_user()
    before = wh.hook(u, "ok", events=["*"])
    try:
        add_encryption_key()
        after = wh.hook(u, "ok", events=["*"])
        rotated = wh.hook(u, "ok", events=["*"])
        new_secret = sb.expect_ok(requests.post(f"{api}/webhooks/{rotated.id}/rotate-secret", headers=H(u),
                                                timeout=sb.TIMEOUT))["secret"]
        receiver.set_secrets(rotated.bucket, new_secret)
        ev = wh.publish(u, "order.placed")
        assert ev["deliveries"] == 3, ev
        for h in (before, after, rotated):
            d = only(wh.settled(u, h.id, 1)["items"])
            assert d["status"] == "delivered", (h.url, d)
            e = only(receiver.log(h.bucket))
            assert e["verified"] is True and e["headers"]["webhook-id"] == ev["message_id"], e
    finally:
        stack("restart", "worker")  # never leave later tests a worker without the new key


def test_adding_an_encryption_key_reseals_webhook_secrets(api, wh, new_user, stack):
    """rotate-key re-seals every secret at rest with the current key, webhook signing
    secrets (current and previous) included, so old key versions can be retired."""
    u = new_user()
    w = wh.hook(u, "ok")
    sb.expect_ok(requests.post(f"{api}/webhooks/{w.id}/rotate-secret", headers=H(u), timeout=sb.TIMEOUT))
    try:
        new_version = add_encryption_key()
        sealed = stored_secrets(w.id)
        assert len(sealed) == 2, sealed
        for s in sealed:
            assert s.startswith(f"sb1.{new_version}."), (new_version, [x[:8] for x in sealed])
    finally:
        stack("restart", "worker")


# --- isolation between webhooks ----------------------------------------------------------------


def test_a_backlogged_webhook_does_not_hold_up_other_webhooks(api, wh, new_user, receiver):
    """A receiver that never answers, with hundreds of due deliveries, must not starve the
    deliveries of other webhooks (it gets SB_WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT at a time,
    the others go on)."""
    slow_user, u = new_user(), new_user()
    slow = wh.hook(slow_user, "hang", events=["backlog.*"], timeout_seconds=5, retry_count=0)
    try:
        def publish(i):
            return requests.post(api + "/events", json={"type": "backlog.item", "data": {"i": i}},
                                 headers=H(slow_user), timeout=sb.TIMEOUT).status_code

        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(publish, range(400))) == {202}
        receiver.wait(slow.bucket, what="the slow receiver's first requests")

        fast = wh.hook(u, "ok", events=["*"])
        ev = wh.publish(u, "order.placed")
        log = receiver.wait(fast.bucket, timeout=15, what="a delivery to a healthy webhook beside a backlogged one")
        assert log[0]["headers"]["webhook-id"] == ev["message_id"]
    finally:
        # Drop the backlog so later tests get a free worker.
        sb.expect_ok(requests.delete(f"{api}/webhooks/{slow.id}", headers=H(slow_user), timeout=sb.TIMEOUT))


# --- durability -------------------------------------------------------------------------------------


def test_nothing_is_lost_when_the_worker_is_killed(api, wh, new_user, receiver, stack):
    """500 events published while the worker is down, then the worker killed again in the
    middle of delivering them: every event still arrives (duplicates allowed)."""
    total = 500
    u = new_user()
    # Each answer takes 50 ms so the second kill lands mid-way; leases last 2 s + 2 s.
    w = wh.hook(u, "ok", events=["load.*"], query={"delay_ms": 50}, timeout_seconds=2, retry_count=10)

    def publish(i):
        resp = requests.post(api + "/events", json={"type": "load.tick", "data": {"i": i}}, headers=H(u),
                             timeout=sb.TIMEOUT)
        return sb.expect_ok(resp, 202)["message_id"]

    def distinct(log):
        return {e["headers"]["webhook-id"] for e in log}

    stack("worker-kill")
    try:
        with ThreadPoolExecutor(8) as pool:
            ids = set(pool.map(publish, range(total)))
        assert len(ids) == total
        assert receiver.log(w.bucket) == []  # nobody delivers while the worker is down

        stack("worker-start")
        log = receiver.wait(w.bucket, lambda l: len(distinct(l)) >= 40, timeout=30, what="the first deliveries")
        stack("worker-kill")
        got_before_kill = distinct(receiver.log(w.bucket))
        assert len(got_before_kill) < total, "everything arrived before the second kill: make the receiver slower"
        stack("worker-start")
    finally:
        stack("worker-start")  # idempotent: never leave the suite without a worker

    log = receiver.wait(w.bucket, lambda l: ids <= distinct(l), timeout=60,
                        what=f"all {total} webhook-ids")
    assert distinct(log) == ids, distinct(log) - ids
    assert all(e["verified"] is True for e in log)
    d = wh.wait_deliveries(u, w.id, lambda d: d["total"] == total, timeout=30, what="all delivered",
                           status="delivered", limit=1)
    assert d["total"] == total
    assert wh.deliveries(u, w.id, limit=1)["total"] == total
    assert wh.deliveries(u, w.id, status="pending", limit=1)["total"] == 0
    assert wh.deliveries(u, w.id, status="failed", limit=1)["total"] == 0
