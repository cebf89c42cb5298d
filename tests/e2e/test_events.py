"""Publishing events (issue 5): POST /events fans out to every active subscribed webhook
of the account (exact types, prefix wildcards, "*"), idempotency keys, reserved
prefixes, and the integration events the integrations group publishes."""

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

import sb


# The worker starts from the current env file (earlier modules change it).
pytestmark = pytest.mark.usefixtures("fresh_worker")

def H(user):
    return {**user.headers, "User-Agent": sb.USER_AGENT}


def types_of(log):
    return [e["body"]["type"] for e in log]


# --- publish ------------------------------------------------------------------------------


def test_publish_is_delivered_signed_and_verified(wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "ok", events=["ticket.created"])
    data = {"ticket": {"id": 123, "title": "Fix production issue", "tags": ["a", "ü"]}, "n": None}
    ev = wh.publish(u, "ticket.created", data)
    assert sb.UUID_RE.match(ev["event_id"]), ev
    assert ev["message_id"].startswith("msg_") and ev["type"] == "ticket.created", ev
    assert ev["deliveries"] == 1 and ev["duplicate"] is False, ev

    log = receiver.wait(w.bucket)
    assert len(log) == 1, log
    e = log[0]
    assert e["verified"] is True, e  # the npm package standardwebhooks says so
    assert e["headers"]["webhook-id"] == ev["message_id"]
    assert e["headers"]["content-type"].startswith("application/json"), e["headers"]
    assert e["headers"]["webhook-signature"].startswith("v1,"), e["headers"]
    assert set(e["body"]) == {"type", "timestamp", "data"}, e["body"]
    assert e["body"]["type"] == "ticket.created" and e["body"]["data"] == data, e["body"]
    assert sb.RFC3339_UTC_RE.match(e["body"]["timestamp"]), e["body"]

    d = wh.settled(u, w.id, 1)
    item = d["items"][0]
    assert (item["status"], item["event_id"], item["message_id"], item["event_type"]) == (
        "delivered", ev["event_id"], ev["message_id"], "ticket.created"), item


def test_publish_without_data_sends_an_empty_object(wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "ok", events=["*"])
    wh.publish(u, "order.placed")
    e = receiver.wait(w.bucket)[0]
    assert e["verified"] is True and e["body"]["data"] == {}, e


def test_publish_fans_out_to_every_subscribed_webhook(wh, new_user, receiver):
    u = new_user()
    hooks = [wh.hook(u, "ok", events=["ticket.created"]) for _ in range(3)]
    ev = wh.publish(u, "ticket.created", {"x": 1})
    assert ev["deliveries"] == 3, ev
    for h in hooks:
        e = receiver.wait(h.bucket)[0]
        assert e["verified"] is True and e["headers"]["webhook-id"] == ev["message_id"], e


def test_subscriptions_exact_prefix_wildcard_and_star(wh, new_user, receiver):
    u = new_user()
    integ = wh.hook(u, "ok", events=["integration.*"])
    star = wh.hook(u, "ok", events=["*"])
    exact = wh.hook(u, "ok", events=["ticket.created"])
    ticket_any = wh.hook(u, "ok", events=["ticket.*"])
    other = wh.hook(u, "ok", events=["asset.created", "ticket.updated"])

    created = wh.publish(u, "ticket.created", {"k": 1})
    assert created["deliveries"] == 3, created  # star, exact, ticket.*
    deep = wh.publish(u, "ticket.comment.added", {"k": 2})
    assert deep["deliveries"] == 2, deep  # star, ticket.*
    lookalike = wh.publish(u, "ticketing.created", {"k": 3})
    assert lookalike["deliveries"] == 1, lookalike  # star only: "ticket.*" is a prefix up to the dot
    bare = wh.publish(u, "ticket", {"k": 4})
    assert bare["deliveries"] == 1, bare  # star only
    asset = wh.publish(u, "asset.created", {"k": 5})
    assert asset["deliveries"] == 2, asset  # star, other

    def types_at(h, n):
        wh.settled(u, h.id, n)
        return sorted(x["event_type"] for x in wh.deliveries(u, h.id, limit=100)["items"])

    assert types_at(star, 5) == sorted(["ticket.created", "ticket.comment.added", "ticketing.created", "ticket",
                                        "asset.created"])
    assert types_at(exact, 1) == ["ticket.created"]
    assert types_at(ticket_any, 2) == ["ticket.comment.added", "ticket.created"]
    assert types_at(other, 1) == ["asset.created"]
    assert wh.deliveries(u, integ.id)["total"] == 0
    # What arrived matches, and every request verifies.
    for h, n in ((star, 5), (exact, 1), (ticket_any, 2), (other, 1)):
        log = receiver.wait_count(h.bucket, n)
        assert all(e["verified"] is True for e in log), log
    assert sorted(types_of(receiver.log(star.bucket))) == types_at(star, 5)
    assert receiver.log(integ.bucket) == []


