"""Disabling failing endpoints (issue 12): after disable_after_failures consecutive
failed attempts or disable_after_days of failing (per webhook, operator defaults), with
a webhook.disabled event to the user's other webhooks and an audit entry;
POST /webhooks/{id}/enable switches it on again and POST /webhooks/{id}/recover
{since} re-sends every failed delivery since a time, each once."""

import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

import sb

pytestmark = pytest.mark.usefixtures("fresh_worker")


def H(user):
    return {**user.headers, "User-Agent": sb.USER_AGENT}


def get(api, u, wid):
    return sb.expect_ok(requests.get(f"{api}/webhooks/{wid}", headers=H(u), timeout=sb.TIMEOUT))


def wait_disabled(api, u, wid, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        w = get(api, u, wid)
        if not w["is_active"]:
            return w
        assert time.monotonic() < deadline, f"webhook {wid} still active: {w}"
        time.sleep(0.2)


def iso(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_consecutive_failures_disable_and_announce(api, wh, new_user, receiver):
    u = new_user()
    watcher = wh.hook(u, "ok", events=["webhook.*"])
    w = wh.hook(u, "fail", events=["order.*"], retry_count=10, disable_after_failures=3)
    assert w.webhook["disable_after_failures"] == 3 and w.webhook["consecutive_failures"] == 0, w.webhook
    wh.publish(u, "order.placed")
    got = wait_disabled(api, u, w.id)
    assert got["disabled_reason"] == "too many consecutive failed attempts", got
    assert got["consecutive_failures"] == 3, got
    # Not one attempt more once switched off.
    time.sleep(1.5)
    assert len(receiver.log(w.bucket)) == 3
    # The user's other webhook hears about it, signed like any event.
    e = receiver.wait(watcher.bucket, lambda log: any(x["body"]["type"] == "webhook.disabled" for x in log))[-1]
    assert e["verified"] is True, e
    data = e["body"]["data"]
    assert data["webhook_id"] == w.id and data["reason"] == "too many consecutive failed attempts", data
    assert data["consecutive_failures"] == 3 and "500" in data["last_error"], data
    audit = [x for x in wh.audit(u) if x["action"] == "webhook.disabled"]
    assert len(audit) == 1 and audit[0]["details"]["webhook_id"] == w.id, audit
    # Re-enable: counters cleared, events flow again.
    on = sb.expect_ok(requests.post(f"{api}/webhooks/{w.id}/enable", headers=H(u), timeout=sb.TIMEOUT))
    assert on["is_active"] is True and on["disabled_reason"] is None, on
    assert on["consecutive_failures"] == 0, on
    assert wh.publish(u, "order.placed")["deliveries"] == 1


def test_a_success_resets_the_count(api, wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "flaky", query={"fail": 2}, retry_count=5, disable_after_failures=3)
    wh.publish(u, "order.placed")
    wh.settled(u, w.id, 1)
    got = get(api, u, w.id)
    assert got["is_active"] is True and got["consecutive_failures"] == 0, got


def test_days_of_failure_disable(api, wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "fail", retry_count=0, disable_after_days=1, disable_after_failures=0)
    # Failing for two days already (set in the database: a test cannot wait a day).
    sb.psql(f"UPDATE webhooks SET failing_since = now() - interval '2 days' WHERE id = '{sb.sql_uuid(w.id)}'")
    wh.publish(u, "order.placed")
    got = wait_disabled(api, u, w.id)
    assert got["disabled_reason"] == "every delivery failed for too long", got
    # The same history with the rule off (0) leaves it on.
    w2 = wh.hook(u, "fail", retry_count=0, disable_after_days=0, disable_after_failures=0)
    sb.psql(f"UPDATE webhooks SET failing_since = now() - interval '400 days' WHERE id = '{sb.sql_uuid(w2.id)}'")
    wh.publish(u, "order.placed")
    wh.settled(u, w2.id, 1)
    assert get(api, u, w2.id)["is_active"] is True


def test_enable_unknown_is_404(api, new_user):
    u = new_user()
    sb.expect_error(requests.post(f"{api}/webhooks/00000000-0000-4000-8000-000000000000/enable", headers=H(u),
                                  timeout=sb.TIMEOUT), 404, "not_found")


def test_recover_resends_each_failed_delivery_once(api, wh, new_user, receiver):
    u = new_user()
    start = datetime.now(timezone.utc) - timedelta(seconds=5)
    w = wh.hook(u, "fail", retry_count=0)
    ids = [wh.publish(u, "order.placed", {"n": n})["message_id"] for n in range(3)]
    items = wh.settled(u, w.id, 3)["items"]
    assert [d["status"] for d in items] == ["failed"] * 3, items
    # The receiver is fixed: same bucket, answering 200 now.
    fixed = receiver.url("ok", w.bucket)
    sb.expect_ok(requests.patch(f"{api}/webhooks/{w.id}", json={"url": fixed}, headers=H(u), timeout=sb.TIMEOUT))
    r = sb.expect_ok(requests.post(f"{api}/webhooks/{w.id}/recover", json={"since": iso(start)}, headers=H(u),
                                   timeout=sb.TIMEOUT), 202)
    assert r["recovered"] == 3 and r["more"] is False, r
    # Idempotent: the same call again sends nothing more.
    again = sb.expect_ok(requests.post(f"{api}/webhooks/{w.id}/recover", json={"since": iso(start)}, headers=H(u),
                                       timeout=sb.TIMEOUT), 202)
    assert again["recovered"] == 0, again
    data = wh.settled(u, w.id, 6)
    assert sorted(d["status"] for d in data["items"]) == ["delivered"] * 3 + ["failed"] * 3, data["items"]
    log = receiver.wait(w.bucket, lambda log: sum(e["mode"] == "ok" for e in log) >= 3)
    ok = [e for e in log if e["mode"] == "ok"]
    assert sorted(e["headers"]["webhook-id"] for e in ok) == sorted(ids), ok
    assert all(e["verified"] for e in ok), ok
    # A since after them recovers nothing.
    later = sb.expect_ok(requests.post(f"{api}/webhooks/{w.id}/recover",
                                       json={"since": iso(datetime.now(timezone.utc) + timedelta(minutes=1))},
                                       headers=H(u), timeout=sb.TIMEOUT), 202)
    assert later["recovered"] == 0, later


def test_recover_errors(api, wh, new_user, receiver):
    u, other = new_user(), new_user()
    w = wh.hook(u, "ok")
    url = f"{api}/webhooks/{w.id}/recover"
    for body in ({}, {"since": "yesterday"}, {"since": "2026-13-01T00:00:00Z"}, {"since": "2026-01-01 00:00:00"},
                 {"since": 5}):
        err = sb.expect_error(requests.post(url, json=body, headers=H(u), timeout=sb.TIMEOUT), 422)
        assert "since" in err["fields"], (body, err)
    ok = {"since": "2026-01-01T00:00:00.5+02:00"}
    sb.expect_error(requests.post(url, json=ok, headers=H(other), timeout=sb.TIMEOUT), 404, "not_found")
    sb.expect_ok(requests.patch(f"{api}/webhooks/{w.id}", json={"is_active": False}, headers=H(u),
                                timeout=sb.TIMEOUT))
    sb.expect_error(requests.post(url, json=ok, headers=H(u), timeout=sb.TIMEOUT), 409, "webhook_disabled")