def test_inactive_webhook_gets_nothing(api, wh, new_user, receiver):
    u = new_user()
    off = wh.hook(u, "ok", events=["*"], is_active=False)
    on = wh.hook(u, "ok", events=["*"])
    ev = wh.publish(u, "ticket.created")
    assert ev["deliveries"] == 1, ev
    receiver.wait(on.bucket)
    wh.settled(u, on.id, 1)
    assert wh.deliveries(u, off.id)["total"] == 0
    assert receiver.log(off.bucket) == []
    # Switched off later: nothing new; switched on again: deliveries resume.
    sb.expect_ok(requests.put(f"{api}/webhooks/{on.id}", json={"is_active": False}, headers=H(u), timeout=sb.TIMEOUT))
    assert wh.publish(u, "ticket.created")["deliveries"] == 0
    sb.expect_ok(requests.put(f"{api}/webhooks/{off.id}", json={"is_active": True}, headers=H(u), timeout=sb.TIMEOUT))
    ev = wh.publish(u, "ticket.created")
    assert ev["deliveries"] == 1
    assert receiver.wait(off.bucket)[0]["headers"]["webhook-id"] == ev["message_id"]


def test_another_users_events_never_reach_my_webhooks(wh, new_user, receiver):
    me, them = new_user(), new_user()
    mine = wh.hook(me, "ok", events=["*"])
    theirs = wh.hook(them, "ok", events=["*"])
    ev = wh.publish(them, "ticket.created", {"secret": "theirs"})
    assert ev["deliveries"] == 1, ev
    receiver.wait(theirs.bucket)
    # The same idempotency key is per account: mine publishes too.
    key = "k-" + uuid.uuid4().hex
    wh.publish(them, "ticket.updated", key=key)
    m = wh.publish(me, "ticket.updated", key=key)
    assert m["duplicate"] is False and m["deliveries"] == 1, m
    receiver.wait(mine.bucket)
    wh.settled(me, mine.id, 1)
    wh.settled(them, theirs.id, 2)
    assert [x["message_id"] for x in wh.deliveries(me, mine.id)["items"]] == [m["message_id"]]
    assert receiver.ids(mine.bucket) == [m["message_id"]]


# --- idempotency ----------------------------------------------------------------------------


def test_same_idempotency_key_publishes_once(wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "ok", events=["*"])
    key = "order-" + uuid.uuid4().hex
    first = wh.publish(u, "order.placed", {"n": 1}, key=key)
    again = wh.publish(u, "order.placed", {"n": 1}, key=key)
    assert first["duplicate"] is False and first["deliveries"] == 1, first
    assert again["duplicate"] is True, again
    assert (again["event_id"], again["message_id"]) == (first["event_id"], first["message_id"])
    other = wh.publish(u, "order.placed", {"n": 2}, key=key + "-2")
    assert other["duplicate"] is False and other["event_id"] != first["event_id"]
    d = wh.settled(u, w.id, 2)
    assert d["total"] == 2, d
    log = receiver.wait_count(w.bucket, 2)
    assert sorted(receiver.ids(w.bucket)) == sorted([first["message_id"], other["message_id"]]), log


def test_idempotency_key_header(wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "ok", events=["*"])
    key = "hdr-" + uuid.uuid4().hex
    first = wh.publish(u, "order.placed", headers={"Idempotency-Key": key})
    again = wh.publish(u, "order.placed", headers={"Idempotency-Key": key})
    assert first["duplicate"] is False and again["duplicate"] is True, (first, again)
    assert again["event_id"] == first["event_id"]
    # Header and body name the same key.
    body_key = wh.publish(u, "order.placed", key=key)
    assert body_key["duplicate"] is True and body_key["event_id"] == first["event_id"], body_key
    d = wh.settled(u, w.id, 1)
    assert d["total"] == 1, d
    assert receiver.ids(w.bucket) == [first["message_id"]]


def test_idempotency_key_is_kept_for_24_hours(wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "ok", events=["*"])
    key = "day-" + uuid.uuid4().hex
    first = wh.publish(u, "order.placed", key=key)
    ev = sb.sql_uuid(first["event_id"])
    sb.psql(f"UPDATE events SET created_at = now() - interval '23 hours' WHERE id = '{ev}'")
    assert wh.publish(u, "order.placed", key=key)["duplicate"] is True  # still within 24 hours
    sb.psql(f"UPDATE events SET created_at = now() - interval '25 hours' WHERE id = '{ev}'")
    later = wh.publish(u, "order.placed", key=key)
    assert later["duplicate"] is False and later["event_id"] != first["event_id"], later
    assert later["deliveries"] == 1, later
    assert wh.publish(u, "order.placed", key=key)["event_id"] == later["event_id"]  # the new one holds the key
    wh.settled(u, w.id, 2)
    receiver.wait_count(w.bucket, 2)
    assert sorted(receiver.ids(w.bucket)) == sorted([first["message_id"], later["message_id"]])


def test_concurrent_publishes_with_one_key_publish_once(api, wh, new_user, receiver):
    u = new_user()
    w = wh.hook(u, "ok", events=["*"])
    key = "race-" + uuid.uuid4().hex

    def once(_):
        return requests.post(api + "/events", json={"type": "order.placed", "idempotency_key": key}, headers=H(u),
                             timeout=sb.TIMEOUT)

    with ThreadPoolExecutor(8) as pool:
        results = [sb.expect_ok(r, 202) for r in pool.map(once, range(16))]
    assert sum(1 for r in results if not r["duplicate"]) == 1, results
    assert len({r["event_id"] for r in results}) == 1, results
    assert wh.settled(u, w.id, 1)["total"] == 1


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize("type_", ["integration.connected", "integration.custom", "webhook.test", "webhook.anything"])
def test_reserved_prefixes_are_refused(api, wh, new_user, type_):
    u = new_user()
    w = wh.create(u, "http://127.0.0.1:9/never", events=["*"])
    resp = requests.post(api + "/events", json={"type": type_, "data": {}}, headers=H(u), timeout=sb.TIMEOUT)
    err = sb.expect_error(resp, 422, "validation_failed")
    assert "type" in err["fields"], err
    assert wh.deliveries(u, w["id"])["total"] == 0


@pytest.mark.parametrize("payload,field", [
    ({}, "type"),
    ({"type": ""}, "type"),
    ({"type": "Foo Bar"}, "type"),
    ({"type": "a..b"}, "type"),
    ({"type": ".a"}, "type"),
    ({"type": "a.*"}, "type"),
    ({"type": "*"}, "type"),
    ({"type": "t" * 101}, "type"),
    ({"type": 5}, "type"),
    ({"type": "a.b", "data": [1]}, "data"),
    ({"type": "a.b", "data": "x"}, "data"),
    ({"type": "a.b", "data": {"blob": "x" * 70000}}, "data"),
    ({"type": "a.b", "idempotency_key": ""}, "idempotency_key"),
    ({"type": "a.b", "idempotency_key": "k" * 201}, "idempotency_key"),
    ({"type": "a.b", "idempotency_key": 7}, "idempotency_key"),
])
def test_publish_validation(api, new_user, payload, field):
    u = new_user()
    resp = requests.post(api + "/events", json=payload, headers=H(u), timeout=sb.TIMEOUT)
    err = sb.expect_error(resp, 422, "validation_failed")
    assert field in err["fields"], err


def test_publish_needs_authentication(api):
    resp = requests.post(api + "/events", json={"type": "a.b"}, headers={"User-Agent": sb.USER_AGENT},
                         timeout=sb.TIMEOUT)
    sb.expect_error(resp, 401)


# --- integration events -----------------------------------------------------------------------


def test_integration_changes_publish_events(api, wh, new_user, receiver, broker):
    u = new_user()
    integ = wh.hook(u, "ok", events=["integration.*"])
    tickets = wh.hook(u, "ok", events=["ticket.created"])
    mqtt = api + "/users/me/integrations/mqtt"
    cfg = {"broker_url": f"mqtt://127.0.0.1:{broker.port}", "device_id": "d", "topic_prefix": "p"}

    sb.expect_ok(requests.put(mqtt, json=cfg, headers=H(u), timeout=sb.TIMEOUT))
    log = receiver.wait(integ.bucket, lambda l: "integration.connected" in types_of(l), what="integration.connected")
    sb.expect_ok(requests.post(mqtt + "/test", headers=H(u), timeout=sb.TIMEOUT))  # the saved config
    log = receiver.wait(integ.bucket, lambda l: "integration.health_changed" in types_of(l),
                        what="integration.health_changed")
    sb.expect_ok(requests.put(mqtt, json={**cfg, "device_id": "d2"}, headers=H(u), timeout=sb.TIMEOUT))
    log = receiver.wait(integ.bucket, lambda l: "integration.updated" in types_of(l), what="integration.updated")
    sb.expect_ok(requests.delete(mqtt, headers=H(u), timeout=sb.TIMEOUT))
    log = receiver.wait(integ.bucket, lambda l: "integration.disconnected" in types_of(l),
                        what="integration.disconnected")

    by_type = {e["body"]["type"]: e for e in log}
    assert set(by_type) == {"integration.connected", "integration.health_changed", "integration.updated",
                            "integration.disconnected"}, types_of(log)
    assert len(log) == 4, types_of(log)
    for e in log:
        assert e["verified"] is True, e
        assert e["body"]["data"]["provider"] == "mqtt", e["body"]
    changed = by_type["integration.health_changed"]["body"]["data"]
    assert changed.get("status") == "active" and changed.get("previous_status") == "pending", by_type
    # Only integration.* subscribers hear about them; the account's own events still flow.
    assert wh.deliveries(u, tickets.id)["total"] == 0
    ev = wh.publish(u, "ticket.created")
    assert ev["deliveries"] == 1
    assert receiver.wait(tickets.bucket)[0]["body"]["type"] == "ticket.created"
    wh.settled(u, integ.id, 4)
    assert all(x["event_type"].startswith("integration.") for x in wh.deliveries(u, integ.id)["items"])
